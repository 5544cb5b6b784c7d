"""Finished run folders side by side: load, compare (common curves + config diff), export rows.

>>> a, b = load_run("runs/polar-a"), load_run("runs/polar-b")       # doctest: +SKIP
>>> curves = common_curves([a, b])                                  # doctest: +SKIP
>>> export_rows(a, "csv", "rows.csv")                               # doctest: +SKIP
"""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError, ParameterError
from ..labels import flatten, is_number
from .grid import trial_key
from .montecarlo import ChunkLog
from .store import ResultStore, check_sqlite, connect_readonly

__all__ = [
    "CURVE_X",
    "CURVE_Y",
    "Curve",
    "LoadedRun",
    "check_comparable",
    "common_curves",
    "config_diff",
    "export_rows",
    "liveness",
    "load_run",
    "run_status",
    "training_progress",
]

#: x axes of the field's curves, in order of preference: (key, log axis)
CURVE_X: tuple[tuple[str, bool], ...] = (
    ("ebn0_db", False),
    ("snr_db", False),
    ("test_snr_db", False),
    ("ber", True),
    ("epoch", False),
    ("sparsity", False),
    ("bits", False),
    ("bits_per_param", False),
)
#: y values worth overlaying: (key, log axis)
CURVE_Y: tuple[tuple[str, bool], ...] = (
    ("fer", True),
    ("ber_out", True),
    ("wer", True),
    ("error_rate", True),
    ("accuracy", False),
    ("mean", False),
    ("val_acc", False),
    ("train_loss", False),
    ("val_loss", False),
    ("perplexity", False),
)


@dataclass(frozen=True)
class LoadedRun:
    """A finished run folder: its ``results.json`` and a short name (the folder's name)."""

    path: Path
    name: str
    results: dict[str, Any]

    @property
    def command(self) -> str:
        return str(self.results.get("command", ""))

    @property
    def rows(self) -> list[dict[str, Any]]:
        rows = [r for r in self.results.get("rows", []) if isinstance(r, dict)]
        history = self.results.get("history")
        if isinstance(history, list) and not any("epoch" in r for r in rows):
            rows += [r for r in history if isinstance(r, dict)]
        return rows


@dataclass(frozen=True)
class Curve:
    """A ``y`` vs ``x`` curve that every compared run has."""

    x: str
    y: str
    logx: bool
    logy: bool


def load_run(path: str | Path, option: str = "RUN_DIR") -> LoadedRun:
    """A finished run folder (its ``results.json``); refuses anything else with one line."""
    path = Path(path)
    file = path / "results.json"
    if not file.is_file():
        raise ParameterError(option, "must be a finished run folder (with results.json)", str(path))
    try:
        results = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParameterError(
            option, f"holds an unreadable results.json ({exc})", str(path)
        ) from None
    if not isinstance(results, dict) or not isinstance(results.get("rows"), list):
        raise ParameterError(option, "holds a results.json without rows", str(path))
    return LoadedRun(path, path.resolve().name, results)


def check_comparable(runs: Sequence[LoadedRun]) -> list[Curve]:
    """The curves the runs have in common; refuses runs of different commands or with no
    curve in common (one line saying why)."""
    if len(runs) < 2:
        raise ParameterError("RUN_DIR", "compare needs two or more run folders", str(len(runs)))
    commands = {r.command for r in runs}
    if len(commands) > 1:
        which = "; ".join(f"{r.name}: noisyhw {r.command}" for r in runs)
        raise ParameterError("RUN_DIR", f"runs of different commands are not comparable ({which})")
    curves = common_curves(runs)
    if not curves:
        raise ParameterError(
            "RUN_DIR",
            "the runs share no curve (an x such as ebn0_db, snr_db, ber or epoch with a "
            "y such as fer or accuracy in every run)",
            ", ".join(r.name for r in runs),
        )
    return curves


def common_curves(runs: Sequence[LoadedRun]) -> list[Curve]:
    """Every (x, y) of :data:`CURVE_X` x :data:`CURVE_Y` with numbers in every run's rows."""

    def has(run: LoadedRun, *keys: str) -> bool:
        return any(all(is_number(r.get(k)) for k in keys) for r in run.rows)

    out = []
    for x, logx in CURVE_X:
        for y, logy in CURVE_Y:
            if all(has(run, x, y) for run in runs):
                out.append(Curve(x, y, logx, logy))
    return out


def curve_rows(runs: Sequence[LoadedRun], curve: Curve) -> list[dict[str, Any]]:
    """The rows of one curve from every run, each tagged with ``run`` (the series key), with
    the run's other text values (e.g. the decoder) kept for the legend."""
    out = []
    for run in runs:
        for r in run.rows:
            if is_number(r.get(curve.x)) and is_number(r.get(curve.y)):
                keep = {k: v for k, v in r.items() if isinstance(v, str) and k != "run"}
                row = {"run": run.name, **keep, curve.x: r[curve.x], curve.y: r[curve.y]}
                for end in ("ci_low", "ci_high"):
                    if is_number(r.get(f"{curve.y}_{end}")):
                        row[end] = r[f"{curve.y}_{end}"]
                out.append(row)
    return out


