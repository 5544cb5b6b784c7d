"""The (alpha, beta, p) checker: scan a history of memory states for the first violation.

A history is a ``(T+1, n)`` array of binary states; row ``t`` is the memory after write ``t``
(row 0 is the initial state). Write ``t`` (1 <= t <= T) changes the cells where rows ``t-1`` and
``t`` differ. A window is ``alpha`` consecutive writes ending at write ``t`` (fewer at the start:
writes ``max(1, t-alpha+1)..t``) and ``beta`` contiguous cells starting at cell ``j`` (all cells
when ``n < beta``); its cost is the number of cell changes inside it.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from ...errors import ParameterError
from .params import constraint

__all__ = ["Violation", "change_array", "check", "max_window_cost"]


class Violation(NamedTuple):
    """The first window (smallest write, then smallest cell) whose cost exceeds p."""

    write: int  #: last write of the window, 1..T (the write that caused the violation)
    cell: int  #: first cell of the beta-window, 0-based
    cost: int  #: number of changes in the window (> p)


def change_array(states: np.ndarray) -> np.ndarray:
    """``(T+1, n)`` binary states -> ``(T, n)`` uint8 change indicators (row t-1 = write t)."""
    s = _as_states(states)
    return np.bitwise_xor(s[1:], s[:-1])


def _as_states(states: np.ndarray) -> np.ndarray:
    s = np.asarray(states)
    if s.ndim != 2 or s.shape[0] < 1:
        raise ParameterError("states", "must be a 2-D (T+1, n) array with T+1 >= 1", s.shape)
    if s.dtype != np.uint8:
        if s.dtype == bool or np.issubdtype(s.dtype, np.integer):
            s = s.astype(np.uint8)
        else:
            raise ParameterError("states", "must hold 0/1 integers or booleans", str(s.dtype))
    if s.size and s.max() > 1:
        raise ParameterError("states", "must be binary (0/1)", int(s.max()))
    return np.ascontiguousarray(s)


@numba.njit(cache=True)
def _scan(x: np.ndarray, alpha: int, beta: int, p: int, stop_first: bool):  # pragma: no cover
    T, n = x.shape
    col = np.zeros(n, np.int64)
    bw = min(beta, n)
    best = 0
    for t in range(T):
        for i in range(n):
            col[i] += x[t, i]
            if t >= alpha:
                col[i] -= x[t - alpha, i]
        if n == 0:
            continue
        s = 0
        for i in range(bw):
            s += col[i]
        j = 0
        while True:
            if s > best:
                best = s
            if stop_first and s > p:
                return t + 1, j, s
            if j + bw >= n:
                break
            s += col[j + bw] - col[j]
            j += 1
    return -1, -1, best


def check(states: np.ndarray, alpha: int, beta: int, p: int) -> Violation | None:
    """First violation of the (alpha, beta, p) constraint in a ``(T+1, n)`` history, or None.

    Cost O(T n), one pass, no temporaries beyond one row of counts (numba).
    """
    c = constraint(alpha, beta, p, allow_unconstrained=True)
    x = change_array(states)
    t, j, s = _scan(x, c.alpha, c.beta, c.p, True)
    return None if t < 0 else Violation(int(t), int(j), int(s))


def max_window_cost(states: np.ndarray, alpha: int, beta: int) -> int:
    """Largest number of changes in any alpha-write x beta-cell window of the history."""
    c = constraint(alpha, beta, 1, allow_unconstrained=True)
    return int(_scan(change_array(states), c.alpha, c.beta, 0, False)[2])
