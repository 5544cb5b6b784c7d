"""Compiled (numba) hot loops of the polar decoders. Internal: use :mod:`noisyhw.codes.polar`.

Conventions shared by every kernel
----------------------------------
* ``x = u F^{(x)m}`` with ``F = [[1, 0], [1, 1]]`` and natural bit order (no bit reversal):
  ``x = (x_L ^ x_R, x_R)`` where ``x_L`` / ``x_R`` are the codewords of the two halves of ``u``.
* LLRs are ``log P(0) / P(1)``; ``f`` is the min-sum check-node update
  ``f(a, b) = sign(a) sign(b) min(|a|, |b|)``; ``g(a, b, s) = b + (1 - 2 s) a``.
* Tree buffers are flat arrays where level ``lam`` (nodes of ``2**lam`` bits) lives at offset
  ``2**lam``; level ``m`` (the root) holds the channel LLRs.

The list decoder keeps, per level and per path, a *pointer* to an LLR array and to a partial-sum
array (Tal-Vardy lazy copy): cloning a path copies ``2 m`` integers, and an array is re-allocated
only when a path writes to one it shares. Every write overwrites a whole level array, so
re-allocation never copies contents. Decisions are recorded as ``(bit, parent path)`` per leaf and
traced back at the end, so no path ever copies its decoded bits.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ._transform import butterfly_ as _butterfly  # codeword bits of a node <-> its u bits

_JIT = {"cache": True, "nogil": True, "fastmath": False}


@numba.njit(**_JIT, inline="always")
def _f(a: float, b: float) -> float:
    # branchless min-sum sign(a) sign(b) min(|a|, |b|); inputs are clipped to +-1e12 so a * b
    # cannot overflow (it vectorises far better than sign tests)
    return np.copysign(min(abs(a), abs(b)), a * b)


@numba.njit(**_JIT, inline="always")
def _fvec(dst: np.ndarray, src: np.ndarray, size: int) -> None:
    """dst[j] = f(src[j], src[size + j]) on separate views (lets LLVM vectorise)."""
    a = src[:size]
    b = src[size : 2 * size]
    for j in range(size):
        dst[j] = np.copysign(min(abs(a[j]), abs(b[j])), a[j] * b[j])


@numba.njit(**_JIT, inline="always")
def _fvec_exact(dst: np.ndarray, src: np.ndarray, size: int) -> None:
    """dst[j] = src[j] boxplus src[size + j] = 2 atanh(tanh(a/2) tanh(b/2)), the exact check
    node, as min-sum + log1p(exp(-|a+b|)) - log1p(exp(-|a-b|)) (stable; inputs clipped)."""
    a = src[:size]
    b = src[size : 2 * size]
    for j in range(size):
        x = float(a[j])
        y = float(b[j])
        dst[j] = (
            np.copysign(min(abs(x), abs(y)), x * y)
            + math.log1p(math.exp(-abs(x + y)))
            - math.log1p(math.exp(-abs(x - y)))
        )


@numba.njit(**_JIT, inline="always")
def _gvec(dst: np.ndarray, src: np.ndarray, bits: np.ndarray, size: int) -> None:
    """dst[j] = src[size + j] + (1 - 2 bits[j]) src[j]."""
    a = src[:size]
    b = src[size : 2 * size]
    for j in range(size):  # a select, not a float64 product: stays in the LLR dtype
        x = a[j]
        dst[j] = b[j] + (-x if bits[j] else x)


@numba.njit(**_JIT, inline="always")
def _ctz(i: int) -> int:
    s = 0
    while (i & 1) == 0:
        i >>= 1
        s += 1
    return s


@numba.njit(**_JIT, inline="always")
def _softplus(x: float) -> float:
    """log(1 + exp(x)), stable."""
    if x > 0:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))


# ----------------------------------------------------------------------------------------- SC
@numba.njit(**_JIT)
def sc_decode(llr: np.ndarray, frozen: np.ndarray, out_u: np.ndarray) -> None:
    """Successive cancellation, leaf by leaf. ``llr`` (F, N) f32/f64, ``frozen`` (N,) uint8,
    ``out_u`` (F, N) uint8 receives the decided ``u`` (frozen positions are 0)."""
    F, N = llr.shape
    m = 0
    while (1 << m) < N:
        m += 1
    alpha = np.empty(2 * N, dtype=llr.dtype)
    bl = np.zeros(2 * N, dtype=np.uint8)
    cur = np.zeros(2 * N, dtype=np.uint8)
    for fr in range(F):
        for j in range(N):
            alpha[N + j] = llr[fr, j]
        for i in range(N):
            if i == 0:
                top = m - 1
            else:
                s = _ctz(i)
                size = 1 << s
                for j in range(size):
                    a = alpha[2 * size + j]
                    b = alpha[3 * size + j]
                    alpha[size + j] = b - a if bl[size + j] else b + a
                top = s - 1
            for lam in range(top, -1, -1):
                size = 1 << lam
                for j in range(size):
                    alpha[size + j] = _f(alpha[2 * size + j], alpha[3 * size + j])
            u = 0 if frozen[i] else (1 if alpha[1] < 0 else 0)
            out_u[fr, i] = u
            cur[1] = u
            lvl = 0
            while (i >> lvl) & 1:
                size = 1 << lvl
                for j in range(size):
                    r = cur[size + j]
                    cur[2 * size + j] = bl[size + j] ^ r
                    cur[3 * size + j] = r
                lvl += 1
            if lvl < m:
                size = 1 << lvl
                for j in range(size):
                    bl[size + j] = cur[size + j]


# ------------------------------------------------------------------------------- schedules
# A decoding schedule is the depth-first traversal of the code tree as a list of operations
# (rows of an int32 array: op, level, position). Leaves of the traversal are "nodes" whose
# decision has a closed form; everything else is an f / g step, a save of a left child's partial
# sums, or a combination of two children's partial sums.
OP_F, OP_G, OP_R0, OP_R1, OP_REP, OP_INFO, OP_SAVE, OP_COMB, OP_SPC = range(9)


def build_schedule(
    frozen: np.ndarray,
    *,
    rate1: bool,
    rep: bool,
    rate0: bool,
    spc: bool = False,
    bitwise: np.ndarray | None = None,
) -> np.ndarray:
    """Operations (n_ops, 3) int32 for a frozen mask (n,) bool.

    ``rate0`` / ``rate1`` / ``rep`` / ``spc`` allow the node shortcuts (all frozen / no frozen /
    only the last bit free / only the first bit frozen, size >= 4) at levels above the leaves; a
    leaf is always R0 (frozen) or INFO. SPC nodes are for the list decoder only. ``bitwise``
    (n,) bool marks positions that no Rate-1 / SPC node may cover (decided bit by bit, e.g.
    the bits a source model constrains).
    """
    frozen = np.asarray(frozen, dtype=bool)
    n = frozen.size
    no_node = np.zeros(n, bool) if bitwise is None else np.asarray(bitwise, dtype=bool)
    m = n.bit_length() - 1
    ops: list[tuple[int, int, int]] = []

    def visit(start: int, lam: int) -> None:
        size = 1 << lam
        seg = frozen[start : start + size]
        nfree = size - int(seg.sum())
        if lam == 0:
            ops.append((OP_R0 if nfree == 0 else OP_INFO, 0, start))
            return
        if nfree == 0 and rate0:
            ops.append((OP_R0, lam, start))
            return
        multi = not no_node[start : start + size].any()  # Rate-1 / SPC allowed here
        if nfree == size and rate1 and multi:
            ops.append((OP_R1, lam, start))
            return
        if rep and nfree == 1 and not seg[-1]:
            ops.append((OP_REP, lam, start + size - 1))
            return
        if spc and multi and lam >= 2 and nfree == size - 1 and seg[0]:
            ops.append((OP_SPC, lam, start))
            return
        half = size // 2
        ops.append((OP_F, lam - 1, start))
        visit(start, lam - 1)
        ops.append((OP_SAVE, lam - 1, start))
        ops.append((OP_G, lam - 1, start + half))
        visit(start + half, lam - 1)
        ops.append((OP_COMB, lam - 1, start))

    visit(0, m)
    return np.asarray(ops, dtype=np.int32).reshape(-1, 3)


# ------------------------------------------------------------------------------ list decoder
@numba.njit(**_JIT, inline="always")
def _alloc(rc: np.ndarray, lam: int, L: int) -> int:
    for s in range(L):
        if rc[lam, s] == 0:
            return s
    return -1  # unreachable: at most L paths hold at most L arrays per level


@numba.njit(**_JIT, inline="always")
def _writable(ptr: np.ndarray, rc: np.ndarray, lam: int, path: int, L: int) -> int:
    """Slot of ``path`` at level ``lam`` that it may overwrite (re-allocated if shared).
    Every write overwrites the whole level array, so a re-allocated slot needs no copy."""
    s = ptr[lam, path]
    if rc[lam, s] > 1:
        rc[lam, s] -= 1
        s = _alloc(rc, lam, L)
        rc[lam, s] = 1
        ptr[lam, path] = s
    return s


@numba.njit(**_JIT, inline="always")
def _kill(ell: int, m: int, aptr, arc, active) -> None:
    """Drop path ``ell``: release its LLR arrays."""
    active[ell] = False
    for r in range(m):
        arc[r, aptr[r, ell]] -= 1


@numba.njit(**_JIT, inline="always")
def _clone(src: int, m: int, aptr, arc, active, bl, blw, R: int, pos: int, lam0: int) -> int:
    """A new path (first free slot) sharing every LLR array of path ``src`` (lazy copy), with a
    copy of its *live* saved partial sums: after a node at level ``lam0`` covering position
    ``pos``, only the levels where that position lies in a right half are read again.
    ``bl`` (L * R,) uint8 rows of stride ``R`` (a multiple of 8) and ``blw`` its uint64 view."""
    nw = 0
    while active[nw]:
        nw += 1
    active[nw] = True
    for r in range(m):
        a = aptr[r, src]
        aptr[r, nw] = a
        arc[r, a] += 1
    for lev in range(lam0, m):
        if (pos >> lev) & 1:
            size = 1 << lev
            if lev >= 3:
                ws = (src * R + size) >> 3
                wd = (nw * R + size) >> 3
                for j in range(size >> 3):
                    blw[wd + j] = blw[ws + j]
            else:
                for j in range(size):
                    bl[nw * R + size + j] = bl[src * R + size + j]
    return nw


@numba.njit(**_JIT, inline="always")
def _argsort_small(val: np.ndarray, n: int, idx: np.ndarray) -> None:
    """``idx[:n]`` = stable argsort of ``val[:n]`` (insertion sort: n <= 2L is small)."""
    for c in range(n):
        v = val[c]
        q = c
        while q > 0 and val[idx[q - 1]] > v:
            idx[q] = idx[q - 1]
            q -= 1
        idx[q] = c


#: above this many candidates :func:`_select` sorts instead of counting ranks
_RANK_MAX = 64


@numba.njit(**_JIT, inline="always")
def _select(val: np.ndarray, n: int, k: int, idx: np.ndarray) -> None:
    """``idx[r]`` = position of the ``r``-th smallest of ``val[:n]`` for ``r < min(k, n)``,
    ties broken by position (so exactly a stable argsort's first ``k`` entries).

    Up to ``_RANK_MAX`` candidates every rank is counted (``n**2`` compares in branch-free
    loops that LLVM vectorises, no data-dependent branches); beyond, an insertion sort."""
    if n > _RANK_MAX:
        _argsort_small(val, n, idx)
        return
    for i in range(n):
        v = val[i]
        r = 0
        for j in range(i):  # earlier positions win ties
            r += val[j] <= v
        for j in range(i + 1, n):
            r += val[j] < v
        if r < k:
            idx[r] = i


_TAKEN = np.int64(0x7FFFFFFFFFFFFFFF)


@numba.njit(**_JIT, inline="always")
def _extract(
    key: np.ndarray, mag: np.ndarray, size: int, nxt: np.ndarray, ell: int, fmag, flip
) -> None:
    """Extract path ``ell``'s next least reliable position of a node: ``q = nxt[ell]``,
    ``flip[ell, q]`` its position and ``fmag[ell, q]`` its ``|LLR|``, ties to the lower position
    (a stable sort). ``key[:size]`` = ``|LLR| bits << 32 | position`` (float32 bits of a
    non-negative number order like the numbers); an extracted key is set to ``_TAKEN``.
    One vectorised minimum over the node per call."""
    best = key[0]
    for j in range(1, size):
        best = min(best, key[j])
    j = best & 0xFFFFFFFF
    key[j] = _TAKEN
    q = nxt[ell]
    flip[ell, q] = j
    fmag[ell, q] = mag[j]
    nxt[ell] = q + 1


# masks of the in-word butterfly stages: bit j with (j & h) == 0, h = 1, 2, ..., 32
_BF_MASKS = np.array(
    [
        0x5555555555555555,
        0x3333333333333333,
        0x0F0F0F0F0F0F0F0F,
        0x00FF00FF00FF00FF,
        0x0000FFFF0000FFFF,
        0x00000000FFFFFFFF,
    ],
    dtype=np.uint64,
)


@numba.njit(**_JIT, inline="always")
def _u_words(res: np.ndarray, ell: int, size: int, wb: np.ndarray) -> None:
    """``wb[:ceil(size / 64)]`` = the u bits of the node codeword ``res[ell, size : 2 size]``
    (as :func:`_butterfly`), packed (bit ``j`` of word ``j // 64``), computed on 64-bit words:
    a stage with ``h < 64`` is one shift, mask and xor per word, one with ``h >= 64`` a
    word-wise xor."""
    nw = (size + 63) >> 6
    for w in range(nw):
        x = np.uint64(0)
        n = min(64, size - 64 * w)
        base = size + 64 * w
        for b in range(n):
            x |= np.uint64(res[ell, base + b]) << np.uint64(b)
        for s in range(6):
            h = 1 << s
            if h >= size:
                break
            x ^= (x >> np.uint64(h)) & _BF_MASKS[s]
        wb[w] = x
    hw = 1
    while 64 * hw < size:
        for b0 in range(0, nw, 2 * hw):
            for i in range(b0, b0 + hw):
                wb[i] ^= wb[i + hw]
        hw *= 2


def _submask_words() -> np.ndarray:
    """``SUB[j]`` (64,) uint64: bit ``i`` set iff ``i & j == i``. Flipping codeword bit ``j``
    of a node flips exactly its ``u`` bits ``i`` that are submasks of ``j`` (``u = x F^{(x)m}``,
    ``F^{(x)m}[j, i] = 1`` iff ``i`` is a submask of ``j``)."""
    out = np.zeros(64, dtype=np.uint64)
    for j in range(64):
        for i in range(64):
            if i & j == i:
                out[j] |= np.uint64(1) << np.uint64(i)
    return out


_SUB = _submask_words()


@numba.njit(**_JIT, inline="always")
def _flip_u(w: np.ndarray, j: int) -> None:
    """Packed u words ``w`` of a node: the effect of flipping its codeword bit ``j``."""
    sub = _SUB[j & 63]
    a = j >> 6
    s = a  # every word index that is a submask of a
    while True:
        w[s] ^= sub
        if s == 0:
            break
        s = (s - 1) & a


@numba.njit(**_JIT)
def scl_decode(
    llr: np.ndarray,
    ops: np.ndarray,
    K: int,
    L: int,
    exact: bool,
    src_trans: np.ndarray,
    src_tree: np.ndarray,
    src_bits: int,
    n_src_bits: int,
    state0: np.ndarray,
    src_wide: bool,
    out_info: np.ndarray,
    out_pm: np.ndarray,
    out_state: np.ndarray,
    crc: np.ndarray,
    out_ok: np.ndarray,
) -> None:
    """Successive-cancellation list decoding with LLR path metrics and lazy copy.

    Parameters
    ----------
    llr : (F, N) float32 channel LLRs (the LLR tree is float32 too).
    ops : schedule from :func:`build_schedule`. Rate-0 / REP / Rate-1 / SPC nodes only with the
        approximate metric (and Rate-1 / SPC only for L <= 63: fork sets are 64-bit masks).
    K : number of information bits (INFO leaves + REP nodes + Rate-1 sizes + SPC sizes - 1).
    L : list size >= 1.
    exact : exact check nodes (boxplus) and path metric ``PM += log(1 + exp(-(1 - 2u) LLR))``
        (True), or min-sum check nodes and the hardware approximation ``PM += |LLR|`` when
        ``u`` disagrees with the LLR's sign (False). Each pair is ML with a full list.
    src_trans, src_tree, src_bits, n_src_bits, state0 : the **source hook** (per-path state).
        The first ``n_src_bits`` information bits (decoding order) are symbols of ``src_bits``
        bits (MSB first). Each path carries a source state ``s`` (int32) and the binary-tree code
        ``p`` of its partial symbol (1 = empty; child ``2p + b``). Deciding bit ``b`` adds
        ``src_tree[s, 2p+b] - src_tree[s, p]`` to the path metric (``+inf`` prunes the path);
        completing symbol ``c`` moves the state to ``src_trans[s, c]``. ``state0`` (F,) are the
        frames' initial states; state -1 means "unconstrained". If every candidate of a decision
        would be pruned, the source is ignored from there on (states become -1). In a Rate-1 /
        SPC node the candidates are formed by the channel metric (Fast-SSCL fork rule) and the
        source cost of each candidate's ``u`` bits is added before the final choice of L
        (``src_wide``: among the 2L candidates of the last fork, else among the L the channel
        metric kept). ``n_src_bits = 0``: plain decoding.
    out_info : (F, R, K) uint8 decided information bits of the R <= L best surviving paths,
        best first (R = 1: only the decoded word is traced back).
    out_pm : (F, R) float64 path metrics (``inf`` where fewer than R paths survived).
    out_state : (F, R) int32 final source state per path.
    crc : (4,) int64 ``(width, poly, init, xorout)`` of the CRC ending the information bits, or
        width 0. With a CRC (and R = 1) row 0 is CA-SCL's choice: the first path in metric order
        whose CRC checks, else the best path; paths are traced back one at a time, only until
        one passes (the same choice as checking the whole sorted list, with fewer tracebacks).
    out_ok : (F,) bool, with a CRC: whether the chosen path's CRC checks.

    Memory: LLR arrays are shared between paths (Tal-Vardy lazy copy: per level and path a
    pointer into a pool of L slots, with reference counts; a clone copies ``m`` integers and a
    shared array is re-allocated, never copied, on its next write). Partial sums are private
    bytes per path, a left child's result written straight to the saved rows its sibling and
    parent read (no save copies); a clone copies only the live levels (as 64-bit words). Decisions are
    recorded as ``(bit, parent path)`` per information bit and traced back at the end.

    Rate-1 and SPC nodes (Fast-SSCL, Hashemi et al. 2017) fork each path on its least reliable
    positions only: Rate-1 on ``min(L - 1, size)`` of them, SPC on ``min(L, size)`` (the least
    reliable one keeps the parity even). The node's candidates live as (parent, 64-bit flip
    mask) pairs until the node ends, so a path is cloned at most once per node.
    """
    F, N = llr.shape
    m = 0
    while (1 << m) < N:
        m += 1
    use_src = n_src_bits > 0
    sym_leaf = 1 << src_bits
    inf = np.inf
    # LLR pool: level lam, slot s at offset L*2^lam + s*2^lam (length 2^lam)
    A = np.empty(2 * L * N, dtype=llr.dtype)
    # partial sums, private per path: per level, ``res`` the result of a right child and ``bl``
    # that of a left child, written there by the node (or combine) that decides it, so nothing
    # is copied between them (rows of stride R; live ``bl`` levels are copied on clone as words)
    R = max(8, 2 * N)
    res = np.zeros((L, R), dtype=np.uint8)
    resw = res.view(np.uint64)  # (L, R / 8) word view of the same rows
    bl = np.zeros(L * R, dtype=np.uint8)
    blw = bl.view(np.uint64)
    bl2 = bl.reshape((L, R))  # the same rows as ``res``: a left child writes its result here
    blw2 = blw.reshape((L, R >> 3))
    aptr = np.zeros((m + 1, L), dtype=np.int32)
    arc = np.zeros((m + 1, L), dtype=np.int32)
    active = np.zeros(L, dtype=np.bool_)
    was_active = np.zeros(L, dtype=np.bool_)
    used = np.zeros(L, dtype=np.bool_)
    pm = np.zeros(L)
    st = np.zeros(L, dtype=np.int32)
    pf = np.ones(L, dtype=np.int32)
    # decisions per path (rows: contiguous writes): u bits, and the parent path at the first
    # bit of every decision (a node's later bits stay on the same path); ``dstart`` lists the
    # first bit of every decision (fixed by the schedule), so a traceback copies whole nodes
    U = np.zeros((L, max(K, 1)), dtype=np.uint8)
    P = np.zeros((L, max(K, 1)), dtype=np.int32)
    dstart = np.empty(ops.shape[0] + 1, dtype=np.int64)
    nd = 0
    j_info = 0
    for t in range(ops.shape[0]):
        op = ops[t, 0]
        if op == OP_R1 or op == OP_SPC:  # noqa: SIM109 (numba)
            dstart[nd] = j_info
            nd += 1
            j_info += (1 << ops[t, 1]) - (op == OP_SPC)
        elif op == OP_INFO or op == OP_REP:  # noqa: SIM109 (numba)
            dstart[nd] = j_info
            nd += 1
            j_info += 1
    dstart[nd] = K
    cand = np.empty(2 * L)
    cpen = np.empty(2 * L)
    idx = np.empty(2 * L, dtype=np.int64)
    keep = np.zeros(2 * L, dtype=np.bool_)
    ubit = np.zeros(L, dtype=np.uint8)
    order = np.empty(L, dtype=np.int64)
    # node (Rate-1 / SPC) candidates: current (c*), expanded (t*), kept (k*)
    flip = np.zeros((L, L + 1), dtype=np.int64)  # per path: least reliable positions
    fmag = np.zeros((L, L + 1))  # ... and their |LLR|, ascending
    cpm = np.empty(2 * L)
    cmask = np.zeros(2 * L, dtype=np.int64)
    cpar = np.zeros(2 * L, dtype=np.int64)
    tpm = np.empty(2 * L)
    tmask = np.zeros(2 * L, dtype=np.int64)
    tpar = np.zeros(2 * L, dtype=np.int64)
    csrc = np.zeros(2 * L)
    cst = np.zeros(2 * L, dtype=np.int32)
    cpf = np.ones(2 * L, dtype=np.int32)
    bpm = np.empty(L)
    bmask = np.zeros(L, dtype=np.int64)
    bpar = np.zeros(L, dtype=np.int64)
    bc = np.zeros(L, dtype=np.int64)
    kpm = np.empty(2 * L)
    kmask = np.zeros(2 * L, dtype=np.int64)
    kpar = np.zeros(2 * L, dtype=np.int64)
    kst = np.zeros(2 * L, dtype=np.int32)
    kpf = np.ones(2 * L, dtype=np.int32)
    slot = np.zeros(2 * L, dtype=np.int64)
    xb = np.zeros(N, dtype=np.uint8)
    NW = max(1, N // 64)
    uw = np.zeros((L, NW), dtype=np.uint64)  # per parent: u words of its hard decisions
    wb = np.zeros(NW, dtype=np.uint64)
    # Rate-1 / SPC nodes: per path |LLR| and sort keys (|LLR| bits << 32 | position)
    mag = np.empty((L, N), dtype=np.float32)
    key = np.empty((L, N), dtype=np.int64)
    nxt = np.zeros(L, dtype=np.int64)  # how many least reliable positions are extracted
    Ai = A.view(np.int32)
    llri = llr.view(np.int32)
    n_ops = ops.shape[0]
    for fr in range(F):
        arc[:, :] = 0
        aptr[:, :] = 0
        for lam in range(m + 1):
            arc[lam, 0] = 1
        active[:] = False
        active[0] = True
        pm[:] = 0.0
        st[0] = state0[fr] if use_src else -1
        pf[0] = 1
        j_info = 0
        for t in range(n_ops):
            op = ops[t, 0]
            lam = ops[t, 1]
            size = 1 << lam
            # a node's result goes where its parent reads it: a right child's to ``res``, a
            # left child's straight to the saved rows ``bl`` (so no SAVE copies are needed)
            dst = res if (ops[t, 2] >> lam) & 1 else bl2
            if op == OP_F or op == OP_G:  # noqa: SIM109 (numba)
                # slices (views) let LLVM vectorise; offsets into one array would not
                for ell in range(L):
                    if not active[ell]:
                        continue
                    d0 = L * size + _writable(aptr, arc, lam, ell, L) * size
                    if lam == m - 1:
                        src = llr[fr]
                    else:
                        p0 = 2 * L * size + aptr[lam + 1, ell] * 2 * size
                        src = A[p0 : p0 + 2 * size]
                    if op == OP_F:
                        if exact:
                            _fvec_exact(A[d0 : d0 + size], src, size)
                        else:
                            _fvec(A[d0 : d0 + size], src, size)
                    else:
                        b0 = ell * R + size
                        _gvec(A[d0 : d0 + size], src, bl[b0 : b0 + size], size)
            elif op == OP_R0:
                for ell in range(L):
                    if not active[ell]:
                        continue
                    off = L * size + aptr[lam, ell] * size
                    nl = A[off : off + size] if lam < m else llr[fr, :size]
                    acc = pm[ell]
                    if exact:
                        for j in range(size):
                            acc += _softplus(-nl[j])
                    else:
                        for j in range(size):  # branch-free; subtracting 0 keeps it exact
                            acc -= min(nl[j], np.float32(0.0))
                    pm[ell] = acc
                    for j in range(size):
                        dst[ell, size + j] = 0
            elif op == OP_SAVE:
                pass  # left children wrote their results to ``bl`` directly
            elif op == OP_COMB:
                # the parent (level lam + 1) = (left ^ right, right), written where its own
                # parent reads it; 64-bit words from size 8 up (rows and levels are 8-aligned)
                up = (ops[t, 2] >> (lam + 1)) & 1
                pw = resw if up else blw2
                pb = res if up else bl2
                for ell in range(L):
                    if active[ell]:
                        b0 = ell * R + size
                        if lam >= 3:
                            s8 = size >> 3
                            w0 = b0 >> 3
                            for j in range(s8):
                                r = resw[ell, s8 + j]
                                pw[ell, 2 * s8 + j] = blw[w0 + j] ^ r
                                pw[ell, 3 * s8 + j] = r
                        else:
                            for j in range(size):
                                r = res[ell, size + j]
                                pb[ell, 2 * size + j] = bl[b0 + j] ^ r
                                pb[ell, 3 * size + j] = r
            elif op == OP_R1 or op == OP_SPC:  # noqa: SIM109 (numba)
                spc = op == OP_SPC
                nflip = min(L, size) if spc else min(L - 1, size)
                q0 = 1 if spc else 0
                # per path: hard decisions, parity and (position, reliability) keys; the
                # least reliable positions are extracted one at a time, only when a fork
                # needs them (most nodes stop after one or two forks)
                nc = 0
                for ell in range(L):
                    if not active[ell]:
                        continue
                    off = L * size + aptr[lam, ell] * size
                    if lam < m:
                        nl = A[off : off + size]
                        nb = Ai[off : off + size]
                    else:
                        nl = llr[fr, :size]
                        nb = llri[fr, :size]
                    par = 0
                    kr = key[ell]
                    mr = mag[ell]
                    for j in range(size):
                        lv = nl[j]
                        h = np.uint8(lv < 0)
                        dst[ell, size + j] = h
                        par ^= h
                        mr[j] = abs(lv)
                        kr[j] = (np.int64(nb[j] & 0x7FFFFFFF) << 32) | j
                    nxt[ell] = 0
                    if nflip > 0:
                        _extract(kr, mr, size, nxt, ell, fmag, flip)
                    cpm[nc] = pm[ell]
                    cmask[nc] = 0
                    cpar[nc] = ell
                    if spc and par:  # even parity: flip the least reliable bit
                        cpm[nc] += fmag[ell, 0]
                        cmask[nc] = 1
                    nc += 1
                src_node = use_src and j_info < n_src_bits
                wide = src_node and src_wide  # keep 2L candidates for the source to choose
                ordered = False  # the candidates are in (metric, index) order after a fork
                for q in range(q0, nflip):
                    # The children of the candidates c = 0..nc-1 are ranked by (metric, 2c +
                    # flip): a stable sort of all 2 nc children. With a full list a flipped
                    # child worse than every current candidate can never be kept, so it is left
                    # out; a candidate's flip cost never decreases with q (positions sorted by
                    # reliability), so once no flipped child is left, none later will be either.
                    worst = inf
                    if nc == L and not wide:
                        worst = cpm[0]
                        for c in range(1, nc):
                            worst = max(worst, cpm[c])
                    nb = 0  # flipped children that may be kept, in candidate order
                    for c in range(nc):
                        p = cpar[c]
                        # flipping bit q toggles an SPC node's parity fix of the first one
                        fix = 0.0
                        if spc:
                            fix = -fmag[p, 0] if cmask[c] & 1 else fmag[p, 0]
                        if nxt[p] <= q:
                            # the last extracted reliability bounds this flip's cost from
                            # below: extract more only if the flipped child may be kept
                            if cpm[c] + (fmag[p, nxt[p] - 1] + fix) > worst:
                                continue
                            while nxt[p] <= q:
                                _extract(key[p], mag[p], size, nxt, p, fmag, flip)
                        cost = fmag[p, q] + fix
                        if cpm[c] + cost <= worst:
                            nm = cmask[c] | (np.int64(1) << q)
                            if spc:
                                nm ^= 1
                            bpm[nb] = cpm[c] + cost
                            bmask[nb] = nm
                            bpar[nb] = p
                            bc[nb] = c
                            nb += 1
                    if nb == 0 and worst < inf:
                        break
                    nt = nc + nb
                    # the last expansion keeps all 2L when source costs are still to come
                    nkeep = nt if (wide and q == nflip - 1) else min(L, nt)
                    if ordered:  # merge the sorted list with the (few) sorted flipped children
                        for i in range(1, nb):  # insertion sort by metric (stable: c order)
                            v = bpm[i]
                            if bpm[i - 1] <= v:
                                continue
                            vm, vp, vc = bmask[i], bpar[i], bc[i]
                            z = i
                            while z > 0 and bpm[z - 1] > v:
                                bpm[z], bmask[z], bpar[z], bc[z] = (
                                    bpm[z - 1],
                                    bmask[z - 1],
                                    bpar[z - 1],
                                    bc[z - 1],
                                )
                                z -= 1
                            bpm[z], bmask[z], bpar[z], bc[z] = v, vm, vp, vc
                        ia = 0
                        ib = 0
                        for r in range(nkeep):
                            takeb = ib < nb and (
                                ia >= nc
                                or bpm[ib] < cpm[ia]
                                or (bpm[ib] == cpm[ia] and bc[ib] < ia)
                            )
                            if takeb:
                                tpm[r], tmask[r], tpar[r] = bpm[ib], bmask[ib], bpar[ib]
                                ib += 1
                            else:
                                tpm[r], tmask[r], tpar[r] = cpm[ia], cmask[ia], cpar[ia]
                                ia += 1
                        for r in range(nkeep):
                            cpm[r] = tpm[r]
                            cmask[r] = tmask[r]
                            cpar[r] = tpar[r]
                    else:  # first fork: a stable selection over all children in (c, flip) order
                        nt = 0
                        ib = 0
                        for c in range(nc):
                            tpm[nt], tmask[nt], tpar[nt] = cpm[c], cmask[c], cpar[c]
                            nt += 1
                            if ib < nb and bc[ib] == c:
                                tpm[nt], tmask[nt], tpar[nt] = bpm[ib], bmask[ib], bpar[ib]
                                nt += 1
                                ib += 1
                        _select(tpm, nt, nkeep, idx)
                        for r in range(nkeep):
                            c = idx[r]
                            cpm[r] = tpm[c]
                            cmask[r] = tmask[c]
                            cpar[r] = tpar[c]
                        ordered = True
                    nc = nkeep
                # source costs of the candidates' u bits (decoding order)
                t0 = 1 if spc else 0
                anyfin = True
                if src_node:
                    anyfin = False
                    for c in range(nc):
                        p = cpar[c]
                        s_ = st[p]
                        pf_ = pf[p]
                        cost = 0.0
                        if s_ >= 0:
                            for j in range(size):
                                xb[j] = dst[p, size + j]
                            for q in range(nflip):
                                if (cmask[c] >> q) & 1:
                                    xb[flip[p, q]] ^= 1
                            _butterfly(xb, size)
                            for tt in range(t0, size):
                                if j_info + tt - t0 >= n_src_bits:
                                    break
                                child = 2 * pf_ + xb[tt]
                                cost += src_tree[s_, child] - src_tree[s_, pf_]
                                if cost == inf:
                                    break
                                if child >= sym_leaf:
                                    s_ = src_trans[s_, child - sym_leaf]
                                    child = 1
                                    if s_ < 0:
                                        cost = inf
                                        break
                                pf_ = child
                        csrc[c] = cost
                        cst[c] = s_
                        cpf[c] = pf_
                        if cpm[c] + cost < inf:
                            anyfin = True
                    if not anyfin:  # every candidate violates the source: drop it
                        for ell in range(L):
                            st[ell] = -1
                if src_node and anyfin:
                    for c in range(nc):
                        tpm[c] = cpm[c] + csrc[c]
                    _argsort_small(tpm, nc, idx)
                    nk = 0
                    while nk < min(L, nc) and tpm[idx[nk]] < inf:
                        c = idx[nk]
                        kpm[nk] = tpm[c]
                        kmask[nk] = cmask[c]
                        kpar[nk] = cpar[c]
                        kst[nk] = cst[c]
                        kpf[nk] = cpf[c]
                        nk += 1
                else:
                    nk = min(L, nc)
                    for r in range(nk):
                        p = cpar[r]
                        kpm[r] = cpm[r]
                        kmask[r] = cmask[r]
                        kpar[r] = p
                        kst[r] = st[p]
                        kpf[r] = pf[p]
                # materialise: a parent's first survivor stays in place, others are clones
                for ell in range(L):
                    used[ell] = False
                for r in range(nk):
                    slot[r] = -1
                    p = kpar[r]
                    if not used[p]:
                        used[p] = True
                        slot[r] = p
                for ell in range(L):
                    if active[ell] and not used[ell]:
                        _kill(ell, m, aptr, arc, active)
                for r in range(nk):
                    if slot[r] < 0:
                        p = kpar[r]
                        nw = _clone(p, m, aptr, arc, active, bl, blw, R, ops[t, 2], lam)
                        slot[r] = nw
                        for j in range(size):
                            dst[nw, size + j] = dst[p, size + j]
                # u bits: each parent's hard decisions through the transform once, then
                # every flip of a survivor toggles the u bits that are submasks of its position
                nw = (size + 63) >> 6
                for ell in range(L):
                    if used[ell]:
                        _u_words(dst, ell, size, uw[ell])
                for r in range(nk):
                    ell = slot[r]
                    p = kpar[r]
                    for w in range(nw):
                        wb[w] = uw[p, w]
                    for q in range(nflip):
                        if (kmask[r] >> q) & 1:
                            j = flip[p, q]
                            dst[ell, size + j] ^= 1
                            _flip_u(wb, j)
                    pm[ell] = kpm[r]
                    st[ell] = kst[r]
                    pf[ell] = kpf[r]
                    for tt in range(t0, size):
                        U[ell, j_info + tt - t0] = (wb[tt >> 6] >> np.uint64(tt & 63)) & 1
                    P[ell, j_info] = p
                j_info += size - t0
            else:  # OP_INFO (lam = 0) or OP_REP: one information bit, two candidates per path
                src_here = use_src and j_info < n_src_bits
                for ell in range(L):
                    c0 = 2 * ell
                    cpen[c0] = 0.0
                    cpen[c0 + 1] = 0.0
                    if not active[ell]:
                        cand[c0] = inf
                        cand[c0 + 1] = inf
                        continue
                    off = L * size + aptr[lam, ell] * size
                    if op == OP_INFO:
                        lv = A[off] if m > 0 else llr[fr, 0]
                        if exact:
                            p0 = _softplus(-lv)
                            p1 = _softplus(lv)
                        else:
                            p0 = -lv if lv < 0 else 0.0
                            p1 = lv if lv > 0 else 0.0
                    else:  # REP (approximate metric): all-0 vs all-1 node codeword
                        p0 = 0.0
                        p1 = 0.0
                        nl = A[off : off + size] if lam < m else llr[fr, :size]
                        for j in range(size):  # branch-free; adding 0 keeps the sums exact
                            lv = nl[j]
                            p0 -= min(lv, np.float32(0.0))
                            p1 += max(lv, np.float32(0.0))
                    cand[c0] = pm[ell] + p0
                    cand[c0 + 1] = pm[ell] + p1
                    if src_here and st[ell] >= 0:
                        base = src_tree[st[ell], pf[ell]]
                        cpen[c0] = src_tree[st[ell], 2 * pf[ell]] - base
                        cpen[c0 + 1] = src_tree[st[ell], 2 * pf[ell] + 1] - base
                if src_here:
                    anyfin = False
                    for c in range(2 * L):
                        if cand[c] < inf and cpen[c] < inf:
                            anyfin = True
                            break
                    if anyfin:
                        for c in range(2 * L):
                            cand[c] += cpen[c]
                    else:
                        for ell in range(L):
                            st[ell] = -1
                # keep the L best of the 2L children (ties: lower child index). Fast path:
                # when every path is active and each path's worse child is worse than every
                # path's better one, the better children are exactly the L best
                keep[:] = False
                gmax = -inf
                bmin = inf
                for ell in range(L):
                    a0 = cand[2 * ell]
                    a1 = cand[2 * ell + 1]
                    gmax = max(gmax, min(a0, a1))
                    bmin = min(bmin, max(a0, a1))
                if bmin > gmax:  # implies every candidate is finite: all paths active
                    for ell in range(L):
                        keep[2 * ell + (cand[2 * ell + 1] < cand[2 * ell])] = True
                else:
                    _select(cand, 2 * L, L, idx)
                    for c in range(L):
                        if cand[idx[c]] == inf:
                            break
                        keep[idx[c]] = True
                for ell in range(L):
                    was_active[ell] = active[ell]
                    if active[ell] and not keep[2 * ell] and not keep[2 * ell + 1]:
                        _kill(ell, m, aptr, arc, active)
                        was_active[ell] = False
                for ell in range(L):
                    if not was_active[ell]:
                        continue
                    k0 = keep[2 * ell]
                    k1 = keep[2 * ell + 1]
                    if k0 and k1:
                        nw = _clone(ell, m, aptr, arc, active, bl, blw, R, ops[t, 2], lam)
                        pm[nw] = cand[2 * ell + 1]
                        st[nw] = st[ell]
                        pf[nw] = pf[ell]
                        U[nw, j_info] = 1
                        P[nw, j_info] = ell
                        ubit[nw] = 1
                        pm[ell] = cand[2 * ell]
                        ubit[ell] = 0
                    else:
                        ubit[ell] = 0 if k0 else 1
                        pm[ell] = cand[2 * ell + ubit[ell]]
                    U[ell, j_info] = ubit[ell]
                    P[ell, j_info] = ell
                for ell in range(L):
                    if not active[ell]:
                        continue
                    for j in range(size):
                        dst[ell, size + j] = ubit[ell]
                    if src_here and st[ell] >= 0:
                        p = 2 * pf[ell] + ubit[ell]
                        if p >= sym_leaf:
                            st[ell] = src_trans[st[ell], p - sym_leaf]
                            p = 1
                        pf[ell] = p
                j_info += 1
        # ---- output: surviving paths by metric, traced back through (bit, parent) records
        n_out = 0
        for ell in range(L):
            if active[ell]:
                order[n_out] = ell
                n_out += 1
        for a in range(1, n_out):  # stable insertion sort by metric
            v = order[a]
            q = a
            while q > 0 and pm[order[q - 1]] > pm[v]:
                order[q] = order[q - 1]
                q -= 1
            order[q] = v
        if crc[0] > 0:  # CA-SCL: the first path, by metric, whose CRC checks (else the best)
            out_ok[fr] = False
            for r in range(n_out):
                if pm[order[r]] == inf:  # a path the source model ruled out
                    break
                _trace(out_info[fr, 0], U, P, dstart, nd, order[r])
                if _crc_ok(out_info[fr, 0], K, crc):
                    out_ok[fr] = True
                    ell = order[r]
                    break
            if not out_ok[fr]:
                ell = order[0]
                _trace(out_info[fr, 0], U, P, dstart, nd, ell)
            out_pm[fr, 0] = pm[ell]
            out_state[fr, 0] = st[ell]
            continue
        for r in range(out_info.shape[1]):  # the best rows <= L paths
            if r >= n_out:
                out_pm[fr, r] = inf
                out_state[fr, r] = -1
                for j in range(K):
                    out_info[fr, r, j] = 0
                continue
            ell = order[r]
            out_pm[fr, r] = pm[ell]
            out_state[fr, r] = st[ell]
            _trace(out_info[fr, r], U, P, dstart, nd, ell)


@numba.njit(**_JIT, inline="always")
def _trace(dst: np.ndarray, U: np.ndarray, P: np.ndarray, dstart: np.ndarray, nd: int, e: int):
    """``dst[:K]`` = the information bits of path ``e``, traced back through the per-decision
    ``(bits, parent)`` records (a decision's bits all sit on one path)."""
    for d in range(nd - 1, -1, -1):
        j0 = dstart[d]
        for j in range(j0, dstart[d + 1]):
            dst[j] = U[e, j]
        e = P[e, j0]


@numba.njit(**_JIT, inline="always")
def _crc_ok(bits: np.ndarray, K: int, crc: np.ndarray) -> bool:
    """Whether the last ``w`` of ``bits[:K]`` are the CRC of the first ``K - w`` (register fed
    MSB first; ``crc = (w, poly, init, xorout)``, as :class:`noisyhw.codes.CRC`)."""
    w = crc[0]
    mask = (np.int64(1) << w) - 1
    top = w - 1
    reg = crc[2]
    for j in range(K - w):
        fb = ((reg >> top) & 1) ^ np.int64(bits[j])
        reg = (reg << 1) & mask
        if fb:
            reg ^= crc[1]
    reg ^= crc[3]
    bad = 0
    for j in range(w):
        bad |= ((reg >> (top - j)) & 1) ^ bits[K - w + j]
    return bad == 0
