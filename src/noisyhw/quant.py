"""Uniform quantizers shared by NVM weights, DAC/ADC, pruning + quantization and storage formats.

A quantizer with ``bits`` bits maps a real range onto integer *codes* and back to *levels*:

* ``scheme="affine"``: ``2**bits`` levels evenly spaced over ``[lo, hi]``, both ends included:
  ``step = (hi - lo) / (2**bits - 1)``, ``code = clip(round((x - lo) / step), 0, 2**bits - 1)``,
  ``level = lo + code * step``. (ADC/DAC over a calibrated range; any [a, b) value grid.)
* ``scheme="signed"``: two's-complement style integer codes ``-2**(bits-1) .. 2**(bits-1) - 1``
  times ``step = max(|lo|, |hi|) / (2**(bits-1) - 1)``: ``2**bits`` levels, zero is a level.
  (Signed fixed point; needs ``bits >= 2``.)
* ``scheme="symmetric"``: codes ``-(2**(bits-1) - 1) .. 2**(bits-1) - 1``, same step: ``2**bits - 1``
  levels symmetric about zero (the usual "restricted range" weight quantizer).

All functions take numpy arrays or torch tensors (``lo``/``hi`` broadcast, so per-channel ranges
are a tensor of shape e.g. (C, 1, 1, 1)). :func:`fake_quant` passes gradients straight through
(STE) inside the range and zero outside it, like ``torch.fake_quantize_per_tensor_affine``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np
import torch

from .errors import ParameterError, check_choice, check_float, check_int

__all__ = [
    "Scheme",
    "UniformQuantizer",
    "calibrate_range",
    "fake_quant",
    "round_ste",
]

Scheme = Literal["affine", "signed", "symmetric"]
SCHEMES = ("affine", "signed", "symmetric")
Array = TypeVar("Array", np.ndarray, torch.Tensor)


@dataclass(frozen=True)
class UniformQuantizer:
    """A ``bits``-bit uniform quantizer (see the module docstring for the three schemes)."""

    bits: int
    scheme: Scheme = "affine"

    def __post_init__(self) -> None:
        check_int("bits", self.bits, 1 if self.scheme == "affine" else 2, 32)
        check_choice("scheme", self.scheme, SCHEMES)

    @property
    def code_range(self) -> tuple[int, int]:
        """Smallest and largest integer code."""
        if self.scheme == "affine":
            return 0, 2**self.bits - 1
        top = 2 ** (self.bits - 1) - 1
        return (-top - 1 if self.scheme == "signed" else -top), top

    @property
    def num_levels(self) -> int:
        lo, hi = self.code_range
        return hi - lo + 1

    def step_offset(self, lo, hi):
        """``(step, offset)`` with ``level = offset + code * step`` for the range ``[lo, hi]``."""
        if self.scheme == "affine":
            return (hi - lo) / (2**self.bits - 1), lo
        amax = _maximum(_abs(lo), _abs(hi))
        return amax / (2 ** (self.bits - 1) - 1), amax * 0.0

    def codes(self, x: Array, lo, hi) -> Array:
        """Integer codes of ``x`` (same container type; float dtype holding whole numbers;
        float32 for half-precision tensors and float16 arrays, which are quantized in float32)."""
        x, lo, hi = _wide(x), _wide(lo), _wide(hi)
        step, offset = self.step_offset(lo, hi)
        cmin, cmax = self.code_range
        return _safe_div(x - offset, step).round().clip(cmin, cmax)

    def levels(self, codes: Array, lo, hi) -> Array:
        """Values of integer ``codes``."""
        step, offset = self.step_offset(lo, hi)
        return offset + codes * step

    def __call__(self, x: Array, lo, hi) -> Array:
        """Quantize ``x`` to the nearest level (no gradient tricks; see :func:`fake_quant`)."""
        out = self.levels(self.codes(x, lo, hi), _wide(lo), _wide(hi))
        if isinstance(x, torch.Tensor):
            return out.to(x.dtype)
        return out.astype(x.dtype) if isinstance(x, np.ndarray) and x.dtype == np.float16 else out


class _RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return torch.round(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad


def round_ste(x: torch.Tensor) -> torch.Tensor:
    """``round(x)`` forward, identity backward (straight-through estimator)."""
    return _RoundSTE.apply(x)


def fake_quant(x: torch.Tensor, bits: int, lo, hi, scheme: Scheme = "affine") -> torch.Tensor:
    """Quantize-dequantize ``x`` with a straight-through gradient.

    Forward equals ``UniformQuantizer(bits, scheme)(x, lo, hi)``. Backward: d/dx = 1 where ``x``
    rounds to a representable code, 0 where it was clipped (the mask is taken after rounding, as
    in ``torch.fake_quantize_per_tensor_affine``, so a value sitting exactly on the range end
    keeps its gradient despite float rounding); gradients also reach ``lo``/``hi`` when they are
    tensors that require grad (learned clipping ranges, as in PACT/LSQ).
    """
    q = UniformQuantizer(bits, scheme)
    dtype = x.dtype
    x, lo, hi = _wide(x), _wide(lo), _wide(hi)
    step, offset = q.step_offset(lo, hi)
    cmin, cmax = q.code_range
    scaled = _safe_div(x - offset, step)
    codes = round_ste(scaled)
    inside = (codes.detach() >= cmin) & (codes.detach() <= cmax)
    codes = torch.where(inside, codes, codes.detach().clamp(cmin, cmax))
    return (offset + codes * step).to(dtype)


def calibrate_range(
    x: Array,
    method: Literal["minmax", "percentile"] = "minmax",
    *,
    percentile: float = 99.99,
    symmetric: bool = False,
    dim: int | None = None,
) -> tuple[Array, Array]:
    """Clipping range ``(lo, hi)`` of ``x``, over everything or per slice along ``dim``.

    ``minmax`` takes the extremes; ``percentile`` the ``100 - percentile`` and ``percentile``
    percentiles (robust to outliers, e.g. an ADC range). ``symmetric`` returns ``(-a, a)`` with
    ``a = max(|lo|, |hi|)``. With ``dim`` the results keep that dimension and broadcast against
    ``x`` (shape 1 elsewhere), e.g. per output channel of a weight with ``dim=0``.
    """
    check_choice("method", method, ("minmax", "percentile"))
    check_float("percentile", percentile, 50.0, 100.0)
    is_t = isinstance(x, torch.Tensor)
    xt = x.detach().float() if is_t else torch.as_tensor(np.asarray(x, dtype=np.float64))
    if xt.numel() == 0:
        raise ParameterError("x", "cannot calibrate a range on an empty array")
    flat = xt.reshape(1, -1) if dim is None else xt.movedim(dim, 0).reshape(xt.shape[dim], -1)
    if method == "minmax":
        lo, hi = flat.min(dim=1).values, flat.max(dim=1).values
    else:
        qs = torch.tensor([1.0 - percentile / 100.0, percentile / 100.0], dtype=flat.dtype)
        lo, hi = _quantile_rows(flat, qs)
    if symmetric:
        a = torch.maximum(lo.abs(), hi.abs())
        lo, hi = -a, a
    if dim is None:
        lo, hi = lo[0], hi[0]
    else:
        shape = [1] * xt.dim()
        shape[dim] = -1
        lo, hi = lo.reshape(shape), hi.reshape(shape)
    if is_t:
        return lo.to(x.dtype), hi.to(x.dtype)
    return lo.numpy(), hi.numpy()


def _quantile_rows(flat: torch.Tensor, qs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    # torch.quantile refuses very large inputs; sort-based selection works for any size.
    s = flat.sort(dim=1).values
    n = s.shape[1]
    pos = qs * (n - 1)
    lo_i, hi_i = pos.floor().long(), pos.ceil().long()
    frac = (pos - lo_i).to(s.dtype)
    vals = s[:, lo_i] * (1 - frac) + s[:, hi_i] * frac
    return vals[:, 0], vals[:, 1]


def _wide(v):
    """Half-precision tensors (float16 / bfloat16) as float32: in their own arithmetic
    ``(x - lo) / step`` lands on the wrong side of a decision threshold for values within about
    1e-2 steps of it (0.35 % of random float16 inputs at 4 bits were one level off)."""
    if isinstance(v, torch.Tensor) and v.dtype in (torch.float16, torch.bfloat16):
        return v.float()
    if isinstance(v, np.ndarray | np.floating) and v.dtype == np.float16:
        return v.astype(np.float32)
    return v


def _abs(v):
    return v.abs() if isinstance(v, torch.Tensor | np.ndarray) else abs(v)


def _maximum(a, b):
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return torch.maximum(torch.as_tensor(a), torch.as_tensor(b))
    return np.maximum(a, b)


def _safe_div(num, den):
    """``num / den`` where a zero-width range (den == 0) maps everything to code 0."""
    if isinstance(den, torch.Tensor):
        return num / torch.where(den == 0, torch.ones_like(den), den)
    if isinstance(den, np.ndarray):
        return num / np.where(den == 0, 1.0, den)
    return num / (den if den != 0 else 1.0)
