"""The layering rule of docs/architecture.md, checked on the imports of every file in src/noisyhw.

Imports are read with ``ast`` (module-level and lazy ones inside functions alike; those under
``if TYPE_CHECKING:`` are left out, they never run). ``from package import name`` counts as an
import of the submodule that defines ``name`` when the package's ``__init__`` re-exports it, so
``from noisyhw.sweep import line_plot`` is an import of ``noisyhw.sweep.plots``.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"

#: the layers, top first: a module imports only from its own layer or the layers below it
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("cli", ("cli", "__main__")),
    ("experiments", ("experiments",)),
    ("stack", ("stack",)),
    ("methods", ("analog", "compress", "storage", "codes")),
    ("infrastructure", ("sweep", "train", "data")),
    (
        "primitives",
        (
            "channels",
            "quant",
            "models",
            "io",
            "errors",
            "seeding",
            "progress",
            "transform",
            "labels",
            "stats",
            "claims",
            "resources",
        ),
    ),
)
#: plotting and HTML reports: only ``sweep`` itself and ``experiments`` use them
PLOTTING = ("matplotlib", "noisyhw.sweep.plots", "noisyhw.sweep.report")

#: exceptions to the rules below (each a named debt; the tests fail on stale entries); none today
CLI_PLOTTING_ALLOWED: frozenset[str] = frozenset()
METHODS_PLOTTING_ALLOWED: frozenset[str] = frozenset()
#: upward imports still to remove: (importer, imported)
UPWARD_ALLOWED: frozenset[tuple[str, str]] = frozenset()
#: import circles still to break (each a frozenset of the modules of one strongly connected set)
CYCLES_ALLOWED: frozenset[frozenset[str]] = frozenset()


@cache
def modules(src: Path = SRC) -> dict[str, tuple[Path, bool]]:
    """``noisyhw.a.b`` -> (file, is_package) for every module under ``src``/noisyhw."""
    out = {}
    for f in sorted((src / "noisyhw").rglob("*.py")):
        parts = list(f.relative_to(src).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_pkg else parts)] = (f, is_pkg)
    return out


def _runtime_nodes(tree: ast.Module) -> list[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:``."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for b in node.body for n in ast.walk(b))
    return [n for n in ast.walk(tree) if id(n) not in skip]


@cache
def _raw_imports(name: str, src: Path = SRC) -> tuple[tuple[str, str | None], ...]:
    """(module, imported name or None) pairs of module ``name``, relative ones made absolute."""
    f, is_pkg = modules(src)[name]
    pkg = name.split(".") if is_pkg else name.split(".")[:-1]
    out: list[tuple[str, str | None]] = []
    for node in _runtime_nodes(ast.parse(f.read_text())):
        if isinstance(node, ast.Import):
            out += [(a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out += [(mod, a.name) for a in node.names]
    return tuple(out)


@cache
def _defined_in(pkg: str, name: str, src: Path = SRC) -> str:
    """The module that really holds ``pkg.name``: a submodule, or where the package's
    ``__init__`` re-exports it from; else ``pkg`` itself."""
    mods = modules(src)
    if f"{pkg}.{name}" in mods:
        return f"{pkg}.{name}"
    if pkg not in mods or not mods[pkg][1]:
        return pkg
    for mod, imported in _raw_imports(pkg, src):
        if imported == name and mod.startswith(pkg + "."):
            return _defined_in(mod, name, src) if mod in mods and mods[mod][1] else mod
    return pkg


@cache
def imports(name: str, src: Path = SRC) -> frozenset[str]:
    """What module ``name`` imports: noisyhw modules resolved as above, others by name."""
    out = set()
    for mod, imported in _raw_imports(name, src):
        if imported is not None and mod.split(".")[0] == "noisyhw":
            out.add(_defined_in(mod, imported, src))
        else:
            out.add(mod)
    return frozenset(out)


def layer_of(module: str) -> int | None:
    """Index into :data:`LAYERS` (0 = top) of a noisyhw module; None for the package root."""
    parts = module.split(".")
    if len(parts) == 1:
        return None
    for i, (_, tops) in enumerate(LAYERS):
        if parts[1] in tops:
            return i
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and docs/architecture.md")


def _hits(module: str, banned: tuple[str, ...], src: Path = SRC) -> list[str]:
    return sorted(
        m for m in imports(module, src) if any(m == b or m.startswith(b + ".") for b in banned)
    )


def upward_imports(src: Path = SRC, allowed: frozenset = frozenset()) -> list[str]:
    """Every import of a module from a layer above the importer's, but the ``allowed`` pairs."""
    bad = []
    for m in modules(src):
        here = layer_of(m)
        for dep in sorted(imports(m, src)):
            if here is None or dep.split(".")[0] != "noisyhw":
                continue
            there = layer_of(dep)
            if there is not None and there < here and (m, dep) not in allowed:
                bad.append(f"{m} ({LAYERS[here][0]}) imports {dep} ({LAYERS[there][0]})")
    return bad


def plotting(layers: tuple[str, ...], src: Path = SRC) -> dict[str, list[str]]:
    """module -> its plotting imports, for the modules of ``layers`` that have any."""
    idx = {i for i, (n, _) in enumerate(LAYERS) if n in layers}
    hits = {m: _hits(m, PLOTTING, src) for m in modules(src) if layer_of(m) in idx}
    return {m: h for m, h in hits.items() if h}


