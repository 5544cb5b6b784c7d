"""Compiled kernel of :func:`noisyhw.channels.awgn_` (numba, cached; imported on first use).

``add_normal_serial(out, sig, key, group_size, inner, n_ch)`` adds ``sig * N(0, 1)`` to a flat
array in place. The normals come from the ziggurat method (Marsaglia & Tsang, 2000) with 1024
layers, an exact method: every returned point is uniform under ``exp(-x^2/2)`` (float64 tables;
the position inside a layer has 21 random bits, the wedge and tail tests 53-bit uniforms).
1024 layers rather than the usual 128-256: the first try is then accepted at once for 99.57% of
the words (256 layers: 98.51%), so the slow path below and the scan for its elements shrink from
~1.0 of 2.9 ns per element to ~0.2 of 1.9 (AMD EPYC, one core, when the machine is fast); the
table (8 KiB packed for float32, 12 KiB for float64) stays in L1.

Uniform bits are *counter based*: element ``r * Q + j`` of block ``b`` (``Q = BLOCK / 4``) of a
call with 64-bit key ``K`` takes word ``r`` of Philox4x32-10 (Salmon et al., SC'11; the
generator behind cuRAND's and JAX's counter-based streams, Crush-resistant) at the 128-bit
counter ``(b Q + j, 0)`` under key ``K``; so the numbers depend only on the key and the element's
index, never on the number of threads or the chunking. Philox needs only 32x32 -> 64-bit
products, which AVX2 vectorises (``vpmuludq``); the SplitMix64 hash used before needed 64-bit
multiplies, which it does not (so a seed gives other numbers than with that earlier version).
First try: layer ``k`` (10 bits), sign (1 bit), position ``i`` (21 bits),
``x = i 2^-21 X[k]``, accepted at once when ``i < floor(2^21 X[k+1] / X[k])`` (99.57%). The
table reads of a block are one scalar loop (AVX2 gathers are not used by LLVM here), the rest
of the first try vectorises. A try not accepted at once is flagged and finished before the add,
scalar: its own ``(k, x)`` goes through the wedge test (or, for layer 0, Marsaglia's exponential
tail sampler beyond ``r``), and only a rejection there starts over, with a per-element SplitMix64
stream seeded from ``(K, e)``. Each element therefore gets exactly the ziggurat's output
distribution on the grid ``i 2^-21 X[k]`` (spacing at most ``2^-21 X[0]`` = 2.04e-6, 1-8 float32
ulps; float32 outputs: ``2^-21 X[k]``
rounded to float32, one rounding like the result's).

Ziggurat layout: ``X[0] > X[1] = r > ... > X[LAYERS] = 0``, equal areas ``v``; layer ``k >= 1`` is
the box ``[0, X[k]] x [f(X[k]), f(X[k+1])]`` (``f(x) = exp(-x^2/2)``), layer 0 the base box
``[0, r] x [0, f(r)]`` plus the tail beyond ``r``, of width ``X[0] = v / f(r)``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

LAYERS = 1024
#: bits of a 32-bit word: 10 pick the layer, 1 the sign, the top 21 the position in the layer
_SHIFT = 11
#: random bits of the position inside a layer
POSITION_BITS = 32 - _SHIFT
assert LAYERS == 1 << (_SHIFT - 1), "the sign bit sits just above the layer bits"
#: elements per block (the first try of a block is generated into an L1-sized buffer)
BLOCK = 2048
#: blocks per parallel chunk
CHUNK_BLOCKS = 16
_R = 4.0388498461095045  # start of the tail for 1024 layers (the top layer closes at f = 1)


def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r = _R
    fr = math.exp(-0.5 * r * r)
    v = r * fr + math.sqrt(math.pi / 2.0) * math.erfc(r / math.sqrt(2.0))
    x = np.zeros(LAYERS + 1)
    x[0], x[1] = v / fr, r
    for k in range(1, LAYERS):
        y = math.exp(-0.5 * x[k] * x[k]) + v / x[k]
        x[k + 1] = math.sqrt(-2.0 * math.log(y)) if y < 1.0 else 0.0
    x[LAYERS] = 0.0
    f = np.exp(-0.5 * x * x)
    thresh = np.floor(x[1:] / x[:-1] * 2.0**POSITION_BITS).astype(np.int32)
    return x, f, thresh


ZIG_X, ZIG_F, ZIG_T = _tables()

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_POS_SCALE = 2.0**-POSITION_BITS
_TWO53 = 1.0 / 9007199254740992.0
#: first-try lookup tables, one entry per layer: ``2^-21 X[k]`` (float32 / float64) and ``T[k]``
LUT_X64 = ZIG_X[:-1] * _POS_SCALE
LUT_T = ZIG_T.astype(np.int32)
#: float32 outputs: both in one 64-bit word per layer (one table read per element)
LUT_PACKED = (LUT_T.astype(np.uint64) << np.uint64(32)) | (
    LUT_X64.astype(np.float32).view(np.uint32).astype(np.uint64)
)


@njit(cache=True, inline="always")
def _mix(z):  # pragma: no cover - compiled
    """The SplitMix64 output function (a bijective 64-bit hash)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def philox4x32(c0, c1, c2, c3, k0, k1):  # pragma: no cover - compiled
    """Philox4x32-10 (Salmon et al., SC'11): four 32-bit words of counter ``c`` under key ``k``.

    32x32 -> 64-bit products only, so LLVM vectorises a loop of independent counters (AVX2
    ``vpmuludq``), unlike 64-bit multiplies.
    """
    for _ in range(10):
        p0 = np.uint64(0xD2511F53) * np.uint64(c0)
        p1 = np.uint64(0xCD9E8D57) * np.uint64(c2)
        hi0 = np.uint32(p0 >> np.uint64(32))
        hi1 = np.uint32(p1 >> np.uint64(32))
        c0, c1, c2, c3 = (
            hi1 ^ c1 ^ k0,
            np.uint32(p1 & np.uint64(0xFFFFFFFF)),
            hi0 ^ c3 ^ k1,
            np.uint32(p0 & np.uint64(0xFFFFFFFF)),
        )
        k0 = np.uint32(k0 + np.uint32(0x9E3779B9))
        k1 = np.uint32(k1 + np.uint32(0xBB67AE85))
    return c0, c1, c2, c3


