"""NVM crossbar studies: float LSTM vs n-bit weights/DAC/ADC with and without QAT, device noise,
and the efficiency table. Used by ``noisyhw nvm train|sweep|energy`` and the demo.

Tasks
-----
* ``fmnist``: LSTM classifier on row-sequential Fashion-MNIST (28 steps of 28 pixels; falls back
  to sklearn digits, 8 steps of 8, when the Fashion-MNIST files are absent). Metric: accuracy.
* ``charlm``: character-level LSTM language model on the ``fortunes`` corpus
  (``/usr/share/games/fortunes``, falls back to ``licenses``, ``/usr/share/common-licenses``).
  Metric: perplexity (per character, nats) and next-character accuracy on held-out text.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import data as D
from .. import models as M
from ..analog.nvm import QuantSpec, Recalibrate, calibrate, program, quantize, set_spec
from ..analog.nvm.energy import (
    EnergyParams,
    estimate,
    layer_shapes,
    like_for_like,
    reference_table,
)
from ..errors import DataError, ParameterError, check_choice, check_int
from ..io import load_checkpoint, save_checkpoint
from ..sweep import Run, Section, line_plot, trial_key
from ..train import TrainConfig, evaluate, fit

__all__ = [
    "BIT_CHOICES",
    "NOISE_KINDS",
    "NVMTask",
    "bits_trial",
    "efficiency_rows",
    "make_spec",
    "noise_trial",
    "run_study",
    "train_float",
    "train_qat",
]

TASKS = ("fmnist", "charlm")
BIT_CHOICES = (2, 3, 4, 5, 6, 8)
#: noise kind -> QuantSpec field (units: fraction of the conductance range / of G / ADC LSBs)
NOISE_KINDS = {"prog": "prog_noise", "read": "read_noise", "adc": "adc_noise"}
VARY = ("all", "weight", "dac", "adc")


@dataclass
class NVMTask:
    """A study task: data sizes and the LSTM it trains (see module doc)."""

    task: str = "fmnist"
    n_train: int = 12000
    n_test: int = 2000
    hidden: int = 128
    corpus: str = "fortunes"
    seq_len: int = 64
    train_chars: int = 400_000
    test_chars: int = 40_000
    root: str | None = None
    calib_samples: int = 1024
    pool: int = 1

    def __post_init__(self) -> None:
        check_choice("task", self.task, TASKS)
        check_int("n_train", self.n_train, 1)
        check_int("n_test", self.n_test, 1)
        check_int("hidden", self.hidden, 1)
        check_int("pool", self.pool, 1, 8)
        check_int("seq_len", self.seq_len, 2)
        check_int("train_chars", self.train_chars, 2 * self.seq_len)
        check_int("test_chars", self.test_chars, 2 * self.seq_len)

    @property
    def metric(self) -> str:
        return "accuracy" if self.task == "fmnist" else "perplexity"

    @property
    def higher_is_better(self) -> bool:
        return self.task == "fmnist"

    def key(self) -> tuple:
        return tuple(sorted(asdict(self).items()))


_DATA: dict[tuple, tuple[Any, ...]] = {}


def load_task(
    task: NVMTask, seed: int = 0
) -> tuple[D.ArrayDataset, D.ArrayDataset, dict[str, Any]]:
    """``(train, test, info)``; info has ``dataset`` / ``corpus``, ``vocab`` size, input shape."""
    k = (task.key(), seed)
    if k in _DATA:
        return _DATA[k]
    if task.task == "fmnist":
        name = "fashion-mnist"
        try:
            D.locate(name, task.root)
        except DataError:
            name = "digits"
        train = D.load(name, "train", task.root).subset(task.n_train, seed=seed)
        test = D.load(name, "test", task.root).subset(task.n_test, seed=seed + 1)
        if task.pool > 1:  # average-pool the images: fewer, shorter rows (quick demos)
            train, test = (
                D.ArrayDataset(
                    nn.functional.avg_pool2d(d.x, task.pool),
                    d.y,
                    d.classes,
                    f"{d.name}/pool{task.pool}",
                )
                for d in (train, test)
            )
        train, test = D.sequence_view(train), D.sequence_view(test)
        info = {
            "dataset": name,
            "input_shape": tuple(train.x.shape[1:]),
            "num_classes": train.num_classes,
        }
    else:
        corpus = task.corpus
        try:
            text = D.text.load_corpus(corpus)
        except DataError:
            if corpus != "fortunes":
                raise
            corpus, text = "licenses", D.text.load_corpus("licenses")
        need = task.train_chars + task.test_chars
        text = text[:need] if len(text) >= need else text
        cut = int(len(text) * task.train_chars / need)
        vocab = D.text.CharVocab.from_text(text[:cut], max_size=96)
        train = D.text.char_windows(vocab.encode(text[:cut]), task.seq_len, vocab_size=len(vocab))
        test = D.text.char_windows(vocab.encode(text[cut:]), task.seq_len, vocab_size=len(vocab))
        info = {
            "dataset": f"{corpus} corpus",
            "corpus": corpus,
            "vocab": len(vocab),
            "input_shape": (task.seq_len,),
            "num_classes": len(vocab),
            "train_chars": cut,
            "test_chars": len(text) - cut,
        }
    _DATA[k] = (train, test, info)
    return _DATA[k]


def build_model(task: NVMTask, info: dict[str, Any], seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    if task.task == "fmnist":
        return M.create("lstm", info["input_shape"], info["num_classes"], hidden=task.hidden)
    return M.create(
        "char_lstm",
        info["input_shape"],
        info["num_classes"],
        embed=32,
        hidden=task.hidden,
        layers=1,
    )


def calib_inputs(train: D.ArrayDataset, n: int) -> torch.Tensor:
    return train.x[: min(n, len(train))]


def make_spec(
    bits: int | None,
    vary: str = "all",
    base: QuantSpec | None = None,
    fixed_bits: int | None = None,
) -> QuantSpec:
    """The spec of a sweep point: ``bits`` for the converters named by ``vary`` (``all``: weights,
    DAC and ADC), ``fixed_bits`` (None = float) for the others. ``bits=None``: all float."""
    check_choice("vary", vary, VARY)
    base = base or QuantSpec()
    if bits is None:
        return base.with_(
            weight_bits=None, dac_bits=None, adc_bits=None, adc_noise=0.0, dac_range="calibrated"
        )
    names = {"weight": "weight_bits", "dac": "dac_bits", "adc": "adc_bits"}
    kw = {f: (bits if vary in ("all", k) else fixed_bits) for k, f in names.items()}
    return base.with_(**kw)


def metrics(model: nn.Module, test: D.ArrayDataset, device: str) -> dict[str, float]:
    ev = evaluate(model, test, device, batch_size=512)
    out = {"accuracy": ev["accuracy"], "loss": ev["loss"]}
    if "perplexity" in ev:
        out["perplexity"] = ev["perplexity"]
        out["bpc"] = ev["loss"] / math.log(2.0)  # bits per character
    return out


def vs_float(metric: str, value: float, ref: float) -> float:
    """Distance to the float model: accuracy difference (``value - ref``) or relative
    perplexity change (``value / ref - 1``)."""
    return value - ref if metric == "accuracy" else value / ref - 1.0


def train_float(
    task: NVMTask, cfg: TrainConfig, checkpoint: Path | None = None, description: str = "float LSTM"
) -> tuple[nn.Module, list[dict[str, float]]]:
    train, test, info = load_task(task, cfg.seed)
    model = build_model(task, info, cfg.seed)
    history = fit(model, train, test, cfg, checkpoint=checkpoint, description=description)
    return model, history


def train_qat(
    float_model: nn.Module,
    spec: QuantSpec,
    task: NVMTask,
    cfg: TrainConfig,
    description: str = "QAT",
) -> tuple[nn.Module, list[dict[str, float]]]:
    """Quantize a trained float model, calibrate, fine-tune through the shared loop (ranges
    recalibrated after every epoch), recalibrate once more."""
    train, _test, _ = load_task(task, cfg.seed)
    calib = calib_inputs(train, task.calib_samples)
    q = quantize(float_model, spec)
    q.to(cfg.device)
    calibrate(q, calib)
    history = fit(q, train, None, cfg, callbacks=[Recalibrate(calib)], description=description)
    return q, history


# --------------------------------------------------------------------------- sweep trials
def _context_model(ctx: dict[str, Any], key: str) -> nn.Module:
    task: NVMTask = ctx["task"]
    _, _, info = load_task(task, ctx["seed"])
    m = build_model(task, info, ctx["seed"])
    m.load_state_dict(ctx[key])
    return m.to(ctx["device"])


def bits_trial(params: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    """One point of the bits sweep: PTQ (calibrate only) or QAT at ``params["bits"]``.
    ``bits=None`` with QAT is the control: the float model fine-tuned with the QAT budget."""
    if "threads" in ctx:
        torch.set_num_threads(ctx["threads"])
    task: NVMTask = ctx["task"]
    train, test, _ = load_task(task, ctx["seed"])
    fm = _context_model(ctx, "float_state")
    spec = make_spec(
        params["bits"], params.get("vary", "all"), ctx["base_spec"], ctx.get("fixed_bits")
    )
    if params["bits"] is None:
        if not params["qat"]:
            return metrics(fm, test, ctx["device"])
        cfg = TrainConfig(**ctx["qat_config"])
        fit(fm, train, None, cfg, description="float fine-tune (control)")
        return metrics(fm, test, ctx["device"])
    if params["qat"]:
        cfg = TrainConfig(**ctx["qat_config"])
        q, _hist = train_qat(fm, spec, task, cfg, description=f"QAT {params['bits']} bit")
        base = params["bits"] == ctx["base_bits"] and params.get("vary", "all") == "all"
        if ctx.get("save_dir") and base:
            save_checkpoint(
                Path(ctx["save_dir"]) / f"qat_{params['bits']}bit.pt",
                {"state_dict": q.state_dict()},
            )
    else:
        q = quantize(fm, spec)
        calibrate(q, calib_inputs(train, task.calib_samples))
    return metrics(q, test, ctx["device"])


def noise_trial(params: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    """One noise level on the PTQ or QAT model at the base bits; mean and std over ``repeats``
    independently programmed arrays (seeds 0..repeats-1 offset by the run seed)."""
    if "threads" in ctx:
        torch.set_num_threads(ctx["threads"])
    task: NVMTask = ctx["task"]
    train, test, _ = load_task(task, ctx["seed"])
    spec = make_spec(ctx["base_bits"], "all", ctx["base_spec"])
    fm = _context_model(ctx, "float_state")
    q = quantize(fm, spec)
    if params["model"] == "qat":
        q.load_state_dict(ctx["qat_state"])
    else:
        calibrate(q, calib_inputs(train, task.calib_samples))
    q.eval()
    vals: dict[str, list[float]] = {}
    for r in range(ctx["repeats"]):
        noisy = spec.with_(**{NOISE_KINDS[params["kind"]]: params["level"]}, seed=ctx["seed"] + r)
        set_spec(q, noisy)
        program(q, noisy.seed)
        for k, v in metrics(q, test, ctx["device"]).items():
            vals.setdefault(k, []).append(v)
    out: dict[str, Any] = {}
    for k, v in vals.items():
        out[k] = float(np.mean(v))
        out[f"{k}_std"] = float(np.std(v, ddof=1)) if len(v) > 1 else 0.0
    return out


# --------------------------------------------------------------------------- the study
@dataclass
class StudyConfig:
    """What :func:`run_study` sweeps."""

    bits: tuple[int, ...] = BIT_CHOICES
    qat: tuple[bool, ...] = (False, True)
    qat_bits: tuple[int, ...] | None = None  # QAT only at these bits (None: all of ``bits``)
    vary: str = "all"
    fixed_bits: int | None = None
    base_bits: int = 4
    noise: dict[str, tuple[float, ...]] = field(
        default_factory=lambda: {
            "prog": (0.0, 0.02, 0.05, 0.1),
            "read": (0.0, 0.02, 0.05, 0.1),
            "adc": (0.0, 0.5, 1.0, 2.0),
        }
    )
    noise_models: tuple[str, ...] = ("ptq", "qat")
    repeats: int = 3
    float_config: TrainConfig = field(default_factory=TrainConfig)
    qat_config: TrainConfig = field(default_factory=TrainConfig)
    base_spec: QuantSpec = field(default_factory=QuantSpec)
    #: also fine-tune the float model with the QAT budget (how much of QAT's gain is training)
    float_control: bool = False

    def __post_init__(self) -> None:
        for b in self.bits:
            check_int("bits", b, 1, 16)
        check_choice("vary", self.vary, VARY)
        check_int("repeats", self.repeats, 1)
        for k, levels in self.noise.items():
            check_choice("noise kind", k, NOISE_KINDS)
            if not all(0 <= v < math.inf for v in levels):  # NaN fails both
                raise ParameterError(f"{k} noise", "levels must be finite and >= 0", levels)
        for m in self.noise_models:
            check_choice("noise model", m, ("ptq", "qat"))
        needs_qat = "qat" in self.noise_models and any(self.noise.values())
        if needs_qat and (self.base_bits not in self.bits or True not in self.qat):
            raise ParameterError(
                "noise", "QAT noise trials need QAT in the sweep and the base bits in --bits"
            )


def run_study(
    run: Run,
    task: NVMTask,
    cfg: StudyConfig,
    section: Section,
    *,
    device: str = "cpu",
    workers: int = 1,
    prefix: str = "nvm_",
) -> list[dict[str, Any]]:
    """Float baseline, bits sweep (PTQ / QAT), noise sweep; plots and tables into ``section``."""
    seed = cfg.float_config.seed
    _, test, info = load_task(task, seed)
    fm, hist = train_float(task, cfg.float_config, run.dir / f"{prefix}float_ckpt.pt")
    ref = metrics(fm, test, device)
    metric = task.metric
    ctx = {
        "task": task,
        "seed": seed,
        "device": device,
        "float_state": {k: v.cpu() for k, v in fm.state_dict().items()},
        "base_spec": cfg.base_spec,
        "base_bits": cfg.base_bits,
        "fixed_bits": cfg.fixed_bits,
        "qat_config": asdict(cfg.qat_config),
        "save_dir": str(run.dir),
        "repeats": cfg.repeats,
    }
    trials = [
        {"stage": "bits", "bits": b, "qat": q, "vary": cfg.vary}
        for q in cfg.qat
        for b in cfg.bits
        if not (q and cfg.qat_bits is not None and b not in cfg.qat_bits)
    ]
    if cfg.float_control and True in cfg.qat:
        trials.append({"stage": "bits", "bits": None, "qat": True, "vary": cfg.vary})
    ntrials = [
        {"stage": "noise", "kind": k, "level": lv, "model": m}
        for k, levels in cfg.noise.items()
        for lv in levels
        for m in cfg.noise_models
    ]
    done = run.store.done_keys()  # on resume, finished noise trials belong to this grid too
    first = trials + [t for t in ntrials if trial_key(t) in done]
    rows = run.sweep(_dispatch, first, context=ctx, workers=workers, description="nvm bits")
    bit_rows = [
        dict(r, float_metric=ref[metric], vs_float=vs_float(metric, r[metric], ref[metric]))
        for r in rows
        if r.get("stage") == "bits"
    ]
    noise_rows: list[dict[str, Any]] = []
    qat_file = run.dir / f"qat_{cfg.base_bits}bit.pt"
    # noise level 0 is the noiseless model of the bits sweep (no random draw): copy, don't rerun
    clean = {r["qat"]: r for r in bit_rows if r["bits"] == cfg.base_bits and cfg.vary == "all"}
    zero = [t for t in ntrials if t["level"] == 0 and (t["model"] == "qat") in clean]
    to_run = [t for t in ntrials if t not in zero or trial_key(t) in done]
    if to_run:
        if "qat" in cfg.noise_models:
            ctx["qat_state"] = load_checkpoint(qat_file)["state_dict"]
        rows = run.sweep(
            _dispatch, trials + to_run, context=ctx, workers=workers, description="nvm noise"
        )
        noise_rows = [r for r in rows if r.get("stage") == "noise"]
    for t in zero:
        if trial_key(t) not in done:
            src = clean[t["model"] == "qat"]
            keys = [k for k in ("accuracy", "loss", "perplexity", "bpc") if k in src]
            noise_rows.append({**t, **{k: src[k] for k in keys}, **{f"{k}_std": 0.0 for k in keys}})
    order = {trial_key(t): i for i, t in enumerate(ntrials)}
    noise_rows = [
        dict(r, vs_float=vs_float(metric, r[metric], ref[metric]))
        for r in sorted(noise_rows, key=lambda r: order.get(trial_key(_params(r)), 0))
    ]
    _report(run, section, task, info, cfg, ref, hist, bit_rows, noise_rows, prefix)
    float_row = {"stage": "float", "bits": None, "qat": False, **ref, "vs_float": 0.0}
    return [float_row, *bit_rows, *noise_rows]


def _params(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("stage", "kind", "level", "model")}


def _dispatch(params: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    return bits_trial(params, ctx) if params["stage"] == "bits" else noise_trial(params, ctx)


def _fmt(v: float) -> str:
    return f"{v:.4f}" if v < 10 else f"{v:.2f}"


def _report(
    run: Run,
    section: Section,
    task: NVMTask,
    info: dict[str, Any],
    cfg: StudyConfig,
    ref: dict[str, float],
    hist: list[dict[str, float]],
    bit_rows: list[dict[str, Any]],
    noise_rows: list[dict[str, Any]],
    prefix: str,
) -> None:
    metric = task.metric
    what = (
        "LSTM classifier on row-sequential " + info["dataset"]
        if task.task == "fmnist"
        else f"character LSTM language model on the {info['dataset']}"
    )
    section.text(
        f"{what}: hidden {task.hidden}, float baseline {metric} {_fmt(ref[metric])} after "
        f"{len(hist)} epochs. Each point maps every Linear/LSTM weight onto differential NVM "
        f"pairs with n-bit weights ({cfg.vary} = n bits), n-bit DAC inputs and n-bit ADC outputs "
        f"(ranges calibrated on {task.calib_samples} training samples, ADC at the "
        f"{cfg.base_spec.adc_percentile} percentile per column). PTQ = calibrate only; QAT = "
        f"{cfg.qat_config.epochs} epoch(s) of straight-through fine-tuning from the float weights."
    )
    control = [r for r in bit_rows if r["bits"] is None]
    bit_rows = [r for r in bit_rows if r["bits"] is not None]
    vs = "accuracy - float" if metric == "accuracy" else "perplexity / float - 1"
    qat4 = [r for r in bit_rows if r["qat"] and r["bits"] == cfg.base_bits]
    if qat4:
        d = qat4[0]["vs_float"]
        section.text(
            f"At {cfg.base_bits} bits after QAT: {metric} {_fmt(qat4[0][metric])} vs float "
            f"{_fmt(ref[metric])} ({vs} = {d:+.4f})."
        )
    if control:
        section.text(
            f"Control: the float model fine-tuned with the same budget as QAT reaches {metric} "
            f"{_fmt(control[0][metric])} ({vs} = {control[0]['vs_float']:+.4f})."
        )
    hl = {f"float {metric}": ref[metric]}
    p = line_plot(
        bit_rows,
        "bits",
        metric,
        run.plot_path(f"{prefix}{metric}_vs_bits.png"),
        hue="qat",
        title=f"{metric} vs bits ({cfg.vary})",
        hlines=hl,
        logy=metric == "perplexity",  # 2-bit perplexities are 10x the float one
        xlabel="bits (weight = DAC = ADC)" if cfg.vary == "all" else f"{cfg.vary} bits",
    )
    section.image(p, f"{metric} vs bits, with and without QAT")
    extra = ["bpc", "accuracy"] if metric == "perplexity" else []
    cols = ["bits", "qat", metric, "vs_float", *extra]
    table = [{c: r.get(c) for c in cols} for r in bit_rows + control]
    section.table(table, cols, title=f"bits sweep (vs. float: {vs}; bits – = the float control)")
    if noise_rows:
        for kind in dict.fromkeys(r["kind"] for r in noise_rows):
            rs = [
                dict(r, lo=r[metric] - r[f"{metric}_std"], hi=r[metric] + r[f"{metric}_std"])
                for r in noise_rows
                if r["kind"] == kind
            ]
            unit = {"prog": "x conductance range", "read": "x G", "adc": "ADC LSB"}[kind]
            p = line_plot(
                rs,
                "level",
                metric,
                run.plot_path(f"{prefix}{metric}_vs_{kind}_noise.png"),
                hue="model",
                band=("lo", "hi"),
                hlines=hl,
                logy=metric == "perplexity",
                title=f"{metric} vs {kind} noise at {cfg.base_bits} bits "
                f"(mean ± std, {cfg.repeats} programmings)",
                xlabel=f"{kind} noise std ({unit})",
            )
            section.image(p, f"{metric} vs {kind} noise")
        cols = ["kind", "level", "model", metric, f"{metric}_std", "vs_float"]
        section.table([{c: r.get(c) for c in cols} for r in noise_rows], cols, title="noise sweep")


# --------------------------------------------------------------------------- efficiency
def efficiency_rows(
    model: nn.Module,
    example: torch.Tensor,
    bits: int | tuple[int, int, int] = 4,
    params: EnergyParams | None = None,
    references: str | Path | None = None,
    name: str = "model",
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, float]]:
    """Per-layer costs, the reference table and the summary of ``model`` (float or quantized)
    at ``bits`` (one int for all, or (weight, dac, adc))."""
    wb, db, ab = (bits, bits, bits) if isinstance(bits, int) else bits
    q = model if any(True for _ in _crossbar_iter(model)) else quantize(model, QuantSpec.float())
    shapes = layer_shapes(q, example)
    rep = estimate(shapes, params, weight_bits=wb, dac_bits=db, adc_bits=ab)
    layers = [
        {
            "layer": c.name,
            "rows": c.rows,
            "cols": c.cols,
            "mvms": c.mvms,
            "arrays": c.arrays,
            "slices": c.slices,
            "utilisation": c.utilisation,
            "pJ_per_mvm": c.energy_pj_per_mvm,
            "pJ_dac": c.e_dac_pj,
            "pJ_cells": c.e_cell_pj,
            "pJ_adc": c.e_adc_pj,
            "pJ_digital": c.e_digital_pj,
            "pJ_periphery": c.e_periphery_pj,
            "ns_per_mvm": c.latency_ns,
            "area_mm2": c.area_mm2,
        }
        for c in rep.layers
    ]
    refs = reference_table(rep, f"{name} on NVM ({wb}/{db}/{ab} bit)", references)
    return layers, refs, rep.summary()


def like_for_like_rows(
    model: nn.Module,
    example: torch.Tensor,
    bits: int | tuple[int, int, int] = 4,
    params: EnergyParams | None = None,
) -> list[dict[str, Any]]:
    """ops/J of ``model`` on the crossbars and on the digital twin at the same scope and bit
    widths (:func:`noisyhw.analog.nvm.energy.like_for_like`), per scope, with the ratio."""
    wb, db, ab = (bits, bits, bits) if isinstance(bits, int) else bits
    q = model if any(True for _ in _crossbar_iter(model)) else quantize(model, QuantSpec.float())
    shapes = layer_shapes(q, example)
    return like_for_like(shapes, params, weight_bits=wb, dac_bits=db, adc_bits=ab)


def _crossbar_iter(model: nn.Module):
    from ..analog.nvm import crossbars

    yield from crossbars(model)


def example_input(task: NVMTask, seed: int = 0, n: int = 4) -> torch.Tensor:
    train, _, _ = load_task(task, seed)
    return train.x[:n]


# --------------------------------------------------------------------------- demo
def demo_section(ctx: Any) -> list[dict[str, Any]]:
    """~30 s on 2 idle cores: a small row-LSTM (hidden 48) on 14x14 (2x2-pooled) Fashion-MNIST,
    float vs 2/4/8-bit PTQ and 4-bit QAT (plus the float model fine-tuned with the QAT budget),
    one programming-noise point, the efficiency table."""
    fast = bool(getattr(ctx, "fast", False))
    fashion = ctx.dataset == "fashion-mnist"
    if not fashion and hasattr(ctx, "fallback"):  # 8x8 digits, unpooled: 8 rows of 8
        ctx.fallback(
            "Fashion-MNIST",
            "scikit-learn's 8x8 digits (rows of 8 pixels)",
            "apt-get install dataset-fashion-mnist, or scripts/install-data as root",
        )
    task = NVMTask(
        "fmnist",
        n_train=1000 if fast else 6000,
        n_test=500 if fast else 1000,
        hidden=32 if fast else 48,
        calib_samples=256,
        pool=2 if fashion else 1,
    )
    fcfg = TrainConfig(
        epochs=3 if fast else 5,
        batch_size=100,
        lr=1e-2,
        seed=ctx.seed,
        device=ctx.device,
        grad_clip=1.0,
    )
    qcfg = replace(fcfg, epochs=1, lr=2e-3, max_batches=10 if fast else 15)
    cfg = StudyConfig(
        bits=(2, 4) if fast else (2, 4, 8),
        qat=(False, True),
        qat_bits=(4,),
        base_bits=4,
        noise={"prog": (0.0, 0.1)},
        noise_models=("ptq", "qat"),
        repeats=2,
        float_config=fcfg,
        qat_config=qcfg,
        float_control=True,  # the small float model is under-trained: show what QAT's budget
    )  # alone does for it
    ctx.section.title = "NVM crossbar LSTM: n-bit weights, DAC and ADC"
    sub = Run("nvm demo", {"fast": fast, "seed": ctx.seed}, out=ctx.run.dir / "nvm", seed=ctx.seed)
    try:
        rows = run_study(sub, task, cfg, ctx.section, device=ctx.device, prefix="nvm_")
    finally:
        sub.store.close()
    train, _, info = load_task(task, ctx.seed)
    fm = build_model(task, info, ctx.seed)
    _, refs, summ = efficiency_rows(fm, train.x[:2], 4, name="row-LSTM")
    ctx.section.text(
        f"Energy/area model (nvm_energy.toml, ISAAC-derived components) at 4-bit weights/DAC/ADC: "
        f"{summ['ops_per_j']:.3g} ops/J, {summ['ops_per_s_per_mm2']:.3g} ops/s/mm^2, array "
        f"utilisation {summ['utilisation']:.2f} from the real layer shapes."
    )
    ctx.section.table(
        [{k: r[k] for k in ("name", "kind", "ops_per_j", "ops_per_s_per_mm2")} for r in refs],
        ["name", "kind", "ops_per_j", "ops_per_s_per_mm2"],
        title="efficiency vs references",
    )
    out = []
    for r in rows:
        if r["stage"] in ("float", "bits"):
            out.append(
                {
                    "stage": r["stage"],
                    "bits": r.get("bits"),
                    "qat": r.get("qat"),
                    "accuracy": round(r["accuracy"], 4),
                }
            )
    out.append(
        {
            "stage": "energy",
            "ops_per_j": summ["ops_per_j"],
            "ops_per_s_per_mm2": summ["ops_per_s_per_mm2"],
        }
    )
    return out


def perplexity_from_loss(loss: float) -> float:
    return math.exp(min(loss, 50.0))
