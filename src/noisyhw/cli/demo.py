"""``noisyhw demo``: the main job, one HTML report with a section per area."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import (
    DeviceOpt,
    FormatOpt,
    OutOpt,
    QuietOpt,
    SeedOpt,
    apply_quiet,
    resolve_device,
    say,
    show,
    split_list,
    tracked,
)


@tracked
def demo(
    only: Annotated[
        str | None, typer.Option("--only", help="Comma-separated section names.")
    ] = None,
    dataset: Annotated[
        str, typer.Option("--dataset", help="auto: Fashion-MNIST if installed, else digits.")
    ] = "auto",
    fast: Annotated[
        bool, typer.Option("--fast", help="Smaller sizes everywhere (smoke test).")
    ] = False,
    seed: SeedOpt = 0,
    device: DeviceOpt = "cpu",
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Run every area's demo section; writes runs/demo-<time>/report.html (resumable).

    Exits 1 when a section failed; failed sections come first in the summary. Sections whose
    data is not installed fall back to bundled data and say so (see scripts/install-data).
    """
    from ..experiments import demo as D

    apply_quiet(quiet)
    names = tuple(split_list(only)) if only is not None else None
    cfg = D.DemoStudy(
        only=names, dataset=dataset, fast=fast, seed=seed, device=resolve_device(device), out=out
    )
    outcome = D.run(cfg)
    show(outcome)
    failed = [s["section"] for s in outcome.rows if s["status"] != "ok"]
    if failed:
        say(f"FAILED: {', '.join(failed)} (see the report)")
        raise typer.Exit(1)
