"""Old-vs-new benchmarks: import a module as it was at an earlier commit.

``module_at(ref, path, name, uncache, package)`` reads ``path`` (relative to the repository
root) from git ``ref``, rewrites numba's on-disk caching off (``uncache = (old, new)`` text, so
the old kernels never share cache files with the new ones) and imports it from a temporary
copy; its relative imports resolve in ``package`` (today's modules of that package).
"""

from __future__ import annotations

import importlib.util
import subprocess
import tempfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def module_at(
    ref: str, path: str, name: str, uncache: tuple[str, str], package: str | None = None
) -> ModuleType:
    src = subprocess.run(
        ["git", "show", f"{ref}:{path}"], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout
    copy = Path(tempfile.mkdtemp()) / f"{name}.py"
    copy.write_text(src.replace(*uncache))
    spec = importlib.util.spec_from_file_location(name, copy)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = package
    spec.loader.exec_module(mod)
    return mod
