"""Run one model through a hardware :class:`~noisyhw.stack.Profile`, stage by stage.

>>> result = evaluate(model, test_ds, preset("reram-4bit-worn-tlc"), trials=20)  # doctest: +SKIP
>>> result.rows()     # one row per stage: accuracy [95% CI], bits/param, cells, energy  # doctest: +SKIP

How a run goes
--------------
:func:`prepare` copies the model (the one passed in is never changed) and does the
deterministic work once: it measures the float accuracy, prunes (``prune_``), maps the layers
onto crossbars and calibrates their converters (``nvm.quantize_`` + ``nvm.calibrate``), and, for
fixed-mode analog noise, calibrates the noise floor on the clean model (``analog.calibrate``).
Stages with nothing random (a store at BER 0 still rounds the weights to its representation)
are evaluated there once. From the first stochastic stage on, every trial (:func:`run_trial`)
starts from that copy and redraws, with its own seeds (:func:`trial_seeds`, from ``(seed,
trial)`` only, so that profiles share their draws trial by trial): the crossbars' programming
error (``nvm.set_spec``), the stored bits' flips (``storage.corrupt_``, pruned weights stay zero:
a sparse image does not store them) and the compute noise (``analog.inject_noise_`` or the
crossbars' read / ADC noise), then measures the accuracy after each stage. :func:`summarize`
turns the trials into a :class:`StackResult`: per stage the mean accuracy with its 95%
Student-t interval over trials (:func:`noisyhw.stats.mean_ci`), bits per parameter, cells per
parameter and energy per inference. The trial function :func:`stack_trial` is what
``noisyhw stack`` runs through the sweep pipeline (resumable, ``--workers``, Ray).

Bits per parameter (the stage's weight memory / the float model's parameter count)
-----------------------------------------------------------------------------------
``float``: each tensor's dtype width. ``prune``: surviving weights at their width plus the
survivors' index (:func:`noisyhw.compress.prune.compression_report`). ``quantize``: every
crossbar weight at ``weight_bits`` (an array holds each position, pruned or not). ``store``: the
memory image's width per stored value (:meth:`noisyhw.storage.StoredModel.width`; pruned weights
not stored, their index kept) plus side information. ``compute`` keeps what the store holds.
Cells: one per stored bit, or ``1 / rate`` per bit under a PCM constrained code. Energy: the NVM
crossbar model (:func:`noisyhw.analog.nvm.energy.estimate`, crossbar layers only) times votes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..errors import ParameterError, check_int, check_seed
from ..stats import mean_ci
from .profile import STAGES, Profile

__all__ = [
    "Prepared",
    "StackResult",
    "StageResult",
    "evaluate",
    "prepare",
    "run_trial",
    "stack_trial",
    "summarize",
    "trial_seeds",
]

#: the most trials one evaluation takes
TRIALS_MAX = 100_000
#: the rows of a result: the float model, then each stage of the profile that is on
ALL_STAGES = ("float", *STAGES)


@dataclass
class StageResult:
    """One stage's figures. ``accuracy`` is the mean over ``trials`` (1 for a stage with
    nothing random), ``low``/``high`` its 95% interval (equal to it when deterministic);
    ``energy_j`` per inference or None with the reason in ``energy_note``."""

    stage: str
    accuracy: float
    low: float
    high: float
    trials: int
    bits_per_param: float
    cells_per_param: float | None
    energy_j: float | None
    energy_note: str

    def row(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "accuracy": self.accuracy,
            "accuracy_low": self.low,
            "accuracy_high": self.high,
            "trials": self.trials,
            "bits_per_param": self.bits_per_param,
            "cells_per_param": self.cells_per_param,
            "energy_j": self.energy_j,
            "energy_note": self.energy_note,
        }


@dataclass
class StackResult:
    """What :func:`evaluate` measured: one :class:`StageResult` per stage that is on (the
    float model first), each trial's seeds and accuracies, and facts about the model."""

    profile: Profile
    stages: list[StageResult]
    trials: list[dict[str, Any]] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def stage(self, name: str) -> StageResult:
        for s in self.stages:
            if s.stage == name:
                return s
        raise ParameterError(
            "stage", f"must be one of {', '.join(s.stage for s in self.stages)}", name
        )

    @property
    def final(self) -> StageResult:
        """The last stage: what the deployed model achieves."""
        return self.stages[-1]

    def rows(self) -> list[dict[str, Any]]:
        """One row per stage, with the profile's name."""
        return [{"profile": self.profile.name, **s.row()} for s in self.stages]


