"""`pcm bound` is deterministic by default: a fixed depth, not a time budget (issue 18)."""

import itertools
import json
import sys

from noisyhw.cli import main
from noisyhw.codes.pcm.capacity import DEFAULT_DEPTH, capacity_bounds


def _slow_clock(monkeypatch):
    """A machine so loaded that every clock reading is 10 s after the previous one."""
    cap = sys.modules["noisyhw.codes.pcm.capacity"]  # the package's `capacity` is a function
    ticks = itertools.count(0.0, 10.0)
    monkeypatch.setattr(cap.time, "perf_counter", lambda: next(ticks))


def test_bounds_do_not_depend_on_machine_load(monkeypatch):
    quiet = capacity_bounds(2, 2, 1)
    _slow_clock(monkeypatch)
    loaded = capacity_bounds(2, 2, 1)
    assert (loaded.lower, loaded.upper) == (quiet.lower, quiet.upper)
    assert loaded.upper - loaded.lower < 1e-3  # the default depth is deep enough to be useful


def test_time_budget_is_opt_in_and_stops_early(monkeypatch):
    full = capacity_bounds(2, 2, 1)
    _slow_clock(monkeypatch)
    short = capacity_bounds(2, 2, 1, time_budget=1.0)
    assert short.upper - short.lower > full.upper - full.lower


def test_cli_bound_is_the_same_on_two_runs(tmp_path, capsys, monkeypatch):
    rows = []
    for i in range(2):
        if i:
            _slow_clock(monkeypatch)
        assert main(["pcm", "bound", "--alpha", "2", "--beta", "2", "--p", "1",
                     "--out", str(tmp_path / str(i))]) == 0  # fmt: skip
        res = json.loads((tmp_path / str(i) / "results.json").read_text())
        rows.append({k: res["rows"][0][k] for k in ("lower", "upper")})
        assert res["config"]["depth"] == DEFAULT_DEPTH
    assert rows[0] == rows[1]
