"""`noisyhw sweep bpsk | status | ls` and the shared --executor/--address options."""

import json
import sys

import pytest

from noisyhw.cli import main
from noisyhw.cli.common import make_executor_from_cli
from noisyhw.errors import ParameterError
from noisyhw.experiments.scale import bpsk_fer_theory
from noisyhw.sweep import LocalExecutor

ARGS = ["--ebn0", "0,3", "--chunk-size", "2000", "--min-errors", "60", "--max-frames", "40000"]


def test_bpsk_sweep_status_ls_and_resume(tmp_path, capsys):
    out = tmp_path / "runs" / "bpsk"
    assert main(["sweep", "bpsk", *ARGS, "--out", str(out), "--quiet"]) == 0
    res = json.loads((out / "results.json").read_text())
    rows = res["rows"]
    assert [r["ebn0_db"] for r in rows] == [0.0, 3.0]
    for r in rows:
        assert r["errors"] >= 60 and r["stopped"] == "min_errors"
        assert r["ci_low"] < bpsk_fer_theory(r["ebn0_db"]) < r["ci_high"]
    assert (out / "bpsk_fer.png").stat().st_size > 0
    capsys.readouterr()

    assert main(["sweep", "status", str(out), "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["finished_trials"] == 2 and st["total_trials"] == 2 and st["complete"]
    assert st["command"] == "sweep bpsk" and st["config"]["min_errors"] == 60
    assert st["mc_chunks"] >= sum(r["chunks"] for r in rows)
    assert main(["sweep", "status", str(out)]) == 0
    assert "2/2 finished" in capsys.readouterr().out
    assert main(["sweep", "ls", str(tmp_path / "runs")]) == 0
    assert "sweep bpsk" in capsys.readouterr().out

    # a rerun with 2 workers resumes (nothing to do) and reports the same numbers
    assert main(["sweep", "bpsk", *ARGS, "--out", str(out), "--workers", "2", "--quiet"]) == 0
    assert json.loads((out / "results.json").read_text())["rows"] == rows


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["sweep", "status", str(tmp_path)]) == 2
    assert "not a noisyhw run folder" in capsys.readouterr().err
    assert main(["sweep", "bpsk", "--executor", "dask", "--out", str(tmp_path / "a")]) == 2
    assert "--executor" in capsys.readouterr().err
    assert main(["sweep", "bpsk", "--address", "1.2.3.4:6379", "--out", str(tmp_path / "b")]) == 2
    assert "--address" in capsys.readouterr().err
    assert main(["sweep", "bpsk", "--min-errors", "0", "--out", str(tmp_path / "c")]) == 2
    assert not (tmp_path / "c").exists()  # refused before a run folder is made
    assert main(["sweep", "ls", str(tmp_path / "nope")]) == 2
    polar = ["polar", "simulate", "--n", "64", "--k", "32", "--out", str(tmp_path / "d")]
    assert main([*polar, "--executor", "dask"]) == 2
    assert "--executor" in capsys.readouterr().err
    assert main([*polar, "--address", "auto"]) == 2
    assert "--address" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def test_executor_from_cli(monkeypatch):
    ex = make_executor_from_cli("local", None, 3)
    assert isinstance(ex, LocalExecutor) and ex.workers == 3
    with pytest.raises(ParameterError, match="--workers"):
        make_executor_from_cli("local", None, 0)
    monkeypatch.setitem(sys.modules, "noisyhw.sweep.ray_executor", None)  # Ray not installed
    with pytest.raises(ParameterError, match=r"noisyhw\[ray\]"):
        make_executor_from_cli("ray", None, 1)