@dataclass
class Prepared:
    """The deterministic part of an evaluation (see the module doc): ``model`` is the copy that
    every trial starts from, ``start`` the first stochastic stage (None: nothing random)."""

    profile: Profile
    model: nn.Module
    start: str | None
    accuracy: dict[str, float]
    bits: dict[str, float]
    cells: dict[str, float | None]
    energy: dict[str, tuple[float | None, str]]
    noise_refs: dict[str, Any] | None
    masks: dict[str, torch.Tensor]
    device: str
    facts: dict[str, Any]


def trial_seeds(seed: int, trial: int) -> dict[str, int]:
    """The seeds of trial ``trial``: one per stochastic stage (programming error ``quantize``,
    stored bit flips ``store``, compute noise ``compute``), from ``(seed, trial)`` only."""
    from ..sweep import chunk_rng

    rng = chunk_rng(check_seed("seed", seed), check_int("trial", trial, 0))
    draws = rng.integers(0, 2**62, size=3)
    return {"quantize": int(draws[0]), "store": int(draws[1]), "compute": int(draws[2])}


# --------------------------------------------------------------------------- accuracy
def _accuracy(
    model: nn.Module, data: Any, device: str, votes: int = 1, method: str = "mean"
) -> float:
    """Test accuracy; with ``votes > 1`` the K-pass vote of :func:`noisyhw.analog.noisy_accuracy`
    (its noise continues the stream the stage seeded)."""
    if votes > 1:
        from ..analog import noisy_accuracy

        return noisy_accuracy(model, data, votes, method, seed=None)
    from ..train import evaluate as evaluate_model

    return float(evaluate_model(model, data, device)["accuracy"])


# --------------------------------------------------------------------------- bits
def _param_bits(model: nn.Module) -> dict[str, float]:
    return {n: float(p.numel() * p.element_size() * 8) for n, p in model.named_parameters()}


def _crossbar_weights(model: nn.Module) -> list[str]:
    """Names of the weight parameters held in crossbar arrays."""
    from ..analog.nvm import CrossbarGRU, CrossbarLinear, CrossbarLSTM

    names = []
    for mname, module in model.named_modules():
        if isinstance(module, CrossbarLinear | CrossbarLSTM | CrossbarGRU):
            for pname, _ in module.named_parameters(recurse=False):
                if "weight" in pname:
                    names.append(f"{mname}.{pname}" if mname else pname)
    return names


# --------------------------------------------------------------------------- stages
def _prune(model: nn.Module, profile: Profile, train_data: Any, seed: int, device: str) -> Any:
    from ..compress.prune import prune_

    stage = profile.prune
    assert stage is not None
    spec = stage.spec()
    if spec.method == "magnitude":
        return prune_(model, spec)
    if train_data is None:
        raise ParameterError(
            "prune.method",
            "needs training data (train_data=...); without it use magnitude",
            spec.method,
        )
    from ..train import TrainConfig

    cfg = TrainConfig(epochs=stage.epochs, lr=stage.lr, seed=seed, device=device)
    return prune_(model, spec, train_data, None, cfg, description="stack: prune")


def _apply(prep: Prepared, model: nn.Module, name: str, seeds: dict[str, int]) -> None:
    """Apply stage ``name``'s random part (or its deterministic effect) to ``model`` in place."""
    p = prep.profile
    if name == "quantize":
        assert p.quantize is not None
        if p.quantize.stochastic:
            from ..analog.nvm import set_spec

            set_spec(model, p.quantize.spec(seed=seeds["quantize"]))
    elif name == "store":
        from ..storage import corrupt_

        s = p.store
        assert s is not None
        corrupt_(
            model,
            s.raw_ber,
            s.representation,
            s.protection,
            rng=seeds["store"],
            buffers=s.buffers,
        )
        if prep.masks:  # a sparse image stores no pruned weight: those stay zero
            named = dict(model.named_parameters())
            with torch.no_grad():
                for pname, mask in prep.masks.items():
                    named[pname].mul_(mask.to(named[pname]))
    elif name == "compute":
        c = p.compute
        assert c is not None
        if c.kind == "nvm":
            from ..analog.nvm import reseed, set_spec

            q = p.quantize
            assert q is not None
            set_spec(
                model,
                q.spec(seed=seeds["quantize"], read_noise=c.read_noise, adc_noise=c.adc_noise),
            )
            reseed(model, seeds["compute"])
        elif c.stochastic:
            from ..analog import inject_noise_, load_noise_state_dict

            inject_noise_(model, c.noise_spec(), seed=seeds["compute"])
            if prep.noise_refs is not None:
                load_noise_state_dict(model, prep.noise_refs)


