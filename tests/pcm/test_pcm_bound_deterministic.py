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


def test_cli_table_is_the_same_under_load(tmp_path, monkeypatch):
    """`pcm table` is depth-based too (it hard-wired a 1 s budget per triple: a loaded machine
    gave looser bounds); the bounds match the library's at that depth."""
    tables = []
    for i in range(2):
        if i:
            _slow_clock(monkeypatch)
        out = tmp_path / f"t{i}"
        assert main(["pcm", "table", "--max", "2", "--depth", "16", "--out", str(out),
                     "--quiet"]) == 0  # fmt: skip
        res = json.loads((out / "results.json").read_text())
        tables.append([(r["lower"], r["upper"]) for r in res["rows"]])
        assert res["config"]["depth"] == 16 and res["config"]["time_budget"] is None
    assert tables[0] == tables[1]
    b = capacity_bounds(2, 2, 1, depth=16)
    (row,) = [r for r in res["rows"] if (r["alpha"], r["beta"], r["p"]) == (2, 2, 1)]
    assert (row["lower"], row["upper"]) == (b.lower, b.upper)


def test_cli_depth_is_capped_with_its_cost(capsys):
    """--depth 40 was hours of work: refused, one line naming the option, the cost in --help."""
    for cmd in (["bound", "--alpha", "2", "--beta", "2", "--p", "1"], ["table"]):
        assert main(["pcm", *cmd, "--depth", "31"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: --depth:") and "30" in err[0]
    assert main(["pcm", "table", "--help"]) == 0
    assert "doubles the work" in " ".join(capsys.readouterr().out.split())
