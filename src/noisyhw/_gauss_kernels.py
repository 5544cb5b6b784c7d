"""Compiled kernel of :func:`noisyhw.channels.awgn_` (numba, cached; imported on first use).

``add_normal_serial(out, sig, key, group_size, inner, n_ch)`` adds ``sig * N(0, 1)`` to a flat
array in place. The normals come from the ziggurat method (Marsaglia & Tsang, 2000) with 256
layers, an exact method: every returned point is uniform under ``exp(-x^2/2)`` (float64 tables;
the position inside a layer has 23 random bits, the tail sampler 53-bit uniforms).

Uniform bits are *counter based*: element ``e`` of a call with key ``K`` takes one 32-bit half
(low for the first half of its block, high for the second) of ``SplitMix64(K + h * golden)``,
``h`` fixed by ``e``; so the numbers depend only on the key and the element's index, never on
the number of threads or the chunking. First try: layer ``k`` (8 bits), sign (1 bit), position
``i`` (23 bits), ``x = i 2^-23 X[k]``, accepted at once when ``i < floor(2^23 X[k+1] / X[k])``
(~98.8%). A try not accepted at once is flagged and finished before the add, scalar: its own
``(k, x)`` goes through the wedge test (or, for layer 0, Marsaglia's exponential tail sampler
beyond ``r``), and only a rejection there starts over, with a per-element SplitMix64 stream
seeded from ``(K, e)``. Each element therefore gets exactly the ziggurat's output distribution.

Ziggurat layout: ``X[0] > X[1] = r > ... > X[256] = 0``, equal areas ``v``; layer ``k >= 1`` is
the box ``[0, X[k]] x [f(X[k]), f(X[k+1])]`` (``f(x) = exp(-x^2/2)``), layer 0 the base box
``[0, r] x [0, f(r)]`` plus the tail beyond ``r``, of width ``X[0] = v / f(r)``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

LAYERS = 256
#: bits of a 32-bit word: 8 pick the layer, 1 the sign, the top 23 the position in the layer
_SHIFT = 9
#: elements per block (the first try of a block is generated into an L1-sized buffer)
BLOCK = 2048
#: blocks per parallel chunk
CHUNK_BLOCKS = 16
_R = 3.6541528853610088  # start of the tail for 256 layers


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
    thresh = np.floor(x[1:] / x[:-1] * 2.0**23).astype(np.int32)
    return x, f, thresh


ZIG_X, ZIG_F, ZIG_T = _tables()

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_TWO23 = 1.0 / 8388608.0
_TWO53 = 1.0 / 9007199254740992.0


@njit(cache=True, inline="always")
def _mix(z):  # pragma: no cover - compiled
    """The SplitMix64 output function (a bijective 64-bit hash)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def _first_try(buf, flag, key, h0):  # pragma: no cover - compiled
    """First ziggurat try for a block: ``buf[i]`` from hash ``h0 + i % half``; ``flag[i] = 1``
    where that try is not accepted at once (``buf[i]`` then holds the candidate)."""
    zx, t = ZIG_X, ZIG_T
    half = buf.size // 2
    for i in range(half):
        u = _mix(key + (h0 + np.uint64(i)) * _GOLDEN)
        w = np.uint32(u & np.uint64(0xFFFFFFFF))
        k = w & np.uint32(LAYERS - 1)
        mi = np.int32(w >> np.uint32(_SHIFT))
        x = float(mi) * _TWO23 * zx[k]
        flag[i] = mi >= t[k]
        buf[i] = -x if (w & np.uint32(LAYERS)) else x
        w = np.uint32(u >> np.uint64(32))
        k = w & np.uint32(LAYERS - 1)
        mi = np.int32(w >> np.uint32(_SHIFT))
        x = float(mi) * _TWO23 * zx[k]
        flag[half + i] = mi >= t[k]
        buf[half + i] = -x if (w & np.uint32(LAYERS)) else x


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
        x = float(mi) * _TWO23 * zx[k]
        if mi < zt[k]:
            break
        st += _GOLDEN
        u1 = _mix(st)
        if k == 0:  # tail beyond r (Marsaglia): r + a, a ~ Exp(r), kept w.p. exp(-a^2/2)
            while True:
                st += _GOLDEN
                u2 = _mix(st)
                a = -math.log((float(u1 >> np.uint64(11)) + 1.0) * _TWO53) / r
                b = -math.log((float(u2 >> np.uint64(11)) + 1.0) * _TWO53)
                if b + b > a * a:
                    break
                st += _GOLDEN
                u1 = _mix(st)
            x = r + a
            break
        y = zf[k] + (float(u1 >> np.uint64(11)) * _TWO53) * (zf[k + 1] - zf[k])
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
def _add_chunk(out, sig, key, c, group_size, inner, n_ch, buf, flag):  # pragma: no cover - compiled
    """``out[e] += sig[g(e) * n_ch + ch(e)] * N(0, 1)`` for the elements of chunk ``c``.

    ``g(e) = e // group_size`` (leading "group" dims), ``ch(e) = (e // inner) % n_ch``. The add
    runs over stretches of constant sigma (or, with ``inner == 1``, of consecutive channels).
    """
    n = out.size
    half = BLOCK // 2
    first = c * CHUNK_BLOCKS
    for b in range(first, first + CHUNK_BLOCKS):
        start = b * BLOCK
        if start >= n:
            return
        stop = min(start + BLOCK, n)
        _first_try(buf, flag, key, np.uint64(b * half))
        words = flag.view(np.uint64)
        for q in range(words.size):  # 8 flags per word: the ~1.2% not accepted at once
            if words[q] == 0:
                continue
            for i in range(8 * q, 8 * q + 8):
                if flag[i] and i < stop - start:
                    u = _mix(key + np.uint64(b * half + i % half) * _GOLDEN)
                    sh = np.uint64(32) if i >= half else np.uint64(0)  # 2nd half: high word
                    buf[i] = _finish(key, start + i, np.uint32((u >> sh) & np.uint64(0xFFFFFFFF)))
        e = start
        while e < stop:
            g = e // group_size
            run = min(stop, (g + 1) * group_size) - e
            if inner == 1 and n_ch > 1:  # sigma per channel, channels contiguous
                ch = e % n_ch
                run = min(run, n_ch - ch)
                base = g * n_ch + ch
                for i in range(run):
                    out[e + i] += sig[base + i] * buf[e - start + i]
            else:
                ch = (e // inner) % n_ch
                run = min(run, inner - e % inner)
                sg = sig[g * n_ch + ch]
                for i in range(run):
                    out[e + i] += sg * buf[e - start + i]
            e += run


@njit(cache=True)
def add_normal_serial(out, sig, key, group_size, inner, n_ch):  # pragma: no cover - compiled
    """Add ``sig``-scaled standard normals to the flat array ``out`` in place, one thread."""
    n_chunks = (out.size + BLOCK * CHUNK_BLOCKS - 1) // (BLOCK * CHUNK_BLOCKS)
    buf = np.empty(BLOCK, np.float64)
    flag = np.empty(BLOCK, np.uint8)
    for c in range(n_chunks):
        _add_chunk(out, sig, key, c, group_size, inner, n_ch, buf, flag)


@njit(cache=True, parallel=True)
def add_normal_parallel(out, sig, key, group_size, inner, n_ch):  # pragma: no cover - compiled
    """:func:`add_normal_serial` with chunks spread over numba's threads (the same numbers)."""
    n_chunks = (out.size + BLOCK * CHUNK_BLOCKS - 1) // (BLOCK * CHUNK_BLOCKS)
    for c in prange(n_chunks):
        buf = np.empty(BLOCK, np.float64)
        flag = np.empty(BLOCK, np.uint8)
        _add_chunk(out, sig, key, c, group_size, inner, n_ch, buf, flag)
