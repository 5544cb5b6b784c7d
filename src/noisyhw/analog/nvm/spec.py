"""``QuantSpec``: everything that describes an NVM crossbar deployment of a model.

Units and conventions
---------------------
* Weights: ``weight_bits = n`` levels over ``[-max|W|, max|W|]``, one range per layer or per
  output channel (``weight_granularity``). ``weight_scheme="affine"`` (default): exactly ``2**n``
  evenly spaced levels including both ends (mid-rise, no zero level: every level is used);
  ``"signed"``: two's-complement codes ``-2**(n-1) .. 2**(n-1)-1`` (zero is a level, the most
  negative one lies beyond ``-max|W|``); ``"symmetric"``: ``2**n - 1`` levels. A level ``m * unit``
  (integer ``m``) is stored as a *differential pair* of devices, ``w ∝ G+ - G-``: ``m > 0``
  programs ``G+ = G_min + m ΔG``, ``G- = G_min``, ``m < 0`` the mirror image. Each device
  needs ``device_levels`` conductances between ``G_min = G_max / on_off_ratio`` and ``G_max``.
* DAC: ``dac_bits`` affine levels over an input clipping range, calibrated from data
  (``dac_range="calibrated"``, percentile ``dac_percentile``) or learned by gradient descent
  (``"learned"``, initialised by calibration). Recurrent inputs ``h`` use the fixed range [-1, 1].
* ADC: ``adc_bits`` affine levels over the crossbar's output range, calibrated as the
  ``adc_percentile`` percentile of the outputs seen on calibration data (per layer or per
  column, ``adc_granularity``). The bias is added digitally after the ADC.
* Noise (all off by default, every draw seeded from ``seed``):
  ``prog_noise`` — programming error of each device, Gaussian with std ``prog_noise * (G_max -
  G_min)``, drawn once when the array is programmed; ``read_noise`` — read (1/f-like) noise of
  each device on every read, std ``read_noise * G`` (proportional to the conductance, so a
  finite on/off ratio adds noise on zero weights); ``adc_noise`` — Gaussian noise at the ADC
  input, std in ADC LSBs, every conversion.
* ``None`` bits mean "that converter / quantizer is off (float)". With all bits None and no
  noise a crossbar model computes exactly what the float model computes.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from ...errors import ParameterError, check_choice, check_float, check_int
from ...transform import SpecMixin

__all__ = ["QuantSpec"]


@dataclass(frozen=True)
class QuantSpec(SpecMixin):
    """Validated description of the crossbar hardware a model is mapped onto (see module doc)."""

    weight_bits: int | None = 4
    dac_bits: int | None = 4
    adc_bits: int | None = 4
    weight_granularity: Literal["layer", "channel"] = "channel"
    weight_scheme: Literal["affine", "signed", "symmetric"] = "affine"
    dac_range: Literal["calibrated", "learned"] = "calibrated"
    dac_percentile: float = 99.99
    adc_granularity: Literal["layer", "column"] = "column"
    adc_percentile: float = 99.9
    on_off_ratio: float = 100.0
    g_max_us: float = 25.0
    prog_noise: float = 0.0
    read_noise: float = 0.0
    adc_noise: float = 0.0
    noise_in_training: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        check_choice("weight_scheme", self.weight_scheme, ("affine", "signed", "symmetric"))
        w_lo = 1 if self.weight_scheme == "affine" else 2
        for name, lo in (("weight_bits", w_lo), ("dac_bits", 1), ("adc_bits", 1)):
            v = getattr(self, name)
            if v is not None:
                check_int(name, v, lo, 16)
        check_choice("weight_granularity", self.weight_granularity, ("layer", "channel"))
        check_choice("dac_range", self.dac_range, ("calibrated", "learned"))
        check_choice("adc_granularity", self.adc_granularity, ("layer", "column"))
        check_float("dac_percentile", self.dac_percentile, 50.0, 100.0, lo_open=True)
        check_float("adc_percentile", self.adc_percentile, 50.0, 100.0, lo_open=True)
        check_float("on_off_ratio", self.on_off_ratio, 1.0, lo_open=True, allow_inf=True)
        check_float("g_max_us", self.g_max_us, 0.0, lo_open=True)
        for name in ("prog_noise", "read_noise", "adc_noise"):
            check_float(name, getattr(self, name), 0.0)
        if self.adc_noise > 0 and self.adc_bits is None:
            raise ParameterError("adc_noise", "is in ADC LSBs and needs adc_bits", self.adc_noise)
        if self.dac_range == "learned" and self.dac_bits is None:
            raise ParameterError("dac_range", "'learned' needs dac_bits", self.dac_range)
        check_int("seed", self.seed, 0)

    # ------------------------------------------------------------------ helpers
    @classmethod
    def float(cls, **kw: Any) -> QuantSpec:
        """No quantization anywhere (noise may still be given): the float reference."""
        return cls(weight_bits=None, dac_bits=None, adc_bits=None, **kw)

    @property
    def quantized(self) -> bool:
        return any(b is not None for b in (self.weight_bits, self.dac_bits, self.adc_bits))

    @property
    def noisy(self) -> bool:
        return self.prog_noise > 0 or self.read_noise > 0 or self.adc_noise > 0

    @property
    def device_levels(self) -> int | None:
        """Conductance levels each device of a differential pair needs (None: analog)."""
        if self.weight_bits is None:
            return None
        half = 2 ** (self.weight_bits - 1)
        return half if self.weight_scheme == "symmetric" else half + 1

    @property
    def g_min_us(self) -> float:
        return 0.0 if math.isinf(self.on_off_ratio) else self.g_max_us / self.on_off_ratio

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
