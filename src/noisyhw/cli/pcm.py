"""``noisyhw pcm bound | table | simulate``: time-space constrained codes for PCM."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import ParameterError, check_float, check_int
from .common import (
    FormatOpt,
    OutOpt,
    QuietOpt,
    SeedOpt,
    WorkersOpt,
    apply_quiet,
    finish,
    say,
    tracked,
)

app = typer.Typer(
    help="Phase-change memory (alpha, beta, p) codes: capacity bounds, rate table, simulation.",
    no_args_is_help=True,
)

AlphaOpt = Annotated[int, typer.Option("--alpha", help="Window length in rewrites (>= 1).")]
BetaOpt = Annotated[int, typer.Option("--beta", help="Window length in cells (>= 1).")]
POpt = Annotated[int, typer.Option("--p", help="Most cell changes per window (< alpha*beta).")]
#: simulate: the most cells (and window cells), window rewrites, and cells x (writes + 1) kept in
#: the (T+1, n) uint8 states array
SIM_N_MAX = 1_000_000
SIM_ALPHA_MAX = 256
SIM_STATES_MAX = 2**30
#: the largest window side of `pcm bound` (the bounds' transfer matrices grow with it)
WINDOW_MAX = 1024
#: the longest --time-budget (seconds): a bound on the work one command asks for
TIME_BUDGET_MAX = 3600.0
BudgetOpt = Annotated[
    float, typer.Option("--time-budget", help="Seconds for widening the strip bounds.")
]
DepthOpt = Annotated[
    int,
    typer.Option(
        "--depth",
        help="log2 of the largest strip computation (states x slices) for the bounds: "
        "deeper is tighter and slower (24: under ~2 s on one core).",
    ),
]


@app.command()
@tracked
def bound(
    alpha: AlphaOpt,
    beta: BetaOpt,
    p: POpt,
    n: Annotated[int, typer.Option("--n", help="Also the finite-n bound for n cells (0: no).")] = 0,
    depth: DepthOpt = 24,
    time_budget: Annotated[
        float | None,
        typer.Option(
            "--time-budget",
            help="Also stop widening after this many seconds (opt-in: the bounds then depend "
            "on the machine's speed and load).",
        ),
    ] = None,
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Lower/upper bounds on the capacity C(alpha, beta, p) (exact when alpha or beta is 1).

    Deterministic: the same triple and --depth give the same bounds on every machine.
    """
    from ..codes.pcm import constraint
    from ..codes.pcm.capacity import check_window_1d
    from ..experiments.pcm import bound_trial
    from ..sweep import Run

    apply_quiet(quiet)
    check_int("--alpha", alpha, 1, WINDOW_MAX)
    check_int("--beta", beta, 1, WINDOW_MAX)
    check_int("--n", n, 0, SIM_N_MAX)
    c = constraint(alpha, beta, p)
    if min(c.alpha, c.beta) == 1 and not c.unconstrained:
        check_window_1d(c)
    check_int("--depth", depth, 1, 40)
    if time_budget is not None:
        check_float("--time-budget", time_budget, 0.0, TIME_BUDGET_MAX)
    params = {"alpha": c.alpha, "beta": c.beta, "p": c.p, "n": n, "depth": depth}
    if time_budget is not None:
        params["time_budget"] = time_budget
    run = Run("pcm bound", params, out=out, seed=0)
    rows = run.sweep(bound_trial, [params], description="pcm bound")
    cols = ["alpha", "beta", "p", "lower", "upper", "exact"]
    if n:
        cols += ["n", "finite_n_bound", "max_messages"]
    run.section(f"Capacity bounds for {c}").table(rows, [*cols, "lower_method", "upper_method"])
    finish(run, rows, cols, title=f"C{c} bits/cell/write")
    say(f"lower: {rows[0]['lower_method']}; upper: {rows[0]['upper_method']}")


