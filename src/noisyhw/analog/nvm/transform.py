"""One-verb model transforms: ``quantize_`` a float model onto crossbars (in place;
``quantize`` returns a copy), ``calibrate`` its converters from data, ``program`` its devices,
and QAT through :func:`noisyhw.train.fit`. The convention is :mod:`noisyhw.transform`'s.

>>> quantize_(model, QuantSpec(weight_bits=4, dac_bits=4, adc_bits=4))          # doctest: +SKIP
>>> calibrate(model, train_ds, max_batches=8)                                    # doctest: +SKIP
>>> fit(model, train_ds, val_ds, cfg, callbacks=[Recalibrate(train_ds)])         # QAT
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import nn
from torch.utils.data import Dataset

from ...errors import ParameterError, check_int
from ...train import Callback, input_batches
from ...transform import FilterFn, check_filter_fn, select_modules
from .converters import Converter
from .crossbar import Crossbar, CrossbarLinear
from .rnn import CrossbarGRU, CrossbarLSTM
from .spec import QuantSpec

__all__ = [
    "Recalibrate",
    "calibrate",
    "count_mvms",
    "crossbars",
    "program",
    "quantize",
    "quantize_",
    "reseed",
    "set_spec",
]

_MAPPERS: dict[type, Any] = {
    nn.Linear: CrossbarLinear.from_float,
    nn.LSTM: CrossbarLSTM.from_float,
    nn.GRU: CrossbarGRU.from_float,
}


def quantize_(model: nn.Module, spec: QuantSpec, *, filter_fn: FilterFn | None = None) -> nn.Module:
    """Map ``model``'s ``nn.Linear``, ``nn.LSTM`` and ``nn.GRU`` layers onto crossbars, in place.

    Returns ``model`` (or, when ``model`` itself is one of those layers, its crossbar
    replacement). Only layers ``filter_fn(module, fqn)`` accepts are mapped (None: all); the
    others, embeddings and convolutions stay digital. Parameter names and values are unchanged,
    so the crossbars start from the float weights. When the spec quantizes DAC/ADC, call
    :func:`calibrate` before evaluating.
    """
    if not isinstance(spec, QuantSpec):
        raise ParameterError("spec", "must be a QuantSpec", type(spec).__name__)
    picked = select_modules(model, tuple(_MAPPERS), filter_fn, exact=True)
    index = 0
    for name, child in picked:
        new = _MAPPERS[type(child)](child, spec, index=index)
        index += 2 * child.num_layers if isinstance(child, nn.LSTM | nn.GRU) else 1
        if not name:
            return new
        parent_name, _, attr = name.rpartition(".")
        setattr(model.get_submodule(parent_name) if parent_name else model, attr, new)
    if not picked:
        raise ParameterError(
            "model", "has no nn.Linear / nn.LSTM / nn.GRU (that filter_fn accepts) to map"
        )
    return model


def quantize(model: nn.Module, spec: QuantSpec, *, filter_fn: FilterFn | None = None) -> nn.Module:
    """A crossbar copy of ``model`` (``model`` untouched); see :func:`quantize_`."""
    check_filter_fn(filter_fn)
    if not isinstance(spec, QuantSpec):
        raise ParameterError("spec", "must be a QuantSpec", type(spec).__name__)
    return quantize_(copy.deepcopy(model), spec, filter_fn=filter_fn)


def crossbars(model: nn.Module) -> list[tuple[str, Crossbar]]:
    """Every crossbar array of ``model`` with its qualified name."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, Crossbar)]


def set_spec(model: nn.Module, spec: QuantSpec) -> nn.Module:
    """Change noise-level fields of an already quantized and calibrated model in place.

    Only fields that do not change the shape of the converters may differ (noise levels,
    on/off ratio, seed, ``noise_in_training``); the programming error is drawn again.
    """
    for _, xb in crossbars(model):
        old = xb.spec
        fixed = (
            "weight_bits",
            "dac_bits",
            "adc_bits",
            "weight_granularity",
            "weight_scheme",
            "dac_range",
            "adc_granularity",
        )
        for f in fixed:
            if getattr(old, f) != getattr(spec, f):
                raise ParameterError("spec", f"{f} cannot change after quantize_(); quantize again")
        xb.spec = spec
        xb.programmed.fill_(False)
        xb.reseed()
    return model


