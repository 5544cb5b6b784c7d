"""Atomic file writes and safe checkpoint loading.

A checkpoint is a ``torch.save`` of a dict, loadable with plain ``torch.load``; it carries a
SHA-256 of its payload under :data:`DIGEST_KEY` (every tensor's dtype, shape and bytes and every
other value, in key order), checked by :func:`load_checkpoint`: a flipped byte in the weights
is refused instead of loading silently.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

__all__ = [
    "DIGEST_KEY",
    "atomic_write",
    "load_checkpoint",
    "payload_digest",
    "save_checkpoint",
    "write_json",
]

#: the checkpoint key holding the SHA-256 (hex) of the rest of the checkpoint
DIGEST_KEY = "noisyhw_sha256"


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


def payload_digest(state: Any) -> str:
    """SHA-256 (hex) of a checkpoint's contents: tensors by dtype, shape and bytes, dicts in key
    order, other values by type and ``repr`` (the same for the saved and the loaded state)."""
    h = hashlib.sha256()
    _digest(state, h)
    return h.hexdigest()


def _digest(obj: Any, h: Any) -> None:
    import numpy as np
    import torch

    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        h.update(f"T{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    elif isinstance(obj, np.ndarray):
        h.update(f"A{obj.dtype.str}{obj.shape}".encode())
        h.update(np.ascontiguousarray(obj).tobytes())
    elif isinstance(obj, dict):
        h.update(b"D%d" % len(obj))
        for k in sorted(obj, key=repr):
            h.update(repr(k).encode())
            _digest(obj[k], h)
    elif isinstance(obj, list | tuple):
        h.update(b"L%d" % len(obj))
        for v in obj:
            _digest(v, h)
    else:
        h.update(f"{type(obj).__name__}:{obj!r};".encode())


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Atomically ``torch.save`` a dict of tensors and plain Python values, with its digest."""
    import torch  # here, not at import: plain JSON writes (every CLI start) need no torch

    body = {k: v for k, v in state.items() if k != DIGEST_KEY}
    signed = {**body, DIGEST_KEY: payload_digest(body)}
    return atomic_write(path, lambda fh: torch.save(signed, fh))


def load_checkpoint(
    path: str | Path, map_location: str | torch.device = "cpu", *, name: str = "checkpoint"
) -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True`` (no arbitrary code from pickles) and check
    its digest; errors are one line starting with ``name`` (e.g. the option that gave it)."""
    import torch

    from .errors import DataError

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{name}: no such file {path}")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file
        raise DataError(
            f"{name}: {path} is not a readable noisyhw checkpoint ({exc.__class__.__name__})"
        ) from None
    if not isinstance(state, dict):
        raise DataError(
            f"{name}: {path} holds a {type(state).__name__}, not a noisyhw checkpoint (a dict)"
        )
    if DIGEST_KEY in state:  # files of older versions carry none
        body = {k: v for k, v in state.items() if k != DIGEST_KEY}
        if state[DIGEST_KEY] != payload_digest(body):
            raise DataError(f"{name}: {path} is damaged (its contents do not match their SHA-256)")
        state = body
    return state


def _to_jsonable(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return str(obj)
