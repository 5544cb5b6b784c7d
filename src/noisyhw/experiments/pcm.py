"""PCM studies: capacity bounds, the rate table and simulations of the constructions.

Trial functions live at module level so sweep workers can import them. Each ``noisyhw pcm``
command is one frozen config (:class:`BoundConfig`, :class:`TableConfig`,
:class:`SimulateConfig`, checked when made) and its ``run_*`` function; a run's configuration
is ``asdict`` of it. The bounds are depth-based (the same on every machine); a time budget is
opt-in.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..codes import pcm
from ..codes.pcm.capacity import DEFAULT_DEPTH, MAX_COUNT_BITS, check_window_1d
from ..errors import ParameterError, check_choice, check_float, check_int
from ..io import atomic_write
from ..sweep import Run, grid, line_plot

__all__ = [
    "CODES",
    "DEPTH_MAX",
    "BoundConfig",
    "SimulateConfig",
    "TableConfig",
    "bound_trial",
    "demo_section",
    "make_code",
    "plot_rates",
    "run_bound",
    "run_simulate",
    "run_table",
    "simulate_trial",
    "table_trial",
]

CODES = ("best", "syndrome", "round-robin", "staggered-wom", "residue", "time-shared")
SOURCES = pcm.SOURCES

#: the deepest bound computation (log2 of states x slices): each step doubles the work; depth
#: 24 takes about 0.1-3 s per constraint on one core, so 30 is about a minute or more per
#: constraint, and 40 (what the library allows) would be hours
DEPTH_MAX = 30
#: the largest window side of `pcm bound` (the bounds' transfer matrices grow with it)
WINDOW_MAX = 1024
#: the longest time budget (seconds): a bound on the work one command asks for
TIME_BUDGET_MAX = 3600.0
#: simulate: the most cells (and window cells), window rewrites, and cells x (writes + 1) kept
#: in the (T+1, n) uint8 states array
SIM_N_MAX = 1_000_000
SIM_ALPHA_MAX = 256
SIM_STATES_MAX = 2**30
#: the largest `pcm table --max` (alpha, beta and p range over 1..max)
TABLE_MAX = 6
#: the depth of the bounds `pcm simulate` reports beside the rate (context for the plot: about
#: a second per constraint, the same on every machine)
SIMULATE_DEPTH = 18


def _check_bounds_work(depth: int, time_budget: float | None) -> None:
    check_int("depth", depth, 1, DEPTH_MAX)
    if time_budget is not None:
        check_float("time_budget", time_budget, 0.0, TIME_BUDGET_MAX)


def _check_triple(alpha: int, beta: int, p: int) -> pcm.Constraint:
    c = pcm.constraint(alpha, beta, p)
    if min(c.alpha, c.beta) == 1 and not c.unconstrained:
        check_window_1d(c)  # the 1-D bounds' transfer matrix
    return c


@dataclass(frozen=True)
class BoundConfig:
    """``pcm bound``: capacity bounds of one (alpha, beta, p) at ``depth`` (deterministic;
    ``time_budget`` seconds, opt-in, also stops the widening), the finite-n bound for ``n``
    cells when n > 0."""

    alpha: int
    beta: int
    p: int
    n: int = 0
    depth: int = DEFAULT_DEPTH
    time_budget: float | None = None

    def __post_init__(self) -> None:
        check_int("alpha", self.alpha, 1, WINDOW_MAX)
        check_int("beta", self.beta, 1, WINDOW_MAX)
        check_int("n", self.n, 0, SIM_N_MAX)
        _check_triple(self.alpha, self.beta, self.p)
        _check_bounds_work(self.depth, self.time_budget)


@dataclass(frozen=True)
class TableConfig:
    """``pcm table``: the best construction against the bounds for every alpha, beta, p in
    1..``max_param`` (bounds at ``depth``; ``time_budget`` opt-in). ``workers``: runtime."""

    max_param: int = 4
    depth: int = DEFAULT_DEPTH
    time_budget: float | None = None
    workers: int = 1

    def __post_init__(self) -> None:
        check_int("max_param", self.max_param, 1, TABLE_MAX)
        _check_bounds_work(self.depth, self.time_budget)
        check_int("workers", self.workers, 1, 100_000)


@dataclass(frozen=True)
class SimulateConfig:
    """``pcm simulate``: ``writes`` rewrites of ``n`` cells with construction ``code`` and
    messages from ``source`` (random, flip or greedy), every write checked and decoded."""

    alpha: int
    beta: int
    p: int
    n: int = 64
    writes: int = 1000
    code: str = "best"
    source: str = "random"
    seed: int = 0

    def __post_init__(self) -> None:
        # sizes first: a huge n or beta ended in a numpy allocation traceback, a huge alpha in
        # a RecursionError (the staggered code's colouring)
        check_int("alpha", self.alpha, 1, SIM_ALPHA_MAX)
        check_int("beta", self.beta, 1, SIM_N_MAX)
        check_int("n", self.n, 1, SIM_N_MAX)
        check_int("writes", self.writes, 1, 10_000_000)
        check_int("seed", self.seed, 0)
        if self.n * (self.writes + 1) > SIM_STATES_MAX:
            raise ParameterError(
                "n", f"n x (writes + 1) must be <= {SIM_STATES_MAX:,} (the states array)", self.n
            )
        _check_triple(self.alpha, self.beta, self.p)
        check_choice("source", self.source, SOURCES)
        make_code(self.alpha, self.beta, self.p, self.n, self.code)


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
    """One row of the rate table: best construction vs bounds (at ``depth``; a
    ``time_budget`` is opt-in)."""
    return pcm.rate_row(
        params["alpha"],
        params["beta"],
        params["p"],
        depth=params.get("depth", DEFAULT_DEPTH),
        time_budget=params.get("time_budget"),
    )


def make_code(alpha: int, beta: int, p: int, n: int, code: str = "best") -> pcm.PCMCode:
    """The chosen construction with as many blocks as fit in n cells (n >= one block)."""
    check_choice("code", code, CODES)
    one = {c.name: c for c in pcm.constructions(alpha, beta, p)}
    if code == "best":
        base = pcm.best_code(alpha, beta, p)
    elif code not in one:
        raise ParameterError(
            "code", f"for {(alpha, beta, p)} choose one of {', '.join(['best', *one])}", code
        )
    else:
        base = one[code]
    if n < base.n:
        raise ParameterError("n", f"must be >= {base.n} (one block of {base!r})", n)
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


# ----------------------------------------------------------------------------- studies
BOUND_COLUMNS = ["alpha", "beta", "p", "lower", "upper", "exact"]
TABLE_COLUMNS = ["alpha", "beta", "p", "code", "n", "rate", "lower", "upper", "rate/upper"]
TABLE_COLUMNS += ["finite_n_bound"]
SIMULATE_COLUMNS = ["code", "rate", "lower", "upper", "writes", "violations", "decode_errors"]
SIMULATE_COLUMNS += ["max_window_cost", "writes_per_s"]


def run_bound(cfg: BoundConfig, *, out: str | Path | None = None) -> tuple[Run, list, list]:
    """Bounds for ``cfg`` in a run folder with a report section; returns the run (to finish),
    the rows and the columns to print."""
    params = asdict(cfg)
    run = Run("pcm bound", params, out=out, seed=0)
    rows = run.sweep(bound_trial, [params], description="pcm bound")
    cols = BOUND_COLUMNS + (["n", "finite_n_bound", "max_messages"] if cfg.n else [])
    c = pcm.constraint(cfg.alpha, cfg.beta, cfg.p)
    run.section(f"Capacity bounds for {c}").table(rows, [*cols, "lower_method", "upper_method"])
    return run, rows, cols


def run_table(cfg: TableConfig, *, out: str | Path | None = None) -> tuple[Run, list]:
    """The rate table for ``cfg`` (one trial per triple), a plot and a report section."""
    m = cfg.max_param
    trials = [
        dict(t, depth=cfg.depth, time_budget=cfg.time_budget)
        for t in grid(alpha=range(1, m + 1), beta=range(1, m + 1), p=range(1, m + 1))
    ]
    run = Run("pcm table", asdict(cfg), out=out)
    rows = run.sweep(table_trial, trials, workers=cfg.workers, description="pcm table")
    constrained = [r for r in rows if r["code"] != "unconstrained"]
    sec = run.section("Rate table")
    if constrained:
        sec.image(plot_rates(constrained, run.plot_path("rates.png"), "rate vs capacity bounds"))
    sec.table(rows, TABLE_COLUMNS)
    return run, rows


def run_simulate(cfg: SimulateConfig, *, out: str | Path | None = None) -> tuple[Run, list]:
    """Simulate ``cfg`` (states.npy, messages.npy in the run folder), with the capacity bounds
    (at :data:`SIMULATE_DEPTH`) beside the rate, a plot and a report section."""
    params = asdict(cfg)
    run = Run("pcm simulate", params, out=out, seed=cfg.seed)
    rows = run.sweep(simulate_trial, [params], context=str(run.dir), description="pcm simulate")
    c = pcm.constraint(cfg.alpha, cfg.beta, cfg.p)
    bd = pcm.capacity_bounds(c.alpha, c.beta, c.p, depth=SIMULATE_DEPTH)
    for r in rows:
        r["lower"], r["upper"] = bd.lower, bd.upper
    sec = run.section(f"Simulation of {c}")
    sec.image(plot_rates(rows, run.plot_path("rate_vs_bounds.png"), f"{c}: rate vs bounds"))
    sec.table(rows, SIMULATE_COLUMNS)
    sec.text(
        "states.npy: (T+1, n) uint8 memory states (row 0 initial); messages.npy: (T, symbols)."
    )
    return run, rows


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
