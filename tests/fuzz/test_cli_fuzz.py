"""The fast subset of the CLI bad-input harness (scripts/fuzz_cli.py; the whole table is
``make fuzz``): each case in a child process, refused with exit 2 and one ``error:`` line, no
traceback, nothing written, no fixture changed."""

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fuzz_cli.py"


def _harness():
    spec = importlib.util.spec_from_file_location("fuzz_cli", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_cli"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(sys.platform == "win32", reason="the harness forks")
def test_fast_subset_refuses_every_bad_input(tmp_path):
    """Run as its own process: it forks each case from a parent that has imported only noisyhw
    (not from this test process, whose libraries may hold threads)."""
    import json
    import os
    import subprocess

    src = str(SCRIPT.parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    report = tmp_path / "fuzz.json"
    cmd = [sys.executable, str(SCRIPT), "--fast", "-j", "2", "--json", str(report)]
    subprocess.run(cmd, env=env, timeout=600, capture_output=True, check=False)
    results = json.loads(report.read_text())
    summary = results["summary"]
    assert summary["cases"] >= 40
    bad = [
        f"{r['outcome']}: {r['id']}: {r['stderr'][-300:]} {r['left'][:3]}"
        for r in results["results"]
        if r["outcome"] != "ok"
    ]
    assert summary["ok"] == summary["cases"], "\n".join(bad)


def test_the_whole_table_is_large_and_covers_every_command():
    fz = _harness()
    cases = fz.build_table()
    assert len(cases) >= 800
    assert {c.command for c in cases} == set(fz.BASE)
    assert len({c.id for c in cases}) == len(cases)
