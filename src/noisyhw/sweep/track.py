"""Run tracking in the field's tools: MLflow and TensorBoard (``pip install 'noisyhw[track]'``).

A finished run folder (``results.json``, plots, ``report.html``) is logged as one tracked run:

- parameters: the command, the seed and the run's config (nested keys joined by dots);
- metrics: per-epoch rows (rows with an ``epoch`` key) at ``step = epoch``; the other rows are
  per-point metrics, one series per combination of the rows' text values (named by
  :func:`~noisyhw.sweep.labels.label`: ``sc/fer``),
  ``step`` = the point's index in its series (the x value is logged as a metric of its own);
- artifacts: ``results.json``, ``report.html`` and every PNG/SVG plot.

Where it goes:

- ``mlflow``: MLflow's local embedded store, no server: ``sqlite:///<runs root>/mlflow.db`` with
  artifacts in ``<runs root>/mlartifacts`` (the runs root is the run folder's parent), one
  experiment per command; ``uri`` (``--track-uri``, else ``$MLFLOW_TRACKING_URI``) points it at a
  tracking server or another store. See the run with
  ``mlflow ui --backend-store-uri sqlite:///runs/mlflow.db``.
- ``tensorboard``: event files in ``<run folder>/tensorboard`` (``uri``: another folder); see
  them with ``tensorboard --logdir runs``.

Turn it on for a block of code (every run finished inside is logged)::

    with tracking("mlflow"):
        run_study(...)

or log a finished run folder afterwards: ``track_run("runs/x", "tensorboard")``. On the command
line every result command takes ``--track`` and ``--track-uri`` (:func:`noisyhw.cli.common.tracked`).
A rerun that finishes the same run again (same ``finished`` stamp) is not logged twice.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import math
import os
import re
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DataError, ParameterError
from ..labels import flatten, is_number, label

__all__ = [
    "TRACKERS",
    "TrackSpec",
    "active",
    "check_track",
    "log_finished",
    "run_metrics",
    "track_run",
    "tracking",
]

#: tracker -> the module it needs
TRACKERS: dict[str, str] = {"mlflow": "mlflow", "tensorboard": "tensorboard"}
_INSTALL = "pip install 'noisyhw[track]'"


@dataclass(frozen=True)
class TrackSpec:
    """Where finished runs are logged: ``kind`` (mlflow, tensorboard) and an optional ``uri``."""

    kind: str
    uri: str | None = None


_ACTIVE: ContextVar[TrackSpec | None] = ContextVar("noisyhw_track", default=None)


def check_track(kind: str | None, uri: str | None = None) -> TrackSpec | None:
    """A validated :class:`TrackSpec` (None when ``kind`` is None); refuses an unknown tracker,
    a ``uri`` without a tracker, and a tracker whose package is not installed."""
    if kind is None:
        if uri is not None:
            raise ParameterError("--track-uri", "needs --track mlflow or --track tensorboard", uri)
        return None
    if kind not in TRACKERS:
        raise ParameterError("--track", f"must be one of {', '.join(TRACKERS)}", kind)
    if importlib.util.find_spec(TRACKERS[kind]) is None:
        raise ParameterError("--track", f"{kind} is not installed ({_INSTALL})", kind)
    return TrackSpec(kind, uri)


def active() -> TrackSpec | None:
    """The tracker turned on by the innermost :func:`tracking` block, if any."""
    return _ACTIVE.get()


@contextlib.contextmanager
def tracking(kind: str | None, uri: str | None = None) -> Iterator[TrackSpec | None]:
    """Log every run that finishes inside the block (``kind=None``: nothing is logged)."""
    token = _ACTIVE.set(check_track(kind, uri))
    try:
        yield _ACTIVE.get()
    finally:
        _ACTIVE.reset(token)


def log_finished(report_path: Path) -> str | None:
    """Called when a run's report is written: log its folder to the active tracker, if any."""
    spec = active()
    if spec is None or not (report_path.parent / "results.json").is_file():
        return None
    return track_run(report_path.parent, spec.kind, spec.uri)


