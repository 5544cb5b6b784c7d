"""``noisyhw train`` and ``noisyhw evaluate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import ParameterError
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
    classifier_job,
    finish,
    resolve_device,
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
    from ..experiments.classify import report_training, train_classifier
    from ..sweep import Run

    apply_quiet(quiet)
    job = classifier_job(
        dataset,
        model,
        n_train,
        n_test,
        device,
        str(root) if root else None,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        optimizer=optimizer,
        weight_decay=weight_decay,
        scheduler=None if scheduler == "none" else scheduler,
        seed=seed,
    )
    ds = job.dataset
    config = {
        "dataset": ds,
        "model": model,
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "optimizer": optimizer,
        "weight_decay": weight_decay,
        "scheduler": scheduler,
        "n_train": n_train,
        "n_test": n_test,
        "root": str(root) if root else None,
        "device": device,
    }
    run = Run(
        "train",
        config,
        out=out,
        seed=seed,
        title=f"noisyhw train: {model} on {ds}",
        # a larger --epochs extends a finished run from its checkpoint (not with a schedule
        # tied to the epochs)
        extendable=("epochs",) if scheduler == "none" else (),
    )
    _, history, ev = train_classifier(job, run.dir)
    sec = run.section(f"{model} on {ds}")
    sec.text(
        f"Test accuracy {ev['accuracy']:.4f} on {ev['n_test']} examples after {epochs} epochs "
        f"({ev['n_train']} training examples). Model file: model.pt"
    )
    report_training(sec, run, history, ev)
    finish(
        run,
        history,
        ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "time_s"],
        title=f"test accuracy {ev['accuracy']:.4f}",
        evaluation={"accuracy": ev["accuracy"], "loss": ev["loss"]},
    )


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
    from .. import data as D
    from ..experiments.classify import load_model
    from ..sweep import Run, heatmap
    from ..train import confusion_matrix, predict
    from ..train import evaluate as eval_model

    apply_quiet(quiet)
    dev = resolve_device(device)
    model, meta = load_model(checkpoint, dev, option="--checkpoint")
    name = meta["dataset"] if dataset is None else dataset
    ds = D.load(name, split, str(root) if root else None)
    if not isinstance(ds, D.ArrayDataset):  # a text corpus is no classification data
        raise ParameterError("--dataset", "must be an image dataset (not a text corpus)", name)
    if meta["sequence"]:
        ds = D.sequence_view(ds)
    if tuple(ds.input_shape) != tuple(meta["input_shape"]):
        raise ParameterError(
            "--dataset",
            f"inputs {ds.input_shape} do not fit the model's {tuple(meta['input_shape'])}",
            name,
        )
    run = Run("evaluate", {"checkpoint": str(checkpoint), "dataset": name, "split": split}, out=out)
    ev = eval_model(model, ds, dev)
    logits, labels = predict(model, ds, dev)
    cm = confusion_matrix(logits.argmax(1), labels, ds.num_classes)
    png = heatmap(
        cm,
        run.plot_path("confusion.png"),
        title="Confusion matrix",
        xlabels=ds.classes,
        ylabels=ds.classes,
        xlabel="predicted",
        ylabel="true",
        annotate=True,
        cmap="Blues",
    )
    row = {
        "dataset": name,
        "split": split,
        "examples": len(ds),
        "accuracy": ev["accuracy"],
        "loss": ev["loss"],
    }
    run.section("Evaluation").table([row]).image(png, "rows: true, columns: predicted")
    finish(run, [row])
