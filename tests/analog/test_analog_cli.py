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
        (["noise", "attack", "--noise-train-snr", "nan"], "--noise-train-snr"),
        (["noise", "attack", "--finetune-epochs", "0"], "--finetune-epochs"),
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


def test_tiny_train_writes_model_plots_and_loads(tmp_path):
    import torch

    from noisyhw.analog import NoiseSpec, inject_noise_, load_noise_state_dict
    from noisyhw.io import load_checkpoint
    from noisyhw.models import create

    out = tmp_path / "train"
    argv = ["noise", "train", "--dataset", "digits", "--model", "mlp", "--epochs", "2"]
    argv += ["--finetune-epochs", "1", "--mode", "fixed", "--snr", "20>0", "--test-snrs", "0,20"]
    assert main([*argv, "--votes", "3", "--out", str(out), "--quiet"]) == 0
    res = json.loads((out / "results.json").read_text())
    rows = res["rows"]
    assert {(r["train"], r["test_snr_db"], r["votes"]) for r in rows} == {
        (t, s, k) for t in ("clean", "20>0dB") for s in (0.0, 20.0) for k in (1, 3)
    }
    assert all(0.0 <= r["accuracy"] <= 1.0 for r in rows)
    assert res["config"]["hidden"] is None  # part of the run's identity (resume key)
    assert (out / "accuracy_vs_snr.png").is_file() and (out / "finetune.png").is_file()
    # the saved model loads into a fresh network; the fixed-mode references come with it
    ck = load_checkpoint(out / "noisy.pt")
    model = create(ck["model_name"], ck["input_shape"], ck["num_classes"], **ck["model_kwargs"])
    model.load_state_dict(ck["state_dict"])
    inject_noise_(model, NoiseSpec(0.0, mode="fixed"), seed=0)
    load_noise_state_dict(model, ck["noise"]["refs"])
    assert ck["noise"]["train_snr"] == "20>0dB"
    assert model(torch.rand(4, 1, 8, 8)).shape == (4, 10)


def test_tiny_attack_runs(tmp_path):
    out = tmp_path / "attack"
    argv = ["noise", "attack", "--dataset", "digits", "--model", "mlp", "--epochs", "2"]
    argv += ["--lr", "0.005", "--pool-size", "120", "--substitute-epochs", "2"]
    argv += ["--attacks", "fgsm,pgd", "--pgd-steps", "2", "--eps", "0.2"]
    argv += ["--test-snrs", "inf,5", "--votes", "1,3", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    res = json.loads((out / "results.json").read_text())
    rows = res["rows"]
    assert len(rows) == 2 * 2 * 1 * 2 * 2  # target x attack x eps x snr x votes
    assert {r["target"] for r in rows} == {"standard", "adversarial"}
    for r in rows:
        assert 0.0 <= r["adv_acc"] <= 1.0 and 0.0 <= r["clean_acc"] <= 1.0
    # a transfer attack must not raise the accuracy of the noiseless standard target
    base = [r for r in rows if r["target"] == "standard" and r["test_snr_db"] == "inf"]
    assert all(r["adv_acc"] <= r["clean_acc"] for r in base if r["votes"] == 1)
    assert (out / "adv_acc_fgsm.png").is_file() and (out / "adv_acc_pgd.png").is_file()


def test_attack_with_noise_trained_targets(tmp_path):
    out = tmp_path / "attack-nt"
    argv = ["noise", "attack", "--dataset", "digits", "--model", "mlp", "--epochs", "2"]
    argv += ["--lr", "0.005", "--pool-size", "120", "--substitute-epochs", "1"]
    argv += ["--attacks", "fgsm", "--eps", "0.2", "--noise-train-snr", "5"]
    argv += ["--finetune-epochs", "1", "--test-snrs", "inf,5", "--votes", "1"]
    argv += ["--out", str(out), "--quiet"]
    assert main(argv) == 0
    res = json.loads((out / "results.json").read_text())
    assert {r["target"] for r in res["rows"]} == {
        "standard",
        "adversarial",
        "standard-nt",
        "adversarial-nt",
    }
    assert len(res["rows"]) == 4 * 2
    assert (out / "models" / "target-adversarial-nt.pt").is_file()
    # fine-tuning changed the weights of the noise-trained copy
    from noisyhw.io import load_checkpoint

    a = load_checkpoint(out / "models" / "target-standard.pt")["state_dict"]
    b = load_checkpoint(out / "models" / "target-standard-nt.pt")["state_dict"]
    assert any(not (a[k] == b[k]).all() for k in a)
