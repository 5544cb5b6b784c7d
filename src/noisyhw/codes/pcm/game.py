"""Zero-error certificates for syndrome block codes: a safety game solved exactly.

A block has ``b`` cells; the stored symbol is the syndrome ``H c`` (r bits) of its state c, H
given by its columns (b ints of r bits). A write adds a change pattern x (b bits) with
``H x = target XOR H c``. The encoder remembers the last alpha-1 patterns ``(u_1, ..., u_{a-1})``
(u_1 the most recent): the *history*. Pattern x is allowed after history h when every beta-window
of the stacked rows ``x, u_1, ..., u_{a-1}`` holds at most p changes (windows that leave the
block are cut at its edges: the block is followed by beta-1 frozen guard cells).

The winning set W is the greatest set of histories such that from every h in W every syndrome
s is reachable by an allowed x whose next history (x, u_1, ..., u_{a-2}) is again in W. If the
empty history is in W, the encoder that always moves inside W never fails and never violates the
constraint, for any message sequence and any number of writes: that is the proof, computed
exhaustively over all 2^(b (alpha-1)) histories.
"""

from __future__ import annotations

from functools import cache, lru_cache

import numpy as np

from ...errors import ParameterError
from ...seeding import RngLike, as_rng
from .capacity import _bits, _window_ok

__all__ = [
    "disjoint_pairs",
    "gf2_rank",
    "popcount",
    "search_block_code",
    "solve_fresh",
    "solve_game",
    "solve_wom",
    "syndromes",
    "two_write_first",
    "valid_patterns",
    "wom_winning",
]

MAX_GAME_BITS = 22  #: b * alpha (pairs of history x pattern) kept below 2^22


def popcount(v: np.ndarray) -> np.ndarray:
    """Number of set bits of each (non-negative) int, as int64."""
    return np.bitwise_count(np.asarray(v, np.int64)).astype(np.int64)


def valid_patterns(b: int, beta: int, p: int) -> np.ndarray:
    """(2^b,) bool: pattern x (bit i = cell i) has <= p ones in every beta-window cut at the
    block edges. Works on the ints directly: O(2^b) memory."""
    x = np.arange(2**b, dtype=np.int64)
    w = min(beta, b)
    mask = (1 << w) - 1
    ok = np.ones(x.size, bool)
    for i in range(b - w + 1):
        ok &= np.bitwise_count((x >> i) & mask) <= p
    return ok


def _lightest_per_syndrome(xx: np.ndarray, key: np.ndarray, size: int) -> np.ndarray:
    """(size,) lowest-weight (then smallest) pattern xx for each key; -1 where none."""
    order = np.lexsort((xx, popcount(xx), key))
    key_sorted = key[order]
    first = np.ones(key_sorted.size, bool)
    first[1:] = key_sorted[1:] != key_sorted[:-1]
    table = -np.ones(size, np.int64)
    table[key_sorted[first]] = xx[order][first]
    return table


def syndromes(columns: list[int] | np.ndarray, b: int) -> np.ndarray:
    """(2^b,) syndrome of every b-bit pattern: XOR of the columns of its set bits."""
    cols = np.asarray(columns, np.int64)
    if cols.shape != (b,):
        raise ParameterError("columns", f"must list b = {b} column ints", cols.shape)
    syn = np.zeros(1, np.int64)
    for i in range(b):  # bit i of the pattern selects column i
        syn = np.concatenate([syn, syn ^ cols[i]])
    return syn


