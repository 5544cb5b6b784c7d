"""``noisyhw train`` and ``noisyhw evaluate``: options -> a study config -> its ``run``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import (
    BatchSizeOpt,
    DeviceOpt,
    FormatOpt,
    LrOpt,
    ModelOpt,
    OutOpt,
    QuietOpt,
    SeedOpt,
    apply_quiet,
    resolve_device,
    show,
    tracked,
)

DatasetOpt = Annotated[
    str, typer.Option("--dataset", help="fashion-mnist, mnist, digits, cifar10, imagefolder.")
]


@tracked
def train(
    dataset: DatasetOpt = "auto",
    model: ModelOpt = "small_cnn",
    epochs: Annotated[int, typer.Option("--epochs")] = 3,
    batch_size: BatchSizeOpt = 128,
    lr: LrOpt = 1e-3,
    optimizer: Annotated[str, typer.Option("--optimizer", help="adam, adamw or sgd")] = "adam",
    weight_decay: Annotated[float, typer.Option("--weight-decay")] = 0.0,
    scheduler: Annotated[str, typer.Option("--scheduler", help="none, cosine or step")] = "none",
    n_train: Annotated[
        int | None, typer.Option("--n-train", help="Use a random subset of the training set.")
    ] = None,
    n_test: Annotated[
        int | None, typer.Option("--n-test", help="Use a random subset of the test set.")
    ] = None,
    root: Annotated[Path | None, typer.Option("--root", help="Dataset folder.")] = None,
    seed: SeedOpt = 0,
    device: DeviceOpt = "cpu",
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Train a classifier; writes model.pt, results.json, plots and report.html (resumable)."""
    from ..experiments import classify

    apply_quiet(quiet)
    cfg = classify.TrainStudy(
        dataset=dataset,
        model=model,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        optimizer=optimizer,
        weight_decay=weight_decay,
        scheduler=scheduler,
        n_train=n_train,
        n_test=n_test,
        root=str(root) if root else None,
        seed=seed,
        device=resolve_device(device),
        out=out,
    )
    show(classify.run(cfg))


@tracked
def evaluate(
    checkpoint: Annotated[
        Path, typer.Option("--checkpoint", help="model.pt written by `noisyhw train`.")
    ],
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="Default: the one it was trained on.")
    ] = None,
    split: Annotated[str, typer.Option("--split")] = "test",
    root: Annotated[Path | None, typer.Option("--root")] = None,
    device: DeviceOpt = "cpu",
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Evaluate a trained model file; writes results.json, a confusion matrix and report.html."""
    from ..experiments import classify

    apply_quiet(quiet)
    cfg = classify.EvaluateStudy(
        checkpoint=str(checkpoint),
        dataset=dataset,
        split=split,
        root=str(root) if root else None,
        device=resolve_device(device),
        out=out,
    )
    show(classify.run_evaluate(cfg))
