"""The crossbar: DAC -> weights as differential conductance pairs -> ADC, and ``CrossbarLinear``.

Shapes: a crossbar with ``in_features`` rows (word lines, one DAC each) and ``out_features``
columns (bit lines, one ADC conversion each) maps ``x (..., in) -> y (..., out)`` with a weight
``W (out, in)``; ``y = ADC(DAC(x) @ (Q(W) + programming error)^T + read noise)``.

Noise in weight units (exact, cheap): a device pair stores ``w`` as ``g+ - g-`` with
``g± = g_min + relu(±w)`` in weight units, where ``G_max - G_min`` corresponds to the full-scale
weight ``w_fs`` (the largest level magnitude of the grid, see :func:`weight_grid`). Programming
error adds ``prog_noise * w_fs`` std to each device (so ``sqrt(2)`` times that to ``w``), drawn
once per programming. Read noise of std
``read_noise * g`` on each device and each read makes the column output Gaussian with variance
``sum_i x_i^2 (read_noise^2 (g+_ij^2 + g-_ij^2))``: it is drawn directly at the output, one
matrix product instead of a fresh weight matrix per input vector.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from ...channels import awgn
from ...errors import ParameterError
from ...quant import UniformQuantizer, fake_quant
from ...seeding import torch_generator
from .converters import Converter
from .spec import QuantSpec

__all__ = [
    "Crossbar",
    "CrossbarLinear",
    "Prepared",
    "from_conductance",
    "quantize_weight",
    "to_conductance",
    "weight_codes",
    "weight_grid",
]


def _weight_scale(w: torch.Tensor, granularity: str) -> torch.Tensor:
    """``max|W|`` per layer (shape ()) or per output row (shape (out, 1)), detached."""
    a = w.detach().abs()
    a = a.amax() if granularity == "layer" else a.reshape(a.shape[0], -1).amax(dim=1, keepdim=True)
    return torch.where(a > 0, a, torch.ones_like(a))


def weight_grid(bits: int, scheme: str, a: torch.Tensor) -> tuple[torch.Tensor, int]:
    """``(unit, m_max)``: weights are ``m * unit`` with integers ``|m| <= m_max`` (one device of
    the pair holds ``relu(m)``, the other ``relu(-m)``), for a range ``[-a, a]``.

    * ``affine``: ``2**bits`` levels ``-a .. a`` (mid-rise: no zero, all reachable);
      ``m`` odd in ``[-(2**bits - 1), 2**bits - 1]``, ``unit = a / (2**bits - 1)``.
    * ``signed``: codes ``-2**(bits-1) .. 2**(bits-1) - 1`` (zero included; the most negative
      code lies beyond ``-a``), ``unit = a / (2**(bits-1) - 1)``.
    * ``symmetric``: ``2**bits - 1`` levels, ``m`` in ``[-(2**(bits-1) - 1), 2**(bits-1) - 1]``.
    """
    if scheme == "affine":
        m_max = 2**bits - 1
        return a / m_max, m_max
    top = 2 ** (bits - 1) - 1
    return a / top, (top + 1 if scheme == "signed" else top)


def weight_codes(w: torch.Tensor, bits: int, scheme: str, a: torch.Tensor) -> torch.Tensor:
    """Integer ``m`` of each weight on the grid of :func:`weight_grid` (float dtype)."""
    q = UniformQuantizer(bits, scheme)  # type: ignore[arg-type]
    codes = q.codes(w, -a, a)
    return 2 * codes - (2**bits - 1) if scheme == "affine" else codes


def quantize_weight(
    w: torch.Tensor, bits: int | None, granularity: str = "channel", scheme: str = "affine"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fake-quantize ``w (out, in)`` to ``bits``-bit levels over ``[-max|W|, max|W|]`` (STE).

    ``granularity``: one range per ``"layer"`` or per output ``"channel"`` (row); ``scheme`` as in
    :func:`weight_grid` (default ``affine``: exactly ``2**bits`` levels, all reachable).
    Returns ``(w_q, w_fs)``: the quantized weight and the full-scale weight that ``G_max - G_min``
    represents (``m_max * unit``; ``max|W|`` when ``bits`` is None), shape () or (out, 1).
    """
    a = _weight_scale(w, granularity)
    if bits is None:
        return w, a
    wq = fake_quant(w, bits, -a, a, scheme)  # type: ignore[arg-type]
    unit, m_max = weight_grid(bits, scheme, a)
    return wq, unit * m_max