def solve_game(alpha: int, beta: int, p: int, b: int, columns, r: int) -> np.ndarray | None:
    """Encoder table ``(2^(b (alpha-1)), 2^r)`` of change patterns, or None if no zero-error
    strategy exists from the empty history.

    Row = history id ``sum_i u_i << (b (i-1))``; entry = the lowest-weight allowed pattern that
    reaches that syndrome and stays winning; -1 for histories outside the winning set.
    """
    if b * alpha > MAX_GAME_BITS:
        raise ParameterError("b", f"b * alpha must be <= {MAX_GAME_BITS} for the exact game", b)
    syn = syndromes(columns, b)
    if syn.max(initial=0) >= 2**r:
        raise ParameterError("columns", f"must be < 2^r = {2**r}", int(syn.max()))
    k = alpha - 1
    if k == 0:  # no history: every syndrome needs one allowed pattern (O(2^b) memory)
        xx = np.flatnonzero(valid_patterns(b, beta, p))
        table = _lightest_per_syndrome(xx, syn[xx], 2**r)
        return None if np.any(table < 0) else table[None, :]
    nh = 2 ** (b * k)
    npat = 2**b
    pats = np.arange(npat, dtype=np.int64)
    pbits = _bits(pats, b)
    hid = np.arange(nh, dtype=np.int64)
    hcount = np.zeros((nh, b), np.int64)
    for i in range(k):
        hcount += _bits((hid >> (b * i)) & (npat - 1), b)
    win = _window_ok(hcount, beta, p, False)  # feasible histories
    # allowed[h, x] and next history id
    allowed = _window_ok(hcount[:, None, :] + pbits[None, :, :], beta, p, False)
    allowed &= win[:, None]
    mask = nh - 1
    nxt = ((hid[:, None] << b) | pats[None, :]) & mask if k else np.zeros((1, npat), np.int64)
    nsyn = 2**r
    while True:
        ok = allowed & win[nxt]
        hh, xx = np.nonzero(ok)
        cov = np.zeros(nh * nsyn, bool)
        cov[hh * nsyn + syn[xx]] = True
        new_win = win & cov.reshape(nh, nsyn).all(axis=1)
        if np.array_equal(new_win, win):
            break
        win = new_win
    if not win[0]:
        return None
    ok = allowed & win[nxt] & win[:, None]
    hh, xx = np.nonzero(ok)
    return _lightest_per_syndrome(xx, hh * nsyn + syn[xx], nh * nsyn).reshape(nh, nsyn)


def search_block_code(
    alpha: int,
    beta: int,
    p: int,
    b: int,
    r: int,
    *,
    tries: int = 200,
    rng: RngLike = 0,
) -> list[int] | None:
    """Random search for syndrome columns (r bits each, b of them) with a zero-error strategy.

    Returns the first columns found (checked by :func:`solve_game`) or None after ``tries``.
    Columns are drawn without repetition when possible (repeated columns waste cells).
    """
    g = as_rng(rng)
    for _ in range(tries):
        if b <= 2**r - 1:
            cols = g.choice(np.arange(1, 2**r), size=b, replace=False)
        else:
            cols = g.integers(1, 2**r, size=b)
        cols = [int(c) for c in cols]
        if np.bitwise_or.reduce(cols) != 2**r - 1:
            continue
        if solve_game(alpha, beta, p, b, cols, r) is not None:
            return cols
    return None


# ----------------------------------------------------------------------------- linear WOM games
MAX_WOM_CELLS = 12  #: 3^g (flipped set, fresh pattern) pairs are enumerated


def disjoint_pairs(g: int) -> tuple[np.ndarray, np.ndarray]:
    """All (F, x) with F, x subsets of g cells and F & x = 0: two (3^g,) int64 arrays."""
    f = np.zeros(1, np.int64)
    x = np.zeros(1, np.int64)
    for i in range(g):  # cell i: in neither, in F, or in x
        bit = np.int64(1 << i)
        f = np.concatenate([f, f | bit, f])
        x = np.concatenate([x, x, x | bit])
    return f, x


def wom_winning(columns, d: int, t: int, pairs=None) -> list[np.ndarray]:
    """Winning flipped sets of the linear t-write WOM game, one (2^g,) bool array per phase.

    A group of g cells with syndrome columns ``columns`` (d-bit ints) is written t times; at
    every write it must move its syndrome by ANY vector of GF(2)^d by flipping only cells not
    flipped earlier in the span. ``win[i][F]``: with flipped set F before write i (0-based),
    every remaining write can be served. Backward induction, exact.
    """
    cols = np.asarray(columns, np.int64)
    g = cols.size
    if g > MAX_WOM_CELLS:
        raise ParameterError("columns", f"at most {MAX_WOM_CELLS} cells per group", g)
    syn = syndromes(cols, g)
    f, x = disjoint_pairs(g) if pairs is None else pairs
    nsyn = 2**d
    win = np.ones(2**g, bool)
    out = []
    for _ in range(t):
        ok = win[f | x]
        cov = np.zeros(2**g * nsyn, bool)
        cov[f[ok] * nsyn + syn[x[ok]]] = True
        win = cov.reshape(2**g, nsyn).all(axis=1)
        out.append(win)
    return out[::-1]


