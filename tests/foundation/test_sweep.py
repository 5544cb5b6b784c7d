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
    Run("toy", {"x": 1}, out=other).open()  # first use: the folder and its store appear
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


def test_runtime_keys_may_change_on_resume_at_any_depth(tmp_path):
    """cli/nvm.py nests asdict(TrainConfig), which holds ``device``: a run started on one device
    resumes on another (refused before: RUNTIME_KEYS were dropped at the top level only)."""
    from dataclasses import asdict

    from noisyhw.train import TrainConfig

    def never(params, context):  # a resumed run reuses the stored trial: nothing recomputed
        raise AssertionError(f"trial {params} ran again: the run was not resumed")

    nested = {"float": asdict(TrainConfig(device="cuda")), "device": "cuda"}  # as cli/nvm.py
    Run("nvm train", nested, out=tmp_path / "nvm").sweep(square, [{"x": 1}])
    moved = {"float": asdict(TrainConfig(device="cpu")), "device": "cpu"}
    rows = Run("nvm train", moved, out=tmp_path / "nvm").sweep(never, [{"x": 1}])
    assert rows == [{"x": 1, "y": 1}]

    train = {"epochs": 2, "device": "cpu", "inner": [{"device": "cpu", "lr": 0.1}]}
    first = Run("toy", {"n": 1, "workers": 1, "train": train}, out=tmp_path / "toy")
    first.sweep(square, [{"x": 1}])
    first.store.close()
    moved = {"epochs": 2, "device": "cuda:1", "inner": [{"device": "cuda", "lr": 0.1}]}
    rows = Run("toy", {"n": 1, "workers": 4, "train": moved}, out=tmp_path / "toy").sweep(
        never, [{"x": 1}]
    )
    assert rows == [{"x": 1, "y": 1}]
    # what the results are made of is still part of the identity, at depth too
    changed = {**moved, "inner": [{"device": "cuda", "lr": 0.2}]}
    with pytest.raises(ParameterError, match=r"--lr 0\.1 \(this command: 0\.2\)"):
        Run("toy", {"n": 1, "train": changed}, out=tmp_path / "toy")


def test_run_writes_nothing_until_first_use(tmp_path):
    run = Run("toy", {"n": 1}, out=tmp_path / "r")
    assert not (tmp_path / "r").exists()
    run.sweep(square, [{"x": 2}])
    assert (tmp_path / "r" / "trials.sqlite").is_file()


def test_refused_folder_names_the_parameter_and_both_values(tmp_path):
    Run("toy", {"batch_size": 64, "bits": 4}, out=tmp_path).sweep(square, [{"x": 1}])
    with pytest.raises(ParameterError) as info:
        Run("toy", {"batch_size": 128, "bits": 4}, out=tmp_path)
    assert "--batch-size 64 (this command: 128)" in str(info.value)
    with pytest.raises(ParameterError, match="--seed 0 \\(this command: 3\\)"):
        Run("toy", {"batch_size": 64, "bits": 4}, out=tmp_path, seed=3)


def test_extendable_key_may_grow_but_not_shrink(tmp_path):
    Run("toy", {"epochs": 3}, out=tmp_path, extendable=("epochs",)).sweep(square, [{"x": 1}])
    with pytest.raises(ParameterError, match=r"--epochs: the run .* already went to 3"):
        Run("toy", {"epochs": 2}, out=tmp_path, extendable=("epochs",))
    grown = Run("toy", {"epochs": 5}, out=tmp_path, extendable=("epochs",))
    assert grown.sweep(square, [{"x": 1}]) == [{"x": 1, "y": 1}]
    grown.store.close()
    with pytest.raises(ParameterError, match="already went to 5"):  # the new value is recorded
        Run("toy", {"epochs": 4}, out=tmp_path, extendable=("epochs",))
    with pytest.raises(ParameterError, match="--epochs 5"):  # not extendable: a different run
        Run("toy", {"epochs": 6}, out=tmp_path)


