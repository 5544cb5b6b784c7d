"""Atomic file writes and safe checkpoint loading."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

__all__ = ["atomic_write", "load_checkpoint", "save_checkpoint", "write_json"]


def atomic_write(path: str | Path, writer: Callable[[IO[bytes]], None]) -> Path:
    """Write ``path`` through ``writer(file)`` into a temp file in the same folder, then rename.

    A reader never sees a half-written file and a crash leaves the old file intact.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            writer(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: str | Path, obj: Any) -> Path:
    """Atomically write ``obj`` as indented JSON (numpy/torch scalars converted)."""
    data = json.dumps(obj, indent=2, default=_to_jsonable).encode()
    return atomic_write(path, lambda fh: fh.write(data))


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Atomically ``torch.save`` a dict of tensors and plain Python values."""
    import torch  # here, not at import: plain JSON writes (every CLI start) need no torch

    return atomic_write(path, lambda fh: torch.save(state, fh))


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True`` (no arbitrary code from pickles)."""
    import torch

    from .errors import DataError

    path = Path(path)
    if not path.is_file():
        raise DataError(f"checkpoint: no such file {path}")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file
        raise DataError(
            f"checkpoint: {path} is not a readable noisyhw checkpoint ({exc.__class__.__name__})"
        ) from None


def _to_jsonable(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return str(obj)
