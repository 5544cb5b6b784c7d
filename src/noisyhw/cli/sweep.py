"""``noisyhw sweep status DIR | ls [ROOT] | bpsk``: watch run folders; a reference Monte-Carlo.

``status`` and ``ls`` only read a run folder (SQLite opened read-only), so they are safe to use
while the run is going, on any machine that sees the folder.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import (
    DataError,
    NoisyhwError,
    ParameterError,
    check_float,
    check_int,
    check_memory,
)
from ..sweep import trial_key
from ..sweep.montecarlo import ChunkLog
from ..sweep.runs import liveness, training_progress
from ..sweep.store import ResultStore, check_sqlite, connect_readonly
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
    make_executor_from_cli,
    parse_floats,
    print_rows,
    tracked,
)

app = typer.Typer(
    help="Run folders (progress of long runs) and a reference Monte-Carlo sweep.",
    no_args_is_help=True,
)


# --------------------------------------------------------------------------- reading a run folder
def run_status(folder: Path) -> dict[str, Any]:
    """Progress of a run folder: command, identity (fingerprint), finished/total trials, chunks."""
    db = folder / "trials.sqlite"
    if not db.is_file():
        raise DataError(f"{folder}: not a noisyhw run folder (no trials.sqlite)")
    check_sqlite(db, ResultStore.TABLES, "FOLDER")  # reads only, like everything here
    chunks_db = folder / "mc_chunks.sqlite"
    if chunks_db.is_file():
        check_sqlite(chunks_db, ChunkLog.TABLES, "FOLDER")
    con = connect_readonly(db)
    try:
        meta = {
            k: json.loads(v) if k != "fingerprint" else v
            for k, v in con.execute("SELECT key, value FROM meta")
        }
        finished, last = con.execute("SELECT COUNT(*), MAX(finished) FROM trials").fetchone()
        stored = con.execute("SELECT key, params, result FROM trials ORDER BY idx").fetchall()
    finally:
        con.close()
    rows = [{**json.loads(p), **json.loads(r)} for _, p, r in stored]
    done = {k for k, _, _ in stored}
    fingerprint = json.loads(meta.get("fingerprint", "{}"))
    out: dict[str, Any] = {
        "folder": str(folder),
        "command": fingerprint.get("command"),
        "seed": fingerprint.get("seed"),
        "config": fingerprint.get("config", {}),
        "started": meta.get("started"),
        "finished_trials": finished,
        "total_trials": meta.get("total_trials"),
        "last_update": _stamp(last),
        "complete": (folder / "results.json").is_file(),
        "rows": rows,
    }
    out["state"], out["state_reason"] = liveness(folder, complete=out["complete"], last_write=last)
    epochs = training_progress(folder)
    out["epochs"] = None if epochs is None else list(epochs)
    if chunks_db.is_file():
        log = ChunkLog.open_readonly(chunks_db)
        try:
            progress = log.progress()
        except sqlite3.OperationalError:
            progress = []
        finally:
            log.close()
        out["mc_chunks"] = sum(p["chunks"] for p in progress)
        out["mc_frames"] = sum(p["frames"] for p in progress)
        out["mc_open_points"] = [
            {**p["params"], "chunks": p["chunks"], "frames": p["frames"], **p["totals"]}
            for p in progress
            if p["chunks"] and trial_key(p["params"]) not in done
        ]
    return out


def _stamp(t: float | None) -> str | None:
    return None if t is None else dt.datetime.fromtimestamp(t).isoformat(timespec="seconds")


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
    from ..codes.polar.simulate import check_points
    from ..experiments.scale import bpsk_reference_sweep
    from ..sweep import Run
    from ..sweep.montecarlo import MAX_FRAMES

    apply_quiet(quiet)
    points = check_points("awgn", parse_floats("--ebn0", ebn0), "--ebn0")
    check_int("--k", k, 1, 4096)
    check_int("--chunk-size", chunk_size, 1, MAX_FRAMES)
    check_int("--min-errors", min_errors, 1, MAX_FRAMES)
    check_float("--max-frames", max_frames, 1, MAX_FRAMES)
    # a chunk holds its bits (int8), their LLRs and noise (float64) and a mask: ~26 bytes a bit
    check_memory("--chunk-size", 26.0 * min(chunk_size, max_frames) * k, chunk_size, "a chunk")
    ex = make_executor_from_cli(executor, address, workers)
    config = {
        "ebn0": points,
        "k": k,
        "chunk_size": chunk_size,
        "min_errors": min_errors,
        "max_frames": int(max_frames),
        "executor": executor,
        "address": address,
        "workers": workers,
    }
    run = Run("sweep bpsk", config, out=out, seed=seed, title="noisyhw sweep bpsk")
    with live_rows(k, frame_errors="errors", decoder="uncoded"):
        rows = bpsk_reference_sweep(
            run,
            points,
            k=k,
            chunk_size=chunk_size,
            min_errors=min_errors,
            max_frames=int(max_frames),
            executor=ex,
        )
    finish(
        run,
        rows,
        ["ebn0_db", "frames", "errors", "error_rate", "ci_low", "ci_high", "theory", "stopped"],
        title="uncoded BPSK frame error rate",
    )