def track_run(run_dir: str | Path, kind: str, uri: str | None = None) -> str:
    """Log a finished run folder to ``kind``; return where it went (MLflow run id, or the
    TensorBoard folder)."""
    spec = check_track(kind, uri)
    assert spec is not None
    run_dir = Path(run_dir)
    try:
        results = json.loads((run_dir / "results.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"{run_dir}: no readable results.json ({exc})") from None
    if spec.kind == "mlflow":
        return _log_mlflow(run_dir, results, spec.uri)
    return _log_tensorboard(run_dir, results, spec.uri)


# --------------------------------------------------------------------------- what is logged
def run_params(results: Mapping[str, Any]) -> dict[str, str]:
    """The run's parameters as flat ``key -> text`` (nested config keys joined by dots)."""
    params = {
        "command": str(results.get("command")),
        "seed": str(results.get("meta", {}).get("seed")),
    }
    for k, v in flatten(results.get("config", {})).items():
        text = ",".join(str(x) for x in v) if isinstance(v, list | tuple) else str(v)
        params[k] = text[:6000]  # MLflow's limit on a parameter value
    return params


def run_metrics(results: Mapping[str, Any]) -> list[tuple[str, float, int]]:
    """``(name, value, step)`` of every metric of a run's results: per-epoch rows (``epoch``
    key, also in top-level lists such as a training history) at ``step = epoch``, and per-point
    rows grouped into series by the text values that vary between them (``sc/fer``), ``step``
    = index within the series."""
    rows = [r for r in results.get("rows", []) if isinstance(r, Mapping)]
    for value in results.values():  # e.g. results.json's "history"
        tables = isinstance(value, list) and all(isinstance(r, Mapping) for r in value)
        if tables and value is not results.get("rows") and any("epoch" in r for r in value):
            rows += [r for r in value if "epoch" in r]
    points = [r for r in rows if not ("epoch" in r and _is_number(r["epoch"]))]
    text = {k for r in points for k, v in r.items() if isinstance(v, str)}
    # a series is named by the text values that vary between rows (decoder, config ...)
    series_keys = [k for k in text if len({str(r.get(k)) for r in points}) > 1]
    out: list[tuple[str, float, int]] = []
    counters: dict[str, int] = {}
    for r in rows:
        numbers = {k: float(v) for k, v in r.items() if _is_number(v)}
        if "epoch" in r and _is_number(r["epoch"]):
            step = int(r["epoch"])
            out += [(_name(k), v, step) for k, v in numbers.items() if k != "epoch"]
            continue
        series = label({k: r[k] for k in sorted(series_keys) if isinstance(r.get(k), str)})
        step = counters.get(series, 0)
        counters[series] = step + 1
        prefix = f"{series}/" if series else ""
        out += [(_name(prefix + k), v, step) for k, v in numbers.items()]
    return out


def _is_number(v: Any) -> bool:
    return is_number(v) and math.isfinite(v)


def _name(key: str) -> str:
    """A metric name both trackers accept (letters, digits, ``_ - . / space``)."""
    return re.sub(r"[^A-Za-z0-9_\-./ ]", "_", key)[:250]


def _artifacts(run_dir: Path) -> list[Path]:
    found = [run_dir / "results.json", run_dir / "report.html"]
    for pattern in ("*.png", "*.svg", "*/*.png", "*/*.svg"):
        found += sorted(p for p in run_dir.glob(pattern) if "tensorboard" not in p.parts)
    return [p for p in found if p.is_file()]


# --------------------------------------------------------------------------- MLflow
def mlflow_uri(run_dir: Path, uri: str | None = None) -> str:
    """The tracking URI for a run folder: ``uri``, else ``$MLFLOW_TRACKING_URI``, else the
    local embedded store ``sqlite:///<run folder's parent>/mlflow.db``."""
    uri = uri or os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        return uri
    return f"sqlite:///{(run_dir.resolve().parent / 'mlflow.db').as_posix()}"


def _log_mlflow(run_dir: Path, results: Mapping[str, Any], uri: str | None) -> str:
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    tracking_uri = mlflow_uri(run_dir, uri)
    client = MlflowClient(tracking_uri=tracking_uri)
    name = f"noisyhw {results.get('command', 'run')}"
    exp = client.get_experiment_by_name(name)
    if exp is None:
        local = tracking_uri.startswith("sqlite:///") and not (
            uri or os.environ.get("MLFLOW_TRACKING_URI")
        )
        location = (run_dir.resolve().parent / "mlartifacts").as_uri() if local else None
        exp_id = client.create_experiment(name, artifact_location=location)
    else:
        exp_id = exp.experiment_id
    folder = str(run_dir.resolve())
    finished = str(results.get("meta", {}).get("finished", ""))
    done = client.search_runs(
        [exp_id],
        f"tags.`noisyhw.run_dir` = '{_quote(folder)}' and tags.`noisyhw.finished` = '{_quote(finished)}'",
    )
    if done:
        return done[0].info.run_id
    tags = {
        "noisyhw.run_dir": folder,
        "noisyhw.finished": finished,
        "mlflow.source.name": "noisyhw",
    }
    run = client.create_run(exp_id, run_name=run_dir.name, tags=tags)
    rid = run.info.run_id
    now = int(time.time() * 1000)
    params = [Param(k, v) for k, v in run_params(results).items()]
    metrics = [Metric(k, v, now, s) for k, v, s in run_metrics(results)]
    for i in range(0, max(len(params), 1), 100):  # MLflow's batch limits
        client.log_batch(rid, params=params[i : i + 100])
    for i in range(0, len(metrics), 1000):
        client.log_batch(rid, metrics=metrics[i : i + 1000])
    client.log_batch(
        rid, tags=[RunTag("noisyhw.version", str(results.get("meta", {}).get("version")))]
    )
    for path in _artifacts(run_dir):
        sub = path.parent.relative_to(run_dir).as_posix()
        client.log_artifact(rid, str(path), None if sub == "." else sub)
    client.set_terminated(rid)
    return rid


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


# --------------------------------------------------------------------------- TensorBoard
def _log_tensorboard(run_dir: Path, results: Mapping[str, Any], uri: str | None) -> str:
    import numpy as np
    from matplotlib import image as mpimg
    from torch.utils.tensorboard import SummaryWriter

    logdir = Path(uri) if uri else run_dir / "tensorboard"
    finished = str(results.get("meta", {}).get("finished", ""))
    marker = logdir / ".noisyhw-logged"
    if marker.is_file() and marker.read_text() == finished:
        return str(logdir)
    logdir.mkdir(parents=True, exist_ok=True)
    writer = SummaryWriter(log_dir=str(logdir))
    try:
        table = "\n".join(f"| {k} | {v} |" for k, v in run_params(results).items())
        writer.add_text("parameters", "| parameter | value |\n|---|---|\n" + table, 0)
        for name, value, step in run_metrics(results):
            writer.add_scalar(name, value, step)
        for path in _artifacts(run_dir):
            if path.suffix == ".png":
                img = np.asarray(mpimg.imread(path))[..., :3]
                tag = "plots/" + path.relative_to(run_dir).with_suffix("").as_posix()
                writer.add_image(tag, img, 0, dataformats="HWC")
        writer.add_text("report", f"report: {(run_dir / 'report.html').resolve()}", 0)
    finally:
        writer.close()
    marker.write_text(finished)
    return str(logdir)
