"""Pick constructions for an (alpha, beta, p) constraint and tabulate rates against bounds."""

from __future__ import annotations

from functools import cache

from ...errors import check_int
from ._tables import BLOCK_CODES
from .base import PCMCode
from .capacity import DEFAULT_DEPTH, capacity_bounds, finite_n_bound
from .game import MAX_GAME_BITS
from .params import constraint
from .residue import ResidueCode
from .staggered import staggered_wom
from .syndrome import SyndromeCode, round_robin
from .timeshare import TimeSharedCode

__all__ = ["best_code", "constructions", "rate_row", "rate_table"]


@cache
def _block1(alpha: int, beta: int, p: int) -> SyndromeCode | None:
    entry = BLOCK_CODES.get((alpha, beta, p))
    if entry is None:
        return None
    b, r, cols = entry
    return SyndromeCode(alpha, beta, p, b, r, cols)


def _block(alpha: int, beta: int, p: int, copies: int) -> SyndromeCode | None:
    blk = _block1(alpha, beta, p)
    return None if blk is None else blk.with_copies(copies)


def constructions(alpha: int, beta: int, p: int, *, copies: int = 1) -> list[PCMCode]:
    """Every construction this package has for (alpha, beta, p), ``copies`` blocks each.

    Syndrome block codes from the searched table (certified by their safety game at
    construction), the round robin for (alpha, 1, 1), staggered linear WOM groups for
    alpha >= 2 (certified by their WOM game; beat 1/alpha for p = 1, alpha >= 4), residue
    classes for (1, beta, p) and, for alpha >= 2, the time-shared combinations: for each
    k = 1..alpha copies the largest inner budget p_in with ceil(alpha / k) * p_in <= p, inner =
    the best (1, beta, p_in) code (plain cells when the budget allows beta changes per window).
    The list is sorted by rate (best first), then by length.
    """
    c = constraint(alpha, beta, p)
    copies = check_int("copies", copies, 1)
    out: list[PCMCode] = []
    blk = _block(*c, copies)
    if blk is not None:
        out.append(blk)
    if c.beta == 1 and c.p == 1 and c.alpha**2 <= MAX_GAME_BITS:  # its game certificate fits
        out.append(round_robin(c.alpha, copies))
    if c.alpha >= 2:
        out.append(staggered_wom(c.alpha, c.p, copies, beta=c.beta))
    if c.alpha == 1:
        out.append(ResidueCode(c.beta, c.p, copies))
        return sorted(out, key=lambda code: -code.rate)
    for k in range(1, c.alpha + 1):
        w = -(-c.alpha // k)
        p_in = c.p // w
        if p_in < 1:
            continue
        if p_in >= c.beta:
            out.append(TimeSharedCode(*c, None, copies=k, width=copies * c.beta))
            continue
        inners = [ResidueCode(c.beta, p_in, copies)]
        syn = _block(1, c.beta, p_in, copies)
        if syn is not None:
            inners.append(syn)
        inner = max(inners, key=lambda code: code.rate)
        out.append(TimeSharedCode(*c, inner, copies=k))
    # keep the best time-shared variant only (they differ in k and p_in)
    shared = [code for code in out if isinstance(code, TimeSharedCode)]
    rest = [code for code in out if not isinstance(code, TimeSharedCode)]
    if shared:
        rest.append(max(shared, key=lambda code: (code.rate, -code.memory)))
    return sorted(rest, key=lambda code: (-code.rate, code.n))


def best_code(alpha: int, beta: int, p: int, *, copies: int = 1) -> PCMCode:
    """The highest-rate construction for (alpha, beta, p)."""
    return constructions(alpha, beta, p, copies=copies)[0]


def rate_row(
    alpha: int, beta: int, p: int, *, depth: int = DEFAULT_DEPTH, time_budget: float | None = None
) -> dict:
    """Best construction vs bounds for one (alpha, beta, p): ``code`` (name), ``n``, ``rate``,
    ``lower`` / ``upper`` / ``exact`` capacity bounds, ``rate/upper`` and the finite-n bound at
    the block length. An unconstrained triple (p >= alpha*beta) has rate 1 on one cell. The
    bounds are :func:`capacity_bounds` at ``depth`` (the same on every machine; ``time_budget``
    is opt-in)."""
    if p >= alpha * beta:
        return {
            "code": "unconstrained",
            "n": 1,
            "rate": 1.0,
            "lower": 1.0,
            "upper": 1.0,
            "exact": 1.0,
            "rate/upper": 1.0,
            "finite_n_bound": 1.0,
        }
    code = best_code(alpha, beta, p)
    bd = capacity_bounds(alpha, beta, p, depth=depth, time_budget=time_budget)
    return {
        "code": code.name,
        "n": code.n,
        "rate": code.rate,
        "lower": bd.lower,
        "upper": bd.upper,
        "exact": bd.exact,
        "rate/upper": code.rate / bd.upper,
        "finite_n_bound": finite_n_bound(alpha, beta, p, code.n),
    }


_ROUND = {"rate": 6, "lower": 6, "upper": 6, "rate/upper": 4, "finite_n_bound": 6}


def rate_table(
    alphas=(1, 2, 3, 4),
    betas=(1, 2, 3, 4),
    ps=(1, 2, 3, 4),
    *,
    depth: int = DEFAULT_DEPTH,
    time_budget: float | None = None,
) -> list[dict]:
    """One :func:`rate_row` per (alpha, beta, p), rounded for display (rates to 6 digits,
    rate / upper to 4). Unconstrained triples (p >= alpha*beta) are listed with rate 1."""
    rows = []
    for a in alphas:
        for b in betas:
            for p in ps:
                row = rate_row(a, b, p, depth=depth, time_budget=time_budget)
                for key, digits in _ROUND.items():
                    row[key] = round(row[key], digits)
                rows.append({"alpha": a, "beta": b, "p": p, **row})
    return rows
