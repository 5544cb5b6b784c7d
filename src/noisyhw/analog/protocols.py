"""What a noisy layer needs to know of its model's noise state: :class:`NoiseState`.

:class:`~noisyhw.analog.inject.NoiseContext` (made by ``inject_noise``) satisfies it. Layers
defined outside ``inject.py`` (the recurrent ones) type against this protocol, so they need not
import ``inject.py``, which imports them to convert ``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch

from .noise import NoiseSpec

__all__ = ["NoiseState"]


@runtime_checkable
class NoiseState(Protocol):
    """The noise state one model's noisy layers share.

    ``spec``: the noise (SNR in dB, mode, targets). ``enabled``: False inside
    ``noise_disabled``. ``groups``: independent noise replicas stacked in the batch (voting; the
    batch is ``groups`` equal parts). ``generator(device)``: the model's seeded generator on that
    device (``None``: torch's global one).
    """

    spec: NoiseSpec
    enabled: bool
    groups: int

    def generator(self, device: torch.device | str) -> torch.Generator | None: ...
