"""``noisyhw sweep status DIR | ls [ROOT] | bpsk``: watch run folders; a reference Monte-Carlo.

``status`` and ``ls`` only read a run folder (SQLite opened read-only), so they are safe to use
while the run is going, on any machine that sees the folder.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import NoisyhwError, ParameterError, check_int
from ..sweep.runs import run_status
from .common import (
    AddressOpt,
    ExecutorOpt,
    FormatOpt,
    OutOpt,
    QuietOpt,
    SeedOpt,
    WorkersOpt,
    apply_quiet,
    finish,
    live_rows,
    parse_floats,
    print_rows,
    tracked,
)

app = typer.Typer(
    help="Run folders (progress of long runs) and a reference Monte-Carlo sweep.",
    no_args_is_help=True,
)


def _progress_text(s: dict[str, Any]) -> str:
    total = s["total_trials"]
    return f"{s['finished_trials']}/{total}" if total is not None else str(s["finished_trials"])


@app.command()
def status(
    folder: Annotated[str, typer.Argument(help="A run folder (the --out of a command).")],
    rows: Annotated[int, typer.Option("--rows", help="Show the last N finished trials.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Progress of one run folder: finished trials, identity (fingerprint), Monte-Carlo chunks."""
    check_int("--rows", rows, 0, 1_000_000)
    if not folder.strip():
        raise ParameterError("FOLDER", "must be a run folder path (got an empty one)")
    s = run_status(Path(folder))
    if as_json:
        typer.echo(json.dumps({k: v for k, v in s.items() if k != "rows"}, indent=2))
        return
    state = f"{s['state']} ({s['state_reason']})"
    typer.echo(f"folder:      {s['folder']}")
    typer.echo(f"command:     noisyhw {s['command']}   seed {s['seed']}")
    typer.echo(f"fingerprint: {json.dumps(s['config'], sort_keys=True)}")
    typer.echo(f"started:     {s['started']}   last trial: {s['last_update']}")
    typer.echo(f"state:       {state}")
    if s["epochs"]:
        typer.echo(f"training:    epoch {s['epochs'][0]}/{s['epochs'][1]}")
    typer.echo(f"trials:      {_progress_text(s)} finished")
    if "mc_chunks" in s:
        typer.echo(f"monte-carlo: {s['mc_chunks']} chunks, {s['mc_frames']} frames simulated")
        if s["mc_open_points"]:
            print_rows(s["mc_open_points"], title="points in progress (chunks logged so far)")
    if rows and s["rows"]:
        print_rows(s["rows"][-rows:], title="last finished trials")


@app.command("ls")
def ls(
    root_text: Annotated[
        str, typer.Argument(metavar="ROOT", help="Folder holding run folders.")
    ] = "runs",
    output_format: FormatOpt = "table",
) -> None:
    """Run folders under ROOT with their command and progress, newest first."""
    root = Path(root_text)
    if not root_text.strip() or not root.is_dir():
        raise ParameterError("ROOT", "must be a folder", root_text)
    found = []
    for db in root.glob("*/trials.sqlite"):
        try:
            s = run_status(db.parent)
        except (sqlite3.Error, NoisyhwError, json.JSONDecodeError, ValueError) as exc:
            # listed, not skipped: a damaged folder is what the user most needs to see
            reason = str(exc).split(" holds a damaged store ")[-1].split("; move it")[0]
            s = {"folder": str(db.parent), "command": "-", "finished_trials": "-"}
            s |= {"total_trials": None, "last_update": None, "started": None}
            s["state"] = f"damaged {reason}"
        found.append(s)
    found.sort(key=lambda s: s["last_update"] or s["started"] or "", reverse=True)
    print_rows(
        [
            {
                "folder": s["folder"],
                "command": s["command"],
                "trials": _progress_text(s),
                "state": s["state"],
                "epoch": f"{s['epochs'][0]}/{s['epochs'][1]}" if s.get("epochs") else "–",
                "last update": s["last_update"] or "-",
            }
            for s in found
        ],
        title=f"runs under {root}",
    )


# --------------------------------------------------------------------------- reference Monte-Carlo
@app.command()
@tracked
def bpsk(
    ebn0: Annotated[str, typer.Option("--ebn0", help="Eb/N0 points in dB: list or a:b:step.")] = (
        "0:6:1"
    ),
    k: Annotated[int, typer.Option("--k", help="Bits per frame (a frame errs on any bit).")] = 1,
    chunk_size: Annotated[int, typer.Option("--chunk-size", help="Frames per chunk.")] = 20_000,
    min_errors: Annotated[
        int, typer.Option("--min-errors", help="Stop a point at this many frame errors.")
    ] = 100,
    max_frames: Annotated[
        float, typer.Option("--max-frames", help="Frames per point at most.")
    ] = 2e6,
    executor: ExecutorOpt = "local",
    address: AddressOpt = None,
    workers: WorkersOpt = 1,
    seed: SeedOpt = 0,
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Uncoded BPSK over AWGN by seeded chunked Monte-Carlo, against the closed form.

    A reference for the executors: the numbers for a seed are the same with --workers 1, N or
    --executor ray; the report compares them with Q(sqrt(2 Eb/N0)).
    """
    from ..errors import check_float
    from ..experiments.scale import BPSK_COLUMNS, BpskConfig, run_bpsk
    from ..sweep.montecarlo import MAX_FRAMES

    apply_quiet(quiet)
    check_float("--max-frames", max_frames, 1, MAX_FRAMES)  # a count given as 2e6
    cfg = BpskConfig(
        ebn0=tuple(parse_floats("--ebn0", ebn0)),
        k=k,
        chunk_size=chunk_size,
        min_errors=min_errors,
        max_frames=int(max_frames),
        seed=seed,
        executor=executor,
        address=address,
        workers=workers,
    )
    with live_rows(k, frame_errors="errors", decoder="uncoded"):
        run, rows = run_bpsk(cfg, out=out)
    columns = [*BPSK_COLUMNS, "stopped"]
    finish(run, rows, columns, title="uncoded BPSK frame error rate")