def test_run_in_progress_in_another_process_is_never_taken_over(tmp_path):
    import subprocess
    import sys
    import textwrap

    holder = textwrap.dedent(
        f"""
        import sys, time
        from noisyhw.sweep import Run
        run = Run("toy", {{"n": 1}}, out={str(tmp_path)!r})
        run.open()
        print("ready", flush=True)
        sys.stdin.readline()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        with pytest.raises(ParameterError, match="in use by a running noisyhw process"):
            Run("toy", {"n": 1}, out=tmp_path)
    finally:
        proc.kill()  # as kill -9: the OS drops the lock with the process
        proc.wait()
    assert Run("toy", {"n": 1}, out=tmp_path).sweep(square, [{"x": 3}]) == [{"x": 3, "y": 9}]


def test_refused_command_leaves_no_folder(tmp_path):
    from noisyhw.errors import NoisyhwError

    run = Run("toy", {}, out=tmp_path / "r")
    run.open()  # the folder exists, nothing stored in it yet
    assert (tmp_path / "r").is_dir()
    with pytest.raises(NoisyhwError):
        raise ParameterError("--x", "refused late")
    Run.discard_unused()  # what the CLI does on an error
    assert not (tmp_path / "r").exists()
    kept = Run("toy", {}, out=tmp_path / "k")
    kept.sweep(square, [{"x": 1}])
    Run.discard_unused()
    assert (tmp_path / "k" / "trials.sqlite").is_file()  # a stored trial keeps the folder


def _damage(path, how):
    data = bytearray(path.read_bytes())
    if how == "garbage":
        data = bytearray(b"not a database at all " * 200)
    elif how == "truncated":
        data = data[: len(data) // 2 + 7]
    elif how == "page":
        for i in range(4096, min(len(data), 8192)):  # one whole page flipped
            data[i] ^= 0xFF
    elif how == "header":
        data[:16] = b"x" * 16
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["garbage", "truncated", "page", "header"])
@pytest.mark.parametrize("name", ["trials.sqlite", "mc_chunks.sqlite"])
def test_damaged_store_is_refused_with_one_line_and_left_alone(tmp_path, name, how):
    from noisyhw.sweep import StopRule
    from noisyhw.sweep.montecarlo import bpsk_chunk

    run = Run("toy", {}, out=tmp_path)
    rule = StopRule(chunk_size=50, min_errors=None, max_frames=100)
    points = [{"ebn0_db": float(e)} for e in range(40)]  # several pages in both stores
    run.montecarlo(bpsk_chunk, points, rule=rule)
    run.finish()
    _damage(tmp_path / name, how)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(ParameterError) as info:
        Run("toy", {}, out=tmp_path).montecarlo(bpsk_chunk, points, rule=rule)
    msg = str(info.value)
    assert msg.startswith(f"--out: {tmp_path} holds a damaged store (")
    assert msg.endswith("); move it away or pick another --out") and "\n" not in msg
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


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


def _finished_bpsk_folder(folder):
    from noisyhw.sweep import StopRule
    from noisyhw.sweep.montecarlo import bpsk_chunk

    run = Run("toy", {}, out=folder)
    rule = StopRule(chunk_size=50, min_errors=None, max_frames=100)
    run.montecarlo(bpsk_chunk, [{"ebn0_db": 1.0}, {"ebn0_db": 2.0}], rule=rule)
    run.finish()


def test_sweep_status_writes_nothing_beside_the_stores(tmp_path, capsys):
    from noisyhw.cli import main

    _finished_bpsk_folder(tmp_path / "r")
    before = sorted(p.name for p in (tmp_path / "r").iterdir())
    assert main(["sweep", "status", str(tmp_path / "r")]) == 0
    assert main(["sweep", "ls", str(tmp_path)]) == 0
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == before  # no -wal, no -shm


@pytest.mark.parametrize("name", ["trials.sqlite", "mc_chunks.sqlite"])
def test_sweep_status_and_ls_report_a_damaged_store(tmp_path, capsys, monkeypatch, name):
    from noisyhw.cli import main

    monkeypatch.setenv("COLUMNS", "400")  # one table row per line
    _finished_bpsk_folder(tmp_path / "good")
    _finished_bpsk_folder(tmp_path / "bad")
    _damage(tmp_path / "bad" / name, "garbage")
    capsys.readouterr()
    assert main(["sweep", "status", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: FOLDER: ") and "holds a damaged store" in err
    assert "\n" not in err
    assert main(["sweep", "ls", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "damaged" in out and "good" in out  # listed as damaged, not skipped


def test_a_finished_train_is_extended_by_a_larger_epochs(tmp_path, capsys):
    """Extending 1 -> 2 epochs resumes from the checkpoint and equals a 2-epoch run."""
    from noisyhw.cli import main

    base = ["train", "--dataset", "digits", "--model", "mlp", "--n-train", "300"]
    base += ["--n-test", "100", "--batch-size", "50"]
    assert main([*base, "--epochs", "1", "--out", str(tmp_path / "a")]) == 0
    assert main([*base, "--epochs", "2", "--out", str(tmp_path / "a")]) == 0
    assert main([*base, "--epochs", "2", "--out", str(tmp_path / "b")]) == 0
    a = json.loads((tmp_path / "a" / "results.json").read_text())
    b = json.loads((tmp_path / "b" / "results.json").read_text())
    assert [r["epoch"] for r in a["rows"]] == [1, 2]
    assert a["rows"][-1]["train_loss"] == b["rows"][-1]["train_loss"]
    assert a["evaluation"] == b["evaluation"]
    capsys.readouterr()
    assert main([*base, "--epochs", "1", "--out", str(tmp_path / "a")]) == 2
    assert "--epochs: the run" in capsys.readouterr().err
    sched = [*base, "--scheduler", "cosine", "--out", str(tmp_path / "c")]
    assert main([*sched, "--epochs", "1"]) == 0
    assert main([*sched, "--epochs", "2"]) == 2  # the schedule depends on the epochs
    assert "--epochs 1 (this command: 2)" in capsys.readouterr().err
