"""``noisyhw demo``: the main job, one HTML report with a section per area."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import check_choice
from .common import (
    DeviceOpt,
    OutOpt,
    QuietOpt,
    SeedOpt,
    apply_quiet,
    echo_paths,
    parse_strs,
    resolve_device,
)


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
    quiet: QuietOpt = False,
) -> None:
    """Run every area's demo section; writes runs/demo-<time>/report.html (resumable)."""
    from ..data import DATASETS
    from ..experiments.demo import DEMO_SECTIONS, run_demo
    from ..sweep import print_table

    apply_quiet(quiet)
    # an empty --only is a mistake, not "everything" (that is leaving --only out)
    names = parse_strs("--only", only, tuple(DEMO_SECTIONS)) if only is not None else None
    images = [n for n, info in DATASETS.items() if info.kind == "images" and n != "imagefolder"]
    check_choice("--dataset", dataset, ("auto", *images))
    run, rows = run_demo(
        only=names, out=out, dataset=dataset, device=resolve_device(device), seed=seed, fast=fast
    )
    flat = [{"section": r["section"], **x} for r in rows for x in r["rows"]]
    path = run.finish(
        flat, sections=[{k: r[k] for k in ("section", "status", "elapsed_s")} for r in rows]
    )
    print_table(
        [{k: r[k] for k in ("section", "status", "elapsed_s")} for r in rows], title="demo sections"
    )
    for r in rows:
        if r["rows"]:
            # one readable table per section: its first seven columns
            columns = list(dict.fromkeys(k for x in r["rows"] for k in x))[:7]
            print_table(r["rows"], columns, title=r["section"])
    echo_paths(run, path)
    if any(r["status"] != "ok" for r in rows):
        raise typer.Exit(1)
