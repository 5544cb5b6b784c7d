"""DAC and ADC converters: ``bits``-bit affine quantizers over a calibrated or learned range.

A :class:`Converter` holds its clipping range ``lo``/``hi`` (shape () for one range per layer or
(C,) for one per column) as buffers, or as parameters when the range is learned (gradients reach
them through :func:`noisyhw.quant.fake_quant`). ``bits=None`` makes it the identity.
Calibration collects samples while ``observing`` is True and sets the range from them with
:func:`noisyhw.quant.calibrate_range`.
"""

from __future__ import annotations

import torch
from torch import nn

from ...channels import awgn
from ...errors import ParameterError
from ...quant import UniformQuantizer, calibrate_range, fake_quant

__all__ = ["Converter"]

_MAX_ROWS = 1024  # rows kept per observed call (strided)
_MAX_TOTAL = 32768  # rows kept in all; beyond it every second row is dropped (uniform thinning)


Levels = tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # (lo, step, divisor)


def _levels(lo: torch.Tensor, hi: torch.Tensor, bits: int) -> Levels:
    """``(lo, step, divisor)``: the divisor is ``step`` with 1 for a zero-width range (every
    input then maps to ``lo``, as in :func:`noisyhw.quant.fake_quant`)."""
    step = (hi - lo) / (2**bits - 1)
    return lo, step, torch.where(step == 0, torch.ones_like(step), step)


