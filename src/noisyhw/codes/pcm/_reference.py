"""The staggered WOM encoder as it was before the numba kernel: a numpy / pure-Python reference.

Kept for two jobs only: ``tests/pcm/test_pcm_staggered_kernel.py`` pins the compiled encoder
(:meth:`~noisyhw.codes.pcm.StaggeredWOMCode.write`) bit for bit against it, and
``benchmarks/bench_pcm.py`` times it as the "before" baseline. Internal, not exported.

The algorithm: split target XOR current syndrome into one d-bit component per active group with
the rows of B_w^-1 (one parity per row), then let each active group serve its component from its
WOM table (groups of <= 12 cells), its first-write table (phase 0 of a large 2-write group) or
Gaussian elimination on its fresh cells (:func:`~noisyhw.codes.pcm.game.solve_fresh`).
"""

from __future__ import annotations

import numpy as np

from ...errors import ParameterError, check_int
from .game import solve_fresh

__all__ = ["reference_split", "reference_write"]


def reference_split(code, delta: np.ndarray, w: int) -> np.ndarray:
    """(copies,) r-bit targets -> (copies,) coefficient ints (phase i in bits i*d..), by one
    parity per row of B_w^-1."""
    inv = code.inverse[w % code.period]  # (r,) rows certified at construction
    bits = np.bitwise_count(inv[None, :] & delta[:, None]).astype(np.int64) & 1
    return bits @ (1 << np.arange(code.r, dtype=np.int64))


def reference_write(code, state, message, history=None, step=None) -> np.ndarray:
    """New state (n,) uint8 of a :class:`~noisyhw.codes.pcm.StaggeredWOMCode`, computed the
    pre-kernel way (same contract as ``code.write``)."""
    if step is None:
        raise ParameterError("step", "is needed: this code's encoder runs on the write clock")
    w = check_int("step", step, 0)
    s = code._state(state)
    m = code._message(message)
    coef = reference_split(code, m ^ code.read(s), w)
    diffs = code._diffs(s, history)[:, code.data]
    diffs = diffs.reshape(code.memory, code.copies, code.period, code.g)
    weights = 1 << np.arange(code.g, dtype=np.int64)
    flipped = diffs.astype(np.int64) @ weights  # (memory, copies, P) per write
    out = s[code.data].reshape(code.copies, code.period, code.g)
    mask = 2**code.d - 1
    for i in range(code.t):
        j = (w - i) % code.period
        span = np.zeros(code.copies, np.int64)  # cells flipped earlier in this span
        for k in range(min(i, w)):
            span |= flipped[k, :, j]
        comp = (coef >> (i * code.d)) & mask
        if code.tables is not None:
            x = code.tables[i][span, comp]
        elif i == 0:
            x = np.where(span == 0, code.first[comp], -1)
        else:
            full = 2**code.g - 1
            pairs = zip(span.tolist(), comp.tolist(), strict=True)
            cols = tuple(code.columns)
            x = np.array([solve_fresh(cols, full & ~f, u) for f, u in pairs], np.int64)
        if np.any(x < 0):
            raise ParameterError("history", "is not one this code's encoder can produce")
        out[:, j, :] ^= ((x[:, None] >> np.arange(code.g)) & 1).astype(np.uint8)
    new = s.copy()
    new[code.data] = out.reshape(-1)
    return new
