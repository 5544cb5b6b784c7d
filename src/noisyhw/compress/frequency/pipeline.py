"""``FrequencyInput``: pixels in, normalised DCT channels out, as the first layer of a model.

Training mode: random-resized-crop aligned to 8 and a horizontal flip (optional), then the block
DCT, the static channel subset and per-channel normalisation; evaluation mode: an aligned resize
(skipped when the input already has the size), then the same transform. Putting the pipeline in
the model keeps the data in pixels (any noisyhw dataset, any device) and lets
:func:`noisyhw.train.fit` train it unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ...errors import ParameterError, check_int
from .augment import random_flip, random_resized_crop, resize_aligned
from .select import resolve_channels
from .stats import ChannelStats
from .transform import CHROMA, dct_channels

__all__ = ["FrequencyInput", "frequency_model"]


class FrequencyInput(nn.Module):
    """(N, C, H, W) pixels in [0, 1] -> (N, len(channels), size/block, size/block) normalised.

    Parameters
    ----------
    size: side of the (square) image that is transformed, a multiple of ``block``; None keeps
        the input size (which must then tile).
    channels: preset size (24/32/48/64), explicit indices, or None for all.
    stats: :class:`ChannelStats` of the full channel layout (None: no normalisation).
    augment: random-resized-crop (``scale``) + flip in training mode.
    """

    def __init__(
        self,
        size: int | None = None,
        *,
        in_channels: int = 3,
        block: int = 8,
        chroma: str = "full",
        channels: int | Sequence[int] | None = None,
        stats: ChannelStats | None = None,
        augment: bool = False,
        scale: tuple[float, float] = (0.35, 1.0),
        seed: int = 0,
    ) -> None:
        super().__init__()
        if in_channels not in (1, 3):
            raise ParameterError("in_channels", "must be 1 (grey) or 3 (RGB)", in_channels)
        if chroma not in CHROMA:
            raise ParameterError("chroma", f"must be one of {', '.join(CHROMA)}", chroma)
        if size is not None:
            check_int("size", size, block)
            if size % (2 * block if chroma == "420" else block):
                raise ParameterError("size", f"must be a multiple of {block}", size)
        total = in_channels * block * block
        self.size, self.block, self.chroma, self.augment, self.scale = (
            size,
            block,
            chroma,
            augment,
            scale,
        )
        idx = resolve_channels(channels, total, block)
        self.register_buffer("index", torch.tensor(idx, dtype=torch.long), persistent=False)
        self.total = total
        if stats is not None:
            if stats.channels != total:
                raise ParameterError("stats", f"must cover all {total} channels", stats.channels)
            self.norm: nn.Module = stats.normalizer(idx)
        else:
            self.norm = nn.Identity()
        self._gen = torch.Generator().manual_seed(seed)

    @property
    def out_channels(self) -> int:
        return len(self.index)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] * self.block * self.block != self.total:
            raise ParameterError(
                "x", f"must be (N, {self.total // self.block**2}, H, W)", tuple(x.shape)
            )
        with torch.no_grad():
            if self.training and self.augment:
                size = self.size or x.shape[-1]
                x = random_resized_crop(
                    x, size, scale=self.scale, align=self.block, generator=self._gen
                )
                x = random_flip(x, generator=self._gen)
            elif self.size is not None and tuple(x.shape[-2:]) != (self.size, self.size):
                x = resize_aligned(x, self.size, self.block)
            coeffs = dct_channels(x, self.block, self.chroma)
            coeffs = coeffs.index_select(1, self.index)
        return self.norm(coeffs)

    def extra_repr(self) -> str:
        return (
            f"size={self.size}, channels={self.out_channels}/{self.total}, "
            f"chroma={self.chroma!r}, augment={self.augment}"
        )


def frequency_model(front: FrequencyInput, net: nn.Module) -> nn.Sequential:
    """``nn.Sequential(front, net)`` named ``input`` / ``net``."""
    from collections import OrderedDict

    return nn.Sequential(OrderedDict([("input", front), ("net", net)]))