def to_conductance(
    w: torch.Tensor, spec: QuantSpec
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Program ``w (out, in)``: returns ``(G+, G-, unit)``, conductances in microsiemens.

    Each device takes one of ``spec.device_levels`` conductances ``G_min + k ΔG`` with
    ``ΔG = (G_max - G_min) / m_max``; ``w ≈ (G+ - G-) / ΔG * unit``.
    """
    bits = _need_bits(spec)
    a = _weight_scale(w, spec.weight_granularity)
    unit, m_max = weight_grid(bits, spec.weight_scheme, a)
    m = weight_codes(w.detach(), bits, spec.weight_scheme, a)
    dg = (spec.g_max_us - spec.g_min_us) / m_max
    return spec.g_min_us + m.clamp(min=0) * dg, spec.g_min_us + (-m).clamp(min=0) * dg, unit


def from_conductance(
    g_pos: torch.Tensor, g_neg: torch.Tensor, unit: torch.Tensor, spec: QuantSpec
) -> torch.Tensor:
    """Weights read back from a differential pair (inverse of :func:`to_conductance`)."""
    bits = _need_bits(spec)
    _, m_max = weight_grid(bits, spec.weight_scheme, torch.ones(()))
    dg = (spec.g_max_us - spec.g_min_us) / m_max
    return (g_pos - g_neg) / dg * unit


def _need_bits(spec: QuantSpec) -> int:
    if spec.weight_bits is None:
        raise ParameterError("weight_bits", "conductance levels need quantized weights")
    return spec.weight_bits


class Prepared(NamedTuple):
    """A weight ready for the array: effective, quantized, full-scale; noise on or off."""

    w_eff: torch.Tensor
    w_q: torch.Tensor
    w_fs: torch.Tensor
    noisy: bool
    read_var_t: torch.Tensor | None = None  # (in, out) read-noise variance per device pair
    dac_levels: tuple[torch.Tensor, ...] | None = None  # Converter.levels()
    adc_levels: tuple[torch.Tensor, ...] | None = None


class Crossbar(nn.Module):
    """One crossbar array with its DACs and ADCs; ``forward(x (..., in), W (out, in))``.

    It owns no weight (the layer does, under the float model's parameter names) but the
    converters, the programmed device state and the noise generators. ``index`` makes the
    seeds of different arrays of one model distinct.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        spec: QuantSpec,
        *,
        index: int = 0,
        dac_fixed: tuple[float, float] | None = None,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.spec = spec
        self.index = index
        self.dac = Converter(
            spec.dac_bits,
            in_features,
            learned=spec.dac_range == "learned",
            fixed=dac_fixed,
            percentile=spec.dac_percentile,
        )
        self.adc = Converter(
            spec.adc_bits,
            out_features,
            per_column=spec.adc_granularity == "column",
            percentile=spec.adc_percentile,
        )
        self.register_buffer("prog_z", torch.zeros(out_features, in_features))
        self.register_buffer("programmed", torch.tensor(False))
        self.calibrating: str | None = None  # None, "dac" or "adc"
        self.mvm_count = 0
        self._gen: torch.Generator | None = None

    # ------------------------------------------------------------------ randomness
    def _seed(self, seed: int, stream: int) -> int:
        return (seed * 1_000_003 + self.index * 7919 + stream) % 2**63

    def reseed(self, seed: int | None = None) -> None:
        """Restart the read/ADC noise stream (seed defaults to ``spec.seed``)."""
        self._gen = None
        self._next_seed = self.spec.seed if seed is None else seed

    def _generator(self, device: torch.device) -> torch.Generator:
        if self._gen is None or self._gen.device != device:
            seed = getattr(self, "_next_seed", self.spec.seed)
            self._gen = torch_generator(self._seed(seed, 1), device)
        return self._gen

    @torch.no_grad()
    def program(self, seed: int | None = None) -> None:
        """Draw the programming error of every device (seeded; ``spec.seed`` by default)."""
        g = torch_generator(self._seed(self.spec.seed if seed is None else seed, 0), "cpu")
        z = torch.randn(self.prog_z.shape, generator=g, dtype=torch.float32)
        self.prog_z.copy_(z.to(self.prog_z))
        self.programmed.fill_(True)

    # ------------------------------------------------------------------ compute
    def effective_weight(self, weight: torch.Tensor, noisy: bool) -> tuple[torch.Tensor, ...]:
        """``(w_eff, w_q, w_fs)``: quantized weight plus programming error when ``noisy``."""
        wq, w_fs = quantize_weight(
            weight, self.spec.weight_bits, self.spec.weight_granularity, self.spec.weight_scheme
        )
        w_eff = wq
        if noisy and self.spec.prog_noise > 0:
            if self.training and self.spec.noise_in_training:
                z = torch.randn(wq.shape, generator=self._generator(wq.device), device=wq.device)
            else:
                if not bool(self.programmed):
                    self.program()
                z = self.prog_z
            w_eff = wq + (self.spec.prog_noise * math.sqrt(2.0)) * w_fs * z
        return w_eff, wq, w_fs

    def read_variance(self, wq: torch.Tensor, w_fs: torch.Tensor) -> torch.Tensor:
        """``(in, out)``: read-noise variance of each weight's device pair, in weight units^2."""
        r = self.spec.on_off_ratio
        g_min = w_fs * 0.0 if math.isinf(r) else w_fs / (r - 1.0)
        var = (g_min + wq.clamp(min=0)) ** 2 + (g_min + (-wq).clamp(min=0)) ** 2
        return (self.spec.read_noise**2 * var).t().contiguous()

    def read_noise_std(
        self,
        v: torch.Tensor,
        wq: torch.Tensor,
        w_fs: torch.Tensor,
        var_t: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Std of each column output (..., out) caused by device read noise for inputs ``v``."""
        if var_t is None:
            var_t = self.read_variance(wq, w_fs)
        return torch.sqrt((v * v) @ var_t)

    def prepare(self, weight: torch.Tensor, *, noisy: bool | None = None) -> Prepared:
        """Quantize and program ``weight`` once; reuse the result for many input vectors
        (every time step of a recurrent layer)."""
        if self.calibrating == "dac":
            return Prepared(weight, weight, weight, False)
        if noisy is None:
            noisy = self.spec.noisy and (not self.training or self.spec.noise_in_training)
        noisy = bool(noisy) and self.calibrating is None
        w_eff, wq, w_fs = self.effective_weight(weight, noisy)
        var_t = self.read_variance(wq, w_fs) if noisy and self.spec.read_noise > 0 else None
        adc = self.adc.levels() if self.calibrating is None else None
        return Prepared(w_eff, wq, w_fs, noisy, var_t, self.dac.levels(), adc)

    def apply(self, x: torch.Tensor, p: Prepared) -> torch.Tensor:
        """``x (..., in) -> (..., out)`` with weights from :meth:`prepare`."""
        if x.shape[-1] != self.in_features:
            raise ParameterError("x", f"last dimension must be {self.in_features}", tuple(x.shape))
        self.mvm_count += x.numel() // self.in_features
        if self.calibrating == "dac":
            self.dac.observe(x)
            return F.linear(x, p.w_eff)
        v = self.dac(x, levels=p.dac_levels)
        y = F.linear(v, p.w_eff)
        if p.noisy and self.spec.read_noise > 0:
            std = self.read_noise_std(v, p.w_q, p.w_fs, p.read_var_t)
            y = awgn(y, std, self._generator(y.device))
        if self.calibrating == "adc":
            self.adc.observe(y)
            return y
        if p.noisy and self.spec.adc_noise > 0:
            return self.adc(y, self.spec.adc_noise, self._generator(y.device), p.adc_levels)
        return self.adc(y, levels=p.adc_levels)

    def forward(
        self, x: torch.Tensor, weight: torch.Tensor, *, noisy: bool | None = None
    ) -> torch.Tensor:
        """``x (..., in)``, ``weight (out, in)`` -> ``(..., out)``."""
        return self.apply(x, self.prepare(weight, noisy=noisy))

    def extra_repr(self) -> str:
        return f"rows={self.in_features}, cols={self.out_features}, index={self.index}"


class CrossbarLinear(nn.Module):
    """``nn.Linear`` on a crossbar: same parameters (``weight (out, in)``, ``bias (out,)``),
    ``y = ADC(DAC(x) W^T) + b`` (bias added digitally). Input (..., in) -> (..., out)."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        spec: QuantSpec | None = None,
        index: int = 0,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        self.xbar = Crossbar(in_features, out_features, spec or QuantSpec(), index=index)

    @classmethod
    def from_float(cls, linear: nn.Linear, spec: QuantSpec, index: int = 0) -> CrossbarLinear:
        m = cls(
            linear.in_features, linear.out_features, linear.bias is not None, spec=spec, index=index
        )
        m.to(device=linear.weight.device, dtype=linear.weight.dtype)
        with torch.no_grad():
            m.weight.copy_(linear.weight)
            if linear.bias is not None:
                m.bias.copy_(linear.bias)
        return m

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.xbar(x, self.weight)
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"