def cycles(src: Path = SRC) -> set[frozenset[str]]:
    """The import circles: strongly connected sets of more than one module (Tarjan)."""
    mods = modules(src)
    graph = {m: sorted(d for d in imports(m, src) if d in mods) for m in mods}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: set[frozenset[str]] = set()

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.add(frozenset(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_every_module_has_a_layer():
    for m in modules():
        layer_of(m)


def test_imports_only_go_down():
    bad = upward_imports(allowed=UPWARD_ALLOWED)
    assert not bad, "\n".join(bad)
    stale = {pair for pair in UPWARD_ALLOWED if pair[1] not in imports(pair[0])}
    assert not stale, f"fixed: drop {stale} from UPWARD_ALLOWED"


def test_cli_does_not_plot():
    bad = plotting(("cli",))
    assert set(bad) <= CLI_PLOTTING_ALLOWED, bad
    assert set(bad) >= CLI_PLOTTING_ALLOWED, "fixed: drop it from CLI_PLOTTING_ALLOWED"


def test_methods_and_primitives_do_not_plot():
    bad = plotting(("methods", "primitives"))
    assert set(bad) <= METHODS_PLOTTING_ALLOWED, bad
    assert set(bad) >= METHODS_PLOTTING_ALLOWED, "fixed: drop it from METHODS_PLOTTING_ALLOWED"


def test_no_import_circles():
    found = cycles()
    assert found <= CYCLES_ALLOWED, [sorted(c) for c in found - CYCLES_ALLOWED]
    assert found >= CYCLES_ALLOWED, "broken: drop it from CYCLES_ALLOWED"


def _plant(src: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        f = src / "noisyhw" / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    return src


def test_the_checks_catch_planted_violations(tmp_path):
    """Each check fails on a tree that breaks it: the re-exported plot, an upward import, a
    circle; an import under TYPE_CHECKING and a package-internal import are no violation."""
    src = _plant(
        tmp_path,
        {
            "__init__.py": "",
            "cli/__init__.py": "",
            "cli/a.py": "def f():\n    from ..sweep import line_plot, Run\n",
            "sweep/__init__.py": "from .plots import line_plot\nfrom .run import Run\n",
            "sweep/plots.py": "import matplotlib.pyplot as plt\n",
            "sweep/run.py": "from ..errors import ParameterError\n",
            "errors.py": "",
            "analog/__init__.py": "from .inject import x\n",
            "analog/inject.py": "from .recurrent import y\nx = 1\n",
            "analog/recurrent.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                "    from .inject import x\nfrom . import cells\n"
            ),
            "analog/cells.py": "from .inject import x\n",
            "codes/__init__.py": "",
            "codes/crc.py": "from noisyhw.experiments import polar\n",
            "experiments/__init__.py": "",
            "experiments/polar.py": "from ..codes import crc\n",
        },
    )
    assert imports("noisyhw.cli.a", src) == {"noisyhw.sweep.plots", "noisyhw.sweep.run"}
    assert plotting(("cli",), src) == {"noisyhw.cli.a": ["noisyhw.sweep.plots"]}
    assert plotting(("infrastructure",), src)["noisyhw.sweep.plots"] == ["matplotlib.pyplot"]
    assert upward_imports(src) == [
        "noisyhw.codes.crc (methods) imports noisyhw.experiments.polar (experiments)"
    ]
    assert cycles(src) == {
        frozenset({"noisyhw.analog.inject", "noisyhw.analog.recurrent", "noisyhw.analog.cells"}),
        frozenset({"noisyhw.codes.crc", "noisyhw.experiments.polar"}),
    }


def test_architecture_doc_lists_the_layers():
    """docs/architecture.md's layer diagram names the layers of :data:`LAYERS`, in order."""
    text = DOCS.read_text()
    block = re.search(r"```mermaid\n(.*?)```", text, re.S)
    assert block, "docs/architecture.md has no mermaid layer diagram"
    order = re.findall(r'^\s*(\w+)\["', block.group(1), re.M)
    assert order == [n for n, _ in LAYERS]
    for name, tops in LAYERS:
        line = re.search(rf'^\s*{name}\["([^"]*)"\]', block.group(1), re.M).group(1)
        assert sorted(re.findall(r"[\w_]+", line.replace("<br/>", " "))) == sorted(tops), name


def test_recurrent_layers_type_against_the_protocol():
    """analog/recurrent.py does not import analog/inject.py, not even for type checking; the
    context inject_noise attaches satisfies the protocol it types against."""
    from noisyhw.analog import NoiseSpec, inject_noise
    from noisyhw.analog.protocols import NoiseState
    from noisyhw.analog.recurrent import NoisyLSTM

    text = (SRC / "noisyhw" / "analog" / "recurrent.py").read_text()
    assert "inject" not in {
        (n.module or "").split(".")[-1]
        for n in ast.walk(ast.parse(text))
        if isinstance(n, ast.ImportFrom)
    }
    noisy = inject_noise(NoisyLSTM(4, 8), NoiseSpec(10.0), seed=0)  # in place or a copy
    assert isinstance(noisy.noise_ctx, NoiseState)
    assert not isinstance(object(), NoiseState)
