"""Compiled kernel of :func:`noisyhw.channels.bsc` (numba, cached; imported on first use)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def flip_geometric(words, positions, rate, keep0, keep1, g):  # pragma: no cover - compiled
    """XOR Bernoulli(``rate``) flips into the exposed bits of ``words``; return the count.

    The exposed bits are numbered ``i = element * len(positions) + j`` (bit ``positions[j]`` of
    ``words[element]``). The gap to the next flipped bit is geometric:
    ``floor(log(U) / log(1 - rate))`` with U uniform on (0, 1]. A candidate on a stored 0 is
    kept with probability ``keep0`` and on a stored 1 with ``keep1`` (1.0 for symmetric flips).
    """
    npos = positions.size
    n = words.size * npos
    logq = math.log1p(-rate)
    thin = keep0 < 1.0 or keep1 < 1.0
    i = -1
    flips = 0
    while True:
        u = 1.0 - g.random()
        gap = math.log(u) / logq if logq < 0.0 else 0.0
        if gap >= n - 1 - i:
            break
        i += int(gap) + 1
        e = i // npos
        b = np.uint64(positions[i - e * npos])
        if thin:
            bit = (np.uint64(words[e]) >> b) & np.uint64(1)
            if g.random() >= (keep1 if bit else keep0):
                continue
        words[e] = np.uint64(words[e]) ^ (np.uint64(1) << b)
        flips += 1
    return flips
