"""``noisyhw demo``: the main job, one HTML report with a section per area."""

from __future__ import annotations

import textwrap
from typing import Annotated

import typer

from ..errors import check_choice
from ..sweep.labels import cell
from .common import (
    DeviceOpt,
    FormatOpt,
    OutOpt,
    QuietOpt,
    SeedOpt,
    apply_quiet,
    echo_paths,
    parse_strs,
    print_rows,
    resolve_device,
    say,
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
    from ..data import DATASETS
    from ..experiments.demo import DEMO_SECTIONS, run_demo, summary_rows

    apply_quiet(quiet)
    # an empty --only is a mistake, not "everything" (that is leaving --only out)
    names = parse_strs("--only", only, tuple(DEMO_SECTIONS)) if only is not None else None
    images = [n for n, info in DATASETS.items() if info.kind == "images" and n != "imagefolder"]
    check_choice("--dataset", dataset, ("auto", *images))
    run, rows = run_demo(
        only=names, out=out, dataset=dataset, device=resolve_device(device), seed=seed, fast=fast
    )
    flat = [{"section": r["section"], **x} for r in rows for x in r["rows"]]
    summary = summary_rows(rows)
    path = run.finish(flat, sections=summary)
    for r in rows:
        if r["rows"] and output_format == "table":
            # one readable table per section: the first seven columns of its first row
            columns = list(r["rows"][0])[:7]
            print_rows(r["rows"], columns, title=r["section"])
            typer.echo()
    print_rows(
        [{k: v for k, v in s.items() if k != "note"} for s in summary], title="demo sections"
    )
    for s in summary:
        if s["note"]:
            note = f"note ({s['section']}): {s['note']}"
            say(textwrap.fill(note, 80, subsequent_indent="  ", break_on_hyphens=False))
    failed = [s for s in summary if s["status"] != "ok"]
    total = sum(s["cpu_s"] or 0.0 for s in summary)
    say(f"{len(summary) - len(failed)}/{len(summary)} sections ok; {cell(total)} CPU s")
    echo_paths(run, path)
    if failed:
        say(f"FAILED: {', '.join(s['section'] for s in failed)} (see the report)")
        raise typer.Exit(1)
