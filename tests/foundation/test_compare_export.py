"""`noisyhw compare`, `noisyhw export` and what `sweep status` says about a run in progress."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import time
from pathlib import Path

import pytest

from noisyhw.cli import main
from noisyhw.errors import ParameterError
from noisyhw.sweep import Run
from noisyhw.sweep.runs import (
    SILENCE_S,
    check_comparable,
    config_diff,
    liveness,
    load_run,
)


def _polar_like(out: Path, decoder: str, seed: int, shift: float, command: str = "polar simulate"):
    run = Run(command, {"n": 128, "decoders": [decoder], "workers": 1}, out=out, seed=seed)
    rows = [
        {
            "decoder": decoder,
            "ebn0_db": e,
            "fer": 0.3 / (1 + e + shift),
            "fer_ci_low": 0.25 / (1 + e + shift),
            "fer_ci_high": 0.35 / (1 + e + shift),
            "crc": "none",
            "meta": {"nested": [1, 2]},
        }
        for e in (1.0, 2.0, 3.0)
    ]
    run.finish(rows)
    return out


def test_compare_overlays_common_curves_and_diffs_configs(tmp_path, capsys):
    a = _polar_like(tmp_path / "a", "sc", 0, 0.0)
    b = _polar_like(tmp_path / "b", "scl-8", 1, 1.0)
    out = tmp_path / "cmp"
    assert main(["compare", str(a), str(b), "--out", str(out)]) == 0
    assert (out / "compare_fer_vs_ebn0_db.png").is_file()
    assert (out / "compare_fer_vs_ebn0_db.svg").is_file()
    diff = json.loads((out / "results.json").read_text())["rows"]
    assert {r["setting"] for r in diff} == {"decoders", "seed"}  # workers is the same
    page = (out / "report.html").read_text()
    assert "settings that differ" in page and "compare_fer_vs_ebn0_db.png" in page


def test_compare_refuses_incomparable_runs_with_one_line(tmp_path, capsys):
    a = _polar_like(tmp_path / "a", "sc", 0, 0.0)
    other = _polar_like(tmp_path / "t", "sc", 0, 0.0, command="polar text")
    out = tmp_path / "cmp"
    assert main(["compare", str(a), str(other), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not comparable" in err[0] and "polar text" in err[0]
    assert not out.exists()
    assert main(["compare", str(a), str(tmp_path / "nothing"), "--out", str(out)]) == 2
    assert "finished run folder" in capsys.readouterr().err and not out.exists()
    with pytest.raises(ParameterError, match="two or more"):
        check_comparable([load_run(a)])


def test_compare_refuses_runs_without_a_common_curve(tmp_path):
    runs = []
    for name in ("x", "y"):
        run = Run("pcm bound", {"a": name}, out=tmp_path / name)
        run.finish([{"alpha": 2, "rate": 0.5}])
        runs.append(load_run(tmp_path / name))
    with pytest.raises(ParameterError, match="share no curve"):
        check_comparable(runs)
    assert config_diff(runs) == [{"setting": "a", "x": "x", "y": "y"}]


def test_export_csv_round_trips_the_rows(tmp_path, capsys):
    a = _polar_like(tmp_path / "a", "sc", 0, 0.0)
    assert main(["export", str(a), "--format", "csv"]) == 0
    with (a / "rows.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    stored = json.loads((a / "results.json").read_text())["rows"]
    assert len(rows) == len(stored) == 3
    assert float(rows[1]["fer"]) == stored[1]["fer"]
    assert json.loads(rows[0]["meta"]) == {"nested": [1, 2]}  # nested values as JSON text


def test_export_parquet_or_a_clear_error(tmp_path, capsys):
    a = _polar_like(tmp_path / "a", "sc", 0, 0.0)
    target = tmp_path / "rows.parquet"
    code = main(["export", str(a), "--format", "parquet", "--out", str(target)])
    if all(importlib.util.find_spec(m) for m in ("pandas", "pyarrow")):
        import pandas as pd

        assert code == 0
        frame = pd.read_parquet(target)
        assert list(frame["ebn0_db"]) == [1.0, 2.0, 3.0]
    else:
        assert code == 2 and "parquet needs pandas and pyarrow" in capsys.readouterr().err
    assert main(["export", str(a), "--format", "xlsx"]) == 2
    assert main(["export", str(tmp_path / "none")]) == 2
    # a folder as --out was an IsADirectoryError traceback from the atomic rename
    assert main(["export", str(a), "--out", str(tmp_path)]) == 2
    assert "error: --out: must be a file path, not a folder" in capsys.readouterr().err


# ----------------------------------------------------------------------------- sweep status
def test_liveness_complete_lock_and_silence(tmp_path):
    import subprocess
    import sys

    now = time.time()
    assert liveness(tmp_path, complete=True)[0] == "complete"
    # the folder's last write decides when no process holds run.lock
    (tmp_path / "trials.sqlite").write_bytes(b"SQLite format 3")
    assert liveness(tmp_path, complete=False, now=now)[0] == "alive"
    old = now - SILENCE_S - 60
    os.utime(tmp_path / "trials.sqlite", (old, old))
    state, why = liveness(tmp_path, complete=False, last_write=old, now=now)
    assert state == "interrupted" and "rerun" in why
    # a run.lock held by another process means alive, however old the writes
    hold = (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(tmp_path / 'run.lock')!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.lockf(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(30)"
    )
    child = subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "held"
        assert liveness(tmp_path, complete=False, last_write=old, now=now) == (
            "alive",
            "a process holds run.lock",
        )
    finally:
        child.kill()
        child.wait()
    assert liveness(tmp_path, complete=False, last_write=old, now=now)[0] == "interrupted"


def test_status_shows_training_epochs_and_interrupted(tmp_path, capsys):
    """A training run killed after 2 of 5 epochs: `sweep status` says epoch 2/5, interrupted."""
    import torch

    from noisyhw.io import save_checkpoint

    out = tmp_path / "train"
    run = Run("train", {"epochs": 5, "model": "mlp"}, out=out)
    run.store.close()
    save_checkpoint(
        out / "checkpoint.pt", {"epoch": 2, "config": {"epochs": 5}, "w": torch.zeros(2)}
    )
    old = time.time() - SILENCE_S - 60
    for p in out.iterdir():
        os.utime(p, (old, old))
    assert main(["sweep", "status", str(out), "--rows", "0"]) == 0
    text = capsys.readouterr().out
    assert "epoch 2/5" in text and "interrupted" in text
    assert main(["sweep", "status", str(out), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["epochs"] == [2, 5] and status["state"] == "interrupted"
