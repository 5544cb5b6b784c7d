"""`noisyhw noise ...`: bad input is one line + exit 2; a tiny sweep runs, writes plots, resumes."""

import json

import pytest

from noisyhw.cli import main


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["noise", "sweep", "--modes", "absolute"], "--modes"),
        (["noise", "sweep", "--votes", "0"], "--votes"),
        (["noise", "sweep", "--test-snrs", "nan"], "--test-snrs"),
        (["noise", "sweep", "--train-snrs", "4..1"], "--train-snrs"),
        (["noise", "sweep", "--modes", "fixed", "--granularity", "sample"], "--granularity"),
        (["noise", "train", "--mode", "fixed", "--granularity", "sample"], "granularity"),
        (["noise", "sweep", "--model", "transformer"], "--model"),
        (["noise", "attack", "--attacks", "cw"], "--attacks"),
        (["noise", "attack", "--eps", "2"], "--eps"),
    ],
)
def test_bad_input_is_one_line_exit_2(argv, needle, capsys, tmp_path):
    assert main([*argv, "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and needle in err and "\n" not in err


def test_tiny_sweep_runs_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    argv = [
        "noise",
        "sweep",
        "--dataset",
        "digits",
        "--model",
        "mlp",
        "--epochs",
        "2",
        "--finetune-epochs",
        "1",
        "--modes",
        "fixed,relative",
        "--train-snrs",
        "0,-2..4",
        "--test-snrs",
        "0,10",
        "--votes",
        "1,3",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(argv) == 0
    res = json.loads((out / "results.json").read_text())
    assert len(res["rows"]) == 2 * 3 * 2 * 2
    assert {r["train"] for r in res["rows"]} == {"clean", "0dB", "-2..4dB"}
    assert all(0.0 <= r["accuracy"] <= 1.0 for r in res["rows"])
    assert (out / "acc_fixed_mean.png").is_file() and (out / "report.html").is_file()
    assert res["effective_snr"] and all("eff_snr_db" in r for r in res["effective_snr"])
    stamp = (out / "models" / "clean.pt").stat().st_mtime
    assert main(argv) == 0  # resume: nothing retrained, same rows
    again = json.loads((out / "results.json").read_text())
    assert again["rows"] == res["rows"]
    assert (out / "models" / "clean.pt").stat().st_mtime == stamp