def _stage_accuracy(prep: Prepared, model: nn.Module, name: str, data: Any) -> float:
    c = prep.profile.compute
    if name == "compute" and c is not None:
        return _accuracy(model, data, prep.device, c.votes, c.vote_method)
    return _accuracy(model, data, prep.device)


def _is_stochastic(profile: Profile, name: str) -> bool:
    stage = getattr(profile, name)
    return bool(getattr(stage, "stochastic", False))


def prepare(
    model: nn.Module,
    test_data: Any,
    profile: Profile,
    *,
    calib_data: Any = None,
    train_data: Any = None,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> Prepared:
    """The deterministic part of :func:`evaluate` (see the module doc); ``model`` is copied."""
    if not isinstance(profile, Profile):
        raise ParameterError("profile", "must be a Profile", type(profile).__name__)
    if not isinstance(model, nn.Module):
        raise ParameterError("model", "must be a torch nn.Module", type(model).__name__)
    seed = check_seed("seed", seed)
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    dev = str(torch.device(device))
    m = copy.deepcopy(model).to(dev).eval()
    n_params = sum(p.numel() for p in m.parameters())
    if n_params == 0:
        raise ParameterError("model", "has no parameters")
    calib = calib_data if calib_data is not None else train_data
    facts: dict[str, Any] = {
        "params": n_params,
        "calibration": "calib_data" if calib_data is not None else "train_data",
    }
    if calib is None:
        calib = test_data
        facts["calibration"] = "test_data (no calib_data or train_data given)"
    seeds = trial_seeds(seed, 0)
    bits = _param_bits(m)
    acc = {"float": _accuracy(m, test_data, dev)}
    per_stage_bits = {"float": sum(bits.values()) / n_params}
    cells: dict[str, float | None] = {"float": None}
    digital = "no crossbar: the NVM energy model needs a quantize stage with weight/DAC/ADC bits"
    energy: dict[str, tuple[float | None, str]] = {"float": (None, digital)}
    masks: dict[str, torch.Tensor] = {}
    index_bits: dict[str, float] = {}
    prep = Prepared(profile, m, None, acc, per_stage_bits, cells, energy, None, masks, dev, facts)
    last = "float"
    for name, stage in profile.stages:
        if name == "prune":
            from ..compress.prune import compression_report

            res = _prune(m, profile, train_data, seed, dev)
            for t in res.targets:
                rep = compression_report(m, [t], None)
                bits[t.key] = float(rep["value_bits"] + rep["index_bits"])
                index_bits[t.key] = float(rep["index_bits"])
                masks[t.key] = (t.weight.detach() != 0).cpu()
            facts["sparsity"] = res.sparsity
        elif name == "quantize":
            from ..analog.nvm import calibrate, quantize_

            m = quantize_(m, stage.spec(seed=seeds["quantize"]))
            prep.model = m
            calibrate(m, calib, max_batches=stage.calib_batches, device=dev)
            xb = _crossbar_weights(m)
            named = dict(m.named_parameters())
            if stage.weight_bits is not None:
                for pname in xb:
                    bits[pname] = float(named[pname].numel() * stage.weight_bits)
            facts["crossbar_weights"] = sum(named[n].numel() for n in xb)
            energy[name] = _energy(m, test_data, profile, dev)
        elif name == "store":
            from ..storage import store

            image = store(m, stage.representation, stage.protection, buffers=stage.buffers)
            for tname, t in image.tensors.items():
                # stored bits per value: the word width, or a code's codeword bits per value
                values = int(getattr(t, "num_values", t.words.size))
                per_value = t.words.size * getattr(t, "width", image.width) / max(values, 1)
                count = int(masks[tname].sum()) if tname in masks else values
                bits[tname] = per_value * count + index_bits.get(tname, 0.0) + t.side_bits
            if stage.pcm is not None:
                from ..codes.pcm import best_code

                code = best_code(*stage.pcm)
                facts["pcm_code"], facts["pcm_rate"] = code.name, code.rate
        elif name == "compute" and stage.kind == "analog" and stage.mode == "fixed":
            from ..analog import calibrate, inject_noise, noise_state_dict

            probe = inject_noise(m, stage.noise_spec(), seed=seeds["compute"])
            calibrate(probe, calib, device=dev)
            prep.noise_refs = noise_state_dict(probe)
        per_stage_bits[name] = sum(bits.values()) / n_params
        rate = facts.get("pcm_rate")
        cells[name] = (
            None if "store" not in per_stage_bits else per_stage_bits["store"] / (rate or 1.0)
        )
        if name == "compute":
            base, note = energy.get("quantize", (None, digital))
            votes = stage.votes
            energy[name] = (
                None if base is None else base * votes,
                note + (f"; x{votes} votes" if votes > 1 and base is not None else ""),
            )
        elif name != "quantize":
            energy[name] = energy[last]
        if prep.start is None and _is_stochastic(profile, name):
            prep.start = name
            prep.model = copy.deepcopy(m)
        if prep.start is None:
            _apply(prep, m, name, seeds)
            acc[name] = _stage_accuracy(prep, m, name, test_data)
            prep.model = m
        last = name
    return prep


def _energy(model: nn.Module, data: Any, profile: Profile, device: str) -> tuple[float | None, str]:
    """Energy per inference of the crossbar layers, or None with the reason."""
    q = profile.quantize
    assert q is not None
    missing = [k for k in ("weight_bits", "dac_bits", "adc_bits") if getattr(q, k) is None]
    if missing:
        return None, f"the NVM energy model needs integer bits ({', '.join(missing)} is float)"
    from ..analog.nvm.energy import estimate, layer_shapes
    from ..train import input_batches

    example = next(iter(input_batches(data, 4, 1)))
    report = estimate(
        layer_shapes(model, example.to(device)),
        weight_bits=q.weight_bits,
        dac_bits=q.dac_bits,
        adc_bits=q.adc_bits,
    )
    return report.energy_j, "NVM crossbar model (ISAAC parameters), crossbar layers only"


def run_trial(prep: Prepared, test_data: Any, seed: int, trial: int) -> dict[str, Any]:
    """One trial: the stochastic stages with :func:`trial_seeds` ``(seed, trial)``; returns
    ``seed_<stage>`` and ``acc_<stage>`` for every stage from the first stochastic one."""
    out: dict[str, Any] = {}
    if prep.start is None:
        return out
    seeds = trial_seeds(seed, trial)
    model = copy.deepcopy(prep.model)
    names = [n for n, _ in prep.profile.stages]
    for name in names[names.index(prep.start) :]:
        _apply(prep, model, name, seeds)
        if name in seeds:
            out[f"seed_{name}"] = seeds[name]
        out[f"acc_{name}"] = _stage_accuracy(prep, model, name, test_data)
    return out


def summarize(prep: Prepared, trials: list[dict[str, Any]]) -> StackResult:
    """Per stage: mean accuracy and 95% interval over ``trials`` (rows of :func:`run_trial`)."""
    stages = []
    for name in ["float", *(n for n, _ in prep.profile.stages)]:
        if name in prep.accuracy:
            a = prep.accuracy[name]
            mean, lo, hi, n = a, a, a, 1
        else:
            values = [float(t[f"acc_{name}"]) for t in trials if f"acc_{name}" in t]
            if not values:
                raise ParameterError("trials", f"hold no accuracy of stage {name}")
            mean, lo, hi = mean_ci(values)
            n = len(values)
        e, note = prep.energy.get(name, (None, ""))
        stages.append(
            StageResult(name, mean, lo, hi, n, prep.bits[name], prep.cells.get(name), e, note)
        )
    return StackResult(prep.profile, stages, list(trials), dict(prep.facts))


def evaluate(
    model: nn.Module,
    test_data: Any,
    profile: Profile,
    *,
    trials: int = 10,
    calib_data: Any = None,
    train_data: Any = None,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> StackResult:
    """Accuracy, bits, cells and energy of ``model`` after each stage of ``profile``.

    ``test_data``: an :class:`~noisyhw.data.ArrayDataset` (``.x`` inputs, ``.y`` labels) or a
    map-style Dataset of ``(x, y)``; ``trials``: independent draws of the stochastic stages
    (>= 2 for an interval); ``calib_data`` sets converter ranges and the fixed-mode noise floor
    (default ``train_data``, else ``test_data``); ``train_data`` trains a pruning method other
    than magnitude. ``model`` is not changed. See the module doc for what each figure means.
    """
    trials = check_int("trials", trials, 1, TRIALS_MAX)
    prep = prepare(
        model,
        test_data,
        profile,
        calib_data=calib_data,
        train_data=train_data,
        seed=seed,
        device=device,
    )
    rows = []
    for t in range(trials if prep.start is not None else 0):
        rows.append({"trial": t, **run_trial(prep, test_data, seed, t)})
    return summarize(prep, rows)


def stack_trial(params: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """Sweep trial ``{"profile": name, "trial": t}`` over ``context`` = ``{"prepared":
    {name: Prepared}, "test": dataset, "seed": int}`` (module level: workers import it)."""
    prep = context["prepared"][params["profile"]]
    return run_trial(prep, context["test"], context["seed"], int(params["trial"]))


def stage_names(profile: Profile) -> list[str]:
    """``["float", <stages that are on>...]``."""
    return ["float", *(n for n, _ in profile.stages)]
