"""Fault campaigns: grid, statistics, tolerable BER, resumable sweep, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from noisyhw.cli import main
from noisyhw.errors import ParameterError
from noisyhw.storage import campaign as C
from noisyhw.sweep import Run


def test_ber_grid():
    assert C.ber_grid(1e-9, 1e-1, 1) == [10.0**-k for k in range(9, 0, -1)]
    g = C.ber_grid(1e-4, 1e-2, 2)
    assert len(g) == 5 and g[1] == pytest.approx(10**-3.5, rel=1e-5)
    with pytest.raises(ParameterError):
        C.ber_grid(0.0, 1e-1)
    with pytest.raises(ParameterError):
        C.ber_grid(1e-2, 1e-3)


def _row(rep, prot, ber, acc, trial=0):
    return {
        "representation": rep,
        "protection": prot,
        "ber": ber,
        "trial": trial,
        "accuracy": acc,
        "flips": 0,
        "nulled": 0,
        "range_zeroed": 0,
        "bits_per_param": 32.0,
    }


def test_summary_interval_and_percentiles():
    accs = [0.5, 0.6, 0.7, 0.8]
    s = C.summarize([_row("float32", "none", 1e-3, a, t) for t, a in enumerate(accs)])[0]
    mean, sd = 0.65, np.std(accs, ddof=1)
    half = 3.182446305284263 * sd / 2  # t_{0.975, 3}
    assert s["mean"] == pytest.approx(mean) and s["std"] == pytest.approx(sd)
    assert s["ci_lo"] == pytest.approx(mean - half) and s["ci_hi"] == pytest.approx(mean + half)
    assert s["p50"] == pytest.approx(0.65) and s["p5"] == pytest.approx(0.515)


def test_tolerable_ber_and_gain():
    rows = [
        _row("float32", "none", 0.0, 0.90),
        _row("float32", "none", 1e-6, 0.90),
        _row("float32", "none", 1e-5, 0.85),
        _row("float32", "none", 1e-4, 0.91),  # recovers: must not count (monotone rule)
        _row("fixed8", "nulling", 0.0, 0.90),
        _row("fixed8", "nulling", 1e-6, 0.90),
        _row("fixed8", "nulling", 1e-5, 0.895),
        _row("fixed8", "nulling", 1e-4, 0.80),
        _row("fixed4", "none", 0.0, 0.85),  # clean already > 1 point below: no tolerable BER
        _row("fixed4", "none", 1e-6, 0.85),
    ]
    tol = {r["config"]: r for r in C.tolerable_ber(C.summarize(rows))}
    ref = tol["float32/none"]
    assert ref["tolerable_ber"] == 1e-6
    assert ref["tolerable_ber_interp"] == pytest.approx(10 ** (-6 + 0.2))
    f8 = tol["fixed8/nulling"]
    assert f8["tolerable_ber"] == 1e-5
    assert f8["tolerable_ber_interp"] == pytest.approx(10 ** (-5 + 0.005 / 0.095))
    assert f8["gain"] == pytest.approx(10.0)
    assert tol["fixed4/none"]["tolerable_ber"] == 0.0 and tol["fixed4/none"]["gain"] == 0.0
    media = {m["medium"]: m for m in C.media_table(list(tol.values()))}
    slc = media["fresh SLC NAND"]
    assert slc["raw_ber"] == 1e-8 and slc["fewest_bits"] == "fixed8/nulling"
    assert media["worn TLC NAND"]["tolerated_by"] == "none"
    with pytest.raises(ParameterError, match="reference"):
        C.tolerable_ber(C.summarize(rows[4:8]))


def _tiny():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(300, 1, 2, 4, generator=g)
    y = (x.flatten(1).sum(1) > 0).long()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(8, 2))
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[-1.0] * 8, [1.0] * 8]))
        model[1].bias.zero_()
    return model, x, y


def test_campaign_runs_resumes_and_is_reproducible(tmp_path):
    model, x, y = _tiny()
    configs = [("float32", "none"), ("hwo6", "nulling"), ("fixed8", "range")]
    bers, trials = [1e-3, 0.3], 3
    run = Run("t", {}, out=tmp_path / "a", seed=0)
    rows = C.run_campaign(model, x, y, configs, bers, trials, run=run, seed=0)
    assert len(rows) == len(configs) * (1 + len(bers) * trials)
    clean = [r for r in rows if r["ber"] == 0]
    assert all(r["accuracy"] == 1.0 and r["flips"] == 0 for r in clean)
    # the user's model is never modified
    assert torch.equal(model[1].weight, torch.tensor([[-1.0] * 8, [1.0] * 8]))
    noisy = [r for r in rows if r["ber"] == 0.3]
    assert all(r["flips"] > 0 for r in noisy)
    assert all(r["nulled"] > 0 for r in noisy if r["protection"] == "nulling")
    again = C.run_campaign(model, x, y, configs, bers, trials, seed=0)  # in-process, no run
    key = lambda r: (r["representation"], r["protection"], r["ber"], r["trial"])  # noqa: E731
    assert sorted(map(key, rows)) == sorted(map(key, again))
    by = {key(r): r for r in again}
    for r in rows:
        assert by[key(r)]["accuracy"] == r["accuracy"] and by[key(r)]["flips"] == r["flips"]
    resumed = Run("t", {}, out=tmp_path / "a", seed=0)
    calls = []

    def spy(params, ctx):
        calls.append(params)
        return C.campaign_trial(params, ctx)

    ctx = C.CampaignContext(model, x, y)
    resumed.sweep(spy, C.campaign_trials(configs, bers, trials), context=ctx)
    assert calls == []


def test_cli_distortion_and_campaign(tmp_path, capsys):
    assert (
        main(["storage", "distortion", "--n", "2,4,6", "--out", str(tmp_path / "d"), "--quiet"])
        == 0
    )
    rows = json.loads((tmp_path / "d" / "results.json").read_text())["rows"]
    assert {r["code"] for r in rows} == {"hwo", "binary"} and len(rows) == 6
    out = tmp_path / "c"
    args = [
        "storage",
        "campaign",
        "--epochs",
        "3",
        "--configs",
        "float32/none,hwo8/nulling",
        "--bers",
        "1e-4,1e-2",
        "--trials",
        "2",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(args) == 0
    res = json.loads((out / "results.json").read_text())
    assert {r["config"] for r in res["rows"]} == {"float32/none", "hwo8/nulling"}
    assert res["model"]["params"] > 1000 and (out / "storage_accuracy_vs_ber.png").is_file()
    assert main(args) == 0  # resume: nothing left to run, same answer
    res2 = json.loads((out / "results.json").read_text())
    assert res2["rows"] == res["rows"]


@pytest.mark.parametrize(
    "extra",
    [
        ["--configs", "float32/bogus"],
        ["--configs", "float32"],
        ["-r", "int8"],
        ["--trials", "0"],
        ["--bers", "2"],
        ["--study", "nope"],
    ],
)
def test_cli_bad_input(extra, tmp_path, capsys):
    assert main(["storage", "campaign", "--out", str(tmp_path / "x"), "--quiet", *extra]) == 2
    assert "error:" in capsys.readouterr().err


def test_cli_distortion_bad_n(tmp_path, capsys):
    assert main(["storage", "distortion", "--n", "30", "--out", str(tmp_path)]) == 2


@pytest.mark.parametrize("extra", [["--margin", "-1"], ["--margin", "nan"], ["--workers", "0"]])
def test_cli_bad_input_fails_before_training(extra, tmp_path, capsys):
    # these used to be noticed only when the first trial ran, after the model's training
    out = tmp_path / "x"
    tiny = ["--epochs", "1", "--n-train", "64", "--n-test", "32", "--bers", "1e-3", "-t", "1"]
    assert main(["storage", "campaign", "--out", str(out), "--quiet", *tiny, *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --")
    assert not out.exists()


@pytest.mark.parametrize("trials", ["10000000000000", "10001", "0"])
def test_cli_trials_are_bounded_up_front(trials, tmp_path, capsys):
    # a huge count used to hang while the trial grid was built (--bers bogus: were --trials not
    # checked first, the --bers error would come instead)
    out = tmp_path / "x"
    args = ["storage", "campaign", "--study", "mlp-digits", "--trials", trials, "--bers", "x"]
    assert main([*args, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --trials:") and "10000" in err[0]
    assert not out.exists()


@pytest.mark.parametrize(
    ("opt", "value"),
    [("--model", "bogus"), ("--dataset", "bogus"), ("--model-file", "/missing/model.pt")],
)
def test_cli_model_dataset_and_file_fail_before_the_run_folder(opt, value, tmp_path, capsys):
    # these used to exit 2 only after the run folder was made (it was left behind, empty)
    out = tmp_path / "x"
    assert main(["storage", "campaign", opt, value, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {opt}:")
    assert not out.exists()
