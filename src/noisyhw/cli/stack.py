"""``noisyhw stack``: one model through a hardware profile (prune, quantize, store, compute)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import ParameterError, renamed
from .common import (
    AddressOpt,
    DeviceOpt,
    ExecutorOpt,
    FormatOpt,
    OutOpt,
    QuietOpt,
    SeedOpt,
    WorkersOpt,
    apply_quiet,
    check_model,
    finish,
    print_rows,
    resolve_device,
    tracked,
)

app = typer.Typer(
    help="One model through the whole imperfect-hardware stack: prune, quantize onto NVM "
    "crossbars, store in noisy memory, compute with analog noise and votes.",
    no_args_is_help=True,
)

#: StackStudy field -> option, for error messages
OPTIONS = {
    "profiles": "--profile",
    "model_file": "--model-file",
    "n_train": "--n-train",
    "n_test": "--n-test",
}
COLUMNS = [
    "profile",
    "stage",
    "accuracy",
    "accuracy_low",
    "accuracy_high",
    "trials",
    "bits_per_param",
    "cells_per_param",
    "energy_j",
]

ModelFileOpt = Annotated[
    Path | None,
    typer.Option("--model-file", help="A model.pt from `noisyhw train` (default: train --model)."),
]
ModelNameOpt = Annotated[
    str, typer.Option("--model", help="Model trained here when no --model-file is given.")
]
DatasetOpt = Annotated[
    str | None,
    typer.Option(
        "--dataset",
        help="Image dataset for test and calibration (default: the --model-file's, else digits).",
    ),
]
TrialsOpt = Annotated[
    int, typer.Option("--trials", "-t", help="Draws of the stochastic stages per profile.")
]
EpochsOpt = Annotated[int, typer.Option("--epochs", help="Training epochs (no --model-file).")]
NTrainOpt = Annotated[int | None, typer.Option("--n-train", help="Training/calibration subset.")]
NTestOpt = Annotated[int | None, typer.Option("--n-test", help="Test subset.")]


def _study(profiles: list[str], kw: dict) -> object:
    """Build the study (every check here, before any folder), naming the options typed."""
    from ..experiments.stack import StackStudy

    if kw["model_file"] is None:
        check_model(kw["model"])
        kw["dataset"] = kw["dataset"] or "digits"
    else:
        from ..experiments.classify import load_model

        if not Path(kw["model_file"]).is_file():
            raise ParameterError(
                "--model-file", "must be a model.pt from `noisyhw train`", str(kw["model_file"])
            )
        _, meta = load_model(Path(kw["model_file"]), option="--model-file")  # damaged: one line
        kw["dataset"] = kw["dataset"] or meta["dataset"]
        kw["model_file"] = str(kw["model_file"])
    kw["device"] = resolve_device(kw["device"])
    try:
        return StackStudy(profiles=tuple(profiles), **kw)
    except ParameterError as exc:
        if exc.name == "profile":
            raise ParameterError("--profile", exc.allowed, exc.got) from None
        raise (exc if "." in exc.name else renamed(exc, OPTIONS)) from None


def _go(study: object) -> None:
    from ..experiments import stack as E

    run, results, facts = E.run(study)  # type: ignore[arg-type]
    finish(run, E.result_rows(results), COLUMNS, title="accuracy per stage", model=facts)


@app.command("run")
@tracked
def run_cmd(
    profile: Annotated[str, typer.Option("--profile", help="A preset name or a TOML file.")],
    model_file: ModelFileOpt = None,
    model: ModelNameOpt = "mlp",
    dataset: DatasetOpt = None,
    epochs: EpochsOpt = 15,
    n_train: NTrainOpt = None,
    n_test: NTestOpt = None,
    trials: TrialsOpt = 20,
    seed: SeedOpt = 0,
    workers: WorkersOpt = 1,
    executor: ExecutorOpt = "local",
    address: AddressOpt = None,
    device: DeviceOpt = "cpu",
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Accuracy (95% CI), bits/param, cells and energy after each stage of one profile."""
    apply_quiet(quiet)
    if "," in profile or Path(profile).is_dir():
        raise ParameterError(
            "--profile", "names one profile; use `noisyhw stack sweep --profiles`", profile
        )
    kw = dict(locals())
    for k in ("profile", "output_format", "quiet"):
        kw.pop(k)
    kw["out"] = None if out is None else str(out)
    _go(_study([profile], kw))


@app.command("sweep")
@tracked
def sweep_cmd(
    profiles: Annotated[
        str,
        typer.Option(
            "--profiles", help="Comma list of presets / TOML files, or a folder of *.toml."
        ),
    ],
    model_file: ModelFileOpt = None,
    model: ModelNameOpt = "mlp",
    dataset: DatasetOpt = None,
    epochs: EpochsOpt = 15,
    n_train: NTrainOpt = None,
    n_test: NTestOpt = None,
    trials: TrialsOpt = 20,
    seed: SeedOpt = 0,
    workers: WorkersOpt = 1,
    executor: ExecutorOpt = "local",
    address: AddressOpt = None,
    device: DeviceOpt = "cpu",
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Several profiles on one model: waterfall, Pareto front (accuracy, bits, energy), tables."""
    apply_quiet(quiet)
    kw = dict(locals())
    for k in ("profiles", "output_format", "quiet"):
        kw.pop(k)
    kw["out"] = None if out is None else str(out)
    names = [p.strip() for p in profiles.split(",") if p.strip()]
    try:
        _go(_study(names, kw))
    except ParameterError as exc:
        if exc.name in ("--profile", "profile"):
            raise ParameterError("--profiles", exc.allowed, exc.got) from None
        raise


@app.command("presets")
def presets_cmd(output_format: FormatOpt = "table") -> None:
    """The named profiles, their stages and the sources of their numbers."""
    from ..stack import PRESETS

    rows = [
        {
            "preset": name,
            "stages": " -> ".join(s for s, _ in p.stages) or "(none)",
            "source": p.source,
        }
        for name, p in PRESETS.items()
    ]
    print_rows(rows, ["preset", "stages", "source"], title="presets")
