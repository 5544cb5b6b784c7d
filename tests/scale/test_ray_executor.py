"""Ray backend on a real local Ray cluster (2 CPUs on loopback): same results as the local
executor, context shared through the object store, failures, a killed driver resumed."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

try:
    import ray
except ImportError:  # skipped loudly (reason shown by -rs, a line in the summary); fails on CI
    RAY_MISSING = (
        "Ray is not installed: the 7 Ray tests need `pip install -e .[ray]` (make test has it)"
    )
    if os.environ.get("CI"):
        pytest.fail(f"{RAY_MISSING}; CI is set, so this is an error", pytrace=False)
    pytest.skip(RAY_MISSING, allow_module_level=True)

import scale_trials as st

from noisyhw.sweep import (
    LocalExecutor,
    Run,
    StopRule,
    TrialError,
    make_executor,
    trial_key,
)
from noisyhw.sweep.ray_executor import RayExecutor

HERE = Path(__file__).parent
SRC = HERE.parent.parent / "src"


@pytest.fixture(scope="module")
def cluster():
    """A 2-CPU local Ray cluster whose workers can import noisyhw and the test helpers."""
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), str(HERE), old) if p)
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        _node_ip_address="127.0.0.1",
    )
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()
    if old is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = old


class Recording:
    """Wraps an executor and records the trials it was asked to run."""

    def __init__(self, inner):
        self.inner = inner
        self.items = []

    def run(self, fn, items, context):
        items = list(items)
        self.items.extend(items)
        yield from self.inner.run(fn, items, context)


def test_sweep_equals_local_and_context_is_fetched_once_per_worker(cluster, tmp_path):
    context = {"weights": np.linspace(0.0, 1.0, 200_000)}
    trials = [{"seed": s, "scale": sc} for s in range(6) for sc in (0.1, 1.0)]
    local = Run("t", {}, out=tmp_path / "local").sweep(st.noisy_mean, trials, context=context)
    on_ray = Run("t", {}, out=tmp_path / "ray").sweep(
        st.noisy_mean, trials, context=context, executor=make_executor("ray", address=cluster)
    )
    assert [r["mean"] for r in on_ray] == [r["mean"] for r in local]
    assert [(r["seed"], r["scale"]) for r in on_ray] == [(t["seed"], t["scale"]) for t in trials]
    # one context object per worker process, reused by all of that worker's trials
    per_pid = {}
    for r in on_ray:
        per_pid.setdefault(r["pid"], set()).add(r["ctx"])
    assert all(len(ids) == 1 for ids in per_pid.values())
    assert os.getpid() not in per_pid  # trials really ran in Ray workers


def test_montecarlo_on_ray_equals_one_and_several_local_workers(cluster, tmp_path):
    rule = StopRule(chunk_size=400, min_errors=30, max_frames=40_000)
    points = [{"p": 0.02, "jitter": 0.05}, {"p": 0.002, "jitter": 0.02}, {"p": 0.3}]
    local = Run("mc", {}, out=tmp_path / "a", seed=4).montecarlo(st.coin_chunk, points, rule=rule)
    on_ray = Run("mc", {}, out=tmp_path / "b", seed=4).montecarlo(
        st.coin_chunk, points, rule=rule, executor=RayExecutor(workers=4)
    )
    assert on_ray == local
    assert [r["stopped"] for r in local] == ["min_errors"] * 3


def test_polar_simulation_on_ray_equals_local_workers(cluster, tmp_path):
    from noisyhw.codes.polar.simulate import SimulationConfig, simulate

    cfg = SimulationConfig(n=128, k=64, crc="crc8", frames_per_chunk=200, seed=6)
    specs = [("sc", 1), ("cascl", 4)]
    kw = {"min_errors": 25, "max_frames": 4000}
    keys = ("decoder", "ebn0_db", "frames", "frame_errors", "bit_errors", "fer_ci_high")

    def numbers(rows):
        return [[r[k] for k in keys] for r in rows]

    one = simulate(cfg, specs, [1.5, 2.5], **kw)
    two = simulate(cfg, specs, [1.5, 2.5], workers=2, **kw)
    run = Run("polar simulate", {}, out=tmp_path / "ray", seed=6)
    on_ray = simulate(cfg, specs, [1.5, 2.5], run=run, executor=RayExecutor(), **kw)
    assert numbers(on_ray) == numbers(one) == numbers(two)
    assert all(r["frame_errors"] >= 25 or r["frames"] == 4000 for r in one)


def test_failing_trial_stops_the_sweep_and_keeps_finished_ones(cluster, tmp_path):
    run = Run("t", {}, out=tmp_path)
    trials = [{"x": x, "boom": x == 3, "sleep": 0.0} for x in range(6)]
    with pytest.raises(TrialError, match="simulated crash"):
        run.sweep(st.slow_square, trials, executor=RayExecutor(workers=1))
    assert {r["x"] for r in run.store.rows()} == {0, 1, 2}


def test_killed_driver_resumes_without_loss_or_duplicates(cluster, tmp_path):
    sys.path.insert(0, str(HERE))
    from sweep_driver_script import TRIALS

    out = tmp_path / "run"
    env = dict(os.environ, NOISYHW_QUIET="1")
    driver = subprocess.Popen(
        [sys.executable, str(HERE / "sweep_driver_script.py"), str(out), cluster],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    t0 = time.monotonic()
    db = out / "trials.sqlite"
    stored = 0
    deadline = time.monotonic() + 150  # generous: a loaded machine starts the driver slowly
    try:
        while time.monotonic() < deadline and driver.poll() is None:
            if db.exists():
                try:
                    con = sqlite3.connect(db, timeout=1)
                    stored = con.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
                    con.close()
                except sqlite3.OperationalError:
                    stored = 0
                if stored >= 3:
                    break
            time.sleep(0.05)
    finally:
        if driver.poll() is None:
            os.kill(driver.pid, signal.SIGKILL)
        log = driver.communicate()[0].decode(errors="replace")
    print(f"driver killed after {time.monotonic() - t0:.1f} s with {stored} trials stored")
    assert 3 <= stored < len(TRIALS), log
    con = sqlite3.connect(db)
    before = {k for (k,) in con.execute("SELECT key FROM trials")}
    con.close()

    ex = Recording(RayExecutor(workers=2))
    rows = Run("toy ray", {"n": len(TRIALS)}, out=out, seed=0).sweep(
        st.slow_square, TRIALS, executor=ex
    )
    rerun = {trial_key(p) for _, p in ex.items}
    assert not rerun & before  # nothing stored is run again
    assert len(rerun) + len(before) == len(TRIALS)  # nothing is lost
    assert [r["x"] for r in rows] == list(range(len(TRIALS)))
    assert [r["y"] for r in rows] == [x * x for x in range(len(TRIALS))]


def test_local_and_ray_executors_share_the_protocol(cluster):
    trials = list(enumerate([{"x": x, "sleep": 0.0} for x in range(5)]))
    a = dict(LocalExecutor(1).run(st.slow_square, trials, None))
    b = dict(RayExecutor(workers=3).run(st.slow_square, trials, None))
    assert a == b


def test_cli_executor_ray_gives_the_local_numbers(cluster, tmp_path):
    from noisyhw.cli import main

    args = ["sweep", "bpsk", "--ebn0", "1,4", "--chunk-size", "3000", "--min-errors", "50"]
    assert main([*args, "--out", str(tmp_path / "l"), "--quiet"]) == 0
    assert (
        main(
            [
                *args,
                "--out",
                str(tmp_path / "r"),
                "--quiet",
                "--executor",
                "ray",
                "--address",
                cluster,
            ]
        )
        == 0
    )
    rows = [json.loads((tmp_path / d / "results.json").read_text())["rows"] for d in "lr"]
    assert rows[0] == rows[1]
