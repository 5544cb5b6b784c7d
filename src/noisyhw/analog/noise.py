"""The noise-injection point: what "SNR" means, and one function that noises one tensor.

An analog matrix-vector product ``z = W x + b`` computed in a memory array comes out with
additive Gaussian noise. :class:`NoiseSpec` says how strong, and :func:`apply_noise` adds it to
one product output (or to the product's input, DAC side, or to its weights) given the spec, the
layer's :class:`NoisePoint` state and a ``torch.Generator``. Model transforms
(:func:`noisyhw.analog.inject_noise`) and the noisy recurrent cells call :func:`apply_noise`; the
Gaussian draw itself is :func:`noisyhw.channels.awgn` (autograd) or, in place on a fresh layer
output that needs no gradient, the compiled :func:`noisyhw.channels.awgn_`.

SNR modes (``snr_db = 10 log10(P_signal / P_noise)``; ``snr_db = inf`` means no noise)
------------------------------------------------------------------------------------------
``relative``
    ``sigma^2 = mean(z^2) / 10^(snr_db / 10)``, with ``mean(z^2)`` measured on the *current*
    signal every forward pass. The noise follows the signal: a layer that grows its weights grows
    its noise with them, so noise-injected training cannot "escape" it.
``fixed``
    ``sigma^2 = P_ref / 10^(snr_db / 10)``, where ``P_ref = mean(z^2)`` was measured once by
    :func:`noisyhw.analog.calibrate` on the clean model and is then held constant: a hardware
    noise floor in the layer's output units. Rescaling the weights afterwards does not change
    sigma, so the *effective* SNR (:func:`noisyhw.analog.measure_snr`) can differ from the nominal.
``fullscale``
    ``sigma = max|z| / 10^(snr_db / 20)``: noise relative to the range the signal spans, the way
    an ADC (or DAC, for inputs) with its range set to the signal's peak sees it. Because
    ``max(z^2) >= mean(z^2)`` the mean-power SNR is lower than ``snr_db`` by the crest factor.

Granularity of the signal power (``mean(z^2)`` or ``max|z|``)
---------------------------------------------------------------
``layer``  over every element of the product output of the batch (one sigma per layer);
``sample`` over each sample's elements (one sigma per sample; relative / fullscale only);
``output`` over the batch (and spatial / time positions) for each output unit or channel.

When a batch holds ``groups`` independent replicas (voting), ``layer`` and ``output`` powers are
measured per replica, so a K-replica batch sees exactly the noise statistics of K separate passes.

Gradient
--------
The forward pass is ``z + sigma(z) * eps`` with ``eps ~ N(0, 1)`` drawn independently of ``z``.
In ``relative`` and ``fullscale`` mode sigma is a function of the current signal
(``rms(z) * 10^(-snr/20)`` or ``max|z| * 10^(-snr/20)``), and autograd differentiates through it:
``d/dz (z + sigma(z) eps) = 1 + eps * d sigma / dz``. This is the gradient of the stochastic
forward for the drawn ``eps``, so noise-injected training sees that growing the signal grows the
noise. ``NoiseSpec(detach_std=True)`` treats sigma as a constant in the backward pass instead
(the forward is unchanged); that gradient is biased (it ignores the noise's growth with the
signal) and is kept only to reproduce that ablation. In ``fixed`` mode sigma is a calibrated
constant and both are the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from ..channels import awgn, awgn_
from ..errors import ParameterError, check_choice, check_float
from ..transform import SpecMixin

__all__ = [
    "GRANULARITIES",
    "MODES",
    "SITES",
    "NoisePoint",
    "NoiseSpec",
    "apply_noise",
    "signal_stat",
]

MODES = ("relative", "fixed", "fullscale")
GRANULARITIES = ("layer", "sample", "output")
#: where noise can enter an analog product: its output (ADC side), input (DAC side), weights
SITES = ("out", "in", "weight")
#: which layer kinds :func:`~noisyhw.analog.inject_noise` may touch
TARGETS = ("linear", "conv", "recurrent")


@dataclass(frozen=True)
class NoiseSpec(SpecMixin):
    """How much noise, where, and what its SNR is measured against.

    Parameters
    ----------
    snr_db:
        SNR of the noise added to every matrix-product output (ADC side), in dB; ``inf`` = none.
    mode:
        ``"relative"``, ``"fixed"`` or ``"fullscale"`` (see the module docstring for formulas).
    granularity:
        ``"layer"``, ``"sample"`` or ``"output"``: over what the signal power is measured.
        ``"sample"`` needs a current signal, so it is refused in ``fixed`` mode.
    input_snr_db:
        SNR of noise on each product's *input* (DAC side), same mode and granularity; ``inf``.
    weight_snr_db:
        SNR of weight noise (``W + dW``, drawn afresh for every forward call, shared by the batch),
        measured against the weights with the same mode (``layer``/``sample`` -> per tensor,
        ``output`` -> per output row); ``inf`` = none.
    targets:
        Layer kinds that get noise: any of ``"linear"``, ``"conv"``, ``"recurrent"``
        (``inject_noise_(..., filter_fn=...)`` narrows the layers further, by module and name).
    detach_std:
        ``False`` (default): in ``relative`` / ``fullscale`` mode the gradient flows through the
        noise's standard deviation, which depends on the signal (the exact gradient of the
        stochastic forward). ``True``: sigma is a constant for autograd (biased gradient; an
        ablation only, see the module docstring). No effect on the forward pass or in
        ``fixed`` mode.
    """

    snr_db: float = math.inf
    mode: str = "relative"
    granularity: str = "layer"
    input_snr_db: float = math.inf
    weight_snr_db: float = math.inf
    targets: tuple[str, ...] = TARGETS
    detach_std: bool = False

    def __post_init__(self) -> None:
        for name in ("snr_db", "input_snr_db", "weight_snr_db"):
            object.__setattr__(self, name, check_float(name, getattr(self, name), allow_inf=True))
            if getattr(self, name) == -math.inf:
                raise ParameterError(
                    name, "must be a finite number of dB or inf (no noise)", "-inf"
                )
        if not isinstance(self.detach_std, bool):
            raise ParameterError("detach_std", "True or False", self.detach_std)
        check_choice("mode", self.mode, MODES)
        check_choice("granularity", self.granularity, GRANULARITIES)
        if self.mode == "fixed" and self.granularity == "sample":
            raise ParameterError(
                "granularity",
                "fixed mode holds a calibrated per-layer or per-output power; use layer or output",
                "sample",
            )
        targets = (self.targets,) if isinstance(self.targets, str) else tuple(self.targets)
        for t in targets:
            check_choice("targets", t, TARGETS)
        object.__setattr__(self, "targets", targets)

    def snr_of(self, site: str) -> float:
        """The SNR (dB) of one site: ``"out"``, ``"in"`` or ``"weight"``."""
        if site == "out":
            return self.snr_db
        return self.input_snr_db if site == "in" else self.weight_snr_db

    @property
    def active(self) -> bool:
        """True when any site has finite SNR (some noise is added)."""
        # read on every layer call: plain comparisons (SNRs are validated: never NaN or -inf)
        return (
            self.snr_db != math.inf
            or self.input_snr_db != math.inf
            or self.weight_snr_db != math.inf
        )

    def describe(self) -> str:
        parts = [f"{self.mode} SNR {self.snr_db:g} dB per {self.granularity}"]
        if math.isfinite(self.input_snr_db):
            parts.append(f"input {self.input_snr_db:g} dB")
        if math.isfinite(self.weight_snr_db):
            parts.append(f"weight {self.weight_snr_db:g} dB")
        if self.detach_std and self.mode != "fixed":
            parts.append("sigma detached from the gradient")
        return ", ".join(parts)


@dataclass
class NoisePoint:
    """Per-layer state of one analog product: calibrated references and measured statistics.

    ``ref[site]`` holds the calibrated signal power of a site (``fixed`` mode): a 0-d tensor
    (``layer``) or one value per output unit (``output``). While ``calibrating`` is set,
    :func:`apply_noise` adds no noise and accumulates ``mean(z^2)`` instead; while ``recording``
    is set it accumulates the clean-signal and noise energies that give the effective SNR.
    """

    name: str = ""
    ref: dict[str, torch.Tensor] = field(default_factory=dict)
    calibrating: bool = False
    recording: bool = False
    _cal_sum: dict[str, torch.Tensor] = field(default_factory=dict, repr=False)
    _cal_count: dict[str, int] = field(default_factory=dict, repr=False)
    signal_energy: dict[str, float] = field(default_factory=dict)
    noise_energy: dict[str, float] = field(default_factory=dict)

    def reset_stats(self) -> None:
        self.signal_energy.clear()
        self.noise_energy.clear()

    def effective_snr_db(self, site: str = "out") -> float:
        """``10 log10(sum z^2 / sum n^2)`` over what was recorded (inf when no noise was added)."""
        s, n = self.signal_energy.get(site, 0.0), self.noise_energy.get(site, 0.0)
        if n == 0.0:
            return math.inf
        return 10.0 * math.log10(s / n) if s > 0 else -math.inf

    def begin_calibration(self) -> None:
        self.calibrating = True
        self._cal_sum.clear()
        self._cal_count.clear()

    def end_calibration(self) -> None:
        self.calibrating = False
        for site, total in self._cal_sum.items():
            self.ref[site] = total / self._cal_count[site]
        self._cal_sum.clear()
        self._cal_count.clear()

    def _accumulate(self, site: str, power_sum: torch.Tensor, count: int) -> None:
        prev = self._cal_sum.get(site)
        self._cal_sum[site] = power_sum if prev is None else prev + power_sum
        self._cal_count[site] = self._cal_count.get(site, 0) + count

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {site: t.detach().cpu().clone() for site, t in self.ref.items()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.ref = {site: t.clone() for site, t in state.items()}


def _check_groups(batch: int, groups: int) -> None:
    if batch % groups:
        raise ParameterError("groups", f"must divide the batch size {batch}", groups)


def _grouped(z: torch.Tensor, granularity: str, channel_dim: int, groups: int, batched: bool):
    """View ``z`` as (G, M, C) where statistics are taken over M; return it and an inverse."""
    shape = z.shape
    if not batched:  # a weight tensor: one "sample", channel = output rows (dim 0)
        if granularity == "output":
            zt = z.reshape(1, shape[0], -1).transpose(1, 2)  # (1, M, C)
            return zt, lambda t: t.transpose(1, 2).reshape(shape)
        return z.reshape(1, -1, 1), lambda t: t.reshape(shape)
    b = shape[0]
    _check_groups(b, groups)
    if granularity == "layer":
        return z.reshape(groups, -1, 1), lambda t: t.reshape(shape)
    if granularity == "sample":
        return z.reshape(b, -1, 1), lambda t: t.reshape(shape)
    cd = channel_dim % z.dim()
    moved = z.movedim(cd, -1)
    mshape = moved.shape
    zt = moved.reshape(groups, -1, mshape[-1])
    return zt, lambda t: t.reshape(mshape).movedim(-1, cd)


def signal_stat(zt: torch.Tensor, kind: str) -> torch.Tensor:
    """Mean power (``"power"``), root mean square (``"rms"``) or peak magnitude (``"peak"``) over
    dim 1 of a (G, M, C) view, shape (G, 1, C). Differentiable; ``"rms"`` and ``"peak"`` have
    a zero (not NaN) gradient where the signal is all zeros."""
    if kind == "peak":
        lo, hi = torch.aminmax(zt, dim=1, keepdim=True)
        return torch.maximum(hi, -lo)
    if kind == "rms":  # vector_norm's backward is 0 at a zero vector; sqrt(power)'s is NaN
        return torch.linalg.vector_norm(zt, dim=1, keepdim=True) / math.sqrt(max(zt.shape[1], 1))
    if zt.shape[-1] == 1:
        if zt.shape[0] == 1:  # one sigma for the whole tensor: a flat BLAS-style norm
            return (torch.linalg.vector_norm(zt) ** 2 / zt.shape[1]).reshape(1, 1, 1)
        return (torch.linalg.vector_norm(zt, dim=1, keepdim=True) ** 2) / zt.shape[1]
    return zt.square().mean(dim=1, keepdim=True)


def _mean_square(z: torch.Tensor) -> float:
    """``mean(z^2)`` of a contiguous tensor as a Python float. float32/float64: ``torch.dot`` of
    the flat view with itself (all threads; ``vector_norm`` runs on one); half precision:
    ``vector_norm``, whose float32 accumulation does not overflow (a float16 dot does, at 65504)."""
    if z.dtype in (torch.float32, torch.float64):
        flat = z.reshape(-1)  # contiguous: a view
        return float(torch.dot(flat, flat)) / max(z.numel(), 1)
    return float(torch.linalg.vector_norm(z, dtype=torch.float32)) ** 2 / max(z.numel(), 1)


def _group_mean_squares(zg: torch.Tensor) -> torch.Tensor:
    """``mean(z^2)`` of each row of a (G, M) tensor, float64 (G,); float32 accumulation for half
    precision (as :func:`_mean_square`)."""
    acc = zg.dtype if zg.dtype in (torch.float32, torch.float64) else torch.float32
    norms = torch.linalg.vector_norm(zg, dim=1, dtype=acc).double()
    return norms.square_().div_(max(zg.shape[1], 1))


def apply_noise(
    z: torch.Tensor,
    spec: NoiseSpec,
    point: NoisePoint,
    generator: torch.Generator | None = None,
    *,
    site: str = "out",
    channel_dim: int = -1,
    groups: int = 1,
    inplace: bool = False,
) -> torch.Tensor:
    """Return ``z`` plus Gaussian noise at ``spec``'s SNR for ``site``.

    ``z`` itself is untouched unless ``inplace``: then, when no gradient is needed through ``z``
    and no statistics are being recorded, the noise is added to ``z`` in place with the fast
    :func:`noisyhw.channels.awgn_` and ``z`` is returned (only for tensors nothing else reads,
    e.g. a layer's fresh output). Otherwise :func:`noisyhw.channels.awgn` adds it out of place
    (differentiable).

    Parameters
    ----------
    z:
        A product output / input of shape (B, ...) with the batch first, or (``site="weight"``) a
        weight tensor (C_out, ...).
    spec, point:
        The noise spec and this layer's state (calibration references, statistics, flags).
    generator:
        ``torch.Generator`` on ``z``'s device (None: torch's global generator).
    channel_dim:
        The output-unit dimension of ``z`` (``-1`` for Linear, ``1`` for Conv); used by the
        ``output`` granularity.
    groups:
        Number of independent replicas stacked along the batch (voting); must divide B.
    inplace:
        Allow adding the noise to ``z`` in place (see above).
    """
    snr = spec.snr_of(site)
    if point.calibrating:
        with torch.no_grad():
            zt, _ = _grouped(z.detach(), spec.granularity, channel_dim, 1, site != "weight")
            if spec.granularity == "sample":
                zt = zt.reshape(1, -1, 1)
            p = zt.double().square().sum(dim=(0, 1)).reshape(-1)
            point._accumulate(site, p if p.numel() > 1 else p[0], zt.shape[0] * zt.shape[1])
        return z
    if snr == math.inf:
        return z
    batched = site != "weight"
    gran = spec.granularity
    if spec.mode == "fixed" and point.ref.get(site) is None:
        raise ParameterError(
            "mode",
            f"fixed mode needs calibrate(model, data) first (layer {point.name or '?'} "
            f"has no reference power for its {site} site)",
            "fixed",
        )
    if (
        inplace
        and batched
        and z.device.type == "cpu"  # a float sigma costs a device sync elsewhere
        and gran == "layer"
        and spec.mode != "fullscale"
        and not point.recording
        and z.is_contiguous()
        and not (z.requires_grad and torch.is_grad_enabled())
        and (spec.mode == "relative" or point.ref[site].numel() == 1)
    ):
        # the common case, a layer output with one sigma per replica: Python floats / a numpy
        # vector, few tensor ops (the same sigmas and normals as the general path below)
        scale = 10.0 ** (-snr / 10.0)
        _check_groups(z.shape[0], groups)
        if spec.mode == "fixed":  # calibrated: one sigma whatever the replicas
            awgn_(z, math.sqrt(float(point.ref[site]) * scale), generator)
        elif groups == 1:
            awgn_(z, math.sqrt(_mean_square(z) * scale), generator)
        else:
            zg = z.view(groups, -1)
            awgn_(zg, (_group_mean_squares(zg) * scale).sqrt_().unsqueeze(1), generator)
        return z
    zt, restore = _grouped(z, gran, channel_dim, groups, batched)
    if spec.mode == "fixed":
        ref = point.ref[site].to(device=z.device, dtype=z.dtype)
        if gran == "output" and ref.numel() != zt.shape[-1]:
            raise ParameterError(
                "granularity",
                "calibration was done with another granularity; recalibrate",
                gran,
            )
        sigma = torch.sqrt(ref * 10.0 ** (-snr / 10.0)).reshape(1, 1, -1)
    else:
        # sigma(z) is part of the forward, so autograd differentiates through it (module doc)
        src = zt.detach() if spec.detach_std else zt
        kind = "peak" if spec.mode == "fullscale" else "rms"
        sigma = signal_stat(src, kind) * 10.0 ** (-snr / 20.0)
    if batched and gran == "output":
        # draw in z's own layout (sigma (G or 1, 1, C) onto a (G, B/G, ...) view), so that the
        # in-place and out-of-place paths add the same noise for the same generator state
        cd = channel_dim % z.dim()
        target = z.reshape(groups, z.shape[0] // groups, *z.shape[1:])
        shape = [sigma.shape[0], 1] + [sigma.shape[-1] if d == cd else 1 for d in range(1, z.dim())]
        std, restore = sigma.reshape(shape), lambda t: t.reshape(z.shape)
    else:
        target, std = zt, sigma
    if (
        inplace
        and batched
        and not point.recording
        and z.is_contiguous()
        and not (z.requires_grad and torch.is_grad_enabled())
    ):
        awgn_(target, std, generator)  # target is a view of z
        return z
    noisy = awgn(target, std, generator)
    if point.recording:
        with torch.no_grad():
            n = (noisy - target).double().square().sum()
            s = target.double().square().sum()
            point.signal_energy[site] = point.signal_energy.get(site, 0.0) + float(s)
            point.noise_energy[site] = point.noise_energy.get(site, 0.0) + float(n)
    return restore(noisy)
