"""Hamming-weight-ordered n-bit codewords and their enumerative code, plus one-flip distortion.

The ``2**n`` strings of ``n`` bits are ordered by Hamming weight (all weight-0 strings first, then
weight 1, ...), and inside a weight class by the combinatorial number system (colex rank): the
string with ones at bit positions ``c_1 < c_2 < ... < c_w`` has rank ``sum_i C(c_i, i)``. A value
index ``i`` in ``[0, 2**n)`` is stored as the ``i``-th string of that order.

* :func:`hwo_encode` / :func:`hwo_decode` convert indices <-> codewords in O(n) per value
  (compiled; a binomial table of size (n+1)^2 is the only state).
* One bit flip changes the Hamming weight by exactly one, so it moves a codeword into an adjacent
  class: the index moves by at most ``C(n, w) + C(n, w+1) - 1 = C(n+1, w+1) - 1`` for the classes
  ``w, w+1`` involved, hence by at most ``C(n+1, floor((n+1)/2)) - 1`` (:func:`hwo_flip_bound`),
  about ``2**(n+1) / sqrt(pi (n+1) / 2)``; relative to the ``2**n - 1`` quantization steps this is
  ``O(1/sqrt(n))``. In plain binary (offset or two's complement) flipping bit ``k`` moves the
  index by ``2**k``: the worst case (the top bit) is half the range for every ``n``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..errors import ParameterError, check_choice, check_int

__all__ = [
    "MAX_BITS",
    "hwo_decode",
    "hwo_encode",
    "hwo_flip_bound",
    "one_flip_distortion",
]

MAX_BITS = 32


def _binomials(n: int) -> np.ndarray:
    c = np.zeros((n + 2, n + 2), dtype=np.int64)
    for i in range(n + 2):
        c[i, 0] = 1
        for k in range(1, i + 1):
            c[i, k] = c[i - 1, k - 1] + c[i - 1, k]
    return c


def _offsets(n: int, c: np.ndarray) -> np.ndarray:
    """``off[w]`` = number of strings of weight < w (length n + 2)."""
    return np.concatenate([[0], np.cumsum(c[n, : n + 1])]).astype(np.int64)


@njit(cache=True)
def _encode_kernel(idx, n, c, off, out):  # pragma: no cover - compiled
    for j in range(idx.size):
        i = np.int64(idx[j])
        w = 0
        while off[w + 1] <= i:
            w += 1
        r = i - off[w]
        word = np.uint64(0)
        for pos in range(n - 1, -1, -1):
            if w == 0:
                break
            if r >= c[pos, w]:
                word |= np.uint64(1) << np.uint64(pos)
                r -= c[pos, w]
                w -= 1
        out[j] = word


@njit(cache=True)
def _decode_kernel(words, n, c, off, out):  # pragma: no cover - compiled
    for j in range(words.size):
        word = np.uint64(words[j])
        k = 0
        r = np.int64(0)
        for pos in range(n):
            if (word >> np.uint64(pos)) & np.uint64(1):
                k += 1
                r += c[pos, k]
        out[j] = off[k] + r


def _check_n(n: int) -> int:
    return check_int("n", n, 1, MAX_BITS)


def hwo_encode(indices: np.ndarray, n: int) -> np.ndarray:
    """Codewords (uint64, same shape) of value indices in ``[0, 2**n)``."""
    n = _check_n(n)
    idx = np.ascontiguousarray(indices, dtype=np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= 2**n):
        raise ParameterError("indices", f"must be in [0, 2**{n})", (int(idx.min()), int(idx.max())))
    c = _binomials(n)
    out = np.empty(idx.shape, dtype=np.uint64)
    _encode_kernel(idx.reshape(-1), n, c, _offsets(n, c), out.reshape(-1))
    return out


def hwo_decode(words: np.ndarray, n: int) -> np.ndarray:
    """Value indices (int64, same shape) of codewords; bits at positions >= n are ignored."""
    n = _check_n(n)
    w = np.ascontiguousarray(words).astype(np.uint64) & np.uint64(2**n - 1)
    c = _binomials(n)
    out = np.empty(w.shape, dtype=np.int64)
    _decode_kernel(w.reshape(-1), n, c, _offsets(n, c), out.reshape(-1))
    return out


def hwo_flip_bound(n: int) -> int:
    """Proven bound on the index change caused by one flip: ``C(n+1, floor((n+1)/2)) - 1``."""
    n = _check_n(n)
    return math.comb(n + 1, (n + 1) // 2) - 1


def one_flip_distortion(n: int, code: str = "hwo") -> dict[str, float]:
    """Exhaustive index distortion of one bit flip over all ``2**n`` codewords and ``n`` bits.

    ``code`` is ``"hwo"`` (Hamming-weight ordered) or ``"binary"`` (offset binary; two's
    complement gives the same index changes). Returns ``worst`` (max |index change|), ``mean``
    and ``rms`` over uniform codewords and a uniform flipped bit, each also divided by the
    ``2**n - 1`` quantization steps (``*_norm``: a fraction of the value range). Exhaustive, so
    keep ``n <= 22``.
    """
    n = check_int("n", n, 1, 22)
    check_choice("code", code, ("hwo", "binary"))
    idx = np.arange(2**n, dtype=np.int64)
    words = hwo_encode(idx, n) if code == "hwo" else idx.astype(np.uint64)
    worst, total, total2 = 0, 0.0, 0.0
    for k in range(n):
        flipped = words ^ np.uint64(1 << k)
        new = hwo_decode(flipped, n) if code == "hwo" else flipped.astype(np.int64)
        d = np.abs(new - idx)
        worst = max(worst, int(d.max()))
        total += float(d.sum())
        total2 += float((d.astype(np.float64) ** 2).sum())
    count = n * 2**n
    steps = 2**n - 1
    mean, rms = total / count, math.sqrt(total2 / count)
    return {
        "n": n,
        "code": code,
        "worst": worst,
        "mean": mean,
        "rms": rms,
        "worst_norm": worst / steps,
        "mean_norm": mean / steps,
        "rms_norm": rms / steps,
    }
