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
def _comb(dst: np.ndarray, left: np.ndarray, right: np.ndarray, size: int) -> None:
    """Partial sums of a parent: dst = (left ^ right, right)."""
    for j in range(size):
        dst[j] = left[j] ^ right[j]
    dst[size : 2 * size] = right


@numba.njit(**_JIT, inline="always")
def _gvec(dst: np.ndarray, src: np.ndarray, bits: np.ndarray, size: int) -> None:
    """dst[j] = src[size + j] + (1 - 2 bits[j]) src[j]."""
    a = src[:size]
    b = src[size : 2 * size]
    for j in range(size):
        dst[j] = b[j] + a[j] * (1.0 - 2.0 * bits[j])


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
    """Successive cancellation, leaf by leaf. ``llr`` (F, N) f64, ``frozen`` (N,) uint8,
    ``out_u`` (F, N) uint8 receives the decided ``u`` (frozen positions are 0)."""
    F, N = llr.shape
    m = 0
    while (1 << m) < N:
        m += 1
    alpha = np.empty(2 * N)
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
OP_F, OP_G, OP_R0, OP_R1, OP_REP, OP_INFO, OP_SAVE, OP_COMB = range(8)


def build_schedule(frozen: np.ndarray, *, rate1: bool, rep: bool, rate0: bool) -> np.ndarray:
    """Operations (n_ops, 3) int32 for a frozen mask (n,) bool.

    ``rate0`` / ``rate1`` / ``rep`` allow the node shortcuts (all frozen / no frozen / only the
    last bit free) at levels above the leaves; a leaf is always R0 (frozen) or INFO.
    """
    frozen = np.asarray(frozen, dtype=bool)
    n = frozen.size
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
        if nfree == size and rate1:
            ops.append((OP_R1, lam, start))
            return
        if rep and nfree == 1 and not seg[-1]:
            ops.append((OP_REP, lam, start + size - 1))
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


