"""The dynamic channel gate: learn which frequency channels an input needs.

Per input, a squeeze-excitation style branch scores each channel with two logits (off, on):
global average pool -> 1x1 conv C->C + BN + ReLU -> grouped 1x1 conv C->2C (one pair per
channel). Training samples a hard 0/1 decision per channel with the straight-through
Gumbel-softmax (temperature ``tau``): the forward pass multiplies by exact zeros and ones, the
backward pass uses the soft probabilities' gradient. Evaluation is deterministic
(on iff the "on" logit wins). The logit layer starts with weights N(0, init_std) and biases
(off, on) = (0.1, 2.0), so about 87 % of channels start on. ``logit_scale`` s multiplies the
logit layer's output (its init is divided by s, so the starting logits are the same): with Adam,
whose steps are about ``lr`` in parameter space, the gate's logits then move s times faster,
which short runs need (the reference code trains for many epochs).

The heat map is the mean probability of "on" per channel (``softmax(logits)[on]`` averaged over
inputs): what the sampled decisions converge to, and informative before they saturate;
``on_rate`` counts the hard decisions actually taken.

:class:`GatePenalty` (a :class:`noisyhw.train.Callback`) adds ``lam x`` the mean number of active
channels per input to the loss. The gate accumulates how often each channel is on (the heat map);
:func:`top_k_channels` exports the most used channels as a static subset.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...errors import ParameterError, check_float, check_int
from ...train import Callback

__all__ = ["FrequencyGate", "GatePenalty", "find_gates", "top_k_channels"]


class FrequencyGate(nn.Module):
    """(N, C, h, w) -> (N, C, h, w) with each input's unused channels zeroed.

    Attributes after a forward pass: ``mask`` (N, C) in {0, 1} (with the straight-through
    gradient in training); buffers ``on_count`` (C,) and ``seen`` count how often each channel was
    on (over every input since :meth:`reset_heat`, training and evaluation alike unless
    ``track`` is False).
    """

    def __init__(
        self,
        channels: int,
        *,
        tau: float = 1.0,
        init_std: float = 1e-3,
        on_bias: float = 2.0,
        off_bias: float = 0.1,
        logit_scale: float = 1.0,
    ) -> None:
        super().__init__()
        self.channels = check_int("channels", channels, 1)
        self.tau = check_float("tau", tau, 0.0, lo_open=True)
        self.squeeze = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        )
        self.logit_scale = check_float("logit_scale", logit_scale, 0.0, lo_open=True)
        self.logits = nn.Conv2d(channels, 2 * channels, 1, groups=channels, bias=True)
        std = check_float("init_std", init_std, 0.0) / self.logit_scale
        nn.init.normal_(self.logits.weight, 0.0, std)
        with torch.no_grad():
            bias = torch.tensor([off_bias, on_bias]) / self.logit_scale
            self.logits.bias.view(channels, 2).copy_(bias)
        self.register_buffer("on_count", torch.zeros(channels, dtype=torch.float64))
        self.register_buffer("prob_sum", torch.zeros(channels, dtype=torch.float64))
        self.register_buffer("seen", torch.zeros((), dtype=torch.float64))
        self.track = True
        self.mask: torch.Tensor | None = None

    def channel_logits(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, 2) logits (off, on) per channel."""
        if x.ndim != 4 or x.shape[1] != self.channels:
            raise ParameterError("x", f"must be (N, {self.channels}, h, w)", tuple(x.shape))
        out = self.logits(self.squeeze(x)).view(x.shape[0], self.channels, 2)
        return out * self.logit_scale if self.logit_scale != 1.0 else out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.channel_logits(x)
        if self.training:
            mask = F.gumbel_softmax(logits, tau=self.tau, hard=True, dim=-1)[..., 1]
        else:
            mask = (logits[..., 1] > logits[..., 0]).to(x.dtype)
        self.mask = mask
        if self.track:
            with torch.no_grad():
                self.on_count += mask.detach().sum(0).double()
                self.prob_sum += torch.softmax(logits.detach(), -1)[..., 1].sum(0).double()
                self.seen += mask.shape[0]
        return x * mask[:, :, None, None]

    def active_channels(self) -> torch.Tensor:
        """Mean number of channels on per input in the last forward pass (differentiable)."""
        if self.mask is None:
            raise ParameterError("gate", "has not seen an input yet")
        return self.mask.sum(1).mean()

    @property
    def heat(self) -> np.ndarray:
        """(C,) mean probability of "on" per channel over the inputs seen (NaN before any)."""
        seen = float(self.seen)
        if seen == 0:
            return np.full(self.channels, np.nan)
        return (self.prob_sum / seen).cpu().numpy()

    @property
    def on_rate(self) -> np.ndarray:
        """(C,) fraction of inputs for which each channel was actually on (NaN before any)."""
        seen = float(self.seen)
        if seen == 0:
            return np.full(self.channels, np.nan)
        return (self.on_count / seen).cpu().numpy()

    def reset_heat(self) -> None:
        self.on_count.zero_()
        self.prob_sum.zero_()
        self.seen.zero_()

    def extra_repr(self) -> str:
        return f"channels={self.channels}, tau={self.tau}"


def find_gates(model: nn.Module) -> list[FrequencyGate]:
    return [m for m in model.modules() if isinstance(m, FrequencyGate)]


class GatePenalty(Callback):
    """Adds ``lam * active channels`` (mean per input, summed over gates) to each batch's loss.

    ``on_epoch_end`` reports ``active_channels`` (mean over the epoch's training batches) in the
    history and resets the gates' heat counters when ``reset_heat_each_epoch``.
    """

    def __init__(self, lam: float = 0.01, reset_heat_each_epoch: bool = False) -> None:
        self.lam = check_float("lam", lam, 0.0)
        self.reset_heat_each_epoch = reset_heat_each_epoch
        self._sum = 0.0
        self._n = 0

    def extra_loss(self, model: nn.Module) -> torch.Tensor | None:
        gates = find_gates(model)
        if not gates:
            raise ParameterError("model", "GatePenalty needs a model with a FrequencyGate")
        active = sum(g.active_channels() for g in gates)
        self._sum += float(active.detach())
        self._n += 1
        return self.lam * active if self.lam > 0 else None

    def on_epoch_end(self, epoch: int, model: nn.Module, metrics: dict[str, float]) -> None:
        metrics["active_channels"] = self._sum / max(self._n, 1)
        self._sum, self._n = 0.0, 0
        if self.reset_heat_each_epoch:
            for g in find_gates(model):
                g.reset_heat()

    def state_dict(self) -> dict:
        return {"lam": self.lam}


def top_k_channels(heat: np.ndarray | torch.Tensor, k: int) -> list[int]:
    """Indices of the ``k`` most often active channels, sorted (ties: lower index first)."""
    h = np.asarray(heat.cpu() if isinstance(heat, torch.Tensor) else heat, dtype=np.float64)
    if h.ndim != 1 or np.isnan(h).any():
        raise ParameterError(
            "heat", "must be a 1-D array without NaN (run the gate first)", h.shape
        )
    check_int("k", k, 1, h.size)
    order = np.lexsort((np.arange(h.size), -h))
    return sorted(int(i) for i in order[:k])
