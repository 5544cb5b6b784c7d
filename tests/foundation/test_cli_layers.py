"""The thin CLI (issue 23): these command modules only parse options, build a study config and
call ``experiments``; no plotting, no report building, no run folder of their own, and each
stays small. (Command modules not listed here are being thinned separately: add them.)"""

import ast
from pathlib import Path

import pytest

import noisyhw.cli

CLI = Path(noisyhw.cli.__file__).parent
THIN = ["freq", "train", "prune", "data", "demo", "common", "options", "output", "live"]
#: what a thin command module must not import: plotting, report sections, run folders
FORBIDDEN_MODULES = (
    "matplotlib",
    "noisyhw.sweep.report",
    "noisyhw.sweep.plots",
    "noisyhw.sweep.run",
)
FORBIDDEN_NAMES = {"Run", "Section", "Report", "bar_plot", "heatmap", "line_plot"}


def _imports(path: Path) -> list[tuple[str, set[str]]]:
    """(absolute module, names imported from it) of every import statement in the file, but
    those under ``if TYPE_CHECKING:`` (type hints only: nothing is imported at run time)."""
    tree = ast.parse(path.read_text())
    hints = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
        for n in ast.walk(node)
    }
    out = []
    for node in ast.walk(tree):
        if id(node) in hints:
            continue
        if isinstance(node, ast.Import):
            out += [(a.name, set()) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ["noisyhw", "cli"][: 3 - node.level] if node.level else []
            module = ".".join([*base, *(node.module or "").split(".")]).strip(".")
            out.append((module, {a.name for a in node.names}))
    return out


@pytest.mark.parametrize("name", THIN)
def test_thin_cli_module_imports_no_plotting_or_runs(name):
    path = CLI / f"{name}.py"
    for module, names in _imports(path):
        assert not module.startswith(FORBIDDEN_MODULES), f"{name}.py imports {module}"
        if module == "noisyhw.sweep":
            assert not names & FORBIDDEN_NAMES, f"{name}.py imports {names & FORBIDDEN_NAMES}"


@pytest.mark.parametrize("name", THIN)
def test_thin_cli_module_is_small(name):
    assert len((CLI / f"{name}.py").read_text().splitlines()) <= 250


def test_the_import_check_sees_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from typing import TYPE_CHECKING\nfrom ..sweep import Run, cell\n"
        "import matplotlib.pyplot as plt\nif TYPE_CHECKING:\n    from ..sweep.report import Section\n"
    )
    found = _imports(bad)
    assert ("noisyhw.sweep", {"Run", "cell"}) in found and ("matplotlib.pyplot", set()) in found
    assert all(m != "noisyhw.sweep.report" for m, _ in found)
