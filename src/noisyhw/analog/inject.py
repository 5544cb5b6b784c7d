"""Model transforms: ``inject_noise_`` / ``remove_noise``, ``calibrate``, ``measure_snr``.

>>> inject_noise_(model, NoiseSpec(snr_db=0.0, mode="fixed"), seed=0)  # in place  # doctest: +SKIP
>>> calibrate(model, train_ds)          # fixed mode: per-layer reference powers (clean model)
>>> measure_snr(model, x)               # effective SNR each product actually saw
>>> remove_noise(model)                 # back to the plain model (same parameters)

``inject_noise_`` registers forward hooks on every ``nn.Linear`` and ``nn.Conv1d/2d/3d`` (their
state dict is untouched; torchvision models work) and swaps every ``nn.RNN`` / ``nn.LSTM`` /
``nn.GRU`` for a :class:`~noisyhw.analog.recurrent.NoisyRecurrent` that shares its parameters,
so the model's state dict keys stay the same. Noise is active in train and eval mode alike (it is
the hardware); ``with noise_disabled(model):`` turns it off temporarily. ``filter_fn(module,
fqn)`` narrows the layers further; ``inject_noise(model, ...)`` returns a noisy deep copy instead
(the convention of :mod:`noisyhw.transform`).
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import ParameterError
from ..seeding import torch_generator
from ..train import input_batches
from ..transform import FilterFn, check_filter_fn, select_modules
from .noise import NoisePoint, NoiseSpec, apply_noise
from .recurrent import NoisyRecurrent

__all__ = [
    "NoiseContext",
    "calibrate",
    "get_noise",
    "inject_noise",
    "inject_noise_",
    "load_noise_state_dict",
    "measure_snr",
    "noise_disabled",
    "noise_state_dict",
    "remove_noise",
    "set_noise",
]

_ATTR = "_noisyhw_noise"
_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


class NoiseContext:
    """The noise state of one model: its spec, seeded generators, groups and noise points.

    ``groups`` (set by :func:`~noisyhw.analog.vote`) is how many independent replicas the current
    batch holds. ``generator(device)`` returns the model's generator on that device (created from
    ``seed`` on first use; ``seed=None`` uses torch's global generator).
    """

    def __init__(self, spec: NoiseSpec, seed: int | None = None) -> None:
        self.spec = spec
        self.seed = seed
        self.groups = 1
        self.enabled = True
        self.points: dict[str, NoisePoint] = {}
        #: largest product output per batch row seen so far (elements); sizes vote chunks
        self.peak_per_row = 0
        #: set by :func:`~noisyhw.analog.vote` while it shares the first layer's clean output
        self.prefix: SharedPrefix | None = None
        #: by ``str(torch.device(device))`` ("cpu", "cuda:0"), and by the device objects asked with
        self._gens: dict[object, torch.Generator | None] = {}

    def generator(self, device: torch.device | str) -> torch.Generator | None:
        try:  # every noisy layer asks, every forward: a dict hit on the tensor's device object
            return self._gens[device]
        except KeyError:
            pass
        key = str(torch.device(device))
        if key not in self._gens:
            self._gens[key] = torch_generator(self.seed, key)
        self._gens[device] = self._gens[key]
        return self._gens[key]

    def reseed(self, seed: int | None) -> None:
        """Restart the noise stream: the same seed gives the same noise again."""
        self.seed = seed
        self._gens.clear()

    def __deepcopy__(self, memo: dict) -> NoiseContext:  # generators are recreated from the seed
        import copy

        new = NoiseContext(self.spec, self.seed)
        memo[id(self)] = new
        new.groups, new.enabled = self.groups, self.enabled
        new.prefix = None
        new.points = copy.deepcopy(self.points, memo)
        return new

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_gens"] = {}
        state["prefix"] = None
        return state


class PrefixUnsupportedError(Exception):
    """The model does not keep batch rows independent after its first noisy product."""


class SharedPrefix:
    """Voting without recomputing what every vote shares: the first noisy product's clean output.

    With no input (DAC) or weight noise, everything up to and including the clean output ``z``
    of the first noisy Linear/Conv to run is the same for every vote. :func:`~noisyhw.analog.vote`
    runs the model on the un-replicated chunk (``rows`` rows): the first forward records ``z``;
    later forwards skip that layer (its ``forward`` returns ``z``); in every forward the layer's
    hook hands on ``replicas`` copies of ``z`` (a fresh tensor, noised like any product output),
    so the layers after it see the replicated batch, exactly as if the input had been
    replicated. The hooks check that every later noisy product sees ``replicas * rows`` rows and
    that the first layer runs once per forward; anything else raises :class:`PrefixUnsupportedError`
    (the vote then falls back to replicating the input).
    """

    def __init__(self) -> None:
        self.module: nn.Module | None = None
        self.z: torch.Tensor | None = None
        self.rows = 0
        self.replicas = 1
        self._seen = False

    def start_chunk(self, rows: int) -> None:
        self.release()
        self.rows = rows

    def start_forward(self, replicas: int) -> None:
        self.replicas, self._seen = replicas, False

    def on_output(self, module: nn.Module, out: torch.Tensor) -> torch.Tensor:
        if self.module is None or module is self.module:
            if self._seen or out.shape[0] != self.rows:
                raise PrefixUnsupportedError(f"first noisy layer saw {out.shape[0]} rows / twice")
            self._seen = True
            if self.module is None:
                self.module, self.z = module, out.detach()
            z = self.z
            assert z is not None
            return z.repeat(self.replicas, *([1] * (z.dim() - 1)))
        if not self._seen or out.shape[0] != self.replicas * self.rows:
            raise PrefixUnsupportedError(f"a noisy layer saw {out.shape[0]} rows")
        return out

    def skip_first(self) -> None:
        """From now on the first layer returns the recorded ``z`` without computing it."""
        if self.module is not None:
            z = self.z
            self.module.forward = lambda *args, **kwargs: z  # type: ignore[method-assign]

    def release(self) -> None:
        if self.module is not None and "forward" in self.module.__dict__:
            del self.module.forward
        self.module, self.z = None, None


class _LayerHook:
    """Pre/post forward hooks of one Linear or Conv layer (input, weight and output noise)."""

    def __init__(self, ctx: NoiseContext, point: NoisePoint, kind: str) -> None:
        self.ctx, self.point, self.kind = ctx, point, kind

    def _on(self) -> bool:
        ctx = self.ctx
        return self.point.calibrating or (
            ctx.enabled and ctx.spec.active and self.kind in ctx.spec.targets
        )

    def pre(self, module: nn.Module, args: tuple) -> tuple | None:
        spec = self.ctx.spec
        if (spec.input_snr_db == math.inf and not self.point.calibrating) or not self._on():
            return None
        x = args[0]
        gen = self.ctx.generator(x.device)
        return (
            apply_noise(
                x,
                spec,
                self.point,
                gen,
                site="in",
                channel_dim=self._cdim(),
                groups=self.ctx.groups,
            ),
            *args[1:],
        )

    def post(self, module: nn.Module, args: tuple, out: torch.Tensor) -> torch.Tensor | None:
        if not self._on():
            return None
        spec, ctx = self.ctx.spec, self.ctx
        if ctx.prefix is not None:
            out = ctx.prefix.on_output(module, out)
        per_row = out.numel() // max(out.shape[0], 1)
        if per_row > ctx.peak_per_row:
            ctx.peak_per_row = per_row
        gen = ctx.generator(out.device)
        if spec.weight_snr_db != math.inf or self.point.calibrating:
            w = module.weight
            dw = apply_noise(w, spec, self.point, gen, site="weight") - w
            if spec.weight_snr_db != math.inf:
                x = args[0]
                extra = (
                    F.linear(x, dw) if self.kind == "linear" else module._conv_forward(x, dw, None)
                )
                out = out + extra
        out = apply_noise(
            out, spec, self.point, gen, channel_dim=self._cdim(), groups=ctx.groups, inplace=True
        )
        return out

    def _cdim(self) -> int:
        return -1 if self.kind == "linear" else 1


def get_noise(model: nn.Module) -> NoiseContext | None:
    """The model's :class:`NoiseContext`, or None when no noise was injected."""
    return getattr(model, _ATTR, None)


