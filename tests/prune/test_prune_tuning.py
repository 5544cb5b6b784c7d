"""Validation-split tuning and seed summaries of ``noisyhw prune sweep`` (issue 20)."""

import json

import numpy as np
import pytest
from scipy import stats

from noisyhw.cli import main
from noisyhw.experiments import prune as P
from noisyhw.stats import mean_ci


def test_mean_ci_is_the_student_t_interval():
    x = [0.81, 0.79, 0.84]
    m, lo, hi = mean_ci(x)
    ref = stats.t.interval(0.95, 2, loc=np.mean(x), scale=stats.sem(x))
    assert m == pytest.approx(np.mean(x))
    assert (lo, hi) == pytest.approx(ref)
    assert mean_ci([0.5])[0] == 0.5 and np.isnan(mean_ci([0.5])[1])  # one seed: no interval


def test_tuning_grid_best_knob_and_final_trials():
    grids = {"reweighted": [1e-3, 1e-2], "admm": [0.1]}
    tune = P.tuning_trials(["filter"], [0.6], ["reweighted", "magnitude", "admm"], grids, 0)
    assert len(tune) == 3 and all(t["stage"] == "tune" for t in tune)
    assert {t.get("lam") for t in tune if t["method"] == "reweighted"} == {1e-3, 1e-2}
    acc = {1e-3: 0.7, 1e-2: 0.8}
    rows = [{**t, "accuracy": acc.get(t.get("lam"), 0.5)} for t in tune]
    best = P.best_knobs(rows)
    assert best[("filter", 0.6, "reweighted")] == {"lam": 1e-2}
    assert best[("filter", 0.6, "admm")] == {"rho": 0.1}
    final = P.final_trials(["filter"], [0.6], ["reweighted", "magnitude"], [0, 1, 2], best)
    assert len(final) == 6
    assert all(f["lam"] == 1e-2 for f in final if f["method"] == "reweighted")
    assert all("lam" not in f for f in final if f["method"] == "magnitude")
    # ties go to the smaller value
    tie = [{**t, "accuracy": 0.5} for t in tune]
    assert P.best_knobs(tie)[("filter", 0.6, "reweighted")] == {"lam": 1e-3}


def test_summary_over_seeds():
    rows = [
        {
            "structure": "filter",
            "sparsity": 0.6,
            "method": "reweighted",
            "lam": 0.01,
            "accuracy": a,
            "pruned_energy": 0.1,
        }
        for a in (0.8, 0.82, 0.84)
    ]
    (s,) = P.summarize_seeds(rows)
    assert s["seeds"] == 3 and s["accuracy"] == pytest.approx(0.82)
    assert s["acc_lo"] < 0.82 < s["acc_hi"] and s["knob"] == "lam=0.01"


def test_validation_split_is_disjoint_from_training():
    ctx = P.trial_context("digits", "mlp", n_train=200, n_test=100, epochs=1, n_val=50)
    tr, va = ctx["train"].x.flatten(1), ctx["val"].x.flatten(1)
    assert len(tr) == 200 and len(va) == 50
    # digits has a few duplicate images; compare rows by index in the pooled permutation instead
    same = (tr[:, None, :] == va[None, :, :]).all(-1)
    assert same.sum() <= 2


def test_sweep_tunes_on_validation_and_summarises_seeds(tmp_path):
    out = tmp_path / "run"
    args = [
        "prune", "sweep", "--dataset", "digits", "--model", "small_cnn", "--width", "4",
        "--structures", "filter", "--sparsities", "0.5", "--methods", "reweighted,magnitude",
        "--optimizer", "sgd", "--lr", "0.05", "--epochs", "2", "--n-train", "200",
        "--n-val", "100", "--n-test", "100", "--tune-lam", "1e-3,1e-2", "--seeds", "2",
        "--out", str(out), "--quiet",
    ]  # fmt: skip
    assert main(args) == 0
    res = json.loads((out / "results.json").read_text())
    assert len(res["tuning"]) == 2 and all(r["stage"] == "tune" for r in res["tuning"])
    assert len(res["rows"]) == 4 and {r["seed"] for r in res["rows"]} == {0, 1}
    chosen = P.best_knobs(res["tuning"])[("filter", 0.5, "reweighted")]["lam"]
    assert all(r["lam"] == chosen for r in res["rows"] if r["method"] == "reweighted")
    assert {s["method"] for s in res["summary"]} == {"reweighted", "magnitude"}
    (pair,) = res["paired"]
    acc = {(r["method"], r["seed"]): r["accuracy"] for r in res["rows"]}
    diffs = [acc[("reweighted", s)] - acc[("magnitude", s)] for s in (0, 1)]
    assert pair["seeds"] == 2 and pair["diff"] == pytest.approx(sum(diffs) / 2)
    assert res["config"]["optimizer"] == "sgd"
    assert main(args) == 0  # resumes


@pytest.mark.parametrize(
    "extra",
    [
        ["--tune-lam", "1e-3"],  # a grid needs a validation split
        ["--optimizer", "rmsprop"],
        ["--seeds", "0"],
        ["--n-val", "-1"],
        ["--tune-lam", "1e-3,-1", "--n-val", "10"],
    ],
)
def test_bad_tuning_input(extra, tmp_path, capsys):
    out = tmp_path / "x"
    assert main(["prune", "sweep", "--dataset", "digits", *extra, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")
    assert not out.exists()
