"""Train and evaluate an image/sequence classifier on a registered dataset, with its report."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import data as D
from .. import models as M
from ..errors import DataError, ParameterError
from ..io import load_checkpoint, save_checkpoint
from ..sweep import Run, Section, heatmap, line_plot
from ..train import TrainConfig, confusion_matrix, evaluate, fit, predict

__all__ = [
    "CLASSIFIERS",
    "ClassifierJob",
    "check_classifier",
    "default_dataset",
    "load_model",
    "report_training",
    "train_classifier",
]

SEQUENCE_MODELS = ("rnn", "lstm", "gru")


#: models that classify (char_lstm is a language model: `noisyhw nvm train --task charlm`)
CLASSIFIERS = tuple(m for m in M.MODELS if m != "char_lstm")


def check_classifier(model: str, name: str = "model") -> str:
    """A registered classifier or ``torchvision:<name>`` of a torchvision model."""
    allowed = f"must be one of {', '.join(CLASSIFIERS)} or torchvision:<name>"
    if model.startswith("torchvision:"):
        import torchvision

        if model.split(":", 1)[1] not in torchvision.models.list_models(torchvision.models):
            raise ParameterError(name, f"{allowed} (see torchvision.models.list_models())", model)
    elif model not in CLASSIFIERS:
        raise ParameterError(name, allowed, model)
    return model


def default_dataset() -> str:
    """Fashion-MNIST when its files are present, else sklearn's bundled digits."""
    try:
        D.locate("fashion-mnist")
        return "fashion-mnist"
    except DataError:
        return "digits"


@dataclass
class ClassifierJob:
    """What to train: dataset (+ subset sizes), model name and kwargs, training config."""

    dataset: str = "fashion-mnist"
    model: str = "small_cnn"
    n_train: int | None = None
    n_test: int | None = None
    root: str | None = None
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    config: TrainConfig = field(default_factory=TrainConfig)

    @property
    def sequence(self) -> bool:
        return self.model in SEQUENCE_MODELS

    def datasets(self) -> tuple[D.ArrayDataset, D.ArrayDataset]:
        if self.dataset in D.DATASETS and D.DATASETS[self.dataset].kind == "text":
            raise ParameterError(
                "dataset", "must be an image dataset for classification", self.dataset
            )
        train = D.load(self.dataset, "train", self.root)
        test = D.load(self.dataset, "test", self.root)
        if not isinstance(train, D.ArrayDataset):
            raise ParameterError(
                "dataset", "must be an image dataset for classification", self.dataset
            )
        train = train.subset(self.n_train, seed=self.config.seed)
        test = test.subset(self.n_test, seed=self.config.seed + 1)
        if self.sequence:
            train, test = D.sequence_view(train), D.sequence_view(test)
        return train, test

    def build(self, input_shape: tuple[int, ...], num_classes: int) -> nn.Module:
        torch.manual_seed(self.config.seed)
        return M.create(self.model, input_shape, num_classes, **self.model_kwargs)


def train_classifier(
    job: ClassifierJob, run_dir: Path | None = None, description: str = "train"
) -> tuple[nn.Module, list[dict[str, float]], dict[str, Any]]:
    """Train (resuming from ``run_dir/checkpoint.pt`` when present); return the model, the
    history and a final evaluation with the confusion matrix and class names."""
    train, test = job.datasets()
    model = job.build(train.input_shape, train.num_classes)
    ckpt = run_dir / "checkpoint.pt" if run_dir else None
    history = fit(model, train, test, job.config, checkpoint=ckpt, description=description)
    ev = evaluate(model, test, job.config.device)
    logits, labels = predict(model, test, job.config.device)
    ev["confusion"] = confusion_matrix(logits.argmax(1), labels, test.num_classes)
    ev["classes"] = test.classes
    ev["n_train"], ev["n_test"] = len(train), len(test)
    if run_dir is not None:
        save_model(run_dir / "model.pt", model, job, train.input_shape, train.num_classes)
    return model, history, ev


def save_model(
    path: Path, model: nn.Module, job: ClassifierJob, input_shape: tuple[int, ...], num_classes: int
) -> None:
    """A self-describing model file (rebuild + weights), loadable with weights_only=True."""
    save_checkpoint(
        path,
        {
            "model_name": job.model,
            "model_kwargs": job.model_kwargs,
            "input_shape": list(input_shape),
            "num_classes": num_classes,
            "dataset": job.dataset,
            "sequence": job.sequence,
            "state_dict": model.state_dict(),
        },
    )


def load_model(
    path: Path, device: str = "cpu", option: str | None = None
) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild a model saved by :func:`save_model`; returns (model, its metadata). ``option``:
    the CLI option that named the file, for error messages."""
    from ..models.saved import build_saved

    state = load_checkpoint(path, map_location=device, name=option or "checkpoint")
    model = build_saved(state, path, device, option)  # every field checked before building
    state.setdefault("dataset", "fashion-mnist")
    state.setdefault("sequence", state["model_name"] in SEQUENCE_MODELS)
    return model, state


def report_training(
    section: Section,
    run: Run,
    history: list[dict[str, float]],
    ev: dict[str, Any],
    prefix: str = "",
) -> None:
    """Learning curve + confusion matrix + summary table into ``section``."""
    rows = []
    for h in history:
        rows.append(
            {
                "epoch": h["epoch"],
                "split": "train",
                "loss": h["train_loss"],
                "accuracy": h["train_acc"],
            }
        )
        if "val_acc" in h:
            rows.append(
                {
                    "epoch": h["epoch"],
                    "split": "test",
                    "loss": h["val_loss"],
                    "accuracy": h["val_acc"],
                }
            )
    acc_png = line_plot(
        rows,
        "epoch",
        "accuracy",
        run.plot_path(f"{prefix}learning_curve.png"),
        hue="split",
        title="Learning curve",
    )
    loss_png = line_plot(
        rows, "epoch", "loss", run.plot_path(f"{prefix}loss_curve.png"), hue="split", title="Loss"
    )
    cm = ev["confusion"]
    cm_png = heatmap(
        cm,
        run.plot_path(f"{prefix}confusion.png"),
        title="Confusion matrix (test)",
        xlabels=ev["classes"],
        ylabels=ev["classes"],
        xlabel="predicted",
        ylabel="true",
        annotate=True,
        cmap="Blues",
    )
    section.image(acc_png, "accuracy per epoch").image(loss_png, "loss per epoch")
    section.image(cm_png, "rows: true class, columns: predicted")
    section.table(history, title="per-epoch metrics")