def config_diff(runs: Sequence[LoadedRun]) -> list[dict[str, Any]]:
    """One row per config key (and the seed) whose value differs between the runs."""
    configs = [
        {**flatten(r.results.get("config", {})), "seed": r.results.get("meta", {}).get("seed")}
        for r in runs
    ]
    keys = list(dict.fromkeys(k for c in configs for k in c))
    rows = []
    for k in keys:
        values = [c.get(k) for c in configs]
        if any(
            json.dumps(v, sort_keys=True, default=str)
            != json.dumps(values[0], sort_keys=True, default=str)
            for v in values
        ):
            rows.append(
                {"setting": k, **{run.name: v for run, v in zip(runs, values, strict=True)}}
            )
    return rows


def export_rows(run: LoadedRun, fmt: str, out: str | Path) -> Path:
    """Write the run's rows as CSV (nested values as JSON text) or Parquet (needs pandas and
    pyarrow); returns the file written (atomically)."""
    from ..io import atomic_write

    if Path(out).is_dir():  # also "" (the working directory)
        raise ParameterError("--out", "must be a file path, not a folder", str(out))
    if fmt not in ("csv", "parquet"):
        raise ParameterError("--format", "must be csv or parquet", fmt)
    if fmt == "parquet" and not all(importlib.util.find_spec(m) for m in ("pandas", "pyarrow")):
        raise ParameterError(
            "--format",
            "parquet needs pandas and pyarrow (pip install pandas pyarrow, or 'noisyhw[track]'); "
            "use --format csv",
            fmt,
        )
    rows = run.rows
    columns = list(dict.fromkeys(k for r in rows for k in r))
    flat = [{c: _cell(r.get(c)) for c in columns} for r in rows]
    out = Path(out)
    if fmt == "csv":

        def write(fh: Any) -> None:
            import io

            text = io.StringIO()
            writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(flat)
            fh.write(text.getvalue().encode())

        return atomic_write(out, write)
    import pandas as pd

    frame = pd.DataFrame(flat, columns=columns)
    return atomic_write(out, lambda fh: frame.to_parquet(fh, index=False))


def _cell(v: Any) -> Any:
    """Plain values stay; lists and mappings become JSON text (one column each)."""
    if isinstance(v, list | tuple | Mapping):
        return json.dumps(v, default=str)
    return v


# --------------------------------------------------------------------------- a run in progress
#: no write to a run folder for this long (seconds) means the run stopped
SILENCE_S = 600.0


def training_progress(folder: Path) -> tuple[int, int] | None:
    """``(epochs done, epochs planned)`` of the newest training checkpoint in ``folder`` (a
    ``*.pt`` file with ``epoch`` and ``config.epochs``, loaded with ``weights_only=True``)."""
    import torch

    best: tuple[float, tuple[int, int]] | None = None
    for path in folder.glob("*.pt"):
        try:
            state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except Exception:  # not a checkpoint this reads: not a training run
            continue
        config = state.get("config") if isinstance(state, dict) else None
        if isinstance(config, dict) and isinstance(state.get("epoch"), int) and "epochs" in config:
            stamp = path.stat().st_mtime
            if best is None or stamp > best[0]:
                best = (stamp, (int(state["epoch"]), int(config["epochs"])))
    return None if best is None else best[1]


def liveness(
    folder: Path, *, complete: bool, last_write: float | None = None, now: float | None = None
) -> tuple[str, str]:
    """``(state, why)`` of a run folder: ``complete``, ``alive`` or ``interrupted``.

    In order: a finished run (results.json) is complete; a ``run.lock`` held by another
    process (:meth:`RunLock.held_elsewhere`) means alive; otherwise the newest write to the
    folder (store, journal, checkpoints) within :data:`SILENCE_S` counts as alive (a run on
    another machine that sees the folder, where the lock cannot be probed).
    """
    import time

    from .store import RunLock

    now = time.time() if now is None else now
    if complete:
        return "complete", "results.json written"
    if RunLock(folder).held_elsewhere():
        return "alive", "a process holds run.lock"
    writes = [last_write or 0.0]
    # not -shm, nor an empty -wal: a read-only reader (this status) may create those
    for pattern in ("*.sqlite", "*.sqlite-wal", "*.pt"):
        for p in folder.glob(pattern):
            st = p.stat()
            if st.st_size > 0:
                writes.append(st.st_mtime)
    age = now - max(writes)
    if age <= SILENCE_S:
        return "alive", f"last write {_ago(age)} ago"
    return "interrupted", f"no write for {_ago(age)}; rerun the command to resume"


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


# --------------------------------------------------------------------------- reading a run folder
def run_status(folder: Path) -> dict[str, Any]:
    """Progress of a run folder (read-only: safe while the run goes on): command, identity
    (fingerprint), finished/total trials, state, epochs, Monte-Carlo chunks and open points."""
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
