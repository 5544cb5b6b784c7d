"""Seeded chunked Monte-Carlo: chunk seeding, the prefix stopping rule, order independence,
closed-form BPSK error rates, resume mid-point, worker processes."""

import math
import random

import numpy as np
import pytest
import scale_trials as st
from scipy.stats import norm

from noisyhw.cli.sweep import run_status
from noisyhw.errors import ParameterError
from noisyhw.sweep import LocalExecutor, Run, TrialError
from noisyhw.sweep.montecarlo import (
    ChunkLog,
    StopRule,
    bpsk_chunk,
    chunk_rng,
    clopper_pearson,
    point_stream,
    simulate,
    simulate_all,
)


class ShuffledExecutor:
    """In-process executor that keeps ``workers`` chunks in flight and finishes them in a random
    order: later chunks often finish before earlier ones, as on a real cluster."""

    def __init__(self, workers, seed=0):
        self.workers = workers
        self.rand = random.Random(seed)
        self.ran = []

    def run(self, fn, items, context):
        it = iter(items)
        flight = []
        while True:
            while len(flight) < self.workers:
                nxt = next(it, None)
                if nxt is None:
                    break
                flight.append(nxt)
            if not flight:
                return
            idx, params = flight.pop(self.rand.randrange(len(flight)))
            self.ran.append(params["chunk"])
            yield idx, fn(params, context)


class Interrupt:
    """In-process executor that dies (like a killed driver) after ``after`` results."""

    def __init__(self, after):
        self.after = after
        self.pulled = []

    def run(self, fn, items, context):
        for k, (idx, params) in enumerate(items):
            self.pulled.append((params["stream"], params["chunk"]))
            if k == self.after:
                raise KeyboardInterrupt("simulated kill")
            yield idx, fn(params, context)


def sequential_reference(fn, params, seed, rule):
    """What a single process does: chunks 0, 1, ... in order, stop at the first prefix that
    meets the rule."""
    totals, frames = {}, 0
    for i in range(rule.max_chunks):
        n = min(rule.chunk_size, rule.max_frames - i * rule.chunk_size)
        res = fn(params, chunk_rng(seed, i, point_stream(params)), n, None)
        for k, v in res.items():
            totals[k] = totals.get(k, 0) + v
        frames += n
        if rule.min_errors is not None and totals[rule.error_key] >= rule.min_errors:
            return totals, frames, i + 1, "min_errors"
    return totals, frames, rule.max_chunks, "max_frames"


def test_chunk_rng_is_the_spawned_child_addressed_directly():
    for seed, stream, i in [(0, 0, 0), (7, 123456789012345, 5), (2**40, 3, 17)]:
        child = np.random.SeedSequence(seed, spawn_key=(stream,)).spawn(i + 1)[i]
        assert np.array_equal(
            chunk_rng(seed, i, stream).random(8), np.random.default_rng(child).random(8)
        )
    assert not np.array_equal(chunk_rng(0, 0).random(4), chunk_rng(0, 1).random(4))
    assert not np.array_equal(chunk_rng(0, 0).random(4), chunk_rng(1, 0).random(4))
    assert point_stream({"a": 1, "b": 2}) == point_stream({"b": 2, "a": 1})


@pytest.mark.parametrize(
    ("p", "chunk", "min_errors", "max_frames"),
    [(0.02, 100, 30, 100_000), (0.001, 250, 5, 2_000), (0.3, 64, 1000, 1_000), (0.05, 7, None, 99)],
)
def test_stop_rule_equals_sequential_single_process(p, chunk, min_errors, max_frames):
    rule = StopRule(chunk_size=chunk, min_errors=min_errors, max_frames=max_frames)
    params = {"p": p}
    totals, frames, k, stopped = sequential_reference(st.coin_chunk, params, 5, rule)
    row = simulate(st.coin_chunk, params, seed=5, rule=rule)
    assert {k2: row[k2] for k2 in totals} == totals
    assert (row["frames"], row["chunks"], row["stopped"]) == (frames, k, stopped)
    assert row["error_rate"] == totals["errors"] / frames
    # the same when chunks finish out of order with up to 2, 5 or 16 in flight
    for workers in (2, 5, 16):
        ex = ShuffledExecutor(workers, seed=workers)
        assert simulate(st.coin_chunk, params, seed=5, rule=rule, executor=ex) == row
        if stopped == "min_errors" and workers == 16:
            assert max(ex.ran) >= k  # speculative chunks past the prefix ran and were dropped