def _require(model: nn.Module) -> NoiseContext:
    ctx = get_noise(model)
    if ctx is None:
        raise ParameterError(
            "model", "has no injected noise; call inject_noise_(model, spec) first"
        )
    return ctx


def inject_noise_(
    model: nn.Module,
    spec: NoiseSpec | None = None,
    *,
    filter_fn: FilterFn | None = None,
    seed: int | None = None,
) -> nn.Module:
    """Make the analog products of ``model`` noisy, in place; return ``model``.

    Targets ``spec.targets`` among: ``linear`` (nn.Linear), ``conv`` (nn.Conv1d/2d/3d) and
    ``recurrent`` (nn.RNN/LSTM/GRU, replaced by noisy cells sharing the parameters), and of those
    only the layers ``filter_fn(module, fqn)`` accepts (None: all). Calling it again on a noisy
    model only changes the spec (and the seed when one is given); the layers stay as chosen
    first (a ``filter_fn`` then is an error). Create optimizers after this call: recurrent
    layers are new modules holding the same Parameters.
    """
    spec = spec if spec is not None else NoiseSpec()
    if not isinstance(spec, NoiseSpec):
        raise ParameterError("spec", "must be a NoiseSpec", type(spec).__name__)
    check_filter_fn(filter_fn)
    ctx = get_noise(model)
    if ctx is not None:
        if filter_fn is not None:
            raise ParameterError(
                "filter_fn", "cannot change the noisy layers of a noisy model; remove_noise first"
            )
        return set_noise(model, spec, seed=seed)
    ctx = NoiseContext(spec, seed)
    kinds = (nn.Linear, *_CONV, nn.RNN, nn.LSTM, nn.GRU, NoisyRecurrent)
    for name, module in select_modules(model, kinds, filter_fn):
        if isinstance(module, (nn.Linear, *_CONV)):
            point = NoisePoint(name or "<model>")
            hook = _LayerHook(ctx, point, "linear" if isinstance(module, nn.Linear) else "conv")
            module.register_forward_pre_hook(hook.pre)
            module.register_forward_hook(hook.post)
            ctx.points[point.name] = point
            continue
        if not isinstance(module, NoisyRecurrent):
            noisy = NoisyRecurrent.from_torch(module)
            noisy.train(module.training)
            if name:
                _replace(model, name, noisy)
            else:
                raise ParameterError(
                    "model", "is itself a recurrent module; wrap it or use to_noisy_recurrent"
                )
            module = noisy
        module.noise_ctx = ctx
        for key, point in module.points.items():
            point.name = f"{name}.{key}" if name else key
            ctx.points[point.name] = point
    object.__setattr__(model, _ATTR, ctx)
    return model


