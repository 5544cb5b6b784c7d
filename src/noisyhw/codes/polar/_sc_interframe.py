"""Inter-frame SC kernel (numba): one schedule step advances a block of ``B`` frames at once.

Layout (structure of arrays): every tree buffer holds, per bit of a node, the values of the
``B`` frames of the block next to each other, ``buf[(offset + j) * B + b]`` for bit ``j`` of
frame ``b``. A node of ``size`` bits at level ``lam`` is then one contiguous run of
``size * B`` values, and every step of the Fast-SSC schedule (``f``, ``g``, partial sums, hard
decisions) is an element-wise loop over that run, which LLVM vectorises over frames (the
"inter-frame SIMD" of AFF3CT / Le Gal et al.). Only repetition nodes reduce over bits, and they
do so per frame with the frame index innermost (still vectorised).

The same kernel runs in float32 and in saturating fixed point (int16 / int8 buffers): the
``f`` and ``g`` steps are chosen by the buffer's dtype at compile time (:func:`_fmin`,
:func:`_gsel`). In fixed point the channel LLRs are quantised while they are loaded
(:func:`quantize`) and ``g`` saturates at ``+-sat``; ``f`` (a min) cannot overflow, and the
symmetric range keeps ``-(-sat)`` representable. Schedules come from
:func:`._kernels.build_schedule` (Rate-0 / Rate-1 / REP nodes).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import overload

from ._kernels import OP_F, OP_G, OP_INFO, OP_R0, OP_R1, OP_REP, OP_SAVE

_JIT = {"cache": True, "nogil": True, "fastmath": False}


def _fmin(a, b):  # pragma: no cover - replaced by the overload in compiled code
    raise NotImplementedError


def _gsel(a, b, s, sat):  # pragma: no cover - replaced by the overload in compiled code
    raise NotImplementedError


@overload(_fmin, inline="always")
def _fmin_impl(a, b):
    """Min-sum check node ``sign(a) sign(b) min(|a|, |b|)``, by dtype."""
    if isinstance(a, types.Float):
        # branch-free; |LLR| <= 1e12 so a * b cannot overflow (the existing SC kernel's form)
        return lambda a, b: np.copysign(min(abs(a), abs(b)), a * b)

    def impl(a, b):  # integers: no product (it would overflow); sign from the xor
        m = min(abs(a), abs(b))
        return -m if (a ^ b) < 0 else m

    return impl


@overload(_gsel, inline="always")
def _gsel_impl(a, b, s, sat):
    """``g = b + (1 - 2 s) a``, saturated to ``[-sat, sat]`` for integers."""
    if isinstance(a, types.Float):
        return lambda a, b, s, sat: b - a if s else b + a

    nt = np.dtype(str(a)).type  # the buffer's integer type: the arithmetic stays that narrow

    def impl(a, b, s, sat):
        # wrapping add in the narrow type; an overflow (result's sign differs from both
        # operands') saturates towards b's sign, then -2**(w-1) is lifted to -sat
        x = nt(-a) if s else a
        r = nt(b + x)
        if ((b ^ r) & (x ^ r)) < 0:
            r = sat if b >= 0 else nt(-sat)
        return max(r, nt(-sat))

    return impl


def _is_float(x):  # pragma: no cover - replaced by the overload in compiled code
    raise NotImplementedError


@overload(_is_float, inline="always")
def _is_float_impl(x):
    """Compile-time constant: is the array's dtype a float?"""
    flag = isinstance(x.dtype, types.Float)
    return lambda x: flag


def _sat_of(x):  # pragma: no cover - replaced by the overload in compiled code
    raise NotImplementedError


@overload(_sat_of, inline="always")
def _sat_of_impl(x):
    """Compile-time constant: the saturation bound of an integer array (its dtype's maximum,
    so the range ``[-max, max]`` is symmetric); 0 for floats (unused)."""
    if isinstance(x.dtype, types.Float):
        return lambda x: 0
    nt = np.dtype(str(x.dtype)).type
    hi = nt(np.iinfo(nt).max)
    return lambda x: hi


