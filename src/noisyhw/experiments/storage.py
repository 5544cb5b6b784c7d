"""Studies of weights in noisy storage: train (or load) a model, run a fault campaign, report.

``prepare_model`` trains a classifier into the run folder (resumable checkpoint, then
``storage_model.pt``) or loads a ``noisyhw train`` model file; ``campaign`` runs the storage
fault campaign of a :class:`CampaignConfig` through the run's sweep and ``report_campaign`` draws
it; ``distortion`` tabulates the one-flip distortion of the Hamming-weight-ordered code against
plain binary (:class:`DistortionConfig`); ``demo_section`` is the demo's storage part. Each
config is frozen and checked at construction (before any file is written); a run's config is
``dataclasses.asdict`` of it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import data as D
from .. import models as M
from ..errors import (
    COUNT_MAX,
    EPOCHS_MAX,
    ParameterError,
    check_choice,
    check_float,
    check_int,
    check_seed,
    option_name,
)
from ..io import load_checkpoint, save_checkpoint
from ..storage import campaign as C
from ..storage.campaign import ber_grid
from ..storage.enumerative import hwo_flip_bound, one_flip_distortion
from ..sweep import Run, Section, line_plot
from ..train import TrainConfig, evaluate, fit
from .classify import check_model
from .config import TRIALS_MAX, WORKERS_MAX, check_ints, set_field

__all__ = [
    "STUDIES",
    "CampaignConfig",
    "DistortionConfig",
    "Study",
    "ber_grid",
    "campaign",
    "demo_section",
    "distortion",
    "prepare_model",
    "report_campaign",
]


class RepeatChannels(nn.Module):
    """(N, 1, H, W) -> (N, c, H, W): grey images into RGB models such as torchvision's."""

    def __init__(self, channels: int = 3) -> None:
        super().__init__()
        self.channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.expand(-1, self.channels, -1, -1) if x.shape[1] == 1 else x


