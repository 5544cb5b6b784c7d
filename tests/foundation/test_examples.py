"""examples/: every script runs (--help), names its expected time, and the cheapest one runs in
its --quick mode end to end."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1", NOISYHW_QUIET="1")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return env


def test_there_is_an_example_per_readme_figure():
    listed = (ROOT / "examples" / "README.md").read_text()
    assert len(SCRIPTS) >= 5
    for script in SCRIPTS:
        assert f"`{script.name}`" in listed


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_example_help(script):
    out = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True, env=_env()
    )
    assert out.returncode == 0, out.stderr
    assert re.search(r"Expected time on 2 idle cores: ~\d", out.stdout), out.stdout
    assert "--quick" in out.stdout


def test_pcm_example_quick_runs(tmp_path):
    script = ROOT / "examples" / "pcm_constructions.py"
    out = subprocess.run(
        [sys.executable, str(script), "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=_env(),
    )
    assert out.returncode == 0, out.stderr
    rows = json.loads((tmp_path / "table" / "results.json").read_text())["rows"]
    assert rows and all(r["rate"] <= r["upper"] + 1e-9 for r in rows if r.get("rate") is not None)
