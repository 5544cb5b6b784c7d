"""Options and helpers shared by every sub-command (keep each command thin)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import ParameterError, check_choice, check_int, check_seed
from ..models import MODELS
from ..progress import set_quiet
from ..sweep import Executor, Run, make_executor, print_table

if TYPE_CHECKING:
    from ..experiments.classify import ClassifierJob

__all__ = [
    "AddressOpt",
    "BatchSizeOpt",
    "DeviceOpt",
    "ExecutorOpt",
    "LrOpt",
    "ModelOpt",
    "OutOpt",
    "QuietOpt",
    "SeedOpt",
    "WorkersOpt",
    "apply_quiet",
    "check_counts",
    "check_model",
    "classifier_job",
    "dataset_name",
    "echo_paths",
    "finish",
    "make_executor_from_cli",
    "parse_floats",
    "parse_ints",
    "parse_strs",
    "resolve_device",
    "split_list",
]

OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Run folder (default runs/<command>-<timestamp>); rerun to resume."),
]


def _check_seed(value: int) -> int:
    """``--seed``, checked while parsing: before any command loads data or makes a run folder."""
    return check_seed("--seed", value)


SeedOpt = Annotated[
    int, typer.Option("--seed", help="Seed for every random draw.", callback=_check_seed)
]


def _check_workers(value: int) -> int:
    """``--workers``, checked while parsing (a bad count used to surface after the training)."""
    return check_int("--workers", value, 1, 100_000)


WorkersOpt = Annotated[
    int,
    typer.Option("--workers", help="Worker processes for trials.", callback=_check_workers),
]
DeviceOpt = Annotated[str, typer.Option("--device", help="cpu, cuda, cuda:N or auto.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", help="No progress bars.")]
ExecutorOpt = Annotated[
    str,
    typer.Option(
        "--executor",
        help="Where trials run: local (processes on this machine, see --workers) or ray "
        "(a Ray cluster; pip install 'noisyhw[ray]').",
    ),
]
AddressOpt = Annotated[
    str | None,
    typer.Option(
        "--address",
        help="Ray cluster for --executor ray: auto, HOST:PORT or ray://HOST:10001 "
        "(default: $RAY_ADDRESS, else a Ray instance on this machine).",
    ),
]

# classifier commands (train, noise ...): the same model, batch size and learning rate options
#: models that classify (char_lstm is a language model: `noisyhw nvm train --task charlm`)
CLASSIFIERS = tuple(m for m in MODELS if m != "char_lstm")
ModelOpt = Annotated[
    str,
    typer.Option("--model", help=f"One of {', '.join(CLASSIFIERS)}, or torchvision:<name>."),
]
BatchSizeOpt = Annotated[int, typer.Option("--batch-size")]
LrOpt = Annotated[float, typer.Option("--lr")]


#: the most points a list or range option expands into (a bound on the work it asks for)
MAX_POINTS = 1000


def split_list(text: str) -> list[str]:
    """``"a, b,,c"`` -> ["a", "b", "c"]: the stripped, non-empty items of a comma list."""
    return [t.strip() for t in text.split(",") if t.strip()]


def parse_floats(name: str, text: str) -> list[float]:
    """``"1.0,1.5,2"`` -> [1.0, 1.5, 2.0]; ``"a:b:step"`` -> an inclusive range; ``inf`` allowed."""
    n = 0
    try:
        if ":" in text and "," not in text:
            a, b, s = (float(t) for t in text.split(":"))
            if not s > 0 or not b >= a:
                raise ValueError
            n = round((b - a) / s) + 1  # inf or nan in the range: OverflowError / ValueError
        else:
            vals = [float(t) for t in text.split(",") if t.strip()]
    except (ValueError, OverflowError):
        raise ParameterError(
            name, "must be comma-separated numbers or start:stop:step", text
        ) from None
    if n > MAX_POINTS:
        raise ParameterError(name, f"a range may hold at most {MAX_POINTS} points", text)
    if n:
        return [round(a + i * s, 10) for i in range(n)]
    if not vals or any(v != v for v in vals):
        raise ParameterError(name, "must be comma-separated numbers (no NaN)", text)
    if len(vals) > MAX_POINTS:
        raise ParameterError(name, f"may list at most {MAX_POINTS} points", text)
    return vals


def parse_ints(name: str, text: str, lo: int | None = None) -> list[int]:
    """``"1,3,5"`` -> [1, 3, 5], each >= ``lo`` when given."""
    try:
        vals = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise ParameterError(name, "must be comma-separated integers", text) from None
    if not vals or (lo is not None and min(vals) < lo):
        raise ParameterError(name, f"must be comma-separated integers >= {lo}", text)
    if len(vals) > MAX_POINTS:
        raise ParameterError(name, f"may list at most {MAX_POINTS} values", text)
    return vals


def parse_strs(name: str, text: str, choices: list[str] | tuple[str, ...]) -> list[str]:
    """``"a,b"`` -> ["a", "b"], each one of ``choices``."""
    vals = split_list(text)
    if not vals:
        raise ParameterError(name, f"must list one or more of {', '.join(choices)}", text)
    for v in vals:
        check_choice(name, v, choices)
    return vals


#: the most examples a count option (--n-train, --n-test ...) may ask for
COUNT_MAX = 10**9


def check_counts(*named: tuple[str, int | None]) -> None:
    """Each ``(option, value)`` pair whose value is given (not None) must be an integer in
    [1, COUNT_MAX] (a count above a data set's size takes all of it)."""
    for name, value in named:
        if value is not None:
            check_int(name, value, 1, COUNT_MAX)


def check_model(model: str) -> str:
    """``--model``: a registered classifier or ``torchvision:<name>`` of a torchvision model
    (checked here, before any data loads or run folder exists)."""
    allowed = f"must be one of {', '.join(CLASSIFIERS)} or torchvision:<name>"
    if model.startswith("torchvision:"):
        import torchvision

        if model.split(":", 1)[1] not in torchvision.models.list_models(torchvision.models):
            raise ParameterError(
                "--model", f"{allowed} (see torchvision.models.list_models())", model
            )
    elif model not in CLASSIFIERS:
        raise ParameterError("--model", allowed, model)
    return model


def dataset_name(dataset: str) -> str:
    """``--dataset auto`` -> Fashion-MNIST when its files are here, else digits; else as given."""
    if dataset != "auto":
        return dataset
    from ..experiments.classify import default_dataset

    return default_dataset()


def classifier_job(
    dataset: str,
    model: str,
    n_train: int | None,
    n_test: int | None,
    device: str,
    root: str | None = None,
    model_kwargs: dict[str, Any] | None = None,
    **train: Any,
) -> ClassifierJob:
    """What a classifier command trains, checked before any run folder exists.

    ``train`` holds the :class:`~noisyhw.train.TrainConfig` fields besides ``device`` (epochs,
    batch_size, lr, seed ...); ``dataset`` may be ``auto``; a bad dataset fails here, on loading.
    """
    from ..experiments.classify import ClassifierJob
    from ..train import TrainConfig

    check_model(model)
    check_counts(("--n-train", n_train), ("--n-test", n_test))
    if train.get("scheduler", "none") not in (None, "none", "cosine", "step"):
        raise ParameterError("--scheduler", "must be one of none, cosine, step", train["scheduler"])
    try:
        config = TrainConfig(device=resolve_device(device), **train)
    except ParameterError as exc:  # name the option, not the TrainConfig field
        raise ParameterError("--" + exc.name.replace("_", "-"), exc.allowed, exc.got) from None
    name = dataset_name(dataset)
    job = ClassifierJob(name, model, n_train, n_test, root, model_kwargs or {}, config=config)
    job.datasets()
    return job


def resolve_device(device: str) -> str:
    """``auto`` -> cuda when available, else cpu; validates explicit names."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return device
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ParameterError("--device", "CUDA is not available here; use cpu or auto", device)
        return device
    if device == "mps":
        return device
    raise ParameterError("--device", "must be cpu, cuda, cuda:N, mps or auto", device)


def make_executor_from_cli(
    executor: str = "local", address: str | None = None, workers: int = 1
) -> Executor:
    """The executor chosen by ``--executor``, ``--address`` and ``--workers`` (validated).

    With ``ray``, ``--workers N`` caps the trials in flight (default: twice the cluster's CPUs).
    Put ``executor``/``address``/``workers`` in the run's config: they are runtime keys, so a run
    started locally may be resumed on a cluster and vice versa.
    """
    check_choice("--executor", executor, ("local", "ray"))
    check_int("--workers", workers, 1, 100_000)
    if address is not None and executor != "ray":
        raise ParameterError("--address", "is for --executor ray only", address)
    return make_executor(executor, workers=workers, address=address)


def apply_quiet(quiet: bool) -> None:
    """``--quiet`` turns progress bars off (NOISYHW_QUIET=1 in the environment does too)."""
    if quiet:
        set_quiet(True)


def finish(
    run: Run,
    rows: list[dict[str, Any]] | None = None,
    columns: list[str] | None = None,
    title: str | None = None,
    **extra: Any,
) -> None:
    """Write results.json + report.html, print the table and where everything went."""
    path = run.finish(rows, **extra)
    shown = rows if rows is not None else run_rows(path)
    print_table(shown, columns, title=title)
    echo_paths(run, path)


def echo_paths(run: Run, results_path: Path) -> None:
    """The two lines every finished command ends with: where results.json and the report are."""
    typer.echo(f"results: {results_path}")
    typer.echo(f"report:  {run.dir / 'report.html'}")


def run_rows(results_path: Path) -> list[dict[str, Any]]:
    import json

    return json.loads(results_path.read_text())["rows"]