@torch.no_grad()
def calibrate(
    model: nn.Module,
    data: Dataset | torch.Tensor | Iterable[Any],
    *,
    max_batches: int | None = 8,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    phases: Sequence[str] = ("dac", "adc"),
) -> nn.Module:
    """Set every DAC and ADC range from ``data`` (a Dataset, an input tensor, or batches; at
    most ``max_batches`` batches of ``batch_size`` per pass); return ``model``.

    Two passes: DAC input ranges from the float activations (percentile ``spec.dac_percentile``),
    then ADC ranges from the array outputs with DACs and weights quantized (percentile
    ``spec.adc_percentile``). Noise is off during calibration. Learned ranges are initialised.
    ``phases=("adc",)`` recalibrates only the ADCs (keeps learned DAC ranges).
    """
    for p in phases:
        if p not in ("dac", "adc"):
            raise ParameterError("phases", "must contain only 'dac' and 'adc'", tuple(phases))
    if max_batches is not None:
        check_int("max_batches", max_batches, 1)
    xbs = crossbars(model)
    if not xbs:
        raise ParameterError("model", "has no crossbars; call quantize_(model, spec) first")
    if device is None:
        device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        for phase in [p for p in ("dac", "adc") if p in phases]:
            for _, xb in xbs:
                xb.calibrating = phase
                conv: Converter = xb.dac if phase == "dac" else xb.adc
                conv.observing = conv.bits is not None
            seen = 0
            for x in input_batches(data, batch_size, max_batches):
                model(x.to(device))
                seen += 1
            if seen == 0:
                raise ParameterError("data", "is empty")
            for _, xb in xbs:
                conv = xb.dac if phase == "dac" else xb.adc
                if conv.observing:
                    conv.finish_calibration()
                conv.observing = False
    finally:
        for _, xb in xbs:
            xb.calibrating = None
            xb.dac.observing = xb.adc.observing = False
            xb.dac._samples, xb.adc._samples = [], []
        model.train(was_training)
    return model


def program(model: nn.Module, seed: int | None = None) -> nn.Module:
    """Program every array: draw the devices' programming error (seeded) and restart the read
    and ADC noise streams, so that an evaluation after ``program(model, s)`` is reproducible."""
    for _, xb in crossbars(model):
        xb.program(seed)
        xb.reseed(seed)
    return model


def reseed(model: nn.Module, seed: int | None = None) -> nn.Module:
    """Restart the read/ADC noise streams of every array (programming error unchanged)."""
    for _, xb in crossbars(model):
        xb.reseed(seed)
    return model


@torch.no_grad()
def count_mvms(model: nn.Module, example: torch.Tensor) -> dict[str, int]:
    """Matrix-vector products per array for one forward pass of ``example`` (divided by batch)."""
    xbs = crossbars(model)
    for _, xb in xbs:
        xb.mvm_count = 0
    was = model.training
    model.eval()
    cal = [(xb, xb.calibrating) for _, xb in xbs]
    try:
        for xb, _ in cal:
            xb.calibrating = "dac"  # float path: no calibration needed to count
            xb.dac.observing = False
        model(example)
    finally:
        for xb, c in cal:
            xb.calibrating = c
        model.train(was)
    n = example.shape[0]
    return {name: xb.mvm_count // n for name, xb in xbs}


class Recalibrate(Callback):
    """QAT helper for :func:`noisyhw.train.fit`: calibrates the converters when training starts
    and again after every epoch (the ranges follow the weights as they change)."""

    def __init__(
        self, data: Dataset | torch.Tensor, max_batches: int = 4, batch_size: int = 256
    ) -> None:
        self.data, self.max_batches, self.batch_size = data, max_batches, batch_size

    def _run(self, model: nn.Module) -> None:
        learned = any(xb.dac.learned for _, xb in crossbars(model))
        phases = ("adc",) if learned else ("dac", "adc")
        calibrate(
            model,
            self.data,
            max_batches=self.max_batches,
            batch_size=self.batch_size,
            phases=phases,
        )

    def on_train_begin(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        convs = [c for _, xb in crossbars(model) for c in (xb.dac, xb.adc) if c.bits is not None]
        if not all(bool(c.calibrated) for c in convs):
            calibrate(model, self.data, max_batches=self.max_batches, batch_size=self.batch_size)

    def on_epoch_end(self, epoch: int, model: nn.Module, metrics: dict[str, float]) -> None:
        self._run(model)
