import json
import sqlite3

import pytest

from noisyhw.errors import ParameterError
from noisyhw.sweep import Run, TrialError, grid, trial_key


def square(params, context):
    offset = context or 0
    if params.get("boom") is not None and params["x"] == params["boom"]:
        raise RuntimeError("simulated crash")
    return {"y": params["x"] ** 2 + offset}


def test_grid_order_and_keys():
    g = grid(a=[1, 2], b=["u", "v"])
    assert g == [{"a": 1, "b": "u"}, {"a": 1, "b": "v"}, {"a": 2, "b": "u"}, {"a": 2, "b": "v"}]
    assert trial_key({"a": 1, "b": 2}) == trial_key({"b": 2, "a": 1})
    with pytest.raises(ParameterError):
        grid(a=[])


def test_results_json_schema_and_report(tmp_path):
    run = Run("toy", {"xs": [1, 2, 3]}, out=tmp_path, seed=4)
    rows = run.sweep(square, [{"x": x} for x in (1, 2, 3)], context=10)
    assert [r["y"] for r in rows] == [11, 14, 19]
    run.section("numbers").table(rows).text("done")
    path = run.finish()
    res = json.loads(path.read_text())
    assert set(res) >= {"command", "config", "rows", "meta"}
    assert set(res["meta"]) >= {"version", "seed", "started", "finished", "elapsed_s"}
    assert res["meta"]["seed"] == 4 and res["rows"] == rows
    assert "<table>" in (tmp_path / "report.html").read_text()


def test_resume_after_crash_loses_and_duplicates_nothing(tmp_path):
    trials = [{"x": x, "boom": 3} for x in range(6)]
    run = Run("toy", {"n": 6}, out=tmp_path)
    with pytest.raises(TrialError, match="simulated crash"):
        run.sweep(square, trials)
    run.store.close()
    assert (
        len(
            sqlite3.connect(tmp_path / "trials.sqlite").execute("SELECT key FROM trials").fetchall()
        )
        == 3
    )

    calls = []

    def counting(params, context):
        calls.append(params["x"])
        return {"y": params["x"] ** 2}

    run2 = Run("toy", {"n": 6}, out=tmp_path)
    rows = run2.sweep(counting, [{"x": x, "boom": 3} for x in range(6)])
    assert calls == [3, 4, 5]
    assert [r["x"] for r in rows] == list(range(6)) and [r["y"] for r in rows] == [
        x * x for x in range(6)
    ]


def test_different_grid_in_same_folder_is_refused(tmp_path):
    Run("toy", {"n": 1}, out=tmp_path).sweep(square, [{"x": 1}])
    with pytest.raises(ParameterError, match="--out"):
        Run("toy", {"n": 2}, out=tmp_path)
    with pytest.raises(ParameterError, match="--out"):
        Run("toy", {"n": 1}, out=tmp_path).sweep(square, [{"x": 2}])


def test_a_folder_with_only_an_empty_store_takes_the_corrected_command(tmp_path):
    """A late parameter check (inside a trial) leaves a run folder with no finished trial: the
    corrected rerun with the same --out must not be refused as 'a different grid'."""

    def checked(params, context):
        if params["x"] < 0:
            raise ParameterError("--x", "must be >= 0", params["x"])
        return {"y": params["x"]}

    with pytest.raises(TrialError, match="--x"):
        Run("toy", {"x": -1}, out=tmp_path).sweep(checked, [{"x": -1}])
    rows = Run("toy", {"x": 2}, out=tmp_path).sweep(checked, [{"x": 2}])
    assert rows == [{"x": 2, "y": 2}]
    with pytest.raises(ParameterError, match="--out"):  # now it holds a finished trial
        Run("toy", {"x": 3}, out=tmp_path)
    other = tmp_path / "other"
    Run("toy", {"x": 1}, out=other)
    (other / "checkpoint.pt").write_bytes(b"state of a killed training")
    with pytest.raises(ParameterError, match="--out"):  # other files: never taken over
        Run("toy", {"x": 2}, out=other)


def test_out_that_is_a_file_is_refused_and_left_alone(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("precious")
    with pytest.raises(ParameterError, match="--out: must be a folder"):
        Run("toy", {}, out=f)
    assert f.read_text() == "precious"


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5])
def test_bad_seed_is_refused_before_the_folder_exists(tmp_path, seed):
    with pytest.raises(ParameterError, match="seed"):
        Run("toy", {}, out=tmp_path / "r", seed=seed)
    assert not (tmp_path / "r").exists()
    Run("toy", {}, out=tmp_path / "ok", seed=2**64 - 1)  # the largest seed torch takes


def test_runtime_keys_may_change_on_resume(tmp_path):
    Run("toy", {"n": 1, "workers": 1}, out=tmp_path)
    Run("toy", {"n": 1, "workers": 2}, out=tmp_path)


def test_worker_processes_match_in_process(tmp_path):
    trials = [{"x": x} for x in range(8)]
    a = Run("toy", {}, out=tmp_path / "a").sweep(square, trials, context=1, workers=1)
    b = Run("toy", {}, out=tmp_path / "b").sweep(square, trials, context=1, workers=2)
    assert a == b


def test_worker_failure_keeps_finished_trials(tmp_path):
    run = Run("toy", {}, out=tmp_path)
    with pytest.raises(TrialError):
        run.sweep(square, [{"x": x, "boom": 2} for x in range(4)], workers=2)
    done = {r["x"] for r in run.store.rows()}
    assert 2 not in done and {0, 1} <= done


def pid_and_context(params, context):
    import os

    return {"pid": os.getpid(), "context": context}


def test_kept_pool_reuses_warm_workers_while_context_is_unchanged():
    from noisyhw.sweep import LocalExecutor

    items = [(i, {"i": i}) for i in range(6)]
    with LocalExecutor(2) as ex:
        first = dict(ex.run(pid_and_context, items, "a"))
        again = dict(ex.run(pid_and_context, items, "a"))
        other = dict(ex.run(pid_and_context, items, "b"))
        with pytest.raises(TrialError):  # a failing trial keeps the pool usable
            list(ex.run(square, [(0, {"x": 1, "boom": 1})], "b"))
        after = dict(ex.run(pid_and_context, items, "b"))
    pids = lambda res: {r["pid"] for r in res.values()}  # noqa: E731
    assert pids(again) <= pids(first)  # the same worker processes
    assert not pids(other) & pids(first)  # a new context starts new workers
    assert {r["context"] for r in other.values()} == {"b"}
    assert ex._pool is None  # shut down on leaving the block
    assert pids(after) <= pids(other)
    fresh = dict(LocalExecutor(2).run(pid_and_context, items, "a"))  # no `with`: own pool
    assert not pids(fresh) & pids(first)