def inject_noise(
    model: nn.Module,
    spec: NoiseSpec | None = None,
    *,
    filter_fn: FilterFn | None = None,
    seed: int | None = None,
) -> nn.Module:
    """A noisy deep copy of ``model`` (``model`` untouched); see :func:`inject_noise_`."""
    check_filter_fn(filter_fn)
    return inject_noise_(copy.deepcopy(model), spec, filter_fn=filter_fn, seed=seed)


def remove_noise(model: nn.Module) -> nn.Module:
    """Undo :func:`inject_noise_` (hooks removed, torch recurrent modules back); return ``model``."""
    ctx = get_noise(model)
    if ctx is None:
        return model
    for module in model.modules():  # by owner, not by handle: copies and unpickled models too
        for hooks in (module._forward_pre_hooks, module._forward_hooks):
            for key, fn in list(hooks.items()):
                if isinstance(getattr(fn, "__self__", None), _LayerHook):
                    del hooks[key]
    for name, module in list(model.named_modules()):
        if isinstance(module, NoisyRecurrent) and module.noise_ctx is ctx:
            if name:
                _replace(model, name, module.to_torch())
            else:
                module.noise_ctx = None
    object.__delattr__(model, _ATTR)
    return model


def set_noise(
    model: nn.Module,
    spec: NoiseSpec | None = None,
    *,
    snr_db: float | None = None,
    seed: int | None = None,
) -> nn.Module:
    """Change a noisy model's spec (or only its ``snr_db``) and optionally reseed its noise."""
    ctx = _require(model)
    if spec is not None:
        if not isinstance(spec, NoiseSpec):
            raise ParameterError("spec", "must be a NoiseSpec", type(spec).__name__)
        ctx.spec = spec
    if snr_db is not None:
        ctx.spec = ctx.spec.replace(snr_db=snr_db)
    if seed is not None:
        ctx.reseed(seed)
    return model


