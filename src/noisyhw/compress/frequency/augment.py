"""Augmentations applied to pixels before the DCT (train time), batched and seeded.

The crop box corners are snapped to multiples of ``align`` source pixels and the output size
must be a multiple of ``align`` too, so a full-scale crop keeps the source's 8x8 block grid
exactly and every output tiles into whole blocks.
"""

from __future__ import annotations

import math

import torch

from ...errors import ParameterError, check_float, check_int

__all__ = ["random_flip", "random_resized_crop", "resize_aligned"]


def _size2(name: str, size: int | tuple[int, int], align: int) -> tuple[int, int]:
    h, w = (size, size) if isinstance(size, int) else size
    check_int(name, h, align)
    check_int(name, w, align)
    if h % align or w % align:
        raise ParameterError(name, f"must be a multiple of align={align}", size)
    return int(h), int(w)


def random_resized_crop(
    images: torch.Tensor,
    size: int | tuple[int, int],
    *,
    scale: tuple[float, float] = (0.08, 1.0),
    ratio: tuple[float, float] = (3 / 4, 4 / 3),
    align: int = 8,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Per-image random crop (area fraction in ``scale``, aspect ratio in ``ratio``) resized
    bilinearly to ``size``: (N, C, H, W) -> (N, C, size_h, size_w), same dtype (uint8 is rounded).

    Box corners lie on multiples of ``align`` source pixels (boxes at least ``align`` wide).
    """
    if images.ndim != 4:
        raise ParameterError("images", "must be (N, C, H, W)", tuple(images.shape))
    check_int("align", align, 1)
    oh, ow = _size2("size", size, align)
    lo, hi = (check_float("scale", s, 0.0, 1.0, lo_open=True) for s in scale)
    r_lo, r_hi = (check_float("ratio", r, 0.0, lo_open=True) for r in ratio)
    if lo > hi or r_lo > r_hi:
        raise ParameterError("scale/ratio", "must be (low, high) with low <= high", (scale, ratio))
    from torchvision.ops import roi_align

    n, _, h, w = images.shape
    if h < align or w < align:
        raise ParameterError("images", f"must be at least {align}x{align}", (h, w))
    g = generator
    area = h * w * (lo + (hi - lo) * torch.rand(n, generator=g, dtype=torch.float64))
    logr = math.log(r_lo) + (math.log(r_hi) - math.log(r_lo)) * torch.rand(
        n, generator=g, dtype=torch.float64
    )
    ar = torch.exp(logr)
    cw = torch.sqrt(area * ar).clamp(align, w)
    ch = torch.sqrt(area / ar).clamp(align, h)
    cw = (torch.round(cw / align) * align).clamp(align, w // align * align)
    ch = (torch.round(ch / align) * align).clamp(align, h // align * align)
    x0 = torch.floor(torch.rand(n, generator=g, dtype=torch.float64) * ((w - cw) // align + 1))
    y0 = torch.floor(torch.rand(n, generator=g, dtype=torch.float64) * ((h - ch) // align + 1))
    x0, y0 = x0 * align, y0 * align
    boxes = torch.stack([torch.arange(n, dtype=torch.float64), x0, y0, x0 + cw, y0 + ch], dim=1).to(
        images.device
    )
    x = images if images.is_floating_point() else images.float()
    out = roi_align(
        x, boxes.to(x.dtype), (oh, ow), spatial_scale=1.0, sampling_ratio=0, aligned=True
    )
    return _like(out, images)


def _like(out: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """Back to uint8 (rounded) when the input was uint8; floats stay as computed."""
    return out if images.is_floating_point() else out.round().clamp(0, 255).to(images.dtype)


def random_flip(
    images: torch.Tensor, p: float = 0.5, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Flip each image left-right with probability ``p`` (N, C, H, W) -> same shape."""
    check_float("p", p, 0.0, 1.0)
    if images.ndim != 4:
        raise ParameterError("images", "must be (N, C, H, W)", tuple(images.shape))
    flip = torch.rand(images.shape[0], generator=generator) < p
    return torch.where(flip.to(images.device)[:, None, None, None], images.flip(-1), images)


def resize_aligned(
    images: torch.Tensor, size: int | tuple[int, int], align: int = 8
) -> torch.Tensor:
    """Bilinear resize (antialiased when shrinking) to ``size`` (a multiple of ``align``)."""
    import torch.nn.functional as F

    if images.ndim != 4:
        raise ParameterError("images", "must be (N, C, H, W)", tuple(images.shape))
    oh, ow = _size2("size", size, align)
    x = images if images.is_floating_point() else images.float()
    shrink = oh < x.shape[2] or ow < x.shape[3]
    return _like(
        F.interpolate(x, (oh, ow), mode="bilinear", align_corners=False, antialias=shrink), images
    )