@njit(cache=True)
def _block_words(bits, key, b):  # pragma: no cover - compiled
    """The 32-bit words of block ``b``: element ``r * Q + j`` (``Q = BLOCK / 4``) takes word
    ``r`` of Philox4x32-10 at counter ``(b * Q + j, 0)`` (64-bit, split in two 32-bit words)."""
    q = bits.size // 4
    k0 = np.uint32(key & np.uint64(0xFFFFFFFF))
    k1 = np.uint32(key >> np.uint64(32))
    base = np.uint64(b) * np.uint64(q)
    for j in range(q):
        c = base + np.uint64(j)
        w0, w1, w2, w3 = philox4x32(
            np.uint32(c & np.uint64(0xFFFFFFFF)),
            np.uint32(c >> np.uint64(32)),
            np.uint32(0),
            np.uint32(0),
            k0,
            k1,
        )
        bits[j] = w0
        bits[q + j] = w1
        bits[2 * q + j] = w2
        bits[3 * q + j] = w3


def _first_try(buf, flag, bits, lut, scratch):  # pragma: no cover - numba overload below
    """First ziggurat try of each word: ``buf[i] = +-i 2^-21 X[k]``; ``flag[i] = 1`` where it is
    not accepted at once (``buf[i]`` then holds the candidate). The table reads are a scalar
    loop of their own (LLVM does not use AVX2 gathers here), so that the rest vectorises.
    float32: ``lut`` = :data:`LUT_PACKED`, ``scratch`` uint64; float64: ``lut`` =
    ``(LUT_X64, LUT_T)``, ``scratch`` = a float64 and an int32 buffer."""
    raise NotImplementedError


