"""Compiled (numba) encoder of the staggered WOM code. Internal: use
:class:`~noisyhw.codes.pcm.StaggeredWOMCode`.

One call does a whole write for every copy: decode the current syndrome, split target XOR
syndrome into the t active groups' d-bit components (XOR of precomputed split columns: a linear
map), rebuild each active group's flipped set from the last writes, and serve each component
(WOM table lookup, first-write table, or the same Gaussian elimination as
:func:`~noisyhw.codes.pcm.game.solve_fresh`, step for step, so the patterns are identical).

Group values are packed into int64 words (bit e = cell e of the group; g <= 62 cells, r <= 62).
"""

from __future__ import annotations

import numba
import numpy as np

_JIT = {"cache": True, "nogil": True}

#: kernel status codes
OK, BAD_HISTORY, NOT_BINARY = 0, 1, 2

#: how an active group picks its change pattern
MODE_TABLES, MODE_TWO_WRITE = 0, 1


@numba.njit(**_JIT)
def _solve_fresh(
    columns: np.ndarray, fresh: int, target: int, bv: np.ndarray, bp: np.ndarray
) -> int:  # pragma: no cover - compiled
    """Pattern of fresh cells whose columns XOR to ``target``, -1 if none: the elimination of
    :func:`~noisyhw.codes.pcm.game.solve_fresh` (basis with distinct leading bits, kept sorted
    by vector, descending; ``bv`` / ``bp`` (g,) int64 scratch for vectors / patterns)."""
    nb = 0
    for c in range(columns.shape[0]):
        if not (fresh >> c) & 1:
            continue
        v = columns[c]
        pat = np.int64(1) << c
        for q in range(nb):
            if v ^ bv[q] < v:
                v ^= bv[q]
                pat ^= bp[q]
        if v:
            pos = nb  # insert keeping bv descending (leading bits distinct: no ties)
            while pos > 0 and bv[pos - 1] < v:
                bv[pos] = bv[pos - 1]
                bp[pos] = bp[pos - 1]
                pos -= 1
            bv[pos] = v
            bp[pos] = pat
            nb += 1
    v = target
    pat = np.int64(0)
    for q in range(nb):
        if v ^ bv[q] < v:
            v ^= bv[q]
            pat ^= bp[q]
    return pat if v == 0 else -1


@numba.njit(**_JIT)
def staggered_write(
    state: np.ndarray,
    message: np.ndarray,
    hist: np.ndarray,
    w: int,
    data: np.ndarray,
    gcols: np.ndarray,
    split: np.ndarray,
    tables: np.ndarray,
    first: np.ndarray,
    columns: np.ndarray,
    t: int,
    d: int,
    mode: int,
) -> tuple[np.ndarray, int]:  # pragma: no cover - compiled
    """One write of a staggered WOM code, all copies.

    state (n,) uint8; message (copies,) int64 r-bit digits; hist (k, n) uint8, the last
    k <= t - 1 previous states, oldest first; w the write clock (>= 0); data (copies P g,)
    int64 cell positions (data cell (c, j, e) = copy c, group j, cell e at data[(c P + j) g + e]);
    gcols (P, g) int64 global columns; split (P, r) int64: coefficient int of each unit target
    at phase w mod P; tables (t, 2^g, 2^d) int64 WOM tables (MODE_TABLES) or first (2^d,)
    int64 first-write table (MODE_TWO_WRITE); columns (g,) int64 local columns.
    Returns (new state (n,) uint8, status): status OK, BAD_HISTORY (some group has no pattern:
    the history is not one the encoder produces) or NOT_BINARY (a data cell of the state or of
    the history is not 0/1); the state is meaningless unless OK.
    """
    P, g = gcols.shape
    r = split.shape[1]
    copies = message.shape[0]
    nh = hist.shape[0]
    out = state.copy()
    for k in range(data.shape[0]):
        cell = data[k]
        if state[cell] > 1:
            return out, NOT_BINARY
        for h in range(nh):
            if hist[h, cell] > 1:
                return out, NOT_BINARY
    phase = w % P
    mask = (np.int64(1) << d) - 1
    full = (np.int64(1) << g) - 1
    bv = np.zeros(g, np.int64)
    bp = np.zeros(g, np.int64)
    for c in range(copies):
        base = c * P * g
        syn = np.int64(0)
        for j in range(P):
            for e in range(g):
                if state[data[base + j * g + e]] == 1:
                    syn ^= gcols[j, e]
        delta = message[c] ^ syn
        coef = np.int64(0)
        for b in range(r):
            if (delta >> b) & 1:
                coef ^= split[phase, b]
        for i in range(t):
            j = (w - i) % P
            cells = base + j * g
            span = np.int64(0)  # cells of group j flipped earlier in its span
            for k in range(min(i, w)):
                if k >= nh:
                    break  # fewer earlier writes than the span needs: no flips recorded
                for e in range(g):
                    cell = data[cells + e]
                    newer = state[cell] if k == 0 else hist[nh - k, cell]
                    if newer != hist[nh - 1 - k, cell]:
                        span |= np.int64(1) << e
            comp = (coef >> (i * d)) & mask
            if mode == MODE_TABLES:
                x = tables[i, span, comp]
            elif i == 0:
                x = first[comp] if span == 0 else -1
            else:
                x = _solve_fresh(columns, full & ~span, comp, bv, bp)
            if x < 0:
                return out, BAD_HISTORY
            for e in range(g):
                if (x >> e) & 1:
                    out[data[cells + e]] ^= 1
    return out, OK