def quantize(llr: np.ndarray, scale: float, qmax: int, dtype) -> np.ndarray:
    """Channel-LLR quantiser: ``clip(rint(scale * llr), -qmax, qmax)`` as ``dtype`` (the
    reference for the kernel's fused load; ``qmax = 2**(bits - 1) - 1``)."""
    v = np.rint(np.asarray(llr, dtype=np.float32) * np.float32(scale))
    return np.clip(v, -qmax, qmax).astype(dtype)


_M4 = np.uint64(0x00000000FFFFFFFF)
_M2 = np.uint64(0x0000FFFF0000FFFF)
_M1 = np.uint64(0x00FF00FF00FF00FF)


@numba.njit(**_JIT, inline="always")
def _swap(a, b, m, sh):
    """Exchange the high half of every 2-block of ``a`` with the low half of ``b``'s."""
    t = ((a >> sh) ^ b) & m
    return a ^ (t << sh), b ^ t


@numba.njit(**_JIT, inline="always")
def _tr8(w: np.ndarray, i0: int, si: int, o: np.ndarray, o0: int, so: int) -> None:
    """8 x 8 byte transpose on words: byte ``k`` of ``o[o0 + i so]`` = byte ``i`` of
    ``w[i0 + k si]`` (``w`` / ``o`` uint64 views; three swap stages of 4, 2, 1 bytes)."""
    w0, w1, w2, w3 = w[i0], w[i0 + si], w[i0 + 2 * si], w[i0 + 3 * si]
    w4, w5, w6, w7 = w[i0 + 4 * si], w[i0 + 5 * si], w[i0 + 6 * si], w[i0 + 7 * si]
    s4, s2, s1 = np.uint64(32), np.uint64(16), np.uint64(8)
    w0, w4 = _swap(w0, w4, _M4, s4)
    w1, w5 = _swap(w1, w5, _M4, s4)
    w2, w6 = _swap(w2, w6, _M4, s4)
    w3, w7 = _swap(w3, w7, _M4, s4)
    w0, w2 = _swap(w0, w2, _M2, s2)
    w1, w3 = _swap(w1, w3, _M2, s2)
    w4, w6 = _swap(w4, w6, _M2, s2)
    w5, w7 = _swap(w5, w7, _M2, s2)
    w0, w1 = _swap(w0, w1, _M1, s1)
    w2, w3 = _swap(w2, w3, _M1, s1)
    w4, w5 = _swap(w4, w5, _M1, s1)
    w6, w7 = _swap(w6, w7, _M1, s1)
    o[o0], o[o0 + so], o[o0 + 2 * so], o[o0 + 3 * so] = w0, w1, w2, w3
    o[o0 + 4 * so], o[o0 + 5 * so], o[o0 + 6 * so], o[o0 + 7 * so] = w4, w5, w6, w7


