"""PCM studies: capacity bounds, the rate table and simulations of the constructions.

Trial functions live at module level so sweep workers can import them; the CLI
(``noisyhw pcm ...``) and the demo section call :func:`bound_run`, :func:`table_run`,
:func:`simulate_run`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..codes import pcm
from ..codes.pcm.capacity import DEFAULT_DEPTH, MAX_COUNT_BITS
from ..errors import ParameterError, check_choice
from ..io import atomic_write
from ..sweep import line_plot

__all__ = [
    "CODES",
    "bound_trial",
    "demo_section",
    "make_code",
    "plot_rates",
    "simulate_trial",
    "table_trial",
]

CODES = ("best", "syndrome", "round-robin", "staggered-wom", "residue", "time-shared")


# ----------------------------------------------------------------------------- trials
def bound_trial(params: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Bounds (and exact value in 1-D) for one (alpha, beta, p); finite-n bound when n > 0."""
    a, b, p = params["alpha"], params["beta"], params["p"]
    depth = params.get("depth", DEFAULT_DEPTH)
    bd = pcm.capacity_bounds(a, b, p, depth=depth, time_budget=params.get("time_budget"))
    out = {
        "lower": bd.lower,
        "upper": bd.upper,
        "exact": bd.exact,
        "lower_method": bd.lower_method,
        "upper_method": bd.upper_method,
        "bound_s": round(bd.elapsed_s, 3),
    }
    if params.get("n"):
        out["finite_n_bound"] = fin = pcm.finite_n_bound(a, b, p, params["n"])
        # an exact count only while it fits a float (else log2 M / n says it all)
        fits = fin * params["n"] <= MAX_COUNT_BITS
        out["max_messages"] = pcm.max_messages(a, b, p, params["n"]) if fits else None
    return out


def table_trial(params: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """One row of the rate table: best construction vs bounds."""
    return pcm.rate_row(
        params["alpha"], params["beta"], params["p"], time_budget=params.get("time_budget", 1.0)
    )


def make_code(alpha: int, beta: int, p: int, n: int, code: str = "best") -> pcm.PCMCode:
    """The chosen construction with as many blocks as fit in n cells (n >= one block)."""
    check_choice("--code", code, CODES)
    one = {c.name: c for c in pcm.constructions(alpha, beta, p)}
    if code == "best":
        base = pcm.best_code(alpha, beta, p)
    elif code not in one:
        raise ParameterError(
            "--code", f"for {(alpha, beta, p)} choose one of {', '.join(['best', *one])}", code
        )
    else:
        base = one[code]
    if n < base.n:
        raise ParameterError("--n", f"must be >= {base.n} (one block of {base!r})", n)
    copies = n // base.n
    built = [c for c in pcm.constructions(alpha, beta, p, copies=copies) if c.name == base.name]
    return built[0]


def simulate_trial(params: dict[str, Any], context: Any) -> dict[str, Any]:
    """Simulate one code; saves states.npy ((T+1, n) uint8, padded with frozen cells up to n)
    and messages.npy ((T, symbols) int64) in the run folder ``context``."""
    a, b, p, n = params["alpha"], params["beta"], params["p"], params["n"]
    code = make_code(a, b, p, n, params.get("code", "best"))
    res = pcm.simulate(
        code, writes=params["writes"], source=params.get("source", "random"), rng=params["seed"]
    )
    elapsed = res.write_s
    states = np.zeros((res.states.shape[0], n), np.uint8)
    states[:, : code.n] = res.states
    # the padded history is checked again as a whole
    violation = pcm.check(states, a, b, p)
    folder = Path(context)
    atomic_write(folder / "states.npy", lambda fh: np.save(fh, states))
    atomic_write(folder / "messages.npy", lambda fh: np.save(fh, res.messages))
    x = pcm.change_array(states)
    return {
        "construction": repr(code),
        "code": code.name,
        "cells_used": code.n,
        "rate": code.messages_log2 / n,
        "block_rate": code.rate,
        "writes": res.writes,
        "violations": int(violation is not None) + res.violations,
        "decode_errors": res.decode_errors,
        "max_window_cost": pcm.max_window_cost(states, a, b),
        "mean_changes_per_write": float(x.sum(axis=1).mean()) if x.size else 0.0,
        "writes_per_s": res.writes / elapsed if elapsed > 0 else float("inf"),
    }


# ----------------------------------------------------------------------------- plots
def plot_rates(rows: list[dict[str, Any]], path: str | Path, title: str) -> Path:
    """Construction rate with the lower and upper capacity bounds, one point per row."""
    pts = []
    for r in rows:
        for key, label in (
            ("rate", "construction"),
            ("lower", "lower bound"),
            ("upper", "upper bound"),
        ):
            case = (r["alpha"], r["beta"], r["p"])  # unrelated cases: markers, not a line
            pts.append({"case": case, "bits": float(r[key]), "series": label})
    return line_plot(
        pts,
        "case",
        "bits",
        path,
        hue="series",
        title=title,
        xlabel="case (alpha, beta, p)",
        ylabel="bits / cell / write",
    )


# ----------------------------------------------------------------------------- demo
def demo_section(ctx: Any) -> list[dict[str, Any]]:
    """Rate vs bounds for alpha, beta in 1..3, p in 1..2, and a short simulation."""
    cases = [(a, b, p) for a in (1, 2, 3) for b in (1, 2, 3) for p in (1, 2) if p < a * b]
    budget = 0.2 if ctx.fast else 0.5
    rows = [
        {
            "alpha": a,
            "beta": b,
            "p": p,
            **table_trial({"alpha": a, "beta": b, "p": p, "time_budget": budget}),
        }
        for a, b, p in cases
    ]
    plot = plot_rates(rows, ctx.path("pcm_rates.png"), "PCM codes: rate vs capacity bounds")
    sims = []
    for a, b, p in ((2, 1, 1), (4, 1, 1), (1, 3, 1), (2, 2, 2)):  # (4,1,1): staggered WOM
        code = pcm.best_code(a, b, p, copies=4)
        for source in ("random", "greedy"):
            res = pcm.simulate(code, writes=100 if ctx.fast else 300, source=source, rng=ctx.seed)
            sims.append(
                {
                    "alpha": a,
                    "beta": b,
                    "p": p,
                    "code": code.name,
                    "n": code.n,
                    "rate": round(code.rate, 4),
                    "messages": source,
                    "writes": res.writes,
                    "violations": res.violations,
                    "decode_errors": res.decode_errors,
                }
            )
    ctx.section.title = "Phase-change memory: time-space constrained codes"
    ctx.section.text(
        "Zero-error rewrite codes under the (alpha, beta, p) constraint (at most p cell changes "
        "in any alpha consecutive writes and beta contiguous cells): exact rate of the best "
        "construction against rigorous strip-transfer-matrix bounds on the capacity."
    )
    ctx.section.table(
        rows, ["alpha", "beta", "p", "code", "n", "rate", "lower", "upper", "rate/upper"]
    )
    ctx.section.image(plot, "construction rate and the capacity bounds, per (alpha, beta, p)")
    ctx.section.table(sims, title="simulation: every write checked and decoded")
    return [
        {
            "alpha": r["alpha"],
            "beta": r["beta"],
            "p": r["p"],
            "rate": round(r["rate"], 4),
            "upper": round(r["upper"], 4),
        }
        for r in rows
    ]