@app.command()
@tracked
def table(
    max_param: Annotated[
        int, typer.Option("--max", help="alpha, beta and p range over 1..MAX.")
    ] = 4,
    time_budget: BudgetOpt = 1.0,
    workers: WorkersOpt = 1,
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Rate of the best construction vs lower/upper bounds for every (alpha, beta, p)."""
    from ..experiments.pcm import plot_rates, table_trial
    from ..sweep import Run, grid

    apply_quiet(quiet)
    m = check_int("--max", max_param, 1, 6)
    check_float("--time-budget", time_budget, 0.0, TIME_BUDGET_MAX)
    trials = [
        dict(t, time_budget=time_budget)
        for t in grid(alpha=range(1, m + 1), beta=range(1, m + 1), p=range(1, m + 1))
    ]
    run = Run("pcm table", {"max": m, "time_budget": time_budget, "workers": workers}, out=out)
    rows = run.sweep(table_trial, trials, workers=workers, description="pcm table")
    cols = [
        "alpha",
        "beta",
        "p",
        "code",
        "n",
        "rate",
        "lower",
        "upper",
        "rate/upper",
        "finite_n_bound",
    ]
    constrained = [r for r in rows if r["code"] != "unconstrained"]
    sec = run.section("Rate table")
    if constrained:
        sec.image(plot_rates(constrained, run.plot_path("rates.png"), "rate vs capacity bounds"))
    sec.table(rows, cols)
    finish(run, rows, cols, title="PCM codes: rate vs bounds (bits/cell/write)")


@app.command()
@tracked
def simulate(
    alpha: AlphaOpt,
    beta: BetaOpt,
    p: POpt,
    n: Annotated[
        int, typer.Option("--n", help=f"Cells, 1..{SIM_N_MAX:,} (unused ones stay frozen).")
    ] = 64,
    writes: Annotated[
        int, typer.Option("--writes", help="Number of rewrites T, 1..10,000,000.")
    ] = 1000,
    code: Annotated[
        str,
        typer.Option(
            "--code", help="best, syndrome, round-robin, staggered-wom, residue, time-shared."
        ),
    ] = "best",
    messages: Annotated[
        str, typer.Option("--messages", help="random, flip (all bits change) or greedy adversary.")
    ] = "random",
    seed: SeedOpt = 0,
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Write random (or adversarial) messages, check the constraint and decoding after every
    write; saves states.npy ((T+1, n) uint8) and messages.npy in --out."""
    from ..codes.pcm import SOURCES, capacity_bounds, constraint
    from ..codes.pcm.capacity import check_window_1d
    from ..errors import check_choice
    from ..experiments.pcm import make_code, plot_rates, simulate_trial
    from ..sweep import Run

    apply_quiet(quiet)
    # sizes first: a huge --n or --beta ended in a numpy allocation traceback, a huge --alpha in
    # a RecursionError (the staggered code's colouring)
    check_int("--alpha", alpha, 1, SIM_ALPHA_MAX)
    check_int("--beta", beta, 1, SIM_N_MAX)
    check_int("--n", n, 1, SIM_N_MAX)
    check_int("--writes", writes, 1, 10_000_000)
    if n * (writes + 1) > SIM_STATES_MAX:
        raise ParameterError(
            "--n", f"--n x (--writes + 1) must be <= {SIM_STATES_MAX:,} (the states array)", n
        )
    c = constraint(alpha, beta, p)
    if min(c.alpha, c.beta) == 1 and not c.unconstrained:
        check_window_1d(c)  # the bounds of the plot need the 1-D transfer matrix
    check_choice("--messages", messages, SOURCES)
    make_code(c.alpha, c.beta, c.p, n, code)  # validate before creating the run folder
    params = {
        "alpha": c.alpha,
        "beta": c.beta,
        "p": c.p,
        "n": n,
        "writes": writes,
        "code": code,
        "source": messages,
        "seed": seed,
    }
    run = Run("pcm simulate", params, out=out, seed=seed)
    rows = run.sweep(simulate_trial, [params], context=str(run.dir), description="pcm simulate")
    bd = capacity_bounds(c.alpha, c.beta, c.p, time_budget=1.0)
    for r in rows:
        r["lower"], r["upper"] = bd.lower, bd.upper
    cols = [
        "code",
        "rate",
        "lower",
        "upper",
        "writes",
        "violations",
        "decode_errors",
        "max_window_cost",
        "writes_per_s",
    ]
    sec = run.section(f"Simulation of {c}")
    sec.image(plot_rates(rows, run.plot_path("rate_vs_bounds.png"), f"{c}: rate vs bounds"))
    sec.table(rows, cols)
    sec.text(
        "states.npy: (T+1, n) uint8 memory states (row 0 initial); messages.npy: (T, symbols)."
    )
    finish(run, rows, cols, title=f"pcm simulate {c}")
    say(f"construction: {rows[0]['construction']}")
