"""Compiled kernel of :func:`noisyhw.channels.bsc` (numba, cached; imported on first use)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def flip_geometric_chunk(words, positions, rate, keep0, keep1, u, start):  # pragma: no cover
    """XOR Bernoulli(``rate``) flips into the exposed bits of ``words`` after bit ``start``.

    The exposed bits are numbered ``i = element * len(positions) + j`` (bit ``positions[j]`` of
    ``words[element]``). The gap to the next flipped bit is geometric:
    ``floor(log(U) / log(1 - rate))`` with U uniform on (0, 1], taken from ``u`` (values in
    [0, 1) as numpy draws them, used as ``1 - u``). A candidate on a stored 0 is kept with
    probability ``keep0`` and on a stored 1 with ``keep1`` (each thinning decision takes the
    next value of ``u``). Returns ``(last bit visited, flips, finished)``; when ``u`` runs out
    before the end, call again with fresh uniforms and ``start`` = the returned bit.
    """
    npos = positions.size
    n = words.size * npos
    logq = math.log1p(-rate)
    thin = keep0 < 1.0 or keep1 < 1.0
    i = start
    flips = 0
    j = 0
    m = u.size
    while j < m - 1 or (j < m and not thin):
        gap = math.log(1.0 - u[j]) / logq if logq < 0.0 else 0.0
        j += 1
        if gap >= n - 1 - i:
            return i, flips, True
        i += int(gap) + 1
        e = i // npos
        b = np.uint64(positions[i - e * npos])
        if thin:
            bit = (np.uint64(words[e]) >> b) & np.uint64(1)
            keep = u[j] < (keep1 if bit else keep0)
            j += 1
            if not keep:
                continue
        words[e] = np.uint64(words[e]) ^ (np.uint64(1) << b)
        flips += 1
    return i, flips, False


@njit(cache=True)
def xor_exposed_bits(words, positions, flat):  # pragma: no cover
    """XOR bit ``positions[i % len(positions)]`` of ``words[i // len(positions)]`` for each
    exposed-bit index ``i`` in ``flat`` (distinct indices)."""
    npos = positions.size
    for k in range(flat.size):
        i = flat[k]
        e = i // npos
        words[e] = np.uint64(words[e]) ^ (np.uint64(1) << np.uint64(positions[i - e * npos]))
