"""Run tracking, read back through MLflow's own client and TensorBoard's event reader.

Skipped, with the reason, where the optional extra is missing (pip install 'noisyhw[track]').
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from noisyhw.cli import main
from noisyhw.errors import ParameterError
from noisyhw.sweep import Run, line_plot
from noisyhw.sweep.track import check_track, run_metrics, track_run, tracking

HAS_MLFLOW = importlib.util.find_spec("mlflow") is not None
HAS_TB = importlib.util.find_spec("tensorboard") is not None
needs_mlflow = pytest.mark.skipif(
    not HAS_MLFLOW, reason="mlflow missing: pip install 'noisyhw[track]'"
)
needs_tb = pytest.mark.skipif(
    not HAS_TB, reason="tensorboard missing: pip install 'noisyhw[track]'"
)

ROWS = [
    {"decoder": d, "ebn0_db": e, "fer": 0.4 / (1 + e) / (2 if d == "scl" else 1)}
    for d in ("sc", "scl")
    for e in (1.0, 2.0, 3.0)
]
HISTORY = [
    {"epoch": 1, "train_loss": 0.9, "val_acc": 0.6},
    {"epoch": 2, "train_loss": 0.5, "val_acc": 0.8},
]


def _finish_toy_run(out, kind=None, uri=None):
    with tracking(kind, uri):
        run = Run("toy", {"n": 128, "inner": {"list": [1, 2]}}, out=out, seed=7, argv=["noisyhw"])
        png = line_plot(ROWS, "ebn0_db", "fer", run.plot_path("fer.png"), hue="decoder", logy=True)
        run.section("curves").image(png, "FER")
        run.finish(ROWS, history=HISTORY)
    return out


def test_metrics_per_point_and_per_epoch():
    metrics = run_metrics({"rows": ROWS, "history": HISTORY})
    fer_sc = [(v, s) for n, v, s in metrics if n == "sc/fer"]
    assert fer_sc == [(0.2, 0), (0.4 / 3, 1), (0.1, 2)]
    assert ("val_acc", 0.8, 2) in metrics and ("train_loss", 0.9, 1) in metrics
    assert all(not n.startswith("epoch") for n, _, _ in metrics)


def test_bad_tracker_refused_before_anything_is_written(tmp_path):
    with pytest.raises(ParameterError, match="--track: must be one of mlflow, tensorboard"):
        check_track("wandb")
    with pytest.raises(ParameterError, match="--track-uri: needs --track"):
        check_track(None, "http://x")
    out = tmp_path / "run"
    code = main(
        [
            "pcm",
            "bound",
            "--alpha",
            "2",
            "--beta",
            "1",
            "--p",
            "1",
            "--track",
            "wandb",
            "--out",
            str(out),
        ]
    )
    assert code == 2 and not out.exists()


@needs_mlflow
def test_mlflow_local_store_read_back_with_mlflow_client(tmp_path):
    from mlflow.tracking import MlflowClient

    out = _finish_toy_run(tmp_path / "runs" / "toy-1", "mlflow")
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'runs' / 'mlflow.db'}")
    exp = client.get_experiment_by_name("noisyhw toy")
    (run,) = client.search_runs([exp.experiment_id])
    assert run.data.params["n"] == "128" and run.data.params["inner.list"] == "1,2"
    assert run.data.params["seed"] == "7" and run.info.status == "FINISHED"
    fer = client.get_metric_history(run.info.run_id, "scl/fer")
    assert [m.step for m in fer] == [0, 1, 2] and fer[0].value == pytest.approx(0.1)
    val = client.get_metric_history(run.info.run_id, "val_acc")
    assert [(m.step, m.value) for m in val] == [(1, 0.6), (2, 0.8)]
    arts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"fer.png", "fer.svg", "report.html", "results.json"} <= arts
    # the same finished run logged again (a rerun of a complete run) is not duplicated
    assert track_run(out, "mlflow") == run.info.run_id


@needs_tb
def test_tensorboard_read_back_with_event_reader(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = _finish_toy_run(tmp_path / "toy", "tensorboard")
    acc = EventAccumulator(str(out / "tensorboard"), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    tags = acc.Tags()
    assert {"sc/fer", "scl/fer", "val_acc", "train_loss"} <= set(tags["scalars"])
    assert [(e.step, round(e.value, 6)) for e in acc.Scalars("val_acc")] == [(1, 0.6), (2, 0.8)]
    assert "plots/fer" in tags["images"]
    assert any(t.startswith("parameters") for t in tags["tensors"])


@needs_tb
def test_cli_track_option_on_a_result_command(tmp_path):
    out = tmp_path / "pcm"
    code = main(
        [
            "pcm",
            "bound",
            "--alpha",
            "2",
            "--beta",
            "1",
            "--p",
            "1",
            "--track",
            "tensorboard",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0
    assert list((out / "tensorboard").glob("events.out.tfevents.*"))
    assert json.loads((out / "results.json").read_text())["command"] == "pcm bound"


def test_every_result_command_takes_track():
    """Every command that writes a run folder has --track and --track-uri (export's --out
    is a table file, not a run)."""
    import typer.main

    from noisyhw.cli import _register_once, app

    _register_once()
    group = typer.main.get_command(app)
    missing = []
    for name, cmd in group.commands.items():
        if name == "export":
            continue
        subs = getattr(cmd, "commands", None) or {name: cmd}
        for sub, c in subs.items():
            opts = {o for p in c.params for o in getattr(p, "opts", [])}
            if "--out" in opts and "--track" not in opts:
                missing.append(f"{name} {sub}")
    assert not missing


def test_series_named_by_the_text_values_that_vary():
    rows = [
        {"decoder": d, "crc": "none", "note": "a long constant text", "fer": 0.1}
        for d in ("sc", "scl")
    ]
    assert [n for n, _, _ in run_metrics({"rows": rows})] == ["sc/fer", "scl/fer"]
    assert [n for n, _, _ in run_metrics({"rows": rows[:1]})] == ["fer"]
    mixed = [{"section": "pcm", "rate": 0.5}, {"section": "scale", "same": True, "fer": 0.1}]
    assert [n for n, _, _ in run_metrics({"rows": mixed})] == ["pcm/rate", "scale/fer"]