def test_other_seed_other_result():
    rule = StopRule(chunk_size=1000, min_errors=None, max_frames=5000)
    a = simulate(st.coin_chunk, {"p": 0.1}, seed=1, rule=rule)
    b = simulate(st.coin_chunk, {"p": 0.1}, seed=2, rule=rule)
    assert a["errors"] != b["errors"]


@pytest.mark.parametrize(("ebn0", "k"), [(0.0, 1), (4.0, 1), (2.0, 4)])
def test_bpsk_error_rates_match_closed_form(ebn0, k):
    # fixed sample size: errors ~ Binomial(n, P); accept within 4.5 sigma (false alarm ~ 1e-5)
    n = 200_000
    rule = StopRule(chunk_size=20_000, min_errors=None, max_frames=n)
    row = simulate(bpsk_chunk, {"ebn0_db": ebn0, "k": k}, seed=11, rule=rule)
    ber = norm.sf(math.sqrt(2 * 10 ** (ebn0 / 10)))
    fer = 1 - (1 - ber) ** k
    assert abs(row["errors"] - n * fer) < 4.5 * math.sqrt(n * fer * (1 - fer))
    nb = n * k
    assert abs(row["bit_errors"] - nb * ber) < 4.5 * math.sqrt(nb * ber * (1 - ber))
    assert row["ci_low"] < fer < row["ci_high"]


def test_min_errors_estimate_is_close_to_truth_on_average():
    # sequential sampling has bias O(1/min_errors): over 40 seeds the mean estimate of p with
    # min_errors=50 must be within 4 standard errors (+ the 2% bias allowance) of p
    p, rule = 0.01, StopRule(chunk_size=500, min_errors=50, max_frames=10**6)
    est = [simulate(st.coin_chunk, {"p": p}, seed=s, rule=rule)["error_rate"] for s in range(40)]
    se = np.std(est, ddof=1) / math.sqrt(len(est))
    assert abs(np.mean(est) - p) < 4 * se + 0.02 * p


def test_clopper_pearson_against_known_values():
    lo, hi = clopper_pearson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / 10))
    lo, hi = clopper_pearson(10, 10)
    assert hi == 1.0 and lo == pytest.approx(0.025 ** (1 / 10))


def test_sweep_resumes_mid_point_with_the_same_numbers(tmp_path):
    rule = StopRule(chunk_size=200, min_errors=40, max_frames=50_000)
    points = [{"p": 0.02}, {"p": 0.005}]
    ref = Run("mc", {"r": 1}, out=tmp_path / "ref", seed=3).montecarlo(
        st.coin_chunk, points, rule=rule
    )
    run = Run("mc", {"r": 1}, out=tmp_path / "cut", seed=3)
    with pytest.raises(KeyboardInterrupt):
        run.montecarlo(st.coin_chunk, points, rule=rule, executor=Interrupt(after=9))
    run.store.close()
    log = ChunkLog(tmp_path / "cut" / "mc_chunks.sqlite")
    logged = {(point_stream(p), i) for p in points for i in log.load(ChunkLog.point_key(p, 3, 200))}
    log.close()
    assert len(logged) == 9
    status = run_status(tmp_path / "cut")  # what `noisyhw sweep status` shows mid-run
    open_points = status["mc_open_points"]
    assert status["mc_chunks"] == 9 and open_points
    assert sum(p["chunks"] for p in open_points) + sum(r["chunks"] for r in status["rows"]) == 9
    assert all(p["errors"] < rule.min_errors for p in open_points)
    resumed = Interrupt(after=10**9)
    run2 = Run("mc", {"r": 1}, out=tmp_path / "cut", seed=3)
    rows = run2.montecarlo(st.coin_chunk, points, rule=rule, executor=resumed)
    assert rows == ref
    # nothing logged runs again, nothing is missing
    assert not logged & set(resumed.pulled)
    assert len(resumed.pulled) == ref[0]["chunks"] + ref[1]["chunks"] - 9


