"""Noisy analog inference studies: train-SNR x test-SNR x votes x mode sweeps, attacks, demo.

The pipeline of ``noisyhw noise sweep`` (and of the demo section):

1. train the clean model (cached as ``clean.pt`` in the run folder, resumable);
2. ``fixed`` mode: calibrate per-layer reference powers on the clean model with training data —
   the hardware noise floor every model of the sweep then sees;
3. for each mode and training SNR, fine-tune a copy of the clean model with noise injected
   (:class:`~noisyhw.analog.NoiseTraining`; cached as ``noisy-<mode>-<snr>.pt``);
4. evaluate every (mode, training SNR, test SNR, votes, method) as one trial of the run's sweep
   (resumable), and the effective per-layer SNR each model actually sees.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import data as D
from ..analog import (
    NoiseSpec,
    NoiseTraining,
    calibrate,
    get_noise,
    inject_noise,
    inject_noise_,
    load_noise_state_dict,
    measure_snr,
    noise_disabled,
    noise_state_dict,
    noisy_accuracy,
)
from ..analog.attack import AdversarialLoss, perturb, train_substitute
from ..errors import ParameterError
from ..io import load_checkpoint, save_checkpoint
from ..sweep import Run, line_plot
from ..train import TrainConfig, evaluate, fit
from .classify import ClassifierJob

__all__ = [
    "AttackJob",
    "NoiseJob",
    "attack_trial",
    "demo_section",
    "eval_trial",
    "parse_train_snr",
    "prepare_attack",
    "prepare_models",
    "report_sweep",
    "snr_label",
]


#: SNRs in dB are finite numbers in this range (inf, where allowed, means no noise)
SNR_DB_MIN, SNR_DB_MAX = -100.0, 300.0

TrainSNR = float | tuple[float, float] | list[float]


def parse_train_snr(text: str, name: str = "train_snrs") -> TrainSNR:
    """The inverse of :func:`snr_label` for a training SNR: ``"0"`` or ``"0dB"`` -> 0.0,
    ``"-2..4dB"`` -> (-2.0, 4.0) (drawn per batch), ``"20>10>0dB"`` -> [20.0, 10.0, 0.0] (a
    per-epoch curriculum); every value in [SNR_DB_MIN, SNR_DB_MAX] dB."""
    item = text.strip().removesuffix("dB")
    try:
        if ".." in item:
            lo, hi = (float(v) for v in item.split(".."))
            if not lo <= hi:
                raise ValueError
            value: TrainSNR = (lo, hi)
        elif ">" in item:
            value = [float(v) for v in item.split(">")]
        else:
            value = float(item)
    except ValueError:
        raise ParameterError(
            name,
            "comma-separated dB values or start:stop:step ranges, per-batch random ranges "
            "lo..hi, or curricula a>b>c",
            text,
        ) from None
    if any(not SNR_DB_MIN <= v <= SNR_DB_MAX for v in _values(value)):  # NaN fails too
        raise ParameterError(
            name,
            f"dB values in [{SNR_DB_MIN:g}, {SNR_DB_MAX:g}] (the clean model is always included)",
            text,
        )
    return value


def _values(snr: TrainSNR) -> list[float]:
    return list(snr) if isinstance(snr, tuple | list) else [snr]


def snr_label(snr: float | None) -> str:
    """``None``/inf -> ``"clean"``, 0.0 -> ``"0dB"``, a range (tuple) -> ``"-2..4dB"``, a
    curriculum (list) -> ``"20>10>0dB"``."""
    if snr is None or (isinstance(snr, float) and math.isinf(snr)):
        return "clean"
    if isinstance(snr, list):
        return ">".join(f"{v:g}" for v in snr) + "dB"
    if isinstance(snr, tuple):
        return f"{snr[0]:g}..{snr[1]:g}dB"
    return f"{snr:g}dB"


@dataclass
class NoiseJob:
    """A sweep: the clean job, which modes / training SNRs to train, how to fine-tune."""

    base: ClassifierJob
    modes: Sequence[str] = ("fixed",)
    #: each: an SNR (dB), a (lo, hi) range drawn per batch, or a list = per-epoch curriculum
    train_snrs: Sequence[float | tuple[float, float] | list[float]] = (0.0,)
    granularity: str = "layer"
    finetune_epochs: int = 3
    finetune_lr: float | None = None
    noise_targets: tuple[str, ...] = ("linear", "conv", "recurrent")
    extra: dict[str, Any] = field(default_factory=dict)

    def spec(self, mode: str, snr: float) -> NoiseSpec:
        return NoiseSpec(snr, mode=mode, granularity=self.granularity, targets=self.noise_targets)


def _model_meta(job: ClassifierJob, train: D.ArrayDataset) -> dict[str, Any]:
    return {
        "model": job.model,
        "model_kwargs": dict(job.model_kwargs),
        "input_shape": list(train.input_shape),
        "num_classes": train.num_classes,
    }


def build_model(meta: dict[str, Any]) -> nn.Module:
    from .. import models as M

    return M.create(
        meta["model"], tuple(meta["input_shape"]), meta["num_classes"], **meta["model_kwargs"]
    )


def _train_or_load(
    path: Path,
    model: nn.Module,
    train: D.ArrayDataset,
    cfg: TrainConfig,
    callbacks: list,
    desc: str,
    loss_fn: Any = None,
) -> list[dict[str, float]]:
    if path.is_file():
        state = load_checkpoint(path)
        model.load_state_dict(state["state_dict"])
        return list(state.get("history", []))
    hist = fit(
        model,
        train,
        None,
        cfg,
        callbacks=callbacks,
        checkpoint=path.with_suffix(".ckpt"),
        description=desc,
        loss_fn=loss_fn,
    )
    save_checkpoint(path, {"state_dict": model.state_dict(), "history": hist})
    path.with_suffix(".ckpt").unlink(missing_ok=True)
    return hist


def prepare_models(job: NoiseJob, folder: Path) -> dict[str, Any]:
    """Steps 1-3 of the pipeline; returns the trial context (states, refs, test data, meta)."""
    train, test = job.base.datasets()
    folder.mkdir(parents=True, exist_ok=True)
    clean = job.base.build(train.input_shape, train.num_classes)
    hist = _train_or_load(folder / "clean.pt", clean, train, job.base.config, [], "clean model")
    clean_acc = evaluate(clean, test)["accuracy"]
    states: dict[str, dict[str, torch.Tensor]] = {"clean": copy.deepcopy(clean.state_dict())}
    refs: dict[str, Any] = {}
    if "fixed" in job.modes:
        probe = inject_noise(clean, job.spec("fixed", 0.0), seed=0)
        calibrate(probe, train, batch_size=512, max_batches=8)
        refs = noise_state_dict(probe)
    histories = {"clean": hist}
    cfg = replace(
        job.base.config,
        epochs=job.finetune_epochs,
        lr=job.finetune_lr if job.finetune_lr is not None else job.base.config.lr,
    )
    for mode in job.modes:
        for snr in job.train_snrs:
            label = snr_label(snr)
            model = copy.deepcopy(clean)
            rng = tuple(snr) if isinstance(snr, tuple) else None
            cur = list(snr) if isinstance(snr, list) else None
            nominal = rng[0] if rng else cur[0] if cur else float(snr)
            inject_noise_(model, job.spec(mode, nominal), seed=job.base.config.seed)
            if mode == "fixed":
                load_noise_state_dict(model, refs)
            cb = NoiseTraining(
                job.spec(mode, nominal), snr_range=rng, curriculum=cur, seed=job.base.config.seed
            )
            fname = label.replace(">", "_").replace("..", "to")
            hist = _train_or_load(
                folder / f"noisy-{mode}-{fname}.pt",
                model,
                train,
                cfg,
                [cb],
                f"noise-train {mode} {label}",
            )
            histories[f"{mode}:{label}"] = hist
            states[f"{mode}:{label}"] = copy.deepcopy(model.state_dict())
    return {
        "meta": _model_meta(job.base, train),
        "states": states,
        "refs": refs,
        "x": test.x,
        "y": test.y,
        "classes": test.classes,
        "granularity": job.granularity,
        "targets": list(job.noise_targets),
        "seed": job.base.config.seed,
        "clean_acc": clean_acc,
        "histories": histories,
    }


def _noisy_model(ctx: dict[str, Any], key: str, mode: str, snr: float) -> nn.Module:
    model = build_model(ctx["meta"])
    model.load_state_dict(ctx["states"][key])
    model.eval()
    spec = NoiseSpec(snr, mode=mode, granularity=ctx["granularity"], targets=tuple(ctx["targets"]))
    inject_noise_(model, spec, seed=ctx["seed"])
    if mode == "fixed":
        load_noise_state_dict(model, ctx["refs"])
    return model


def eval_trial(params: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    """One sweep point: accuracy of one model at one test SNR with K votes (and its mean
    effective SNR over the noise points, measured on 256 test inputs)."""
    key = "clean" if params["train"] == "clean" else f"{params['mode']}:{params['train']}"
    model = _noisy_model(ctx, key, params["mode"], float(params["test_snr_db"]))
    ds = D.ArrayDataset(ctx["x"], ctx["y"], ctx["classes"])
    acc = noisy_accuracy(model, ds, params["votes"], params["method"], seed=ctx["seed"])
    eff = [r["snr_db"] for r in measure_snr(model, ctx["x"][:256], seed=ctx["seed"])]
    return {
        "accuracy": acc,
        "eff_snr_db": sum(eff) / len(eff) if eff else math.inf,
        "eff_snr_min_db": min(eff) if eff else math.inf,
    }


def effective_snr_table(
    ctx: dict[str, Any], modes: Sequence[str], test_snr: float
) -> list[dict[str, Any]]:
    """Per-layer effective SNR of every model of a sweep at one nominal test SNR."""
    rows = []
    for key in ctx["states"]:
        for mode in modes:
            if key != "clean" and not key.startswith(f"{mode}:"):
                continue
            model = _noisy_model(ctx, key, mode, test_snr)
            for r in measure_snr(model, ctx["x"][:256], seed=ctx["seed"]):
                rows.append(
                    {
                        "mode": mode,
                        "train": key.split(":")[-1],
                        "test_snr_db": test_snr,
                        "layer": r["layer"],
                        "eff_snr_db": round(r["snr_db"], 2),
                    }
                )
    return rows


def report_sweep(
    run: Run, rows: list[dict[str, Any]], ctx: dict[str, Any], title: str, prefix: str = ""
) -> list:
    """Accuracy-vs-test-SNR plots (one per mode and method: one curve per training SNR and
    vote count) and the effective-SNR table into one report section; returns the section."""
    sec = run.section(title)
    sec.text(
        f"Clean model, no noise: accuracy {ctx['clean_acc']:.4f} on {len(ctx['y'])} test "
        f"examples. Signal power per {ctx['granularity']}; noise on {', '.join(ctx['targets'])}."
    )
    modes = sorted({r["mode"] for r in rows})
    methods = sorted({r["method"] for r in rows})
    for mode in modes:
        for method in methods:
            sub = [r for r in rows if r["mode"] == mode and r["method"] == method]
            png = line_plot(
                sub,
                "test_snr_db",
                "accuracy",
                run.plot_path(f"{prefix}acc_{mode}_{method}.png"),
                hue=("train", "votes"),
                title=f"{mode} mode, {method} voting",
                xlabel="test SNR (dB)",
                ylabel="accuracy",
                hlines={"clean": ctx["clean_acc"]},
            )
            sec.image(png, f"{mode} SNR: accuracy vs test SNR per training SNR and vote count")
    test_snrs = sorted({r["test_snr_db"] for r in rows})
    at = 0.0 if 0.0 in test_snrs else test_snrs[0]
    eff = effective_snr_table(ctx, modes, at)
    sec.table(eff, title=f"effective per-layer SNR (dB) at nominal test SNR {at:g} dB")
    sec.table(
        rows,
        ["mode", "train", "test_snr_db", "votes", "method", "accuracy", "eff_snr_db"],
        title="all points",
    )
    return [sec, eff]


# --------------------------------------------------------------------------- attacks
@dataclass
class AttackJob:
    """Black-box transfer attack study: targets (standard / adversarially trained), a substitute
    per target trained on that target's labels for an attacker pool, FGSM/PGD at some eps.

    With ``noise_train_snr`` set, two more targets: each of the two fine-tuned for
    ``finetune_epochs`` with relative noise (per layer) at that SNR (``standard-nt``,
    ``adversarial-nt``; the adversarial one keeps its adversarial loss while fine-tuning). Their
    substitutes are trained on the labels they give *with* that noise (what an attacker querying
    the deployed analog target observes).
    """

    base: ClassifierJob
    substitute_model: str = "mlp"
    pool_size: int = 2000
    substitute_epochs: int = 5
    adv_eps: float = 0.1
    adv_method: str = "fgsm"
    attacks: Sequence[str] = ("fgsm", "pgd")
    eps: Sequence[float] = (0.1,)
    pgd_steps: int = 10
    noise_train_snr: float | None = None
    finetune_epochs: int = 2

    @property
    def targets(self) -> list[str]:
        """The target kinds of the study, in order."""
        kinds = ["standard", "adversarial"]
        return kinds + ([f"{k}-nt" for k in kinds] if self.noise_train_snr is not None else [])


def prepare_attack(job: AttackJob, folder: Path) -> dict[str, Any]:
    """Train targets + substitutes (cached) and craft the adversarial test sets."""
    from .. import models as M

    train, test = job.base.datasets()
    folder.mkdir(parents=True, exist_ok=True)
    pool_n = min(job.pool_size, len(test) // 2)
    pool = D.ArrayDataset(test.x[:pool_n], test.y[:pool_n], test.classes)  # attacker's own data
    evalset = D.ArrayDataset(test.x[pool_n:], test.y[pool_n:], test.classes)
    meta = _model_meta(job.base, train)
    states, advs, info = {}, {}, {}
    for kind in job.targets:
        base_kind = kind.removesuffix("-nt")
        model = job.base.build(train.input_shape, train.num_classes)
        cfg, callbacks = job.base.config, []
        if kind.endswith("-nt"):  # noise-trained: fine-tune the base target with noise
            assert job.noise_train_snr is not None
            model.load_state_dict(states[base_kind])
            spec = NoiseSpec(job.noise_train_snr)
            inject_noise_(model, spec, seed=job.base.config.seed)
            callbacks = [NoiseTraining(spec, seed=job.base.config.seed)]
            cfg = replace(cfg, epochs=job.finetune_epochs)
        loss = (
            AdversarialLoss(model, job.adv_method, job.adv_eps)
            if base_kind == "adversarial"
            else None
        )
        _train_or_load(
            folder / f"target-{kind}.pt", model, train, cfg, callbacks, f"target {kind}", loss
        )
        if loss is not None:
            loss.close()
        model.eval()
        states[kind] = copy.deepcopy(model.state_dict())
        torch.manual_seed(job.base.config.seed + 1)
        sub = M.create(job.substitute_model, train.input_shape, train.num_classes)
        sub_path = folder / f"substitute-{kind}.pt"
        if sub_path.is_file():
            sub.load_state_dict(load_checkpoint(sub_path)["state_dict"])
        else:
            cfg = replace(job.base.config, epochs=job.substitute_epochs)
            train_substitute(model, pool, sub, cfg)
            save_checkpoint(sub_path, {"state_dict": sub.state_dict()})
        sub.eval()
        with torch.no_grad():  # agreement with what the attacker observed (noisy for -nt)
            agree = float((sub(pool.x).argmax(-1) == model(pool.x).argmax(-1)).float().mean())
        with noise_disabled(model) if get_noise(model) else contextlib.nullcontext():
            info[kind] = {
                "clean_acc": evaluate(model, evalset)["accuracy"],
                "substitute_agreement": agree,
            }
        for attack in job.attacks:
            for eps in job.eps:
                kw = (
                    {"steps": job.pgd_steps, "seed": job.base.config.seed}
                    if attack == "pgd"
                    else {}
                )
                xa = torch.cat(
                    [
                        perturb(sub, x, y, attack, eps, **kw)
                        for x, y in zip(evalset.x.split(500), evalset.y.split(500), strict=True)
                    ]
                )
                advs[f"{kind}:{attack}:{eps:g}"] = xa
    return {
        "meta": meta,
        "states": states,
        "advs": advs,
        "x": evalset.x,
        "y": evalset.y,
        "classes": test.classes,
        "seed": job.base.config.seed,
        "info": info,
    }


def attack_trial(params: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    """Accuracy of one target at one inference-noise SNR on clean and transferred adversarial
    inputs (relative mode, layer power; ``test_snr_db = inf`` = no noise)."""
    model = build_model(ctx["meta"])
    model.load_state_dict(ctx["states"][params["target"]])
    model.eval()
    snr = float(params["test_snr_db"])
    inject_noise_(model, NoiseSpec(snr), seed=ctx["seed"])
    key = f"{params['target']}:{params['attack']}:{params['eps']:g}"
    classes = ctx["classes"]
    clean = noisy_accuracy(
        model,
        D.ArrayDataset(ctx["x"], ctx["y"], classes),
        params["votes"],
        "mean",
        seed=ctx["seed"],
    )
    adv = noisy_accuracy(
        model,
        D.ArrayDataset(ctx["advs"][key], ctx["y"], classes),
        params["votes"],
        "mean",
        seed=ctx["seed"],
    )
    return {"clean_acc": clean, "adv_acc": adv}


# --------------------------------------------------------------------------- demo
def demo_section(ctx: Any) -> list[dict[str, Any]]:
    """MLP on digits (fixed vs relative SNR, clean vs 0 dB noise-trained, 1 vs 15 votes) and a
    row-LSTM with deep noise injection on Fashion-MNIST rows (digit rows when Fashion-MNIST is
    not installed; an 8-step LSTM on 8x8 digits learns little under 0 dB noise): accuracy from
    -5 to 20 dB."""
    torch.set_num_threads(1)
    sec = ctx.section
    sec.title = "Noisy analog inference: SNR modes, noise-injected training, voting"
    folder = ctx.run.dir / "analog"
    test_snrs = [-5.0, 0.0, 5.0, 10.0, 20.0]
    cfg = TrainConfig(epochs=15 if not ctx.fast else 8, batch_size=64, lr=3e-3, seed=ctx.seed)
    mlp = NoiseJob(
        ClassifierJob("digits", "mlp", config=cfg),
        modes=("fixed", "relative"),
        train_snrs=(0.0,),
        finetune_epochs=8 if not ctx.fast else 4,
    )
    rows = _demo_study(ctx, sec, mlp, folder / "mlp", test_snrs, "mlp_", votes=(1, 15))
    fashion = getattr(ctx, "fashion", ctx.dataset == "fashion-mnist")
    if fashion:  # 28 rows of 28 pixels: the README's Fashion-MNIST row-LSTM at CPU scale
        seq_cfg = replace(cfg, epochs=4 if not ctx.fast else 2, batch_size=100)
        seq_job = ClassifierJob(
            "fashion-mnist",
            "lstm",
            n_train=6000 if not ctx.fast else 2000,
            n_test=2000 if not ctx.fast else 1000,
            model_kwargs={"hidden": 64},
            config=seq_cfg,
        )
    else:
        ctx.image_fallback()
        seq_cfg = replace(cfg, epochs=12 if not ctx.fast else 6)
        seq_job = ClassifierJob("digits", "lstm", model_kwargs={"hidden": 48}, config=seq_cfg)
    lstm = NoiseJob(
        seq_job,
        modes=("fixed",),
        train_snrs=(0.0,),
        finetune_epochs=(3 if fashion else 5) if not ctx.fast else 2,
    )
    rows += _demo_study(ctx, sec, lstm, folder / "lstm", test_snrs, "lstm_", votes=(1, 9))
    return rows


def _demo_study(
    ctx: Any,
    sec: Any,
    job: NoiseJob,
    folder: Path,
    test_snrs: list[float],
    prefix: str,
    votes: Sequence[int],
) -> list[dict[str, Any]]:
    tctx = prepare_models(job, folder)
    trains = ["clean", *[snr_label(s) for s in job.train_snrs]]
    rows = []
    for mode in job.modes:
        for train in trains:
            for snr in test_snrs:
                for k in votes:
                    p = {
                        "mode": mode,
                        "train": train,
                        "test_snr_db": snr,
                        "votes": k,
                        "method": "mean",
                    }
                    rows.append({**p, **eval_trial(p, tctx)})
    name = f"{job.base.model} on {job.base.dataset}" + (" rows" if job.base.sequence else "")
    sec.text(
        f"{name}: clean accuracy {tctx['clean_acc']:.4f}. Noise on every matrix-product "
        "output (every time step for the LSTM), mean-softmax voting."
    )
    for mode in job.modes:
        sub = [r for r in rows if r["mode"] == mode]
        png = line_plot(
            sub,
            "test_snr_db",
            "accuracy",
            ctx.path(f"analog_{prefix}{mode}.png"),
            hue=("train", "votes"),
            title=f"{name}, {mode} SNR",
            xlabel="test SNR (dB)",
            ylabel="accuracy",
            hlines={"clean": tctx["clean_acc"]},
        )
        sec.image(png, f"{name}: accuracy vs test SNR ({mode} mode)")
    at0 = [r for r in rows if r["test_snr_db"] == 0.0]
    sec.table(at0, ["mode", "train", "votes", "accuracy", "eff_snr_db"], title=f"{name} at 0 dB")
    return [{"model": job.base.model, **r} for r in at0]
