"""Pick constructions for an (alpha, beta, p) constraint and tabulate rates against bounds."""

from __future__ import annotations

from ...errors import check_int
from ._tables import BLOCK_CODES
from .capacity import capacity_bounds, finite_n_bound
from .codes import PCMCode, ResidueCode, SyndromeCode, TimeSharedCode, round_robin
from .params import constraint

__all__ = ["best_code", "constructions", "rate_table"]


def _block(alpha: int, beta: int, p: int, copies: int) -> SyndromeCode | None:
    entry = BLOCK_CODES.get((alpha, beta, p))
    if entry is None:
        return None
    b, r, cols = entry
    return SyndromeCode(alpha, beta, p, b, r, cols, copies)


def constructions(alpha: int, beta: int, p: int, *, copies: int = 1) -> list[PCMCode]:
    """Every construction this package has for (alpha, beta, p), ``copies`` blocks each.

    Syndrome block codes from the searched table (certified by their safety game at
    construction), the round robin for (alpha, 1, 1), residue classes for (1, beta, p) and the
    time-shared combination for alpha >= 2 (inner: the best (1, beta, p) block code, or plain
    cells when p >= beta).
    """
    c = constraint(alpha, beta, p)
    copies = check_int("copies", copies, 1)
    out: list[PCMCode] = []
    blk = _block(*c, copies)
    if blk is not None:
        out.append(blk)
    if c.beta == 1 and c.p == 1:
        out.append(round_robin(c.alpha, copies))
    if c.alpha == 1:
        out.append(ResidueCode(c.beta, c.p, copies))
    else:
        if c.p >= c.beta:
            out.append(TimeSharedCode(c.alpha, c.beta, c.p, None, width=copies * c.beta))
        else:
            inner = _block(1, c.beta, c.p, copies)
            if inner is not None:
                out.append(TimeSharedCode(c.alpha, c.beta, c.p, inner))
    return out


def best_code(alpha: int, beta: int, p: int, *, copies: int = 1) -> PCMCode:
    """The highest-rate construction for (alpha, beta, p)."""
    return max(constructions(alpha, beta, p, copies=copies), key=lambda code: code.rate)


def rate_table(
    alphas=(1, 2, 3, 4), betas=(1, 2, 3, 4), ps=(1, 2, 3, 4), *, time_budget: float = 1.0
) -> list[dict]:
    """One row per constrained (alpha, beta, p): best construction rate, its block length,
    lower / upper bounds (exact in 1-D), rate / upper, and the finite-n bound at the block length.
    Unconstrained triples (p >= alpha*beta) are listed with rate 1."""
    rows = []
    for a in alphas:
        for b in betas:
            for p in ps:
                if p >= a * b:
                    rows.append({"alpha": a, "beta": b, "p": p, "code": "unconstrained",
                                 "n": 1, "rate": 1.0, "lower": 1.0, "upper": 1.0,
                                 "exact": 1.0, "rate/upper": 1.0, "finite_n_bound": 1.0})
                    continue
                code = best_code(a, b, p)
                bd = capacity_bounds(a, b, p, time_budget=time_budget)
                rows.append({
                    "alpha": a, "beta": b, "p": p, "code": code.name, "n": code.n,
                    "rate": round(code.rate, 6), "lower": round(bd.lower, 6),
                    "upper": round(bd.upper, 6), "exact": bd.exact,
                    "rate/upper": round(code.rate / bd.upper, 4),
                    "finite_n_bound": round(finite_n_bound(a, b, p, code.n), 6),
                })
    return rows