@numba.njit(**_JIT)
def sc_interframe(
    llr: np.ndarray,
    ops: np.ndarray,
    info_pos: np.ndarray,
    systematic: bool,
    out: np.ndarray,
    alpha: np.ndarray,
    block: int,
    scale: float,
    qmax: int,
) -> None:
    """Fast-SSC SC (Rate-0 / Rate-1 / REP nodes) on blocks of ``block`` frames.

    Parameters
    ----------
    llr : (F, N) float32 channel LLRs.
    ops : schedule from :func:`._kernels.build_schedule` (no SPC nodes).
    info_pos : (K,) sorted information positions.
    systematic : write the decided codeword bits at ``info_pos`` instead of ``u``.
    out : (F, K) uint8, the payload.
    alpha : (2 N block,) work buffer whose dtype is the arithmetic: float32, int16 or int8.
    block : frames per block ``B`` (a partial last block is padded with zero LLRs).
    scale, qmax : fixed point only: channel LLRs become ``clip(rint(scale llr), +-qmax)``.
    In fixed point ``g`` saturates at the dtype's ``+-max`` (127 / 32767; ``qmax`` must not
    exceed it).

    Decisions are exactly those of the frame-by-frame schedule on the same (quantised) values:
    every operation is the same per frame, in the same order.
    """
    F, N = llr.shape
    K = info_pos.size
    B = block
    isfloat = _is_float(alpha)
    s_at = _sat_of(alpha)
    # partial sums per level: a left child's result goes to ``bl`` (read by its sibling's ``g``
    # and its parent's combine), a right child's to ``res``, so nothing is ever copied
    bl = np.zeros(2 * N * B, dtype=np.uint8)
    res = np.zeros(2 * N * B, dtype=np.uint8)
    tmp = np.zeros(N * B, dtype=np.uint8)
    # byte transposes as 8 x 8 blocks of 64-bit words (1-byte LLRs in, payload bytes out)
    words = B % 8 == 0 and N % 8 == 0
    wide_in = words and alpha.itemsize == 1
    Kp = (K + 7) // 8 * 8
    ub = np.zeros(Kp * B, dtype=np.uint8)  # decided payload of the block, [bit][frame]
    ubw = ub.view(np.uint64)
    ob = np.zeros(B * Kp, dtype=np.uint8)  # the same, [frame][bit]
    obw = ob.view(np.uint64)
    acc = np.zeros(B, dtype=np.float32)
    sc = np.float32(scale)  # quantiser arithmetic in float32, as :func:`quantize`
    qm = np.float32(qmax)
    # quantised rows of the block (fixed point), padded so rows do not share cache sets
    QS = N + 64
    qflat = np.zeros(B * QS, dtype=alpha.dtype)
    qbuf = qflat.reshape((B, QS))
    qw = qflat.view(np.uint64)
    topw = alpha.view(np.uint64)[N * B * alpha.itemsize // 8 :]
    # float32 LLRs in: 2 x 2 blocks of 32-bit values on 64-bit words (full blocks only)
    pairs = isfloat and alpha.itemsize == 4 and B % 2 == 0 and N % 16 == 0
    lw = llr.reshape(-1).view(np.uint64) if pairs else topw
    lo32 = np.uint64(0xFFFFFFFF)
    hi32 = np.uint64(0xFFFFFFFF00000000)
    s32 = np.uint64(32)
    acci = np.zeros(B, dtype=np.int32)
    n_ops = ops.shape[0]
    top = alpha[N * B : 2 * N * B]
    for f0 in range(0, F, B):
        nb = min(B, F - f0)
        # load (transpose) the block in tiles of 16 bits, so each frame's row is read a cache
        # line at a time (frames are 4 KiB apart: reading one value of each would evict); in
        # fixed point the rows are first quantised as wholes (vectorised) into ``qbuf``
        if not isfloat:
            for b in range(nb):
                x = llr[f0 + b]
                d = qbuf[b]
                for j in range(N):
                    d[j] = min(max(np.rint(x[j] * sc), -qm), qm)
            for b in range(nb, B):
                qbuf[b, :] = 0
        by_pairs = pairs and nb == B
        if wide_in:
            for j0 in range(0, N, 8):
                for b0 in range(0, B, 8):
                    _tr8(qw, (b0 * QS + j0) >> 3, QS >> 3, topw, (j0 * B + b0) >> 3, B >> 3)
        elif by_pairs:
            for j0 in range(0, N, 16):  # a cache line of each frame's row per tile
                for b0 in range(0, B, 2):
                    r0 = ((f0 + b0) * N + j0) >> 1
                    r1 = r0 + (N >> 1)
                    for jj in range(0, 16, 2):
                        a = lw[r0 + (jj >> 1)]  # frame b0: values j, j + 1
                        c = lw[r1 + (jj >> 1)]  # frame b0 + 1
                        o = ((j0 + jj) * B + b0) >> 1
                        topw[o] = (a & lo32) | (c << s32)
                        topw[o + (B >> 1)] = (a >> s32) | (c & hi32)
        for j0 in range(0, 0 if (wide_in or by_pairs) else N, 16):
            j1 = min(j0 + 16, N)
            for b in range(nb):
                if isfloat:
                    src = llr[f0 + b, j0:j1]
                    for j in range(j1 - j0):
                        top[(j0 + j) * B + b] = src[j]
                else:
                    srq = qbuf[b, j0:j1]
                    for j in range(j1 - j0):
                        top[(j0 + j) * B + b] = srq[j]
            for b in range(nb, B):
                for j in range(j0, j1):
                    top[j * B + b] = 0
        k = 0
        for t in range(n_ops):
            op = ops[t, 0]
            size = 1 << ops[t, 1]
            n = size * B  # values of the node (all frames)
            lo = n
            ps = res if (ops[t, 2] >> ops[t, 1]) & 1 else bl  # where this result is read
            if op == OP_F:
                dst = alpha[lo : lo + n]
                a = alpha[2 * n : 3 * n]
                c = alpha[3 * n : 4 * n]
                for e in range(n):
                    dst[e] = _fmin(a[e], c[e])
            elif op == OP_G:
                dst = alpha[lo : lo + n]
                a = alpha[2 * n : 3 * n]
                c = alpha[3 * n : 4 * n]
                s = bl[lo : lo + n]
                for e in range(n):
                    dst[e] = _gsel(a[e], c[e], s[e], s_at)
            elif op == OP_R0:
                r = ps[lo : lo + n]
                for e in range(n):
                    r[e] = 0
            elif op == OP_R1 or op == OP_INFO:  # noqa: SIM109 (numba)
                r = ps[lo : lo + n]
                x = alpha[lo : lo + n]
                for e in range(n):
                    r[e] = x[e] < 0
                if not systematic:  # u of the node: its codeword through the transform
                    w = tmp[:n]
                    for e in range(n):
                        w[e] = r[e]
                    h = 1
                    while h < size:  # butterfly on rows of B frames: contiguous runs
                        for j0 in range(0, size, 2 * h):
                            d = w[j0 * B : (j0 + h) * B]
                            o = w[(j0 + h) * B : (j0 + 2 * h) * B]
                            for e in range(h * B):
                                d[e] ^= o[e]
                        h *= 2
                    dst = ub[k * B : k * B + n]
                    for e in range(n):
                        dst[e] = w[e]
                    k += size
            elif op == OP_REP:
                x = alpha[lo : lo + n]
                if isfloat:  # same summation order as the frame-by-frame kernel
                    for b in range(B):
                        acc[b] = x[b]
                    for j in range(1, size):
                        xr = x[j * B : (j + 1) * B]
                        for b in range(B):
                            acc[b] += xr[b]
                    for b in range(B):
                        acci[b] = acc[b] < 0
                else:  # exact integer sum (int32 cannot overflow here)
                    for b in range(B):
                        acci[b] = x[b]
                    for j in range(1, size):
                        xr = x[j * B : (j + 1) * B]
                        for b in range(B):
                            acci[b] += xr[b]
                    for b in range(B):
                        acci[b] = acci[b] < 0
                r = ps[lo : lo + n]
                for j in range(size):
                    rr = r[j * B : (j + 1) * B]
                    for b in range(B):
                        rr[b] = acci[b]
                if not systematic:
                    dst = ub[k * B : (k + 1) * B]
                    for b in range(B):
                        dst[b] = acci[b]
                    k += 1
            elif op == OP_SAVE:
                pass  # left children wrote their results to ``bl`` directly
            else:  # OP_COMB: parent = (left ^ right, right), where the parent's parent reads it
                le = bl[lo : lo + n]
                r = res[lo : lo + n]
                up = res if (ops[t, 2] >> (ops[t, 1] + 1)) & 1 else bl
                d0 = up[2 * n : 3 * n]
                d1 = up[3 * n : 4 * n]
                for e in range(n):
                    v = r[e]
                    d0[e] = le[e] ^ v
                    d1[e] = v
        if systematic:
            for j in range(K):
                p = (N + info_pos[j]) * B
                for b in range(nb):
                    out[f0 + b, j] = bl[p + b]  # the root's result (a "left child")
        elif words:
            for j0 in range(0, Kp, 8):
                for b0 in range(0, B, 8):
                    _tr8(ubw, (j0 * B + b0) >> 3, B >> 3, obw, (b0 * Kp + j0) >> 3, Kp >> 3)
            for b in range(nb):
                dst = out[f0 + b]
                src = ob[b * Kp : b * Kp + K]
                for j in range(K):
                    dst[j] = src[j]
        else:
            for j0 in range(0, K, 64):  # tiles, as the load
                j1 = min(j0 + 64, K)
                for b in range(nb):
                    dst = out[f0 + b, j0:j1]
                    for j in range(j1 - j0):
                        dst[j] = ub[(j0 + j) * B + b]
