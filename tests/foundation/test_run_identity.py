"""One canonical comparison of run identities, used by both Run's --out check and the store."""

from __future__ import annotations

import pytest

from noisyhw.errors import ParameterError
from noisyhw.sweep import Run
from noisyhw.sweep.store import ResultStore, comparable, same_run


def _finished_run(out, config) -> None:
    run = Run("toy", config, out=out, seed=0)
    run.store.add(0, {"a": 1}, {"y": 2})
    run.store.close()


def test_int_and_float_are_different_runs_to_both_checks(tmp_path) -> None:
    """JSON keeps 1 and 1.0 apart (the store compares canonical JSON); Run's check compared
    Python dicts (1 == 1.0), accepted the folder, and the store refused it later with a
    message that named no option. Now both agree, and the refusal names the option."""
    out = tmp_path / "r"
    _finished_run(out, {"x": 1})
    with pytest.raises(ParameterError, match=r"^--out: .* --x 1 \(this command: 1\.0\)"):
        Run("toy", {"x": 1.0}, out=out, seed=0)
    fp = ResultStore.read_fingerprint(out / "trials.sqlite")["fingerprint"]
    assert not same_run(fp, {**fp, "config": {"x": 1.0}})
    Run("toy", {"x": 1}, out=out, seed=0).store.close()  # the same run resumes


def test_comparison_drops_runtime_and_extendable_keys_at_any_depth() -> None:
    old = {"command": "c", "seed": 0, "config": {"a": [1], "t": {"device": "cpu"}, "e": 2}}
    new = {"command": "c", "seed": 0, "config": {"a": (1,), "t": {"device": "cuda"}, "e": 5}}
    assert same_run(old, new, ("e",)) and not same_run(old, new)
    assert comparable(new, ("e",)) == '{"command":"c","config":{"a":[1],"t":{}},"seed":0}'
