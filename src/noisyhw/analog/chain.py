"""Calibrate a chained model in one call: ``noisyhw.calibrate(model, data, max_batches=8)``.

The chain's transforms live in different packages (crossbars in :mod:`noisyhw.analog.nvm`, injected
noise in :mod:`noisyhw.analog`); this module sits above both, so the primitive
:mod:`noisyhw.transform` needs no upward import.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..errors import ParameterError
from .inject import calibrate as noise_calibrate
from .inject import get_noise, noise_disabled
from .nvm.transform import calibrate as nvm_calibrate
from .nvm.transform import crossbars

__all__ = ["calibrate"]


def calibrate(
    model: nn.Module,
    data: Any,
    *,
    max_batches: int | None = 8,
    batch_size: int = 256,
    device: str | torch.device | None = None,
) -> nn.Module:
    """Calibrate everything ``model`` carries, in one call; return ``model``.

    First the NVM crossbars' DAC / ADC ranges (:func:`noisyhw.analog.nvm.calibrate`), with the
    injected noise off; then the injected analog noise's reference powers
    (:func:`noisyhw.analog.calibrate`, which runs the model with the calibrated crossbars).
    ``data``: an input tensor (N, ...), a Dataset or an iterable of batches; at most
    ``max_batches`` batches of ``batch_size``. Raises
    :class:`ParameterError` when the model has neither crossbars nor injected noise.
    """
    has_xb, has_noise = bool(crossbars(model)), get_noise(model) is not None
    if not (has_xb or has_noise):
        raise ParameterError(
            "model", "has nothing to calibrate: call quantize_ and/or inject_noise_ first"
        )
    kw: dict[str, Any] = {"max_batches": max_batches, "batch_size": batch_size, "device": device}
    if has_xb:  # the converters see the clean signal: injected noise is off meanwhile
        if has_noise:
            with noise_disabled(model):
                nvm_calibrate(model, data, **kw)
        else:
            nvm_calibrate(model, data, **kw)
    if has_noise:
        noise_calibrate(model, data, **kw)
    return model
