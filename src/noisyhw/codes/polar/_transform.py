"""Compiled polar transform (numba, cached; imported on first use by :func:`.polar_transform`).

:func:`butterfly_` is the one in-place butterfly of the package: the decoders' kernels call it
on a node's bits, :func:`transform_words_` on a frame's 64-bit words.

Frame by frame on 64-bit words (8 bits, one per byte, little-endian), so a frame stays in L1
across all log2(n) stages: the three stages inside a word (bytes 1, 2, 4 apart) are shifts and
masks, the others XOR whole words. numpy's strided stage-by-stage version streams the whole
(F, n) array through memory log2(n) times.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_M1 = np.uint64(0x00FF00FF00FF00FF)
_M2 = np.uint64(0x0000FFFF0000FFFF)
_M4 = np.uint64(0x00000000FFFFFFFF)


@njit(cache=True, inline="always")
def butterfly_(x, size):  # pragma: no cover - compiled
    """In place ``x[:size] <- x[:size] F^{(x)m}`` (``size`` a power of two): for h = 1, 2, 4, ...
    ``x[j] ^= x[j + h]`` on the first half of every 2h-block. Any integer dtype: on bits it is
    the transform itself (an involution), on words the stages above one word."""
    h = 1
    while h < size:
        for j0 in range(0, size, 2 * h):
            for j in range(j0, j0 + h):
                x[j] ^= x[j + h]
        h *= 2


@njit(cache=True)
def transform_words_(w):  # pragma: no cover - compiled
    """In place polar transform of every row of ``w``: (F, n / 8) uint64, the byte view of a
    (F, n) uint8 array of 0/1 with n a multiple of 8 (bit j of a frame in byte j)."""
    frames, words = w.shape
    m1, m2, m4 = _M1, _M2, _M4
    s8, s16, s32 = np.uint64(8), np.uint64(16), np.uint64(32)
    for f in range(frames):
        row = w[f]
        for i in range(words):  # x[j] ^= x[j + h] for h = 1, 2, 4 (little-endian bytes)
            v = row[i]
            v ^= (v >> s8) & m1
            v ^= (v >> s16) & m2
            v ^= (v >> s32) & m4
            row[i] = v
        butterfly_(row, words)
