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


def _row(rep, prot, ber, accs, fail_below=0.0):
    """A campaign point row from trial accuracies (a list) or one clean accuracy (a float)."""
    accs = [accs] if isinstance(accs, float) else list(accs)
    return {
        "representation": rep,
        "protection": prot,
        "ber": ber,
        "trials": len(accs),
        **C.trial_counts(accs, fail_below),
        "flips": 0,
        "nulled": 0,
        "range_zeroed": 0,
        "bits_per_param": 32.0,
    }


def test_summary_interval_and_failure_rate():
    accs = [0.5, 0.6, 0.7, 0.8]
    s = C.summarize([_row("float32", "none", 1e-3, accs, fail_below=0.65)])[0]
    mean, sd = 0.65, np.std(accs, ddof=1)
    half = 3.182446305284263 * sd / 2  # t_{0.975, 3}
    assert s["mean"] == pytest.approx(mean) and s["std"] == pytest.approx(sd)
    assert s["ci_lo"] == pytest.approx(mean - half) and s["ci_hi"] == pytest.approx(mean + half)
    assert s["failures"] == 2 and s["fail_rate"] == 0.5
    assert s["fail_lo"] == pytest.approx(0.0676, abs=1e-4)  # Clopper-Pearson 2/4
    assert s["fail_hi"] == pytest.approx(0.9324, abs=1e-4)
    # rows of the same point are pooled (two runs, or chunks): same as one row of all trials
    split = C.summarize([_row("float32", "none", 1e-3, a, 0.65) for a in ([0.5, 0.6], [0.7, 0.8])])
    assert split[0]["mean"] == pytest.approx(mean) and split[0]["std"] == pytest.approx(sd)


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
        _row("hwo8", "none", 0.0, 0.90),  # never falls below: a lower bound (censored)
        _row("hwo8", "none", 1e-4, 0.90),
    ]
    tol = {r["config"]: r for r in C.tolerable_ber(C.summarize(rows))}
    ref = tol["float32/none"]
    assert ref["tolerable_ber"] == 1e-6
    assert ref["tolerable_ber_interp"] == pytest.approx(10 ** (-6 + 0.2))
    f8 = tol["fixed8/nulling"]
    assert f8["tolerable_ber"] == 1e-5
    assert f8["tolerable_ber_interp"] == pytest.approx(10 ** (-5 + 0.005 / 0.095))
    assert f8["gain"] == pytest.approx(10.0)
    # one trial per point: nothing to resample, the interval is the point
    assert f8["gain_lo"] == pytest.approx(f8["gain_interp"]) == pytest.approx(f8["gain_hi"])
    assert not f8["spans_10x"] and not f8["censored"]
    assert tol["fixed4/none"]["tolerable_ber"] == 0.0 and tol["fixed4/none"]["gain"] == 0.0
    assert C.gain_text(tol["fixed4/none"]) == "none"
    assert tol["hwo8/none"]["censored"] and C.gain_text(tol["hwo8/none"]).startswith(">= ")
    media = {m["medium"]: m for m in C.media_table(list(tol.values()))}
    slc = media["fresh SLC NAND"]
    assert slc["raw_ber"] == 1e-8 and slc["fewest_bits"] == "fixed8/nulling"
    assert media["worn TLC NAND"]["tolerated_by"] == "none"
    assert "hwo8/none" in media["fresh TLC NAND"]["tolerated_by"]
    with pytest.raises(ParameterError, match="reference"):
        C.tolerable_ber(C.summarize(rows[4:8]))


def test_crossings_match_the_scalar_rule():
    bers = [1e-6, 1e-5, 1e-4]
    means = np.array([[0.9, 0.85, 0.91], [0.95, 0.95, 0.95], [0.7, 0.9, 0.9], [0.9, 0.9, 0.8]])
    grid, interp, censored = C.crossings(bers, means, clean=0.95, threshold=0.89)
    assert list(grid) == [1e-6, 1e-4, 0.0, 1e-5]
    assert interp[0] == pytest.approx(10 ** (-6 + 0.01 / 0.05))
    assert interp[3] == pytest.approx(10 ** (-5 + 0.01 / 0.1))
    assert list(censored) == [False, True, False, False]
    assert not C.crossings(bers, means, clean=0.8, threshold=0.89)[1].any()