@overload(_first_try, jit_options={"cache": True})
def _first_try_impl(buf, flag, bits, lut, scratch):  # pragma: no cover - compiled
    if isinstance(lut, types.Array):

        def packed(buf, flag, bits, lut, scratch):
            n = bits.size
            for i in range(n):
                scratch[i] = lut[bits[i] & np.uint32(LAYERS - 1)]
            xs = scratch.view(np.float32)  # little endian: x at 2i, threshold at 2i + 1
            ts = scratch.view(np.int32)
            for i in range(n):
                w = bits[i]
                mi = np.int32(w >> np.uint32(_SHIFT))
                x = np.float32(mi) * xs[2 * i]
                flag[i] = np.uint8(mi >= ts[2 * i + 1])
                buf[i] = -x if (w & np.uint32(LAYERS)) else x

        return packed

    def split(buf, flag, bits, lut, scratch):
        lut_x, lut_t = lut
        xs, ts = scratch
        n = bits.size
        for i in range(n):
            k = bits[i] & np.uint32(LAYERS - 1)
            xs[i] = lut_x[k]
            ts[i] = lut_t[k]
        for i in range(n):
            w = bits[i]
            mi = np.int32(w >> np.uint32(_SHIFT))
            x = float(mi) * xs[i]
            flag[i] = np.uint8(mi >= ts[i])
            buf[i] = -x if (w & np.uint32(LAYERS)) else x

    return split


def _try_add(out, s, bits, scratch, flag):  # pragma: no cover - numba overload below
    """:func:`_first_try` fused with the add, for a block of one sigma ``s``: ``out[i] += s x``
    where the first try of word ``i`` is accepted at once; elsewhere ``flag[i] = 1`` and nothing
    is added yet. ``out`` is the block (``out.size <= bits.size``); ``scratch`` as filled by
    the table-read loop of :func:`_first_try` (see :func:`_lookup`)."""
    raise NotImplementedError


@overload(_try_add, jit_options={"cache": True})
def _try_add_impl(out, s, bits, scratch, flag):  # pragma: no cover - compiled
    if isinstance(scratch, types.Array):

        def packed(out, s, bits, scratch, flag):
            xs = scratch.view(np.float32)
            ts = scratch.view(np.int32)
            for i in range(out.size):
                w = bits[i]
                mi = np.int32(w >> np.uint32(_SHIFT))
                x = np.float32(mi) * xs[2 * i]
                rej = mi >= ts[2 * i + 1]
                flag[i] = np.uint8(rej)
                x = np.float32(0.0) if rej else x
                out[i] += s * (-x if (w & np.uint32(LAYERS)) else x)

        return packed

    def split(out, s, bits, scratch, flag):
        xs, ts = scratch
        for i in range(out.size):
            w = bits[i]
            mi = np.int32(w >> np.uint32(_SHIFT))
            x = float(mi) * xs[i]
            rej = mi >= ts[i]
            flag[i] = np.uint8(rej)
            x = 0.0 if rej else x
            out[i] += s * (-x if (w & np.uint32(LAYERS)) else x)

    return split


def _lookup(bits, lut, scratch):  # pragma: no cover - numba overload below
    """The table-read loop of :func:`_first_try` alone."""
    raise NotImplementedError


@overload(_lookup, jit_options={"cache": True})
def _lookup_impl(bits, lut, scratch):  # pragma: no cover - compiled
    if isinstance(lut, types.Array):

        def packed(bits, lut, scratch):
            for i in range(bits.size):
                scratch[i] = lut[bits[i] & np.uint32(LAYERS - 1)]

        return packed

    def split(bits, lut, scratch):
        lut_x, lut_t = lut
        xs, ts = scratch
        for i in range(bits.size):
            k = bits[i] & np.uint32(LAYERS - 1)
            xs[i] = lut_x[k]
            ts[i] = lut_t[k]

    return split


def _scratch(lut):  # pragma: no cover - numba overload below
    """Per-thread BLOCK-sized buffers for :func:`_add_chunk` (output dtype follows ``lut``)."""
    raise NotImplementedError


@overload(_scratch, jit_options={"cache": True})
def _scratch_impl(lut):  # pragma: no cover - compiled
    if isinstance(lut, types.Array):

        def packed(lut):
            return np.empty(BLOCK, np.float32), np.empty(BLOCK, np.uint64)

        return packed

    def split(lut):
        return np.empty(BLOCK, np.float64), (np.empty(BLOCK, np.float64), np.empty(BLOCK, np.int32))

    return split


