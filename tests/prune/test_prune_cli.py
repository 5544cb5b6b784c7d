"""``noisyhw prune sweep``: a tiny run end to end, resume, and bad input."""

import json

from noisyhw.cli import main


def test_prune_sweep_tiny(tmp_path):
    out = tmp_path / "run"
    args = [
        "prune",
        "sweep",
        "--dataset",
        "digits",
        "--structures",
        "filter,irregular",
        "--sparsities",
        "0.5",
        "--methods",
        "reweighted,magnitude",
        "--epochs",
        "1",
        "--n-train",
        "128",
        "--n-test",
        "64",
        "--width",
        "8",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(args) == 0
    res = json.loads((out / "results.json").read_text())
    assert len(res["rows"]) == 4
    for r in res["rows"]:
        assert abs(r["achieved_sparsity"] - 0.5) < 0.02
        assert r["hyperparameters"] == (1 if r["method"] == "reweighted" else 0)
    assert (out / "prune_acc_filter.png").is_file() and (out / "prune_layers.png").is_file()
    assert main(args) == 0  # resumes: every trial already in the store


def test_prune_bad_input(capsys):
    assert main(["prune", "sweep", "--sparsities", "1.5", "--dataset", "digits"]) == 2
    assert "error: --sparsities: " in capsys.readouterr().err  # the option typed
    assert main(["prune", "sweep", "--structures", "rows", "--dataset", "digits"]) == 2
    assert main(["prune", "sweep", "--structures", "pattern", "--sparsities", "0.3"]) == 2


def test_prune_bad_width_fails_before_any_trial(tmp_path, capsys):
    # --width 0 used to be silently ignored (default width), and a negative width or a model
    # without a width failed inside every trial, after the data was loaded
    base = ["prune", "sweep", "--dataset", "digits", "--epochs", "1", "--n-train", "64"]
    for extra in (["--width", "0"], ["--width", "-3"], ["--model", "mlp", "--width", "8"]):
        out = tmp_path / "x"
        assert main([*base, *extra, "--out", str(out), "--quiet"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: --width")
        assert not out.exists()


def test_prune_bad_lam_fails_before_any_trial(tmp_path, capsys):
    # --lam-group-lasso nan used to be rejected only inside the trial, after the run folder
    base = ["prune", "sweep", "--model", "mlp", "--dataset", "digits", "--structures", "irregular"]
    base += ["--sparsities", "0.5", "--methods", "group_lasso", "--epochs", "1"]
    base += ["--n-train", "200", "--n-test", "100"]
    for opt in ("--lam-group-lasso", "--lam"):
        for value in ("nan", "inf", "-0.1"):
            out = tmp_path / "x"
            assert main([*base, opt, value, "--out", str(out), "--quiet"]) == 2
            err = capsys.readouterr().err.strip().splitlines()
            assert len(err) == 1 and err[0].startswith(f"error: {opt}:"), err
            assert not out.exists()


def test_tuning_grids_checked_before_any_folder(tmp_path, capsys):
    """rho = 0 failed inside the ADMM tuning trial; a grid for a method not run was dropped."""
    base = ["prune", "sweep", "--dataset", "digits", "--n-val", "100", "--structures", "filter"]
    for extra, option in (
        (["--methods", "admm", "--tune-rho", "0,0.1"], "--tune-rho"),
        (["--methods", "magnitude", "--tune-lam", "1e-2"], "--tune-lam"),
    ):
        out = tmp_path / option.strip("-")
        assert main([*base, *extra, "--out", str(out)]) == 2
        assert capsys.readouterr().err.startswith(f"error: {option}:")
        assert not out.exists()
