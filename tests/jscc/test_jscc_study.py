"""The study pipeline: resumable, seeded, gain interpolation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from noisyhw.codes.text import ALPHABETS
from noisyhw.errors import ParameterError
from noisyhw.experiments.jscc import TextStudy, build_dictionary, fer_gain_db, normalize, run_study
from noisyhw.sweep import Run

TEXT = normalize("The cat sat on the mat; the dog -- sat on the log! " * 60)


def test_gain_interpolation():
    rows = [{"scheme": "a", "ebn0_db": x, "fer": 10**-x} for x in (1.0, 2.0, 3.0)]
    rows += [{"scheme": "b", "ebn0_db": x, "fer": 10 ** -(x - 0.5)} for x in (1.0, 2.0, 3.0)]
    assert fer_gain_db(rows, "a", "b", 1e-2) == pytest.approx(0.5)
    assert fer_gain_db(rows, "a", "b", 1e-6) is None


def test_study_seeded_and_resumable(tmp_path):
    trie = build_dictionary("in-domain", TEXT)
    bits = ALPHABETS["a27"].text_to_bits(TEXT)
    study = TextStudy(bits, trie, n=64, k=30, crc="crc6", list_size=4, streams=4, blocks=3)
    run = Run("t", {"x": 1}, out=tmp_path / "r", seed=0)
    rows, _ = run_study(run, study, ["cascl", "joint"], [0.0, 2.0], 1, title="t")
    run.finish(rows)
    assert len(rows) == 4 and all(r["frames"] == 12 for r in rows)
    assert (tmp_path / "r" / "jscc_fer.png").exists()
    run2 = Run("t", {"x": 1}, out=tmp_path / "r", seed=0)
    rows2, _ = run_study(
        run2,
        TextStudy(bits, trie, n=64, k=30, crc="crc6", list_size=4, streams=4, blocks=3),
        ["cascl", "joint"],
        [0.0, 2.0],
        1,
        title="t",
    )
    assert [r["frame_errors"] for r in rows] == [r["frame_errors"] for r in rows2]


def test_study_bad_input():
    trie = build_dictionary("in-domain", TEXT)
    bits = ALPHABETS["a27"].text_to_bits(TEXT)
    with pytest.raises(ParameterError):
        TextStudy(bits, trie, k=121)
    with pytest.raises(ParameterError):
        build_dictionary("in-domain", "")
    with pytest.raises(ParameterError):
        TextStudy(bits, trie, n=64, k=30).decoder("nope")
    assert np.all(bits < 2)


def _exact_bootstrap_quantiles(errors, frames, levels):
    """Quantiles of the exact block-bootstrap distribution of sum(errors) / sum(frames): every
    multiset of U units drawn with replacement, with its multinomial probability (small U)."""
    from collections import Counter
    from itertools import combinations_with_replacement

    U = len(errors)
    atoms = []
    for draw in combinations_with_replacement(range(U), U):
        ways = math.factorial(U)
        for c in Counter(draw).values():
            ways //= math.factorial(c)
        ratio = sum(errors[i] for i in draw) / sum(frames[i] for i in draw)
        atoms.append((ratio, ways / U**U))
    atoms.sort()
    values = np.array([r for r, _ in atoms])
    cdf = np.cumsum([w for _, w in atoms])
    return [float(values[np.searchsorted(cdf, q)]) for q in levels]


def test_rows_carry_fer_intervals(tmp_path):
    """The FER, its Clopper-Pearson interval and its block-bootstrap interval against
    independent references: exact binomial quantiles (scipy's beta), the exact bootstrap
    distribution over the 6 text positions, and the two ends of the Eb/N0 range, where every
    frame fails (-8 dB) or none does (12 dB) and the interval has a closed form."""
    from scipy.stats import beta

    from noisyhw.experiments.jscc import fer_replicates

    trie = build_dictionary("in-domain", TEXT)
    bits = ALPHABETS["a27"].text_to_bits(TEXT)
    study = TextStudy(bits, trie, n=64, k=30, crc="crc6", list_size=2, streams=6, blocks=3)
    run = Run("t", {}, out=tmp_path / "ci", seed=1)
    rows, _ = run_study(run, study, ["scl"], [-8.0, 0.0, 12.0], 1, title="t")
    worst, mid, best = rows
    frames = 18
    assert [r["frames"] for r in rows] == [frames] * 3
    tail = 0.025 ** (1 / frames)  # Clopper-Pearson at 0 or at all errors out of 18
    assert worst["frame_errors"] == frames and worst["fer"] == 1.0
    assert worst["fer_ci_low"] == pytest.approx(tail) and worst["fer_ci_high"] == 1.0
    assert best["frame_errors"] == 0 and best["fer"] == 0.0
    assert best["fer_ci_low"] == 0.0 and best["fer_ci_high"] == pytest.approx(1 - tail)
    fe = mid["frame_errors"]
    assert 0 < fe < frames and mid["fer"] == fe / frames
    cp = (beta.ppf(0.025, fe, frames - fe + 1), beta.ppf(0.975, fe + 1, frames - fe))
    assert (mid["fer_cp_low"], mid["fer_cp_high"]) == pytest.approx(cp)
    # the bootstrap: its percentile interval from the replicates, against the exact bootstrap
    # distribution of this point's units (2000 replicates: within +-1.3% of the level)
    raw = [r for r in run.store.rows() if r["ebn0_db"] == 0.0]
    (trial,) = raw
    errs, per = trial["stream_frame_errors"], [3] * len(trial["stream_frame_errors"])
    reps = fer_replicates(run.store.rows(), seed=1)[("scl", 0.0)]
    lo, hi = np.nanquantile(reps, [0.025, 0.975])
    q = _exact_bootstrap_quantiles(errs, per, [0.012, 0.025, 0.038, 0.962, 0.975, 0.988])
    assert q[0] <= lo <= q[2] and q[3] <= hi <= q[5], (lo, hi, q)
    # the row's interval is the union of the two
    assert mid["fer_ci_low"] == pytest.approx(min(lo, cp[0]))
    assert mid["fer_ci_high"] == pytest.approx(max(hi, cp[1]))


def test_bootstrap_interval_covers_ratio_and_narrows():
    from noisyhw.experiments.jscc import bootstrap_ratio_ci

    rng = np.random.default_rng(0)
    counts = rng.integers(50, 100, size=400)
    errors = rng.binomial(counts, 0.1)
    lo, hi = bootstrap_ratio_ci(errors, counts)
    ratio = errors.sum() / counts.sum()
    assert lo < ratio < hi and hi - lo < 0.02
    lo4, hi4 = bootstrap_ratio_ci(errors[:40], counts[:40])
    assert hi4 - lo4 > hi - lo  # ten times fewer streams: a wider interval
    assert bootstrap_ratio_ci(errors, counts) == (lo, hi)  # seeded
    assert bootstrap_ratio_ci([], []) == (0.0, 0.0)


def test_rows_carry_wer_cer_intervals(tmp_path):
    trie = build_dictionary("in-domain", TEXT)
    bits = ALPHABETS["a27"].text_to_bits(TEXT)
    study = TextStudy(bits, trie, n=64, k=30, crc="crc6", list_size=2, streams=6, blocks=3)
    rows, _ = run_study(
        Run("t", {}, out=tmp_path / "w", seed=1), study, ["scl"], [0.0], 1, title="t"
    )
    (r,) = rows
    assert r["word_errors"] > 0
    assert r["wer_ci_low"] <= r["wer"] <= r["wer_ci_high"] and r["wer_ci_high"] > r["wer_ci_low"]
    assert r["cer_ci_low"] <= r["cer"] <= r["cer_ci_high"]


def _stream_rows(curves, units, blocks, rng, cluster=False):
    """Synthetic trial rows: per scheme and Eb/N0 one trial over ``units`` text positions of
    ``blocks`` frames. ``cluster``: a position's frames fail together (all or none)."""
    rows = []
    for scheme, fer_of in curves.items():
        for x in (1.0, 1.5, 2.0, 2.5, 3.0):
            p = fer_of(x)
            clustered = blocks * (rng.random(units) < p)
            errs = clustered if cluster else rng.binomial(blocks, p, size=units)
            rows.append(
                {
                    "scheme": scheme,
                    "ebn0_db": x,
                    "frames": units * blocks,
                    "frame_errors": int(errs.sum()),
                    "fer": errs.sum() / (units * blocks),
                    "stream_positions": list(range(units)),
                    "stream_frame_errors": [int(e) for e in errs],
                }
            )
    return rows


def test_block_bootstrap_widens_for_correlated_streams():
    from noisyhw.experiments.jscc import fer_replicates
    from noisyhw.sweep.montecarlo import clopper_pearson

    rng = np.random.default_rng(3)
    curves = {"a": lambda x: 0.05}
    for cluster, ratio in ((False, 1.0), (True, np.sqrt(8))):
        rows = _stream_rows(curves, 2000, 8, rng, cluster=cluster)
        reps = fer_replicates(rows, n_boot=2000, seed=0)
        r = rows[0]
        lo, hi = np.quantile(reps[("a", 1.0)], [0.025, 0.975])
        cp_lo, cp_hi = clopper_pearson(r["frame_errors"], r["frames"])
        # independent frames: the bootstrap matches Clopper-Pearson; a stream's frames failing
        # together: the variance is 8x (the design effect of clusters of 8), width sqrt(8)x
        assert (hi - lo) / (cp_hi - cp_lo) == pytest.approx(ratio, rel=0.15)
    # the same draw for every key: identical inputs give identical replicates
    rows = _stream_rows({"a": lambda x: 0.05, "b": lambda x: 0.05}, 50, 2, rng)
    rows[5] = dict(rows[0], scheme="b")
    reps = fer_replicates(rows)
    assert np.array_equal(reps[("a", 1.0)], reps[("b", 1.0)])
    # a point that decoded other streams (more chunks at low FER): its own units only
    more = dict(rows[1], stream_positions=list(range(50, 100)), frames=100)
    more["stream_frame_errors"] = [1] * 50
    reps = fer_replicates([rows[0], more])
    assert np.nanmean(reps[("a", 1.5)]) == pytest.approx(0.5)
    assert np.nanmean(reps[("a", 1.0)]) == pytest.approx(rows[0]["fer"], rel=0.1)


def test_gain_interval_covers_a_known_shift_and_narrows():
    from noisyhw.experiments.jscc import fer_replicates, gain_interval, gain_table

    curves = {"cascl": lambda x: 10 ** (-(x - 0.5)), "joint": lambda x: 10 ** (-x)}
    widths = []
    for units in (200, 3000):
        rows = _stream_rows(curves, units, 8, np.random.default_rng(units))
        reps = fer_replicates(rows, n_boot=1000)
        lo, hi, frac = gain_interval(reps, "joint", "cascl", 1e-2)
        assert frac >= 0.95 and lo < 0.5 < hi
        widths.append(hi - lo)
        assert fer_gain_db(rows, "joint", "cascl", 1e-2) == pytest.approx(0.5, abs=hi - lo)
    assert widths[1] < widths[0] / 2  # 15x the streams: about a quarter of the width
    table = gain_table(rows, reps, ["joint"], targets=(1e-2, 1e-5))
    by = {(g["where"], g["target_fer"]): g for g in table}
    assert by[("target", 1e-5)]["gain_db"] is None and by[("target", 1e-5)]["ci_low"] is None
    (top,) = [g for g in table if g["where"] == "max"]
    assert top["gain_db"] >= by[("target", 0.01)]["gain_db"] and top["ci_low"] is not None


def test_penalty_tuned_on_validation_split(tmp_path):
    from noisyhw.experiments.jscc import load_text, tune_penalty

    path = tmp_path / "prose.txt"
    rng = np.random.default_rng(5)
    words = ["".join(rng.choice(list("abcdefghij"), 6)) for _ in range(2000)]
    path.write_text(" ".join(words))
    fit, val, test = (load_text(str(path), s) for s in ("fit", "val", "test"))
    train = load_text(str(path), "train")
    # val = the last ninth of train, fit = the rest; test is disjoint from both
    assert train.startswith(fit) and train.endswith(val)
    assert abs(len(val) - len(train) / 9) < 10 and val[20:60] not in fit
    assert test[20:60] not in train
    best, table = tune_penalty(
        tmp_path / "tune", str(path), "in-domain", [2.0, 8.0], [1.0], 1,
        n=64, k=30, crc="crc6", list_size=2, streams=4, blocks=3,
    )  # fmt: skip
    assert best in (2.0, 8.0) and [t["penalty"] for t in table] == [2.0, 8.0]
    assert all(t["frames"] == 12 for t in table)
    with pytest.raises(ParameterError):
        tune_penalty(tmp_path / "t2", str(path), "in-domain", [0.0], [1.0], 1)
