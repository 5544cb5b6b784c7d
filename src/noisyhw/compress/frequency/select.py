"""Static channel subsets: the 24/32/48/64-channel presets and selection by index.

The presets are square low-frequency patterns over the 8x8 grid of each component, grown ring by
ring (ring ``r`` = coefficients with ``max(u, v) == r``; inside a ring by ``u + v``, then by
row), with the per-component counts of the reference code: 24 = 16 Y + 4 Cb + 4 Cr,
32 = 22 + 5 + 5, 48 = 32 + 8 + 8, 64 = 44 + 10 + 10. The rule reproduces the released lists that
the research notes give in full (the 24-channel preset: Y 4x4, Cb/Cr 2x2; the 48-channel Cb/Cr
``{0, 1, 2, 8, 9, 10, 16, 17}``); the other Y lists follow the same rule (the reference code's
exact index lists were not available offline).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ...errors import ParameterError, check_int
from .transform import COMPONENTS

__all__ = [
    "PRESET_COUNTS",
    "ChannelSelect",
    "low_frequency_order",
    "preset_channels",
    "resolve_channels",
    "select_channels",
    "subset_by_component",
]

#: preset size -> (Y, Cb, Cr) coefficient counts
PRESET_COUNTS: dict[int, tuple[int, int, int]] = {
    24: (16, 4, 4),
    32: (22, 5, 5),
    48: (32, 8, 8),
    64: (44, 10, 10),
}


def low_frequency_order(block: int = 8) -> list[int]:
    """Coefficient indices ``block*u + v`` of one component, square low-frequency order."""
    cells = [(u, v) for u in range(block) for v in range(block)]
    cells.sort(key=lambda uv: (max(uv), uv[0] + uv[1], uv[0]))
    return [block * u + v for u, v in cells]


def preset_channels(n: int, block: int = 8) -> list[int]:
    """Sorted channel indices (into the 3*block**2 layout) of the ``n``-channel preset."""
    if n not in PRESET_COUNTS:
        raise ParameterError("channels", f"presets are {', '.join(map(str, PRESET_COUNTS))}", n)
    order = low_frequency_order(block)
    b2 = block * block
    return [k * b2 + i for k, cnt in enumerate(PRESET_COUNTS[n]) for i in sorted(order[:cnt])]


def resolve_channels(
    channels: int | str | Sequence[int] | None, total: int = 192, block: int = 8
) -> list[int]:
    """Channel list from a preset size (24/32/48/64), ``"all"``/None/``total``, or explicit indices.

    An int equal to ``total`` (or None / "all") means every channel. Explicit lists must be
    distinct indices in ``[0, total)``; they are returned sorted.
    """
    if channels is None or channels == "all" or (isinstance(channels, int) and channels == total):
        return list(range(total))
    if isinstance(channels, str):
        try:
            return resolve_channels(int(channels), total, block)
        except ValueError:
            raise ParameterError("channels", "a preset size, 'all' or indices", channels) from None
    if isinstance(channels, int | np.integer):
        if total != 3 * block * block:
            raise ParameterError(
                "channels",
                f"presets need the full {3 * block * block}-channel colour layout",
                total,
            )
        return preset_channels(int(channels), block)
    idx = [check_int("channels", int(c), 0, total - 1) for c in channels]
    if not idx or len(set(idx)) != len(idx):
        raise ParameterError("channels", "must be distinct, non-empty channel indices", channels)
    return sorted(idx)


def subset_by_component(channels: Sequence[int], block: int = 8) -> dict[str, list[int]]:
    """``{"Y": [...], "Cb": [...], "Cr": [...]}``: coefficient indices per component."""
    b2 = block * block
    out: dict[str, list[int]] = {c: [] for c in COMPONENTS}
    for ch in sorted(channels):
        out[COMPONENTS[ch // b2]].append(ch % b2)
    return out


def select_channels(x: torch.Tensor | np.ndarray, channels: Sequence[int]) -> torch.Tensor:
    """``x[:, channels]`` for (N, C, h, w) coefficient maps (tensor or array)."""
    if x.ndim != 4:
        raise ParameterError("x", "must be (N, C, h, w)", tuple(x.shape))
    idx = list(channels)
    if idx and (min(idx) < 0 or max(idx) >= x.shape[1]):
        raise ParameterError("channels", f"indices must be in [0, {x.shape[1]})", idx)
    if isinstance(x, np.ndarray):
        return x[:, idx]
    return x.index_select(1, torch.as_tensor(idx, device=x.device))


class ChannelSelect(nn.Module):
    """Keep a static subset of channels: (N, C, h, w) -> (N, len(channels), h, w)."""

    def __init__(self, channels: int | Sequence[int], total: int = 192, block: int = 8) -> None:
        super().__init__()
        idx = resolve_channels(channels, total, block)
        self.register_buffer("index", torch.tensor(idx, dtype=torch.long), persistent=False)
        self.total = total

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != self.total:
            raise ParameterError("x", f"must have {self.total} channels", tuple(x.shape))
        return x.index_select(1, self.index)

    def extra_repr(self) -> str:
        return f"{len(self.index)} of {self.total} channels"
