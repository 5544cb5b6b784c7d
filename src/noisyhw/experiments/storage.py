"""Studies of weights in noisy storage: train (or load) a model, run a fault campaign, report.

``prepare_model`` trains a classifier into the run folder (resumable checkpoint, then
``storage_model.pt``) or loads a ``noisyhw train`` model file; ``campaign`` runs the storage
fault campaign through the run's sweep; ``distortion`` tabulates the one-flip distortion of the
Hamming-weight-ordered code against plain binary; ``demo_section`` is the demo's storage part.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import data as D
from .. import models as M
from ..errors import ParameterError
from ..io import load_checkpoint, save_checkpoint
from ..storage import campaign as C
from ..storage.enumerative import hwo_flip_bound, one_flip_distortion
from ..sweep import Run, Section, line_plot
from ..train import TrainConfig, evaluate, fit

__all__ = [
    "STUDIES",
    "Study",
    "campaign",
    "demo_section",
    "distortion",
    "prepare_model",
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


def _configs(reps: list[str], prots: list[str]) -> list[tuple[str, str]]:
    return [(r, p) for r in reps for p in prots]


def campaign(
    study: Study,
    configs: list[tuple[str, str]],
    bers: list[float],
    trials: int,
    *,
    out: Path | None = None,
    seed: int = 0,
    device: str = "cpu",
    workers: int = 1,
    margin: float = 0.1,
    buffers: bool = False,
    tolerance: float = 0.01,
    min_failures: int | None = None,
    chunk: int = 50,
    model_file: Path | None = None,
    argv: list[str] | None = None,
) -> tuple[Run, list[dict[str, Any]], dict[str, Any]]:
    """``noisyhw storage campaign``: train/load, adaptive Monte-Carlo, plots, report; returns
    the run, the tolerable-BER table and the model facts (call ``finish`` on the run
    afterwards). Up to ``trials`` trials per point in chunks of ``chunk``, stopping at
    ``min_failures`` failed trials (see :func:`noisyhw.storage.campaign.run_campaign`)."""
    config = {
        "study": study.__dict__,
        "configs": [list(c) for c in configs],
        "bers": bers,
        "trials": trials,
        "min_failures": min_failures,
        "chunk": chunk,
        "tolerance": tolerance,
        "margin": margin,
        "buffers": buffers,
        "model_file": str(model_file) if model_file else None,
        "device": device,
        "workers": workers,
    }
    run = Run(
        "storage campaign",
        config,
        out=out,
        seed=seed,
        argv=argv,
        title=f"Weights in noisy storage: {study.model} on {study.dataset}",
    )
    model, test, facts = prepare_model(
        study, run.dir, seed=seed, device=device, model_file=model_file
    )
    rows = C.run_campaign(
        model,
        test.x,
        test.y,
        configs,
        bers,
        trials,
        run=run,
        seed=seed,
        device=device,
        workers=workers,
        margin=margin,
        buffers=buffers,
        tolerance=tolerance,
        min_failures=min_failures,
        chunk=chunk,
    )
    sec = run.section(f"{study.model} on {study.dataset}")
    sec.text(
        f"{facts['params']:,} parameters ({facts['source']}); clean test accuracy "
        f"{facts['clean_accuracy']:.4f} on {facts['n_test']} images. Every stored bit flips "
        f"independently at the BER; per BER and configuration up to {trials} trials in chunks of "
        f"{chunk}"
        + (
            f", stopping at {min_failures} failed trials (accuracy more than {tolerance:g} below "
            "clean float32)"
            if min_failures
            else ""
        )
        + f"; range-detection margin {margin:g} x max|w|; tolerable BER: mean accuracy within "
        f"{tolerance:g} of the clean float32 model; intervals: 95%, parametric bootstrap of "
        "every point's mean (failure count binomial, ok and failed means normal)."
    )
    _, tol = C.report_campaign(sec, run.dir, rows, tolerance=tolerance)
    return run, tol, facts


# --------------------------------------------------------------------------- distortion
def _distortion_trial(params: dict[str, Any], _ctx: Any) -> dict[str, Any]:
    d = one_flip_distortion(params["n"], params["code"])
    bound = hwo_flip_bound(params["n"]) / (2 ** params["n"] - 1) if params["code"] == "hwo" else 0.5
    return {k: d[k] for k in ("worst", "mean", "rms", "worst_norm", "mean_norm", "rms_norm")} | {
        "bound_norm": bound if params["code"] == "hwo" else d["worst_norm"]
    }


def distortion(
    ns: list[int], *, out: Path | None = None, seed: int = 0, argv: list[str] | None = None
) -> tuple[Run, list[dict[str, Any]]]:
    """``noisyhw storage distortion``: exhaustive one-flip distortion vs n, HWO vs binary."""
    for n in ns:
        if not 2 <= n <= 22:
            raise ParameterError("--n", "each n must be in [2, 22] (exhaustive)", n)
    run = Run(
        "storage distortion",
        {"n": ns},
        out=out,
        seed=seed,
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
    _, tol = C.report_campaign(sec, Path(ctx.run.dir), rows, prefix="storage_demo_")
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
