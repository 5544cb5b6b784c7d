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
    m = min(abs(a), abs(b))
    return m if (a >= 0) == (b >= 0) else -m


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
            if frozen[i]:
                u = 0
            else:
                u = 1 if alpha[1] < 0 else 0
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


# ---------------------------------------------------------------------------------------- SCL
@numba.njit(**_JIT, inline="always")
def _alloc(rc: np.ndarray, lam: int, L: int) -> int:
    for s in range(L):
        if rc[lam, s] == 0:
            return s
    return -1  # unreachable: at most L paths hold at most L arrays per level


@numba.njit(**_JIT, inline="always")
def _writable(ptr: np.ndarray, rc: np.ndarray, lam: int, path: int, L: int) -> int:
    """Slot of ``path`` at level ``lam`` that it may overwrite (re-allocated if shared)."""
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
    frozen: np.ndarray,
    L: int,
    exact: bool,
    src_trans: np.ndarray,
    src_tree: np.ndarray,
    src_bits: int,
    n_src_bits: int,
    state0: np.ndarray,
    out_u: np.ndarray,
    out_pm: np.ndarray,
    out_state: np.ndarray,
) -> None:
    """Successive-cancellation list decoding with LLR path metrics and lazy copy.

    Parameters
    ----------
    llr : (F, N) float64 channel LLRs.
    frozen : (N,) uint8, 1 where ``u_i`` is frozen to 0.
    L : list size >= 1.
    exact : path metric ``PM += log(1 + exp(-(1 - 2u) LLR))`` (True) or its hardware
        approximation ``PM += |LLR|`` when ``u`` disagrees with the LLR's sign (False).
    src_trans, src_tree, src_bits, n_src_bits, state0 : the **source hook** (per-path state).
        The first ``n_src_bits`` information bits (in decoding order) are symbols of
        ``src_bits`` bits (MSB first). Each path carries a source state ``s`` (int32) and the
        binary-tree code ``p`` of its partial symbol (1 = empty; child ``2p + b``). Deciding bit
        ``b`` adds ``src_tree[s, 2p+b] - src_tree[s, p]`` to the path metric (``+inf`` prunes the
        path); completing symbol ``c`` moves the state to ``src_trans[s, c]``. ``state0`` (F,)
        is each frame's initial state; a state of -1 means "unconstrained". Pass
        ``n_src_bits = 0`` for plain decoding.
    out_u : (F, L, N) uint8 decided ``u`` per surviving path, best path first.
    out_pm : (F, L) float64 path metrics (``inf`` where fewer than L paths survived).
    out_state : (F, L) int32 final source state per path.
    """
    F, N = llr.shape
    m = 0
    while (1 << m) < N:
        m += 1
    use_src = n_src_bits > 0
    sym_leaf = 1 << src_bits
    # pools: level lam, slot s at offset L*2^lam + s*2^lam (size 2^lam)
    A = np.empty(2 * L * N)
    B = np.zeros(2 * L * N, dtype=np.uint8)
    cur = np.zeros((L, 2 * N), dtype=np.uint8)
    aptr = np.zeros((m + 1, L), dtype=np.int32)
    bptr = np.zeros((m + 1, L), dtype=np.int32)
    arc = np.zeros((m + 1, L), dtype=np.int32)
    brc = np.zeros((m + 1, L), dtype=np.int32)
    active = np.zeros(L, dtype=np.bool_)
    pm = np.zeros(L)
    st = np.zeros(L, dtype=np.int32)
    pf = np.ones(L, dtype=np.int32)
    U = np.zeros((N, L), dtype=np.uint8)
    P = np.zeros((N, L), dtype=np.int32)
    cand = np.empty(2 * L)
    cpen = np.empty(2 * L)
    keep = np.zeros(2 * L, dtype=np.bool_)
    ubit = np.zeros(L, dtype=np.uint8)
    order = np.empty(L, dtype=np.int64)
    for fr in range(F):
        # ---- reset: one active path (index 0) owning slot 0 at every level
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
        info_idx = 0
        for i in range(N):
            # ---- LLRs of u_i for every active path
            for ell in range(L):
                if not active[ell]:
                    continue
                if i == 0:
                    top = m - 1
                else:
                    s = _ctz(i)
                    size = 1 << s
                    dst = _writable(aptr, arc, s, ell, L)
                    doff = L * size + dst * size
                    boff = L * size + bptr[s, ell] * size
                    if s == m - 1:
                        for j in range(size):
                            a = llr[fr, j]
                            b = llr[fr, size + j]
                            A[doff + j] = b - a if B[boff + j] else b + a
                    else:
                        poff = 2 * L * size + aptr[s + 1, ell] * 2 * size
                        for j in range(size):
                            a = A[poff + j]
                            b = A[poff + size + j]
                            A[doff + j] = b - a if B[boff + j] else b + a
                    top = s - 1
                for lam in range(top, -1, -1):
                    size = 1 << lam
                    dst = _writable(aptr, arc, lam, ell, L)
                    doff = L * size + dst * size
                    if lam == m - 1:
                        for j in range(size):
                            A[doff + j] = _f(llr[fr, j], llr[fr, size + j])
                    else:
                        poff = 2 * L * size + aptr[lam + 1, ell] * 2 * size
                        for j in range(size):
                            A[doff + j] = _f(A[poff + j], A[poff + size + j])
            # ---- decisions
            if frozen[i]:
                for ell in range(L):
                    if not active[ell]:
                        continue
                    lv = A[L + aptr[0, ell]]
                    if exact:
                        pm[ell] += _softplus(-lv)
                    elif lv < 0:
                        pm[ell] -= lv
                    U[i, ell] = 0
                    P[i, ell] = ell
                    ubit[ell] = 0
            else:
                src_here = use_src and info_idx < n_src_bits
                nact = 0
                for ell in range(L):
                    if not active[ell]:
                        cand[2 * ell] = np.inf
                        cand[2 * ell + 1] = np.inf
                        continue
                    nact += 1
                    lv = A[L + aptr[0, ell]]
                    if exact:
                        p0 = _softplus(-lv)
                        p1 = _softplus(lv)
                    else:
                        p0 = -lv if lv < 0 else 0.0
                        p1 = lv if lv > 0 else 0.0
                    cand[2 * ell] = pm[ell] + p0
                    cand[2 * ell + 1] = pm[ell] + p1
                    cpen[2 * ell] = 0.0
                    cpen[2 * ell + 1] = 0.0
                    if src_here and st[ell] >= 0:
                        base = src_tree[st[ell], pf[ell]]
                        cpen[2 * ell] = src_tree[st[ell], 2 * pf[ell]] - base
                        cpen[2 * ell + 1] = src_tree[st[ell], 2 * pf[ell] + 1] - base
                # source penalties; if they would prune every path, ignore them this bit
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
                keep[:] = False
                nkeep = min(L, 2 * nact)
                idx = np.argsort(cand, kind="mergesort")
                for c in range(nkeep):
                    if cand[idx[c]] < np.inf:
                        keep[idx[c]] = True
                # kill paths with no surviving child
                for ell in range(L):
                    if active[ell] and not keep[2 * ell] and not keep[2 * ell + 1]:
                        active[ell] = False
                        for lam in range(m + 1):
                            arc[lam, aptr[lam, ell]] -= 1
                            brc[lam, bptr[lam, ell]] -= 1
                # continue / clone
                act_now = active.copy()
                for ell in range(L):
                    if not act_now[ell]:
                        continue
                    k0 = keep[2 * ell]
                    k1 = keep[2 * ell + 1]
                    if k0 and k1:
                        nw = 0
                        while active[nw]:
                            nw += 1
                        active[nw] = True
                        for lam in range(m + 1):
                            aptr[lam, nw] = aptr[lam, ell]
                            arc[lam, aptr[lam, ell]] += 1
                            bptr[lam, nw] = bptr[lam, ell]
                            brc[lam, bptr[lam, ell]] += 1
                        pm[nw] = cand[2 * ell + 1]
                        st[nw] = st[ell]
                        pf[nw] = pf[ell]
                        U[i, nw] = 1
                        P[i, nw] = ell
                        ubit[nw] = 1
                        pm[ell] = cand[2 * ell]
                        U[i, ell] = 0
                        ubit[ell] = 0
                    else:
                        b = 0 if k0 else 1
                        pm[ell] = cand[2 * ell + b]
                        U[i, ell] = b
                        ubit[ell] = b
                    P[i, ell] = ell
                # advance source states
                if src_here:
                    for ell in range(L):
                        if not active[ell] or st[ell] < 0:
                            continue
                        p = 2 * pf[ell] + ubit[ell]
                        if p >= sym_leaf:
                            st[ell] = src_trans[st[ell], p - sym_leaf]
                            p = 1
                        pf[ell] = p
                info_idx += 1
            # ---- partial sums
            for ell in range(L):
                if not active[ell]:
                    continue
                cur[ell, 1] = ubit[ell]
                lvl = 0
                while (i >> lvl) & 1:
                    size = 1 << lvl
                    boff = L * size + bptr[lvl, ell] * size
                    for j in range(size):
                        r = cur[ell, size + j]
                        cur[ell, 2 * size + j] = B[boff + j] ^ r
                        cur[ell, 3 * size + j] = r
                    lvl += 1
                if lvl < m:
                    size = 1 << lvl
                    dst = _writable(bptr, brc, lvl, ell, L)
                    boff = L * size + dst * size
                    for j in range(size):
                        B[boff + j] = cur[ell, size + j]
        # ---- output: surviving paths by metric, traced back
        n_out = 0
        for ell in range(L):
            if active[ell]:
                order[n_out] = ell
                n_out += 1
        tmp = np.empty(n_out)
        for t in range(n_out):
            tmp[t] = pm[order[t]]
        srt = np.argsort(tmp, kind="mergesort")
        for t in range(L):
            if t >= n_out:
                out_pm[fr, t] = np.inf
                out_state[fr, t] = -1
                for i in range(N):
                    out_u[fr, t, i] = 0
                continue
            ell = order[srt[t]]
            out_pm[fr, t] = pm[ell]
            out_state[fr, t] = st[ell]
            e = ell
            for i in range(N - 1, -1, -1):
                out_u[fr, t, i] = U[i, e]
                e = P[i, e]
