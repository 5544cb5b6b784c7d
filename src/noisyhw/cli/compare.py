"""``noisyhw compare RUN_DIR RUN_DIR...``: overlay the runs' common curves and diff their configs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import OutOpt, finish, tracked


@tracked
def compare(
    run_dirs: Annotated[
        list[Path], typer.Argument(help="Two or more finished run folders of one command.")
    ],
    out: OutOpt = None,
) -> None:
    """Overlay the curves the runs share (FER vs Eb/N0, accuracy vs SNR or BER, ...) and list
    the settings that differ; runs of different commands are refused."""
    from ..experiments.compare import compare_runs
    from ..sweep import Run
    from ..sweep.runs import check_comparable, load_run

    runs = [load_run(p) for p in run_dirs]
    check_comparable(runs)  # before the output folder exists
    run = Run("compare", {"runs": [str(r.path.resolve()) for r in runs]}, out=out)
    diff = compare_runs(runs, run)
    finish(run, diff, title="settings that differ")