@contextlib.contextmanager
def noise_disabled(model: nn.Module) -> Iterator[nn.Module]:
    """Temporarily run a noisy model clean."""
    ctx = _require(model)
    prev = ctx.enabled
    ctx.enabled = False
    try:
        yield model
    finally:
        ctx.enabled = prev


def _replace(root: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = root.get_submodule(parent_name) if parent_name else root
    setattr(parent, child, new)


@torch.no_grad()
def calibrate(
    model: nn.Module,
    data: Any,
    *,
    max_batches: int | None = 8,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    spec: NoiseSpec | None = None,
    seed: int | None = None,
) -> dict[str, torch.Tensor]:
    """Measure each product's clean signal power (``fixed`` mode references); return them.

    ``data`` is an input tensor (N, ...), a dataset (``.x`` or ``(x, y)`` items) or an iterable
    of batches (at most ``max_batches`` of ``batch_size``). The model runs *without* noise; for
    every noise point and site (output, input, weight) ``P_ref = mean(z^2)`` is stored (per
    output unit with ``granularity="output"``).
    Injects ``spec`` first when the model is not noisy yet (``spec`` may also replace the spec).
    """
    if get_noise(model) is None:
        inject_noise_(model, spec or NoiseSpec(mode="fixed"), seed=seed)
    elif spec is not None:
        set_noise(model, spec)
    ctx = _require(model)
    dev = torch.device(device) if device is not None else _device_of(model)
    for p in ctx.points.values():
        p.begin_calibration()
    was_training = model.training
    model.eval()
    seen = 0
    try:
        for x in input_batches(data, batch_size, max_batches):
            model(x.to(dev))
            seen += 1
    finally:
        for p in ctx.points.values():
            p.end_calibration()
        model.train(was_training)
    if seen == 0:
        raise ParameterError("data", "gave no batches to calibrate on")
    return {f"{name}.{site}": t for name, p in ctx.points.items() for site, t in p.ref.items()}


@torch.no_grad()
def measure_snr(
    model: nn.Module, x: torch.Tensor, *, seed: int | None = None
) -> list[dict[str, Any]]:
    """Run one noisy forward of batch ``x``; return the effective SNR (dB) each point saw.

    One row per noise point (``layer``): ``snr_db`` of the product outputs
    (``10 log10(sum z^2 / sum n^2)`` over the batch and, for recurrent cells, all time steps),
    and ``input_snr_db`` / ``weight_snr_db`` when those sites are noisy. ``inf`` = no noise.
    ``seed`` reseeds the model's noise first.
    """
    ctx = _require(model)
    if seed is not None:
        ctx.reseed(seed)
    for p in ctx.points.values():
        p.reset_stats()
        p.recording = True
    was_training = model.training
    model.eval()
    try:
        model(x.to(_device_of(model)))
    finally:
        for p in ctx.points.values():
            p.recording = False
        model.train(was_training)
    rows = []
    for name, p in ctx.points.items():
        if not p.signal_energy:
            continue  # not reached by this forward (or not a target)
        row: dict[str, Any] = {"layer": name, "snr_db": p.effective_snr_db("out")}
        if "in" in p.signal_energy:
            row["input_snr_db"] = p.effective_snr_db("in")
        if "weight" in p.signal_energy:
            row["weight_snr_db"] = p.effective_snr_db("weight")
        rows.append(row)
    return rows


def noise_state_dict(model: nn.Module) -> dict[str, dict[str, torch.Tensor]]:
    """The calibrated references of every noise point (``{point: {site: tensor}}``), for saving
    next to the model's own state dict (which :func:`inject_noise_` leaves unchanged)."""
    return {name: p.state_dict() for name, p in _require(model).points.items()}


def load_noise_state_dict(model: nn.Module, state: dict[str, dict[str, torch.Tensor]]) -> None:
    """Restore references saved by :func:`noise_state_dict` (e.g. the clean model's calibration,
    so that a noise-trained copy sees the same hardware noise floor)."""
    ctx = _require(model)
    missing = sorted(set(ctx.points) - set(state))
    if missing:
        raise ParameterError("state", "has no references for noise points", ", ".join(missing))
    for name, refs in state.items():
        if name in ctx.points:
            ctx.points[name].load_state_dict(refs)


def _device_of(model: nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")