def test_bootstrap_interval_of_a_rare_failure_mean_covers_the_truth():
    # trials fail (accuracy 0.1) with probability q, else 0.96: the rare-flip regime of float32
    q, n, reps = 0.02, 2000, 200
    truth = (1 - q) * 0.96 + q * 0.1
    rng = np.random.default_rng(1)
    covered, widths = 0, []
    for _ in range(reps):
        fail = rng.random(n) < q
        accs = np.where(fail, 0.1 + 0.02 * rng.random(n), 0.96 + 0.002 * rng.standard_normal(n))
        point = _row("float32", "none", 1e-6, accs, fail_below=0.95)
        boot = C.bootstrap_means(point, 1000, np.random.default_rng(0))
        lo, hi = np.quantile(boot, [0.025, 0.975])
        covered += lo <= truth <= hi
        widths.append(hi - lo)
    # 95% nominal: coverage below 88% over 200 repeats would have probability < 1e-3
    assert covered / reps > 0.88
    # the width is the binomial one: 2 * 1.96 * sqrt(q (1 - q) / n) * (0.96 - 0.1)
    assert np.mean(widths) == pytest.approx(2 * 1.96 * np.sqrt(q * (1 - q) / n) * 0.85, rel=0.15)
    clean = _row("float32", "none", 0.0, 0.96)
    assert (C.bootstrap_means(clean, 5, np.random.default_rng(0)) == 0.96).all()


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
    bers, trials = [1e-3, 0.3], 6
    kw = {"seed": 0, "chunk": 2}
    run = Run("t", {}, out=tmp_path / "a", seed=0)
    rows = C.run_campaign(model, x, y, configs, bers, trials, run=run, **kw)
    assert len(rows) == len(configs) * (1 + len(bers))
    clean = [r for r in rows if r["ber"] == 0]
    assert all(r["acc_sum"] == 1.0 and r["trials"] == 1 and r["flips"] == 0 for r in clean)
    # the user's model is never modified
    assert torch.equal(model[1].weight, torch.tensor([[-1.0] * 8, [1.0] * 8]))
    noisy = [r for r in rows if r["ber"] == 0.3]
    assert all(r["flips"] > 0 and r["trials"] == trials for r in noisy)
    assert all(r["nulled"] > 0 for r in noisy if r["protection"] == "nulling")
    again = C.run_campaign(model, x, y, configs, bers, trials, **kw)  # in-process, no run
    key = lambda r: (r["representation"], r["protection"], r["ber"])  # noqa: E731
    assert sorted(map(key, rows)) == sorted(map(key, again))
    by = {key(r): r for r in again}
    for r in rows:
        assert by[key(r)]["acc_sum"] == pytest.approx(r["acc_sum"])
        assert by[key(r)]["flips"] == r["flips"]
    resumed = Run("t", {}, out=tmp_path / "a", seed=0)
    calls = []

    def spy(params, rng, n, ctx):
        calls.append(params)
        return C.campaign_chunk(params, rng, n, ctx)

    ctx = C.CampaignContext(model, x, y)
    rule = C.stop_rule(trials, None, 2)
    resumed.montecarlo(spy, C.campaign_points(configs, bers), rule=rule, context=ctx)
    assert calls == []


def test_campaign_stops_at_min_failures_and_configs_share_flips():
    model, x, y = _tiny()
    configs = [("float32", "none"), ("float32", "range")]
    # at 0.3 nearly every float32 trial fails: the point stops at the first chunk prefix with
    # 3 failures (chunks of 2 trials); the range check keeps trials alive, so it runs longer
    rows = C.run_campaign(model, x, y, configs, [0.3], 40, min_failures=3, chunk=2, seed=0)
    by = {r["protection"]: r for r in rows if r["ber"] > 0}
    assert by["none"]["failures"] >= 3 and by["none"]["trials"] <= 6
    assert by["none"]["stopped"] == "min_errors"
    # common random numbers: both configurations flip the same bits (float32 words, same width)
    few = C.run_campaign(model, x, y, configs, [1e-2], 4, chunk=2, seed=0)
    flips = {r["protection"]: r["flips"] for r in few if r["ber"] > 0}
    assert flips["none"] == flips["range"] > 0


def test_report_does_not_draw_configs_without_tolerable_ber(tmp_path):
    rows = [
        _row("float32", "none", 0.0, 0.90),
        _row("float32", "none", 1e-6, [0.90, 0.89, 0.90]),
        _row("float32", "none", 1e-5, [0.85, 0.5, 0.86]),
        _row("fixed4", "none", 0.0, 0.80),
        _row("fixed4", "none", 1e-6, [0.80, 0.8, 0.79]),
        _row("fixed4", "none", 1e-5, [0.80, 0.8, 0.79]),
    ]
    drawn = {}

    def plot(rows, x, y, path, **kw):
        drawn[path.name] = list(rows)
        return path

    class Sec:
        def __init__(self):
            self.captions = []

        def image(self, path, caption=""):
            self.captions.append(caption)

        def table(self, *a, **k):
            pass

    from noisyhw.experiments.storage import report_campaign  # plots live in experiments/

    sec = Sec()
    report_campaign(sec, tmp_path, rows, plot=plot)
    tol_rows = drawn["storage_tolerable_vs_bits.png"]
    assert [r["config"] for r in tol_rows] == ["float32/none"]
    assert all(r["tolerable_ber_interp"] > 0 for r in tol_rows)
    assert any("fixed4/none" in c for c in sec.captions)


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


@pytest.mark.parametrize(
    "extra",
    [["--margin", "-1"], ["--margin", "nan"], ["--workers", "0"], ["--min-failures", "2"]],
)
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