@numba.njit(**_JIT)
def sc_decode_fast(
    llr: np.ndarray, ops: np.ndarray, info_pos: np.ndarray, systematic: bool, out: np.ndarray
) -> None:
    """SC following a schedule with Rate-0 / Rate-1 / REP nodes (exact shortcuts of SC).

    ``llr`` (F, N) f64; ``info_pos`` (K,) sorted information positions; ``out`` (F, K) uint8
    receives the payload: ``u`` at the information positions, or (``systematic``) the decided
    codeword ``x`` there."""
    F, N = llr.shape
    K = info_pos.size
    alpha = np.empty(2 * N, dtype=llr.dtype)
    bl = np.zeros(2 * N, dtype=np.uint8)
    res = np.zeros(2 * N, dtype=np.uint8)
    tmp = np.zeros(N, dtype=np.uint8)
    n_ops = ops.shape[0]
    for fr in range(F):
        for j in range(N):
            alpha[N + j] = llr[fr, j]
        k = 0
        for t in range(n_ops):
            op = ops[t, 0]
            size = 1 << ops[t, 1]
            if op == OP_F:
                _fvec(alpha[size : 2 * size], alpha[2 * size : 4 * size], size)
            elif op == OP_G:
                _gvec(alpha[size : 2 * size], alpha[2 * size : 4 * size], bl[size : 2 * size], size)
            elif op == OP_R0:
                for j in range(size):
                    res[size + j] = 0
            elif op == OP_R1 or op == OP_INFO:  # noqa: SIM109 (numba)
                for j in range(size):
                    res[size + j] = alpha[size + j] < 0
                if not systematic:  # u of the node = its codeword through the transform
                    for j in range(size):
                        tmp[j] = res[size + j]
                    h = 1
                    while h < size:
                        for b0 in range(0, size, 2 * h):
                            for j in range(b0, b0 + h):
                                tmp[j] ^= tmp[j + h]
                        h *= 2
                    for j in range(size):
                        out[fr, k + j] = tmp[j]
                    k += size
            elif op == OP_REP:
                acc = alpha[size]
                for j in range(1, size):
                    acc += alpha[size + j]
                bit = acc < 0
                for j in range(size):
                    res[size + j] = bit
                if not systematic:
                    out[fr, k] = bit
                    k += 1
            elif op == OP_SAVE:
                bl[size : 2 * size] = res[size : 2 * size]
            else:  # OP_COMB
                _comb(res[2 * size : 4 * size], bl[size : 2 * size], res[size : 2 * size], size)
        if systematic:
            for j in range(K):
                out[fr, j] = res[N + info_pos[j]]


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
    out_info: np.ndarray,
    out_pm: np.ndarray,
    out_state: np.ndarray,
) -> None:
    """Successive-cancellation list decoding with LLR path metrics and lazy copy.

    Parameters
    ----------
    llr : (F, N) float64 channel LLRs.
    ops : schedule from :func:`build_schedule`; Rate-0 / REP / Rate-1 nodes only with the
        approximate metric, and Rate-1 only without a source model (it decides codeword bits,
        not ``u`` bits in order).
    K : number of information bits (INFO leaves + REP nodes + Rate-1 node sizes).
    L : list size >= 1.
    exact : path metric ``PM += log(1 + exp(-(1 - 2u) LLR))`` (True) or its hardware
        approximation ``PM += |LLR|`` when ``u`` disagrees with the LLR's sign (False).
    src_trans, src_tree, src_bits, n_src_bits, state0 : the **source hook** (per-path state).
        The first ``n_src_bits`` information bits (decoding order) are symbols of ``src_bits``
        bits (MSB first). Each path carries a source state ``s`` (int32) and the binary-tree code
        ``p`` of its partial symbol (1 = empty; child ``2p + b``). Deciding bit ``b`` adds
        ``src_tree[s, 2p+b] - src_tree[s, p]`` to the path metric (``+inf`` prunes the path);
        completing symbol ``c`` moves the state to ``src_trans[s, c]``. ``state0`` (F,) are the
        frames' initial states; state -1 means "unconstrained". If every candidate of a bit would
        be pruned, the source is ignored from that bit on (states become -1).
        ``n_src_bits = 0``: plain decoding.
    out_info : (F, L, K) uint8 decided information bits per surviving path, best path first.
    out_pm : (F, L) float64 path metrics (``inf`` where fewer than L paths survived).
    out_state : (F, L) int32 final source state per path.
    """
    F, N = llr.shape
    m = 0
    while (1 << m) < N:
        m += 1
    use_src = n_src_bits > 0
    sym_leaf = 1 << src_bits
    # shared pools: level lam, slot s at offset L*2^lam + s*2^lam (length 2^lam)
    A = np.empty(2 * L * N)
    B = np.zeros(2 * L * N, dtype=np.uint8)
    res = np.zeros((L, 2 * N), dtype=np.uint8)  # private: never live across a decision
    aptr = np.zeros((m + 1, L), dtype=np.int32)
    bptr = np.zeros((m + 1, L), dtype=np.int32)
    arc = np.zeros((m + 1, L), dtype=np.int32)
    brc = np.zeros((m + 1, L), dtype=np.int32)
    active = np.zeros(L, dtype=np.bool_)
    was_active = np.zeros(L, dtype=np.bool_)
    pm = np.zeros(L)
    st = np.zeros(L, dtype=np.int32)
    pf = np.ones(L, dtype=np.int32)
    U = np.zeros((max(K, 1), L), dtype=np.uint8)
    P = np.zeros((max(K, 1), L), dtype=np.int32)
    cand = np.empty(2 * L)
    cpen = np.empty(2 * L)
    idx = np.empty(2 * L, dtype=np.int64)
    keep = np.zeros(2 * L, dtype=np.bool_)
    ubit = np.zeros(L, dtype=np.uint8)
    order = np.empty(L, dtype=np.int64)
    origin = np.zeros(L, dtype=np.int32)
    flip = np.zeros((L, L), dtype=np.int64)  # per path: its least reliable positions in a node
    mag = np.empty(N)
    n_ops = ops.shape[0]
    for fr in range(F):
        arc[:, :] = 0
        brc[:, :] = 0
        aptr[:, :] = 0
        bptr[:, :] = 0
        for lam in range(m + 1):
            arc[lam, 0] = 1
            brc[lam, 0] = 1
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
            if op == OP_F or op == OP_G:  # noqa: SIM109 (numba)
                for ell in range(L):
                    if not active[ell]:
                        continue
                    dst = _writable(aptr, arc, lam, ell, L)
                    doff = L * size + dst * size
                    if lam == m - 1:
                        src = llr[fr]
                    else:
                        poff = 2 * L * size + aptr[lam + 1, ell] * 2 * size
                        src = A[poff : poff + 2 * size]
                    if op == OP_F:
                        _fvec(A[doff : doff + size], src, size)
                    else:
                        boff = L * size + bptr[lam, ell] * size
                        _gvec(A[doff : doff + size], src, B[boff : boff + size], size)
            elif op == OP_R0:
                for ell in range(L):
                    if not active[ell]:
                        continue
                    off = L * size + aptr[lam, ell] * size
                    for j in range(size):
                        lv = A[off + j] if lam < m else llr[fr, j]
                        if exact:
                            pm[ell] += _softplus(-lv)
                        elif lv < 0:
                            pm[ell] -= lv
                        res[ell, size + j] = 0
            elif op == OP_SAVE:
                for ell in range(L):
                    if not active[ell]:
                        continue
                    dst = _writable(bptr, brc, lam, ell, L)
                    boff = L * size + dst * size
                    B[boff : boff + size] = res[ell, size : 2 * size]
            elif op == OP_COMB:
                for ell in range(L):
                    if not active[ell]:
                        continue
                    boff = L * size + bptr[lam, ell] * size
                    _comb(
                        res[ell, 2 * size : 4 * size],
                        B[boff : boff + size],
                        res[ell, size : 2 * size],
                        size,
                    )
            elif op == OP_R1:
                # Rate-1 node (approximate metric, Fast-SSCL): every path starts from its hard
                # decisions (no cost) and may flip, one step at a time, each of its
                # min(L - 1, size) least reliable bits at cost |LLR|.
                nsplit = min(L - 1, size)
                for ell in range(L):
                    if not active[ell]:
                        continue
                    origin[ell] = ell
                    off = L * size + aptr[lam, ell] * size
                    for j in range(size):
                        lv = A[off + j] if lam < m else llr[fr, j]
                        res[ell, size + j] = lv < 0
                    # partial selection of the nsplit smallest |LLR| (ties: lower index first)
                    for j in range(size):
                        mag[j] = abs(A[off + j] if lam < m else llr[fr, j])
                    for q in range(nsplit):
                        best = 0
                        bv = np.inf
                        for j in range(size):
                            if mag[j] < bv:
                                bv = mag[j]
                                best = j
                        flip[ell, q] = best
                        mag[best] = np.inf
                for q in range(nsplit):
                    nact = 0
                    for ell in range(L):
                        c0 = 2 * ell
                        if not active[ell]:
                            cand[c0] = np.inf
                            cand[c0 + 1] = np.inf
                            continue
                        nact += 1
                        off = L * size + aptr[lam, ell] * size
                        pos = flip[ell, q]
                        lv = A[off + pos] if lam < m else llr[fr, pos]
                        cand[c0] = pm[ell]
                        cand[c0 + 1] = pm[ell] + abs(lv)
                    nc = 0
                    for c in range(2 * L):
                        if cand[c] == np.inf:
                            continue
                        v = cand[c]
                        r = nc
                        while r > 0 and cand[idx[r - 1]] > v:
                            idx[r] = idx[r - 1]
                            r -= 1
                        idx[r] = c
                        nc += 1
                    keep[:] = False
                    for c in range(min(L, nc)):
                        keep[idx[c]] = True
                    for ell in range(L):
                        was_active[ell] = active[ell]
                        if active[ell] and not keep[2 * ell] and not keep[2 * ell + 1]:
                            active[ell] = False
                            for r in range(m):
                                arc[r, aptr[r, ell]] -= 1
                                brc[r, bptr[r, ell]] -= 1
                            was_active[ell] = False
                    for ell in range(L):
                        if not was_active[ell]:
                            continue
                        k0 = keep[2 * ell]
                        k1 = keep[2 * ell + 1]
                        if k0 and k1:
                            nw = 0
                            while active[nw]:
                                nw += 1
                            active[nw] = True
                            for r in range(m):
                                aptr[r, nw] = aptr[r, ell]
                                arc[r, aptr[r, ell]] += 1
                                bptr[r, nw] = bptr[r, ell]
                                brc[r, bptr[r, ell]] += 1
                            for j in range(size):
                                res[nw, size + j] = res[ell, size + j]
                            for r in range(nsplit):
                                flip[nw, r] = flip[ell, r]
                            origin[nw] = origin[ell]
                            pm[nw] = cand[2 * ell + 1]
                            res[nw, size + flip[ell, q]] ^= 1
                            pm[ell] = cand[2 * ell]
                        elif k1:
                            pm[ell] = cand[2 * ell + 1]
                            res[ell, size + flip[ell, q]] ^= 1
                # record the node's u bits (its codeword through the transform) per path
                for ell in range(L):
                    if not active[ell]:
                        continue
                    for j in range(size):
                        ubit_tmp = res[ell, size + j]
                        U[j_info + j, ell] = ubit_tmp
                    h = 1
                    while h < size:
                        for b0 in range(0, size, 2 * h):
                            for j in range(b0, b0 + h):
                                U[j_info + j, ell] ^= U[j_info + j + h, ell]
                        h *= 2
                    P[j_info, ell] = origin[ell]
                    for j in range(1, size):
                        P[j_info + j, ell] = ell
                j_info += size
            else:  # OP_INFO (lam = 0) or OP_REP: one information bit, two candidates per path
                src_here = use_src and j_info < n_src_bits
                nact = 0
                for ell in range(L):
                    c0 = 2 * ell
                    cpen[c0] = 0.0
                    cpen[c0 + 1] = 0.0
                    if not active[ell]:
                        cand[c0] = np.inf
                        cand[c0 + 1] = np.inf
                        continue
                    nact += 1
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
                        for j in range(size):
                            lv = A[off + j] if lam < m else llr[fr, j]
                            if lv < 0:
                                p0 -= lv
                            else:
                                p1 += lv
                    cand[c0] = pm[ell] + p0
                    cand[c0 + 1] = pm[ell] + p1
                    if src_here and st[ell] >= 0:
                        base = src_tree[st[ell], pf[ell]]
                        cpen[c0] = src_tree[st[ell], 2 * pf[ell]] - base
                        cpen[c0 + 1] = src_tree[st[ell], 2 * pf[ell] + 1] - base
                if src_here:
                    anyfin = False
                    for c in range(2 * L):
                        if cand[c] < np.inf and cpen[c] < np.inf:
                            anyfin = True
                            break
                    if anyfin:
                        for c in range(2 * L):
                            cand[c] += cpen[c]
                    else:
                        for ell in range(L):
                            st[ell] = -1
                # stable insertion sort of candidate indices by metric (2L is small)
                nc = 0
                for c in range(2 * L):
                    if cand[c] == np.inf:
                        continue
                    v = cand[c]
                    q = nc
                    while q > 0 and cand[idx[q - 1]] > v:
                        idx[q] = idx[q - 1]
                        q -= 1
                    idx[q] = c
                    nc += 1
                keep[:] = False
                for c in range(min(L, nc)):
                    keep[idx[c]] = True
                for ell in range(L):
                    was_active[ell] = active[ell]
                    if active[ell] and not keep[2 * ell] and not keep[2 * ell + 1]:
                        active[ell] = False
                        for q in range(m):
                            arc[q, aptr[q, ell]] -= 1
                            brc[q, bptr[q, ell]] -= 1
                        was_active[ell] = False
                for ell in range(L):
                    if not was_active[ell]:
                        continue
                    k0 = keep[2 * ell]
                    k1 = keep[2 * ell + 1]
                    if k0 and k1:
                        nw = 0
                        while active[nw]:
                            nw += 1
                        active[nw] = True
                        for q in range(m):
                            aptr[q, nw] = aptr[q, ell]
                            arc[q, aptr[q, ell]] += 1
                            bptr[q, nw] = bptr[q, ell]
                            brc[q, bptr[q, ell]] += 1
                        pm[nw] = cand[2 * ell + 1]
                        st[nw] = st[ell]
                        pf[nw] = pf[ell]
                        U[j_info, nw] = 1
                        P[j_info, nw] = ell
                        ubit[nw] = 1
                        pm[ell] = cand[2 * ell]
                        ubit[ell] = 0
                    else:
                        ubit[ell] = 0 if k0 else 1
                        pm[ell] = cand[2 * ell + ubit[ell]]
                    U[j_info, ell] = ubit[ell]
                    P[j_info, ell] = ell
                for ell in range(L):
                    if not active[ell]:
                        continue
                    for j in range(size):
                        res[ell, size + j] = ubit[ell]
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
        for r in range(L):
            if r >= n_out:
                out_pm[fr, r] = np.inf
                out_state[fr, r] = -1
                for j in range(K):
                    out_info[fr, r, j] = 0
                continue
            ell = order[r]
            out_pm[fr, r] = pm[ell]
            out_state[fr, r] = st[ell]
            e = ell
            for j in range(K - 1, -1, -1):
                out_info[fr, r, j] = U[j, e]
                e = P[j, e]