def build_model(name: str, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
    """A registered model, or a torchvision one (random init) fed grey images as RGB."""
    model = M.create(name, input_shape, num_classes)
    if name.startswith("torchvision:") and input_shape[0] == 1:
        model = nn.Sequential(RepeatChannels(3), model)
    return model


@dataclass(frozen=True)
class Study:
    """A model to train and attack: dataset (+ subset sizes), model name, training schedule."""

    dataset: str
    model: str
    epochs: int
    lr: float = 1e-3
    n_train: int | None = None
    n_test: int | None = None
    batch_size: int = 128


#: the studies of the issue (sizes chosen to train on 2 CPU cores in minutes)
STUDIES: dict[str, Study] = {
    "mlp-digits": Study("digits", "mlp", epochs=40, lr=2e-3),
    "cnn-fashion": Study(
        "fashion-mnist", "small_cnn", epochs=3, lr=2e-3, n_train=20000, n_test=2000
    ),
    "resnet18-fashion": Study(
        "fashion-mnist", "torchvision:resnet18", epochs=1, lr=1e-3, n_train=4000, n_test=300
    ),
}


def _datasets(study: Study, seed: int) -> tuple[D.ArrayDataset, D.ArrayDataset]:
    train = D.load(study.dataset, "train").subset(study.n_train, seed=seed)
    test = D.load(study.dataset, "test").subset(study.n_test, seed=seed + 1)
    return train, test


def prepare_model(
    study: Study,
    folder: Path | None,
    *,
    seed: int = 0,
    device: str = "cpu",
    model_file: Path | None = None,
) -> tuple[nn.Module, D.ArrayDataset, dict[str, Any]]:
    """Trained model, test set and facts (params, clean accuracy, training time).

    With ``model_file`` (from ``noisyhw train``) the model is loaded instead of trained. With a
    ``folder`` training resumes from ``folder/train_checkpoint.pt`` and the result is kept in
    ``folder/storage_model.pt``, so a rerun does not train again.
    """
    train, test = _datasets(study, seed)
    t0 = time.perf_counter()
    if model_file is not None:
        from .classify import load_model

        model, meta = load_model(Path(model_file), device)
        if tuple(meta["input_shape"]) != tuple(test.input_shape):
            raise ParameterError(
                "--model-file",
                f"expects input {tuple(test.input_shape)}",
                tuple(meta["input_shape"]),
            )
        source = f"loaded from {model_file}"
    else:
        torch.manual_seed(seed)
        model = build_model(study.model, test.input_shape, test.num_classes)
        saved = folder / "storage_model.pt" if folder else None
        if saved is not None and saved.is_file():
            model.load_state_dict(load_checkpoint(saved)["state_dict"])
            source = f"trained earlier ({saved.name})"
        else:
            cfg = TrainConfig(
                epochs=study.epochs,
                batch_size=study.batch_size,
                lr=study.lr,
                seed=seed,
                device=device,
            )
            ckpt = folder / "train_checkpoint.pt" if folder else None
            fit(model, train, None, cfg, checkpoint=ckpt, description=f"train {study.model}")
            if saved is not None:
                save_checkpoint(saved, {"state_dict": model.state_dict()})
            source = f"trained {study.epochs} epochs on {len(train)} images"
    model = model.to(device).eval()
    ev = evaluate(model, test, device)
    facts = {
        "model": study.model,
        "dataset": study.dataset,
        "params": sum(p.numel() for p in model.parameters()),
        "clean_accuracy": ev["accuracy"],
        "n_test": len(test),
        "source": source,
        "train_s": round(time.perf_counter() - t0, 1),
    }
    return model, test, facts


#: the default configurations of a campaign: these representations x these protections
REPRESENTATIONS = ("float32", "float16", "bfloat16", "fixed8", "hwo8")
PROTECTIONS = ("none", "nulling", "range")


@dataclass(frozen=True)
class CampaignConfig:
    """``storage campaign``: a model of ``study`` (:data:`STUDIES`; ``model``, ``dataset``,
    ``epochs``, ``n_train``, ``n_test`` override its fields when given; ``model_file``: a
    ``noisyhw train`` model instead of training) stored in each (representation, protection)
    pair of ``configs``, and at each BER of ``bers`` up to ``trials`` trials in chunks of
    ``chunk``, stopping at ``min_failures`` failed trials (accuracy more than ``tolerance``
    below clean float32; 0: always ``trials``). ``margin``: range-detection slack x max|w|;
    ``buffers``: BatchNorm statistics are stored (and corrupted) too."""

    study: str = "mlp-digits"
    model: str | None = None
    dataset: str | None = None
    epochs: int | None = None
    n_train: int | None = None
    n_test: int | None = None
    model_file: str | None = None
    configs: tuple[tuple[str, str], ...] = tuple(
        (r, p) for r in REPRESENTATIONS for p in PROTECTIONS
    )
    bers: tuple[float, ...] = tuple(ber_grid(1e-9, 1e-1, 1))
    trials: int = 10
    min_failures: int = 0
    chunk: int = 50
    margin: float = 0.1
    tolerance: float = 0.01
    buffers: bool = False
    seed: int = 0
    device: str = "cpu"
    workers: int = 1

    def __post_init__(self) -> None:
        check_choice("study", self.study, STUDIES)
        for name in ("n_train", "n_test"):
            if getattr(self, name) is not None:
                check_int(name, getattr(self, name), 1, COUNT_MAX)
        if self.epochs is not None:
            check_int("epochs", self.epochs, 1, EPOCHS_MAX)
        check_int("trials", self.trials, 1, TRIALS_MAX)  # a huge count hung building the grid
        if self.model is not None:
            check_model(self.model)
        if self.dataset is not None:
            check_choice("dataset", self.dataset, D.DATASETS)
            if D.DATASETS[self.dataset].kind == "text":
                raise ParameterError(
                    "dataset", "must be an image dataset (not a text corpus)", self.dataset
                )
        configs = tuple(tuple(c) for c in self.configs)
        if any(len(c) != 2 for c in configs):
            raise ParameterError("configs", "items must be (representation, protection)", configs)
        set_field(self, "configs", configs)
        set_field(
            self, "bers", tuple(check_float("bers", b, 0.0, 1.0, lo_open=True) for b in self.bers)
        )
        C.campaign_points(self.configs, self.bers)  # names and sizes, before any training
        check_int("min_failures", self.min_failures, 0, TRIALS_MAX)
        check_int("chunk", self.chunk, 1, TRIALS_MAX)
        if self.min_failures > self.trials:  # the stopping rule could never fire
            raise ParameterError(
                "min_failures",
                f"at most {option_name('trials')} ({self.trials})",
                self.min_failures,
            )
        check_float("tolerance", self.tolerance, 0.0, 1.0)
        check_float("margin", self.margin, 0.0, 1000.0)
        check_seed("seed", self.seed)
        check_int("workers", self.workers, 1, WORKERS_MAX)
        if self.model_file is not None:
            if not Path(self.model_file).is_file():
                raise ParameterError(
                    "model_file", "must be a model.pt from `noisyhw train`", self.model_file
                )
            from .classify import load_model

            # a damaged or foreign file: one line, before any folder
            load_model(Path(self.model_file), option=option_name("model_file"))

    def study_spec(self) -> Study:
        """The :class:`Study` with the given overrides."""
        over = {
            k: getattr(self, k)
            for k in ("model", "dataset", "epochs", "n_train", "n_test")
            if getattr(self, k) is not None
        }
        return replace(STUDIES[self.study], **over)


def campaign(
    cfg: CampaignConfig, *, out: Path | None = None, argv: list[str] | None = None
) -> tuple[Run, list[dict[str, Any]], dict[str, Any]]:
    """``noisyhw storage campaign``: train/load, adaptive Monte-Carlo, plots, report; returns
    the run, the tolerable-BER table (its ``gain`` column: the gain with its interval, as
    text) and the model facts (call ``finish`` on the run afterwards). See
    :func:`noisyhw.storage.campaign.run_campaign`."""
    study = cfg.study_spec()
    run = Run(
        "storage campaign",
        asdict(cfg),
        out=out,
        seed=cfg.seed,
        argv=argv,
        title=f"Weights in noisy storage: {study.model} on {study.dataset}",
    )
    model_file = Path(cfg.model_file) if cfg.model_file else None
    model, test, facts = prepare_model(
        study, run.dir, seed=cfg.seed, device=cfg.device, model_file=model_file
    )
    rows = C.run_campaign(
        model,
        test.x,
        test.y,
        cfg.configs,
        cfg.bers,
        cfg.trials,
        run=run,
        seed=cfg.seed,
        device=cfg.device,
        workers=cfg.workers,
        margin=cfg.margin,
        buffers=cfg.buffers,
        tolerance=cfg.tolerance,
        min_failures=cfg.min_failures or None,
        chunk=cfg.chunk,
    )
    sec = run.section(f"{study.model} on {study.dataset}")
    tolerance, min_failures = cfg.tolerance, cfg.min_failures
    sec.text(
        f"{facts['params']:,} parameters ({facts['source']}); clean test accuracy "
        f"{facts['clean_accuracy']:.4f} on {facts['n_test']} images. Every stored bit flips "
        f"independently at the BER; per BER and configuration up to {cfg.trials} trials in "
        f"chunks of {cfg.chunk}"
        + (
            f", stopping at {min_failures} failed trials (accuracy more than {tolerance:g} below "
            "clean float32)"
            if min_failures
            else ""
        )
        + f"; range-detection margin {cfg.margin:g} x max|w|; tolerable BER: mean accuracy "
        f"within {tolerance:g} of the clean float32 model; intervals: 95%, parametric bootstrap "
        "of every point's mean (failure count binomial, ok and failed means normal)."
    )
    _, tol = report_campaign(sec, run.dir, rows, tolerance=tolerance)
    return run, [dict(r, gain=C.gain_text(r)) for r in tol], facts


# --------------------------------------------------------------------------- report
def report_campaign(
    section: Section,
    folder: Path,
    rows: Sequence[dict[str, Any]],
    *,
    prefix: str = "storage_",
    title: str = "",
    tolerance: float = 0.01,
    plot: Callable[..., Path] = line_plot,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Plots and tables of a campaign into ``section``; returns ``(summary, tolerance table)``.

    Plots: accuracy vs BER (one curve per configuration, 95% band, clean float32 line),
    tolerable BER vs bits per parameter (95% band; configurations without a tolerable BER are
    named in the caption, not drawn), and accuracy vs bits per parameter at fixed BERs
    (equal-storage comparison).
    """
    summary = C.summarize(rows)
    tol = C.tolerable_ber(summary, tolerance)
    ref = next(r["clean_accuracy"] for r in tol if r["config"] == "float32/none")
    noisy = [r for r in summary if r["ber"] > 0]
    acc_png = plot(
        noisy,
        "ber",
        "mean",
        folder / f"{prefix}accuracy_vs_ber.png",
        hue="config",
        band=("ci_lo", "ci_hi"),
        hlines={f"clean float32 {ref:.3f}": ref, f"-{tolerance:g}": ref - tolerance},
        logx=True,
        title=title or "Accuracy vs bit error rate",
        xlabel="bit error rate",
        ylabel="accuracy (mean, 95% CI)",
    )
    section.image(acc_png, "mean accuracy over trials per BER, shaded: 95% interval of the mean")
    drawn = [r for r in tol if r["tolerable_ber_interp"] > 0]
    none = sorted(r["config"] for r in tol if r["tolerable_ber_interp"] <= 0)
    tol_rows = [
        dict(r, tol_lo=r["tol_lo"] or r["tolerable_ber_interp"], tol_hi=r["tol_hi"] or 1.0)
        for r in drawn
    ]
    tol_png = plot(
        tol_rows,
        "bits_per_param",
        "tolerable_ber_interp",
        folder / f"{prefix}tolerable_vs_bits.png",
        hue=("family", "protection"),
        band=("tol_lo", "tol_hi"),
        logy=True,
        title="Tolerable BER vs storage",
        xlabel="stored bits per parameter",
        ylabel=f"tolerable BER (within {tolerance:g} of clean)",
    )
    section.image(
        tol_png,
        "equal storage: tolerable BER vs bits per parameter, shaded: 95% bootstrap interval"
        + (f"; no tolerable BER (not drawn): {', '.join(none)}" if none else ""),
    )
    bers = sorted({r["ber"] for r in noisy})
    picks = [b for b in bers if any(abs(math.log10(b) - k) < 1e-9 for k in (-3, -2))]
    for ber in picks or bers[-2:]:
        eq_png = plot(
            [r for r in noisy if r["ber"] == ber],
            "bits_per_param",
            "mean",
            folder / f"{prefix}accuracy_vs_bits_{ber:g}.png",
            hue=("family", "protection"),
            title=f"Accuracy vs storage at BER {ber:g}",
            xlabel="stored bits per parameter",
            ylabel="accuracy (mean)",
        )
        section.image(eq_png, f"equal storage: accuracy vs bits per parameter at BER {ber:g}")
    section.table(
        [dict(r, gain_95=C.gain_text(r)) for r in tol],
        [
            "config",
            "bits_per_param",
            "clean_accuracy",
            "tolerable_ber",
            "tolerable_ber_interp",
            "tol_lo",
            "tol_hi",
            "trials_at_crossing",
            "gain_95",
        ],
        title=f"Tolerable BER (mean accuracy within {tolerance:g} of clean float32 {ref:.4f}); "
        "gain over float32/none with its 95% bootstrap interval",
    )
    section.table(
        C.media_table(tol),
        ["medium", "raw_ber", "fewest_bits", "tolerated_by"],
        title="Which media each configuration tolerates (approximate raw BERs)",
    )
    section.table(
        summary,
        [
            "config",
            "ber",
            "trials",
            "failures",
            "fail_lo",
            "fail_hi",
            "mean",
            "ci_lo",
            "ci_hi",
            "flips",
            "nulled",
            "range_zeroed",
        ],
        title="Accuracy per configuration and BER (failures: trials below clean float32 "
        f"- {tolerance:g}, 95% Clopper-Pearson interval of their rate)",
    )
    return summary, tol


# --------------------------------------------------------------------------- distortion
def _distortion_trial(params: dict[str, Any], _ctx: Any) -> dict[str, Any]:
    d = one_flip_distortion(params["n"], params["code"])
    bound = hwo_flip_bound(params["n"]) / (2 ** params["n"] - 1) if params["code"] == "hwo" else 0.5
    return {k: d[k] for k in ("worst", "mean", "rms", "worst_norm", "mean_norm", "rms_norm")} | {
        "bound_norm": bound if params["code"] == "hwo" else d["worst_norm"]
    }


@dataclass(frozen=True)
class DistortionConfig:
    """``storage distortion``: the bits per value ``n`` to tabulate (each 2..22: exhaustive
    over all 2^n codewords)."""

    n: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 18)
    seed: int = 0

    def __post_init__(self) -> None:
        set_field(self, "n", check_ints("n", self.n, 2, 22))
        check_seed("seed", self.seed)


def distortion(
    cfg: DistortionConfig, *, out: Path | None = None, argv: list[str] | None = None
) -> tuple[Run, list[dict[str, Any]]]:
    """``noisyhw storage distortion``: exhaustive one-flip distortion vs n, HWO vs binary."""
    ns = cfg.n
    run = Run(
        "storage distortion",
        asdict(cfg),
        out=out,
        seed=cfg.seed,
        argv=argv,
        title="One-flip distortion: Hamming-weight order vs binary",
    )
    grid = [{"n": n, "code": c} for n in ns for c in ("hwo", "binary")]
    rows = run.sweep(_distortion_trial, grid, description="distortion")
    sec = run.section("Index distortion of one bit flip (fraction of the value range)")
    sec.text(
        "Exhaustive over all 2^n codewords and all n flipped bits. worst: the largest value change; "
        "mean/rms: over a uniform codeword and a uniform flipped bit; bound: C(n+1, (n+1)//2) - 1 "
        "steps for the Hamming-weight order, 2^(n-1) for binary (top bit)."
    )
    for metric in ("worst_norm", "mean_norm", "rms_norm"):
        png = line_plot(
            rows,
            "n",
            metric,
            run.plot_path(f"distortion_{metric}.png"),
            hue="code",
            logy=True,
            title=f"one-flip distortion: {metric}",
            xlabel="bits per value n",
            ylabel=f"{metric} (fraction of range)",
        )
        sec.image(png, metric)
    sec.table(rows, ["n", "code", "worst", "worst_norm", "bound_norm", "mean_norm", "rms_norm"])
    return run, rows


# --------------------------------------------------------------------------- demo
DEMO_CONFIGS = [
    ("float32", "none"),
    ("float32", "nulling"),
    ("float32", "range"),
    ("float32", "nulling+range"),
    ("bfloat16", "range"),
    ("fixed8", "none"),
    ("fixed8", "nulling"),
    ("hwo8", "none"),
    ("hwo8", "nulling"),
    ("fixed4", "none"),
    ("hwo4", "none"),
    ("hwo6", "none"),
]


def demo_section(ctx: Any) -> list[dict[str, Any]]:
    """MLP on digits: fault campaign over 1e-7..1e-1, tolerable BER and gains (~10 s)."""
    study = STUDIES["mlp-digits"]
    model, test, facts = prepare_model(study, None, seed=ctx.seed, device=ctx.device)
    trials = 3 if ctx.fast else 8
    bers = C.ber_grid(1e-7, 1e-1, 1 if ctx.fast else 2)
    rows = C.run_campaign(
        model,
        test.x,
        test.y,
        DEMO_CONFIGS,
        bers,
        trials,
        seed=ctx.seed,
        device=ctx.device,
        description="demo: storage campaign",
    )
    sec: Section = ctx.section
    sec.title = "Weights in noisy storage without ECC (MLP on digits)"
    sec.text(
        f"An MLP ({facts['params']:,} parameters, clean accuracy {facts['clean_accuracy']:.4f} on "
        f"{facts['n_test']} digits) stored in several number formats; every stored bit flips "
        f"independently at the bit error rate (BER), {trials} trials per point. Weight nulling "
        "keeps a parity bit in each value's least significant bit and zeroes values whose parity "
        "fails; range detection zeroes decoded values outside the trained range (+10%). "
        "fixed<n>: signed fixed point; hwo<n>: Hamming-weight-ordered code."
    )
    _, tol = report_campaign(sec, Path(ctx.run.dir), rows, prefix="storage_demo_")
    return [
        {
            "config": r["config"],
            "bits": r["bits_per_param"],
            "clean": round(r["clean_accuracy"], 4),
            "tolerable_ber": r["tolerable_ber_interp"],
            "gain": None if r["gain_interp"] is None else round(r["gain_interp"], 1),
        }
        for r in tol
    ]