@njit(cache=True)
def _finish(key, e, w):  # pragma: no cover - compiled
    """Finish element ``e`` whose first try (32-bit word ``w``) was not accepted at once."""
    zx, zf, zt = ZIG_X, ZIG_F, ZIG_T
    r = zx[1]
    st = key ^ _mix(np.uint64(e) + np.uint64(0x632BE59BD9B4E019))
    neg = (w & np.uint32(LAYERS)) != 0
    k = int(w & np.uint32(LAYERS - 1))
    mi = int(w >> np.uint32(_SHIFT))
    while True:
        x = float(mi) * _POS_SCALE * zx[k]
        if mi < zt[k]:
            break
        st += _GOLDEN
        u1 = _mix(st)
        if k == 0:  # tail beyond r (Marsaglia): r + a, a ~ Exp(r), kept w.p. exp(-a^2/2)
            while True:
                st += _GOLDEN
                u2 = _mix(st)
                a = -math.log((float(np.int64(u1 >> np.uint64(11))) + 1.0) * _TWO53) / r
                b = -math.log((float(np.int64(u2 >> np.uint64(11))) + 1.0) * _TWO53)
                if b + b > a * a:
                    break
                st += _GOLDEN
                u1 = _mix(st)
            x = r + a
            break
        y = zf[k] + (float(np.int64(u1 >> np.uint64(11))) * _TWO53) * (zf[k + 1] - zf[k])
        if y < math.exp(-0.5 * x * x):  # wedge: under the curve
            break
        st += _GOLDEN  # rejected: a fresh try (layer, sign, mantissa)
        u1 = _mix(st)
        ww = np.uint32(u1 & np.uint64(0xFFFFFFFF))
        neg = (ww & np.uint32(LAYERS)) != 0
        k = int(ww & np.uint32(LAYERS - 1))
        mi = int(ww >> np.uint32(_SHIFT))
    return -x if neg else x


@njit(cache=True)
def _finish_block(buf, bits, idx, cnt, key, start):  # pragma: no cover - compiled
    """:func:`_finish` for the flagged elements ``idx[:cnt]`` of a block (element ``start + i``).

    Fast path, exactly what :func:`_finish` computes in its two most likely outcomes, with the
    elements' random numbers drawn side by side (independent, so the CPU overlaps them): the
    wedge test of the first try accepts, or it rejects and the fresh try is accepted at once.
    Anything else (the tail layer, a second rejection) calls :func:`_finish` itself.
    """
    zx, zf, zt = ZIG_X, ZIG_F, ZIG_T
    for j in range(cnt):
        i = idx[j]
        w = bits[i]
        k = int(w & np.uint32(LAYERS - 1))
        st = key ^ _mix(np.uint64(start + i) + np.uint64(0x632BE59BD9B4E019))
        u1 = _mix(st + _GOLDEN)
        ww = np.uint32(_mix(st + _GOLDEN + _GOLDEN) & np.uint64(0xFFFFFFFF))
        x = float(int(w >> np.uint32(_SHIFT))) * _POS_SCALE * zx[k]
        y = zf[k] + (float(np.int64(u1 >> np.uint64(11))) * _TWO53) * (zf[k + 1] - zf[k])
        k2 = int(ww & np.uint32(LAYERS - 1))
        m2 = int(ww >> np.uint32(_SHIFT))
        x2 = float(m2) * _POS_SCALE * zx[k2]
        if k != 0 and y < math.exp(-0.5 * x * x):
            buf[i] = -x if (w & np.uint32(LAYERS)) else x
        elif k != 0 and m2 < zt[k2]:
            buf[i] = -x2 if (ww & np.uint32(LAYERS)) else x2
        else:
            buf[i] = _finish(key, start + i, w)


