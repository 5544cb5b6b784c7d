"""Seeds and random generators: every random draw in noisyhw takes one of these."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["RngLike", "as_rng", "seed_everything", "torch_generator"]

RngLike = int | np.random.Generator | None


def as_rng(rng: RngLike) -> np.random.Generator:
    """A numpy Generator from a seed, an existing Generator (returned as is) or None (fresh)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, int | np.integer):
        return np.random.default_rng(rng)
    raise TypeError(f"rng: must be an int seed, a numpy Generator or None (got {type(rng)})")


def torch_generator(seed: int | None, device: str | torch.device = "cpu") -> torch.Generator | None:
    """A torch.Generator on ``device`` seeded with ``seed`` (None -> None: the global generator)."""
    if seed is None:
        return None
    g = torch.Generator(device=device)
    g.manual_seed(int(seed))
    return g


def seed_everything(seed: int, *, deterministic: bool = True) -> None:
    """Seed Python, numpy and torch; with ``deterministic`` ask torch for reproducible kernels."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        _deterministic_kernels()
        torch.backends.cudnn.benchmark = False


def _deterministic_kernels() -> None:
    """``torch.use_deterministic_algorithms(True, warn_only=True)`` without its import of
    ``torch._inductor`` (6-10 s per process on a 2-core machine), which only sets the flag for
    ``torch.compile``: done the public way once inductor is loaded anyway."""
    import sys

    setter = getattr(torch._C, "_set_deterministic_algorithms", None)
    if setter is None or "torch._inductor.config" in sys.modules:
        torch.use_deterministic_algorithms(True, warn_only=True)
    else:
        setter(True, warn_only=True)