def solve_wom(columns, d: int, t: int) -> list[np.ndarray] | None:
    """Encoder tables of a linear t-write WOM code, or None if the game is lost from F = {}.

    ``tables[i][F, s]`` = the lowest-weight fresh pattern x (x & F = 0, H x = s) that keeps the
    group winning for the remaining writes; -1 where F is not winning before write i. A group
    whose table exists serves every sequence of t targets: that is the certificate.
    """
    cols = np.asarray(columns, np.int64)
    if cols.ndim != 1 or cols.size < 1:
        raise ParameterError("columns", "must be a non-empty list of ints", cols.shape)
    if cols.min() < 0 or cols.max() >= 2**d:
        raise ParameterError("columns", f"must be in [0, 2^d = {2**d})", cols.tolist())
    g = cols.size
    win = wom_winning(cols, d, t)
    if not win[0][0]:
        return None
    syn = syndromes(cols, g)
    f, x = disjoint_pairs(g)
    nsyn = 2**d
    tables = []
    for i in range(t):
        nxt = win[i + 1] if i + 1 < t else np.ones(2**g, bool)
        ok = nxt[f | x] & win[i][f]
        table = _lightest_per_syndrome(x[ok], f[ok] * nsyn + syn[x[ok]], 2**g * nsyn)
        tables.append(table.reshape(2**g, nsyn))
    return tables


def gf2_rank(vectors) -> int:
    """Rank over GF(2) of int bit-vectors."""
    basis: list[int] = []
    for v in vectors:
        v = int(v)
        for b in basis:
            v = min(v, v ^ b)
        if v:
            basis.append(v)
    return len(basis)


def two_write_first(columns, d: int) -> np.ndarray | None:
    """Cached :func:`_two_write_first` (the table is read-only)."""
    table = _two_write_first(tuple(int(c) for c in columns), d)
    return None if table is None else table.copy()


@cache
def _two_write_first(columns: tuple[int, ...], d: int) -> np.ndarray | None:
    """First-write table of a linear 2-write WOM group of any size: ``(2^d,)`` lowest-weight
    pattern per syndrome whose unflipped columns still span GF(2)^d (then the second write
    reaches any syndrome with fresh cells: linear algebra); None if some syndrome has none.

    Patterns are tried by weight up to g - d (a spanning fresh set needs >= d cells), so the
    cost is sum_{k <= g-d} C(g, k) rank checks instead of the 3^g states of :func:`solve_wom`.
    """
    import itertools

    cols = [int(c) for c in columns]
    g = len(cols)
    table = -np.ones(2**d, np.int64)
    left = 2**d
    for k in range(g - d + 1):
        for combo in itertools.combinations(range(g), k):
            s = 0
            for c in combo:
                s ^= cols[c]
            if table[s] >= 0:
                continue
            if gf2_rank(cols[c] for c in range(g) if c not in combo) == d:
                table[s] = sum(1 << c for c in combo)
                left -= 1
                if not left:
                    return table
    return None


def solve_fresh(columns, fresh: int, target: int) -> int:
    """A pattern of fresh cells (bit mask ``fresh``) whose columns XOR to ``target``; -1 if the
    fresh columns do not reach it. Gaussian elimination, O(g d); the reduced basis of each
    fresh set is cached (a group's fresh sets repeat)."""
    v, pat = int(target), 0
    for b, bp in _fresh_basis(tuple(int(c) for c in columns), int(fresh)):
        if v ^ b < v:
            v, pat = v ^ b, pat ^ bp
    return pat if v == 0 else -1


@lru_cache(maxsize=1 << 16)
def _fresh_basis(columns: tuple[int, ...], fresh: int) -> tuple[tuple[int, int], ...]:
    """(vector, pattern) pairs with distinct leading bits, sorted by vector, descending."""
    basis: list[tuple[int, int]] = []
    for c, col in enumerate(columns):
        if not (fresh >> c) & 1:
            continue
        v, pat = col, 1 << c
        for b, bp in basis:
            if v ^ b < v:
                v, pat = v ^ b, pat ^ bp
        if v:
            basis.append((v, pat))
            basis.sort(reverse=True)
    return tuple(basis)
