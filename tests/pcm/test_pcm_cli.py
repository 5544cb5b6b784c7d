"""`noisyhw pcm bound | table | simulate`: outputs, files, resume, bad input."""

import json

import numpy as np
import pytest

from noisyhw.cli import main
from noisyhw.codes import pcm
from noisyhw.codes.pcm import check
from noisyhw.errors import ParameterError


def test_bound_writes_results(tmp_path):
    out = tmp_path / "b"
    assert (
        main(
            [
                "pcm",
                "bound",
                "--alpha",
                "1",
                "--beta",
                "3",
                "--p",
                "1",
                "--n",
                "9",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    row = json.loads((out / "results.json").read_text())["rows"][0]
    assert row["lower"] == row["upper"] == row["exact"]  # 1-D: exact
    assert abs(row["exact"] - 0.5515) < 1e-4
    assert row["finite_n_bound"] >= row["exact"]
    assert (out / "report.html").exists()


def test_simulate_files_and_resume(tmp_path):
    out = tmp_path / "s"
    argv = [
        "pcm",
        "simulate",
        "--alpha",
        "2",
        "--beta",
        "2",
        "--p",
        "2",
        "--n",
        "30",
        "--writes",
        "120",
        "--seed",
        "3",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(argv) == 0
    res = json.loads((out / "results.json").read_text())
    row = res["rows"][0]
    assert row["violations"] == 0 and row["decode_errors"] == 0 and row["writes"] == 120
    assert row["rate"] <= row["upper"]
    states = np.load(out / "states.npy")
    msgs = np.load(out / "messages.npy")
    assert states.shape == (121, 30) and states.dtype == np.uint8 and msgs.shape[0] == 120
    assert check(states, 2, 2, 2) is None
    assert (out / "rate_vs_bounds.png").exists() and (out / "report.html").exists()
    mtime = (out / "states.npy").stat().st_mtime_ns
    assert main(argv) == 0  # resume: the finished trial is not run again
    assert (out / "states.npy").stat().st_mtime_ns == mtime


def test_simulate_adversarial_and_code_choice(tmp_path):
    out = tmp_path / "g"
    assert (
        main(
            [
                "pcm",
                "simulate",
                "--alpha",
                "3",
                "--beta",
                "1",
                "--p",
                "1",
                "--n",
                "12",
                "--writes",
                "40",
                "--code",
                "round-robin",
                "--messages",
                "greedy",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    row = json.loads((out / "results.json").read_text())["rows"][0]
    assert row["code"] == "round-robin" and row["violations"] == 0
    assert abs(row["rate"] - 1 / 3) < 1e-12


def test_table_small(tmp_path):
    out = tmp_path / "t"
    assert (
        main(["pcm", "table", "--max", "2", "--time-budget", "0.05", "--out", str(out), "--quiet"])
        == 0
    )
    rows = json.loads((out / "results.json").read_text())["rows"]
    assert len(rows) == 8
    assert all(r["rate"] <= r["upper"] + 1e-9 and r["lower"] <= r["upper"] for r in rows)
    assert (out / "rates.png").exists()


def test_bad_input(tmp_path, capsys):
    assert main(["pcm", "bound", "--alpha", "2", "--beta", "2", "--p", "4"]) == 2
    assert "unconstrained" in capsys.readouterr().err
    assert main(["pcm", "bound", "--alpha", "0", "--beta", "2", "--p", "1"]) == 2
    assert (
        main(
            [
                "pcm",
                "simulate",
                "--alpha",
                "2",
                "--beta",
                "2",
                "--p",
                "1",
                "--n",
                "3",
                "--out",
                str(tmp_path / "x"),
            ]
        )
        == 2
    )
    assert "--n" in capsys.readouterr().err
    assert (
        main(
            [
                "pcm",
                "simulate",
                "--alpha",
                "2",
                "--beta",
                "2",
                "--p",
                "1",
                "--code",
                "residue",
                "--out",
                str(tmp_path / "y"),
            ]
        )
        == 2
    )
    assert (
        main(
            [
                "pcm",
                "simulate",
                "--alpha",
                "2",
                "--beta",
                "2",
                "--p",
                "1",
                "--messages",
                "evil",
                "--out",
                str(tmp_path / "z"),
            ]
        )
        == 2
    )


def test_demo_section(tmp_path):
    from noisyhw.experiments.demo import DemoContext
    from noisyhw.experiments.pcm import demo_section
    from noisyhw.sweep import Run, Section

    run = Run("demo", {}, out=tmp_path / "d")
    ctx = DemoContext(run, Section("pcm"), "digits", "cpu", 0, True)
    rows = demo_section(ctx)
    assert rows and all(r["rate"] <= r["upper"] + 1e-9 for r in rows)
    assert (tmp_path / "d" / "pcm_rates.png").exists()
    sims = [b for kind, b in ctx.section.blocks if kind == "table"][1][0]
    assert all(s["violations"] == 0 and s["decode_errors"] == 0 for s in sims)


def test_simulate_staggered_wom_beats_round_robin(tmp_path):
    out = tmp_path / "s4"
    args = ["pcm", "simulate", "--alpha", "4", "--beta", "1", "--p", "1", "--n", "100"]
    args += ["--writes", "60", "--messages", "greedy", "--out", str(out), "--quiet"]
    assert main(args) == 0
    row = json.loads((out / "results.json").read_text())["rows"][0]
    assert row["code"] == "staggered-wom"
    assert row["violations"] == 0 and row["decode_errors"] == 0 and row["max_window_cost"] == 1
    assert abs(row["rate"] - 26 / 100) < 1e-12 and row["block_rate"] > 1 / 4  # 5 cells frozen
    states = np.load(out / "states.npy")
    assert states.shape == (61, 100)


def test_simulate_negative_seed_fails_before_the_run(tmp_path, capsys):
    """--seed -1 is one error line naming it, before a run folder exists (it used to fail
    inside the trial with numpy's 'expected non-negative integer')."""
    out = tmp_path / "s"
    args = ["pcm", "simulate", "--alpha", "2", "--beta", "2", "--p", "2", "--n", "16"]
    assert main([*args, "--writes", "5", "--seed", "-1", "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --seed:") and not out.exists()


def test_bound_many_cells(tmp_path):
    """A finite-n bound on 100000 cells: the bound itself, no message count (2^M overflowed a
    float and failed the trial); the library says why instead of overflowing."""
    out = tmp_path / "b"
    args = ["pcm", "bound", "--alpha", "2", "--beta", "2", "--p", "1", "--n", "100000"]
    assert main([*args, "--time-budget", "0", "--out", str(out), "--quiet"]) == 0
    row = json.loads((out / "results.json").read_text())["rows"][0]
    assert row["max_messages"] is None and 0 < row["finite_n_bound"] < 1
    with pytest.raises(ParameterError, match="finite_n_bound"):
        pcm.max_messages(2, 2, 1, 100000)
    assert pcm.max_messages(2, 2, 1, 8) >= 2


@pytest.mark.parametrize(
    ("opt", "extra"),
    [
        ("--n", ["--alpha", "2", "--beta", "1", "--n", "10000000000000"]),
        ("--beta", ["--alpha", "2", "--beta", "10000000000000", "--n", "64"]),
        ("--alpha", ["--alpha", "1000", "--beta", "2", "--n", "64"]),
        ("--n", ["--alpha", "2", "--beta", "1", "--n", "1000000", "--writes", "10000"]),
    ],
)
def test_simulate_sizes_are_bounded_before_the_run(opt, extra, tmp_path, capsys):
    """A huge --n/--beta used to end in numpy's ArrayMemoryError traceback, a huge --alpha in a
    RecursionError; now one error line naming the option, before a run folder exists."""
    out = tmp_path / "s"
    assert main(["pcm", "simulate", "--p", "1", *extra, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {opt}:") and not out.exists()
