"""Train and evaluate an image/sequence classifier on a registered dataset, with its report.

The studies of ``noisyhw train`` and ``noisyhw evaluate``: :class:`TrainStudy` /
:func:`run`, :class:`EvaluateStudy` / :func:`run_evaluate`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import data as D
from .. import models as M
from ..errors import DataError, ParameterError, check_choice
from ..io import load_checkpoint, save_checkpoint
from ..models import CLASSIFIERS
from ..sweep import Run, Section, heatmap, line_plot
from ..train import TrainConfig, confusion_matrix, evaluate, fit, predict
from .config import Outcome, check_count, check_out

__all__ = [
    "ClassifierJob",
    "EvaluateStudy",
    "TrainStudy",
    "check_model",
    "default_dataset",
    "load_model",
    "report_training",
    "run",
    "run_evaluate",
    "train_classifier",
]

SEQUENCE_MODELS = ("rnn", "lstm", "gru")


def check_model(model: str, name: str = "model") -> str:
    """A registered classifier or ``torchvision:<name>`` of a torchvision model."""
    allowed = f"must be one of {', '.join(CLASSIFIERS)} or torchvision:<name>"
    if not isinstance(model, str):
        raise ParameterError(name, allowed, model)
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


# --------------------------------------------------------------------------- noisyhw train
@dataclass(frozen=True)
class TrainStudy:
    """``noisyhw train``: one classifier trained on a registered dataset (resumable; a larger
    ``epochs`` extends a finished run without a scheduler).

    ``dataset``: a registered image dataset or ``auto`` (Fashion-MNIST when installed, else
    digits; resolved on construction); ``scheduler``: none, cosine or step; ``n_train`` /
    ``n_test``: random subsets (None: all); ``out``: the run folder (None: a new one). Every
    field is checked on construction (a :class:`~noisyhw.train.TrainConfig` is built from them).
    """

    dataset: str = "auto"
    model: str = "small_cnn"
    epochs: int = 3
    batch_size: int = 128
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    scheduler: str = "none"
    n_train: int | None = None
    n_test: int | None = None
    root: str | None = None
    seed: int = 0
    device: str = "cpu"
    out: str | None = None

    def __post_init__(self) -> None:
        check_model(self.model)
        check_count("n_train", self.n_train)
        check_count("n_test", self.n_test)
        check_choice("scheduler", self.scheduler, ("none", "cosine", "step"))
        self.train_config()  # epochs, batch_size, lr, optimizer, weight_decay, seed
        if self.root is not None:
            object.__setattr__(self, "root", str(self.root))
        object.__setattr__(self, "out", check_out(self.out))
        if self.dataset == "auto":
            object.__setattr__(self, "dataset", default_dataset())

    def train_config(self) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            optimizer=self.optimizer,
            weight_decay=self.weight_decay,
            scheduler=None if self.scheduler == "none" else self.scheduler,
            seed=self.seed,
            device=self.device,
        )

    def job(self) -> ClassifierJob:
        return ClassifierJob(
            self.dataset, self.model, self.n_train, self.n_test, self.root,
            config=self.train_config(),
        )  # fmt: skip


def run(cfg: TrainStudy) -> Outcome:
    """Train ``cfg``'s classifier into its run folder: model.pt, checkpoint.pt (resume),
    learning curves, confusion matrix, results.json (the per-epoch history) and report.html."""
    job = cfg.job()
    job.datasets()  # a dataset that does not load fails here, before the run folder exists
    run = Run(
        "train",
        asdict(cfg),
        out=cfg.out,
        seed=cfg.seed,
        title=f"noisyhw train: {cfg.model} on {cfg.dataset}",
        # a larger --epochs extends a finished run from its checkpoint (not with a schedule
        # tied to the epochs)
        extendable=("epochs",) if cfg.scheduler == "none" else (),
    )
    _, history, ev = train_classifier(job, run.dir)
    sec = run.section(f"{cfg.model} on {cfg.dataset}")
    sec.text(
        f"Test accuracy {ev['accuracy']:.4f} on {ev['n_test']} examples after {cfg.epochs} "
        f"epochs ({ev['n_train']} training examples). Model file: model.pt"
    )
    report_training(sec, run, history, ev)
    path = run.finish(history, evaluation={"accuracy": ev["accuracy"], "loss": ev["loss"]})
    cols = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "time_s"]
    return Outcome(run, path, history, cols, title=f"test accuracy {ev['accuracy']:.4f}")


# --------------------------------------------------------------------------- noisyhw evaluate
@dataclass(frozen=True)
class EvaluateStudy:
    """``noisyhw evaluate``: a model file of ``noisyhw train`` on a dataset split.

    ``checkpoint``: the model.pt; ``dataset``: None for the one it was trained on.
    """

    checkpoint: str
    dataset: str | None = None
    split: str = "test"
    root: str | None = None
    device: str = "cpu"
    out: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.checkpoint, str | Path) or not str(self.checkpoint):
            raise ParameterError("checkpoint", "must be a model file path", self.checkpoint)
        object.__setattr__(self, "checkpoint", str(self.checkpoint))
        from ..data.registry import SPLITS

        check_choice("split", self.split, SPLITS)
        if self.root is not None:
            object.__setattr__(self, "root", str(self.root))
        object.__setattr__(self, "out", check_out(self.out))


def run_evaluate(cfg: EvaluateStudy) -> Outcome:
    """Accuracy, loss and the confusion matrix of ``cfg.checkpoint`` on a dataset split."""
    model, meta = load_model(Path(cfg.checkpoint), cfg.device, option="--checkpoint")
    name = meta["dataset"] if cfg.dataset is None else cfg.dataset
    ds = D.load(name, cfg.split, cfg.root)
    if not isinstance(ds, D.ArrayDataset):  # a text corpus is no classification data
        raise ParameterError("dataset", "must be an image dataset (not a text corpus)", name)
    if meta["sequence"]:
        ds = D.sequence_view(ds)
    if tuple(ds.input_shape) != tuple(meta["input_shape"]):
        raise ParameterError(
            "dataset",
            f"inputs {ds.input_shape} do not fit the model's {tuple(meta['input_shape'])}",
            name,
        )
    run = Run("evaluate", asdict(cfg), out=cfg.out)
    ev = evaluate(model, ds, cfg.device)
    logits, labels = predict(model, ds, cfg.device)
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
        "split": cfg.split,
        "examples": len(ds),
        "accuracy": ev["accuracy"],
        "loss": ev["loss"],
    }
    run.section("Evaluation").table([row]).image(png, "rows: true, columns: predicted")
    return Outcome(run, run.finish([row]), [row])
