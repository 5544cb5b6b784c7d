"""Helpers shared by every sub-command (keep each command thin).

The option types and list parsing live in :mod:`.options`, the printed output in
:mod:`.output`; both are re-exported here, so ``from .common import ...`` finds every shared name.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, get_type_hints

from ..errors import ParameterError, check_choice, check_int
from ..progress import set_quiet
from ..sweep import Executor, make_executor
from .live import live_rows
from .options import (
    CLASSIFIERS,
    COUNT_MAX,
    LIST_SYNTAX,
    MAX_POINTS,
    AddressOpt,
    BatchSizeOpt,
    DeviceOpt,
    ExecutorOpt,
    FormatOpt,
    LrOpt,
    ModelOpt,
    OutOpt,
    QuietOpt,
    SeedOpt,
    TrackOpt,
    TrackUriOpt,
    WorkersOpt,
    check_counts,
    parse_floats,
    parse_ints,
    parse_strs,
    split_list,
)
from .output import (
    FORMATS,
    echo_paths,
    finish,
    output_format,
    print_rows,
    render_table,
    reset_output,
    run_rows,
    say,
    show,
)

if TYPE_CHECKING:
    from ..experiments.classify import ClassifierJob

__all__ = [
    "CLASSIFIERS",
    "COUNT_MAX",
    "FORMATS",
    "LIST_SYNTAX",
    "MAX_POINTS",
    "AddressOpt",
    "BatchSizeOpt",
    "DeviceOpt",
    "ExecutorOpt",
    "FormatOpt",
    "LrOpt",
    "ModelOpt",
    "OutOpt",
    "QuietOpt",
    "SeedOpt",
    "TrackOpt",
    "TrackUriOpt",
    "WorkersOpt",
    "apply_quiet",
    "check_counts",
    "check_model",
    "classifier_job",
    "dataset_name",
    "echo_paths",
    "finish",
    "live_rows",
    "make_executor_from_cli",
    "output_format",
    "parse_floats",
    "parse_ints",
    "parse_strs",
    "print_rows",
    "render_table",
    "reset_output",
    "resolve_device",
    "run_rows",
    "say",
    "show",
    "split_list",
    "tracked",
]


def check_model(model: str) -> str:
    """``--model``: a registered classifier or ``torchvision:<name>`` of a torchvision model
    (checked here, before any data loads or run folder exists)."""
    from ..experiments.classify import check_model as check

    return check(model, "--model")


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


_F = TypeVar("_F", bound=Callable[..., Any])


def tracked(command: _F) -> _F:
    """Give a result command ``--track`` and ``--track-uri`` (one line: ``@tracked`` under
    ``@app.command()``): the run it finishes is logged (:func:`noisyhw.sweep.track.tracking`);
    the options are checked before the command starts, so a missing package writes nothing."""
    from ..sweep.track import check_track, tracking

    sig = inspect.signature(command, eval_str=True)
    hints = get_type_hints(command, include_extras=True)
    extra = [
        inspect.Parameter(
            "track", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=TrackOpt
        ),
        inspect.Parameter(
            "track_uri", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=TrackUriOpt
        ),
    ]

    @functools.wraps(command)
    def wrapper(
        *args: Any, track: str | None = None, track_uri: str | None = None, **kw: Any
    ) -> Any:
        check_track(track, track_uri)
        with tracking(track, track_uri):
            return command(*args, **kw)

    wrapper.__signature__ = sig.replace(parameters=[*sig.parameters.values(), *extra])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**hints, "track": TrackOpt, "track_uri": TrackUriOpt}
    return wrapper  # type: ignore[return-value]