def _quantize_(
    shifted: torch.Tensor, bits: int, levels: Levels, mask: bool = False
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """In place on ``shifted = x - lo``: the arithmetic of :func:`noisyhw.quant.fake_quant`
    (affine, ``2**bits`` levels, see :func:`_levels`) and, when ``mask``, the straight-through
    mask (codes inside the range after rounding)."""
    lo, step, divisor = levels
    top = 2**bits - 1
    codes = shifted.div_(divisor).round_()
    inside = None
    if mask:
        inside = (codes >= 0) & (codes <= top)
        if bool((step == 0).any()):  # a zero-width range outputs a constant: no gradient
            inside &= step != 0
    return codes.clamp_(0, top).mul_(step).add_(lo), inside


class _FixedRangeQuant(torch.autograd.Function):
    """``fake_quant`` for a range that gets no gradient, as one autograd node: no intermediate
    tensors kept but a bool mask (the converters run once per time step, so this matters)."""

    @staticmethod
    def forward(ctx, x, bits, levels):  # type: ignore[override]
        y, inside = _quantize_(x - levels[0], bits, levels, mask=True)
        ctx.save_for_backward(inside)
        return y

    @staticmethod
    def backward(ctx, grad):  # type: ignore[override]
        (inside,) = ctx.saved_tensors
        return grad * inside, None, None


class Converter(nn.Module):
    """An n-bit converter: ``x (..., C) -> levels (..., C)`` over ``[lo, hi]``.

    Parameters
    ----------
    bits: resolution, or None for a transparent (float) converter.
    channels: C when the range is per column (``per_column=True``), else ignored.
    learned: the range is an ``nn.Parameter`` trained by QAT (initialised by calibration).
    fixed: a fixed range ``(lo, hi)`` (e.g. (-1, 1) for recurrent inputs): no calibration.
    percentile: calibration percentile (100 = min/max).
    """

    def __init__(
        self,
        bits: int | None,
        channels: int = 1,
        *,
        per_column: bool = False,
        learned: bool = False,
        fixed: tuple[float, float] | None = None,
        percentile: float = 100.0,
    ) -> None:
        super().__init__()
        self.bits = bits
        self.per_column = per_column
        self.percentile = percentile
        self.fixed = fixed is not None
        shape = (channels,) if per_column else ()
        lo = torch.full(shape, fixed[0] if fixed else 0.0)
        hi = torch.full(shape, fixed[1] if fixed else 0.0)
        if learned and not self.fixed:
            self.lo, self.hi = nn.Parameter(lo), nn.Parameter(hi)
        else:
            self.register_buffer("lo", lo)
            self.register_buffer("hi", hi)
        self.register_buffer("calibrated", torch.tensor(self.fixed))
        self.observing = False
        self._samples: list[torch.Tensor] = []

    @property
    def lsb(self) -> torch.Tensor:
        """Width of one step (same shape as ``lo``)."""
        if self.bits is None:
            raise ParameterError("bits", "a float converter has no LSB")
        return (self.hi - self.lo) / (2**self.bits - 1)

    @property
    def num_levels(self) -> int | None:
        return None if self.bits is None else UniformQuantizer(self.bits).num_levels

    def observe(self, x: torch.Tensor) -> None:
        """Keep a strided sample of ``x``'s rows for calibration."""
        if not self.observing or self.fixed:
            return
        rows = x.detach().reshape(-1, x.shape[-1])
        step = max(1, rows.shape[0] // _MAX_ROWS)
        self._samples.append(rows[::step].float().cpu())
        if sum(s.shape[0] for s in self._samples) > _MAX_TOTAL:
            self._samples = [torch.cat(self._samples)[::2]]

    @torch.no_grad()
    def finish_calibration(self) -> None:
        """Set ``lo``/``hi`` from the observed samples (percentile or min/max) and clear them."""
        if self.fixed:
            return
        if not self._samples:
            raise ParameterError("data", "calibration saw no inputs for a converter")
        data = torch.cat(self._samples)
        self._samples = []
        method = "minmax" if self.percentile >= 100.0 else "percentile"
        if self.per_column:
            lo, hi = calibrate_range(data, method, percentile=self.percentile, dim=1)
            lo, hi = lo.reshape(-1), hi.reshape(-1)
        else:
            lo, hi = calibrate_range(data, method, percentile=self.percentile)
        lo, hi = torch.minimum(lo, torch.zeros_like(lo)), torch.maximum(hi, torch.zeros_like(hi))
        self.lo.copy_(lo.to(self.lo))
        self.hi.copy_(hi.to(self.hi))
        self.calibrated.fill_(True)

    def levels(self) -> Levels | None:
        """``(lo, step, divisor)`` of a fixed or calibrated range, detached, to pass to
        :meth:`forward` on repeated calls (every time step); None for a transparent or learned
        converter (a learned range is recomputed per call to keep its gradient)."""
        if self.bits is None or self.learned:
            return None
        self._check_calibrated()
        return _levels(self.lo.detach(), self.hi.detach(), self.bits)

    def _check_calibrated(self) -> None:
        if not bool(self.calibrated):
            raise ParameterError(
                "model", "converter ranges are not calibrated; call nvm.calibrate(model, data)"
            )

    def forward(
        self,
        x: torch.Tensor,
        noise_lsb: float = 0.0,
        rng: torch.Generator | None = None,
        levels: Levels | None = None,
    ) -> torch.Tensor:
        """Quantize ``x`` (after adding ``noise_lsb`` LSBs of Gaussian noise when > 0);
        ``levels`` from :meth:`levels` skips recomputing the range."""
        if self.bits is None:
            return x
        if levels is None:
            self._check_calibrated()
        lo, hi = self.lo, self.hi
        if self.learned:  # keep a learned range ordered and non-degenerate
            lo = torch.minimum(lo, hi - 1e-6)
            if torch.is_grad_enabled():
                if noise_lsb > 0:
                    x = awgn(x, noise_lsb * self.lsb.detach(), rng)
                return fake_quant(x, self.bits, lo, hi, "affine")
        if levels is None:
            levels = _levels(lo.detach(), hi.detach(), self.bits)
        if noise_lsb > 0:
            x = awgn(x, noise_lsb * self.lsb.detach(), rng)
        if torch.is_grad_enabled() and x.requires_grad:  # fixed range: one fused STE node
            return _FixedRangeQuant.apply(x, self.bits, levels)
        return _quantize_(x - levels[0], self.bits, levels)[0]

    @property
    def learned(self) -> bool:
        return isinstance(self.lo, nn.Parameter)

    def extra_repr(self) -> str:
        kind = "fixed" if self.fixed else ("learned" if self.learned else "calibrated")
        return f"bits={self.bits}, per_column={self.per_column}, range={kind}"
