"""``noisyhw pcm bound | table | simulate``: time-space constrained codes for PCM."""

from __future__ import annotations

from typing import Annotated

import typer

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
DepthOpt = Annotated[
    int,
    typer.Option(
        "--depth",
        help="log2 of the largest strip computation (states x slices) for the bounds, 1..30: "
        "deeper is tighter, and each step doubles the work (24: about 0.1-3 s per constraint "
        "on one core; 30: a minute or more).",
    ),
]
BudgetOpt = Annotated[
    float | None,
    typer.Option(
        "--time-budget",
        help="Also stop widening after this many seconds (opt-in: the bounds then depend "
        "on the machine's speed and load).",
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
    time_budget: BudgetOpt = None,
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Lower/upper bounds on the capacity C(alpha, beta, p) (exact when alpha or beta is 1).

    Deterministic: the same triple and --depth give the same bounds on every machine.
    """
    from ..experiments import pcm

    apply_quiet(quiet)
    cfg = pcm.BoundConfig(alpha, beta, p, n=n, depth=depth, time_budget=time_budget)
    run, rows, cols = pcm.run_bound(cfg, out=out)
    finish(run, rows, cols, title=f"C({alpha},{beta},{p}) bits/cell/write")
    say(f"lower: {rows[0]['lower_method']}; upper: {rows[0]['upper_method']}")


@app.command()
@tracked
def table(
    max_param: Annotated[
        int, typer.Option("--max", help="alpha, beta and p range over 1..MAX (MAX <= 6).")
    ] = 4,
    depth: DepthOpt = 24,
    time_budget: BudgetOpt = None,
    workers: WorkersOpt = 1,
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Rate of the best construction vs lower/upper bounds for every (alpha, beta, p).

    Deterministic: the same --max and --depth give the same table on every machine.
    """
    from ..experiments import pcm

    apply_quiet(quiet)
    cfg = pcm.TableConfig(max_param, depth=depth, time_budget=time_budget, workers=workers)
    run, rows = pcm.run_table(cfg, out=out)
    finish(run, rows, pcm.TABLE_COLUMNS, title="PCM codes: rate vs bounds (bits/cell/write)")


@app.command()
@tracked
def simulate(
    alpha: AlphaOpt,
    beta: BetaOpt,
    p: POpt,
    n: Annotated[
        int, typer.Option("--n", help="Cells, 1..1,000,000 (unused ones stay frozen).")
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
    from ..errors import ParameterError, renamed
    from ..experiments import pcm

    apply_quiet(quiet)
    try:
        cfg = pcm.SimulateConfig(alpha, beta, p, n, writes, code, messages, seed)
    except ParameterError as exc:  # the option the value came from
        raise renamed(exc, {"source": "--messages"}) from None
    run, rows = pcm.run_simulate(cfg, out=out)
    finish(run, rows, pcm.SIMULATE_COLUMNS, title=f"pcm simulate ({alpha},{beta},{p})")
    say(f"construction: {rows[0]['construction']}")