def test_worker_processes_give_identical_results(tmp_path):
    rule = StopRule(chunk_size=300, min_errors=25, max_frames=30_000)
    points = [{"p": 0.03}, {"p": 0.004}, {"p": 0.5}]
    one = Run("mc", {}, out=tmp_path / "a", seed=9).montecarlo(st.coin_chunk, points, rule=rule)
    two = Run("mc", {}, out=tmp_path / "b", seed=9).montecarlo(
        st.coin_chunk, points, rule=rule, executor=LocalExecutor(2)
    )
    assert one == two
    assert [r["stopped"] for r in one] == ["min_errors"] * 3


def test_bad_input():
    with pytest.raises(ParameterError, match="chunk_size"):
        StopRule(chunk_size=0)
    with pytest.raises(ParameterError, match="min_errors"):
        StopRule(min_errors=0)
    with pytest.raises(ParameterError, match="error_key"):
        simulate(st.coin_chunk, {"p": 0.1}, seed=0, rule=StopRule(100, 5, 1000, "nope"))
    with pytest.raises(TrialError, match="must be a number"):
        simulate(_bad_chunk, {}, seed=0, rule=StopRule(10, 1, 100))
    with pytest.raises(ParameterError, match="seed"):
        simulate(st.coin_chunk, {"p": 0.1}, seed=-1, rule=StopRule(10, 1, 100))


def _bad_chunk(params, rng, n, context):
    return {"errors": "three"}


def test_stream_keys_give_common_random_numbers():
    """Points that differ only outside ``stream_keys`` see the same frames; others do not."""
    rule = StopRule(chunk_size=500, min_errors=None, max_frames=3000)
    pts = [{"p": 0.1, "tag": "a"}, {"p": 0.1, "tag": "b"}, {"p": 0.2, "tag": "a"}]
    paired = simulate_all(st.coin_chunk, pts, seed=3, rule=rule, stream_keys=("p",))
    assert paired[0] == paired[1] and paired[0] != paired[2]
    unpaired = simulate_all(st.coin_chunk, pts, seed=3, rule=rule)
    assert unpaired[0]["errors"] != unpaired[1]["errors"]
    assert unpaired[0] == simulate(st.coin_chunk, pts[0], seed=3, rule=rule)
    with pytest.raises(ParameterError, match="stream_keys"):
        simulate_all(st.coin_chunk, pts, seed=3, rule=rule, stream_keys=("q",))


def test_local_pool_prefetch_keeps_results_and_validates():
    rule = StopRule(chunk_size=300, min_errors=20, max_frames=30_000)
    one = simulate(st.coin_chunk, {"p": 0.01}, seed=2, rule=rule)
    for prefetch in (0, 3):
        ex = LocalExecutor(2, prefetch=prefetch)
        assert simulate(st.coin_chunk, {"p": 0.01}, seed=2, rule=rule, executor=ex) == one
    with pytest.raises(ParameterError, match="prefetch"):
        LocalExecutor(2, prefetch=-1)


def test_worker_processes_cap_threads_for_libraries_imported_later():
    ex = LocalExecutor(2, threads_per_worker=1)
    out = dict(ex.run(st.thread_info, [(i, {}) for i in range(4)], None))
    assert all(r == {"torch": 1, "omp": "1"} for r in out.values()), out