@njit(cache=True)
def _add_chunk(  # pragma: no cover - compiled
    out, sig, key, c, group_size, inner, n_ch, lut, bits, buf, flag, scratch, idx
):
    """``out[e] += sig[g(e) * n_ch + ch(e)] * N(0, 1)`` for the elements of chunk ``c``.

    ``g(e) = e // group_size`` (leading "group" dims), ``ch(e) = (e // inner) % n_ch``. The add
    runs over stretches of constant sigma (or, with ``inner == 1``, of consecutive channels).
    ``bits .. idx`` are BLOCK-sized scratch buffers (``buf`` of the output's dtype).
    """
    n = out.size
    first = c * CHUNK_BLOCKS
    for b in range(first, first + CHUNK_BLOCKS):
        start = b * BLOCK
        if start >= n:
            return
        stop = min(start + BLOCK, n)
        _block_words(bits, key, b)
        g = start // group_size
        ch = (start // inner) % n_ch
        whole = stop <= min((g + 1) * group_size, start - start % inner + inner)
        if whole and not (inner == 1 and n_ch > 1):  # one sigma for the block: fused add
            s = sig[g * n_ch + ch]
            _lookup(bits, lut, scratch)
            _try_add(out[start:stop], s, bits, scratch, flag)
            if stop - start < BLOCK:
                flag[stop - start :] = 0
        else:
            _first_try(buf, flag, bits, lut, scratch)
        words = flag.view(np.uint64)
        cnt = 0
        for q in range(words.size):  # 8 flags per word: the ~0.4% not accepted at once
            if words[q] != 0:
                for i in range(8 * q, 8 * q + 8):  # branch-free gather of their indices
                    idx[cnt] = i
                    cnt += flag[i]
        _finish_block(buf, bits, idx, cnt, key, np.uint64(start))
        if whole and not (inner == 1 and n_ch > 1):
            for j in range(cnt):
                i = idx[j]
                out[start + i] += s * buf[i]
            continue
        e = start
        while e < stop:
            g = e // group_size
            run = min(stop, (g + 1) * group_size) - e
            if inner == 1 and n_ch > 1:  # sigma per channel, channels contiguous
                ch = e % n_ch
                run = min(run, n_ch - ch)
                o, nz, sg = out[e : e + run], buf[e - start : e - start + run], sig[g * n_ch + ch :]
                for i in range(run):  # slices: indices LLVM knows >= 0, so the loop vectorises
                    o[i] += sg[i] * nz[i]
            else:
                ch = (e // inner) % n_ch
                run = min(run, inner - e % inner)
                s = sig[g * n_ch + ch]
                o, nz = out[e : e + run], buf[e - start : e - start + run]
                for i in range(run):
                    o[i] += s * nz[i]
            e += run


@njit(cache=True)
def _serial(out, sig, key, group_size, inner, n_ch, lut):  # pragma: no cover - compiled
    n_chunks = (out.size + BLOCK * CHUNK_BLOCKS - 1) // (BLOCK * CHUNK_BLOCKS)
    bits = np.empty(BLOCK, np.uint32)
    flag = np.empty(BLOCK, np.uint8)
    idx = np.empty(BLOCK, np.int64)
    buf, scratch = _scratch(lut)
    for c in range(n_chunks):
        _add_chunk(out, sig, key, c, group_size, inner, n_ch, lut, bits, buf, flag, scratch, idx)


@njit(cache=True, parallel=True)
def _parallel(out, sig, key, group_size, inner, n_ch, lut):  # pragma: no cover - compiled
    n_chunks = (out.size + BLOCK * CHUNK_BLOCKS - 1) // (BLOCK * CHUNK_BLOCKS)
    for c in prange(n_chunks):
        bits = np.empty(BLOCK, np.uint32)
        flag = np.empty(BLOCK, np.uint8)
        idx = np.empty(BLOCK, np.int64)
        buf, scratch = _scratch(lut)
        _add_chunk(out, sig, key, c, group_size, inner, n_ch, lut, bits, buf, flag, scratch, idx)


def _lut(out: np.ndarray):
    return LUT_PACKED if out.dtype == np.float32 else (LUT_X64, LUT_T)


def add_normal_serial(out, sig, key, group_size, inner, n_ch) -> None:
    """Add ``sig``-scaled standard normals to the flat float32/float64 array ``out`` in place."""
    _serial(out, sig, np.uint64(key), group_size, inner, n_ch, _lut(out))


def add_normal_parallel(out, sig, key, group_size, inner, n_ch) -> None:
    """:func:`add_normal_serial` with chunks spread over numba's threads (the same numbers)."""
    _parallel(out, sig, np.uint64(key), group_size, inner, n_ch, _lut(out))
