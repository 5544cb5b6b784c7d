"""``noisyhw export RUN_DIR --format csv|parquet``: a run's rows as a table file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def export(
    run_dir: Annotated[Path, typer.Argument(help="A finished run folder.")],
    fmt: Annotated[str, typer.Option("--format", help="csv, or parquet (needs pyarrow).")] = "csv",
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default RUN_DIR/rows.<format>).")
    ] = None,
) -> None:
    """Write RUN_DIR's rows (results.json) as CSV or Parquet, one column per key."""
    from ..errors import check_choice
    from ..sweep.runs import export_rows, load_run

    check_choice("--format", fmt, ("csv", "parquet"))
    run = load_run(run_dir)
    path = export_rows(run, fmt, out or run_dir / f"rows.{fmt}")
    typer.echo(f"rows: {path} ({len(run.rows)} rows)")
