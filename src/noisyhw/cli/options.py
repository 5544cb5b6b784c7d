"""Option types and list parsing shared by every sub-command (checked while parsing)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

from ..errors import COUNT_MAX, ParameterError, check_choice, check_int, check_seed
from ..models import CLASSIFIERS
from .output import set_format

__all__ = [
    "CLASSIFIERS",
    "COUNT_MAX",
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
    "check_counts",
    "parse_floats",
    "parse_ints",
    "parse_strs",
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


#: the one list syntax of every list option, for help texts
LIST_SYNTAX = "a comma list and/or start:stop:step ranges (stop included), e.g. 0,1:3:0.5"


def _expand(item: str) -> list[float]:
    """``"2"`` -> [2.0]; ``"0:1:0.25"`` -> [0, 0.25, 0.5, 0.75, 1] (stop included when on the
    grid); ValueError when malformed, a step <= 0, a stop below the start or too many points."""
    parts = item.split(":")
    if len(parts) == 1:
        return [float(item)]
    if len(parts) != 3:
        raise ValueError(item)
    a, b, step = (float(t) for t in parts)
    if not (step > 0 and b >= a and math.isfinite(a) and math.isfinite(b)):
        raise ValueError(item)
    n = math.floor((b - a) / step + 1e-9) + 1
    if n > MAX_POINTS:
        raise ValueError(item)
    return [round(a + i * step, 10) for i in range(n)]


def parse_floats(name: str, text: str) -> list[float]:
    """``"1.0,1.5,2"`` -> [1.0, 1.5, 2.0]; items may be ``start:stop:step`` ranges (stop
    included): ``"0,2:4:1"`` -> [0, 2, 3, 4]; ``inf`` allowed, NaN refused; at most
    :data:`MAX_POINTS` values."""
    try:
        vals = [v for item in split_list(text) for v in _expand(item)]
    except (ValueError, OverflowError):
        raise ParameterError(
            name, f"must be {LIST_SYNTAX}, at most {MAX_POINTS} points", text
        ) from None
    if not vals or any(v != v for v in vals):
        raise ParameterError(name, f"must be {LIST_SYNTAX} (no NaN)", text)
    if len(vals) > MAX_POINTS:
        raise ParameterError(name, f"may list at most {MAX_POINTS} points", text)
    return vals


def parse_ints(name: str, text: str, lo: int | None = None) -> list[int]:
    """``"1,3,5"`` -> [1, 3, 5]; ``"1:9:4"`` -> [1, 5, 9] (as :func:`parse_floats`, integers
    only), each >= ``lo`` when given."""
    allowed = f"must be integers: {LIST_SYNTAX.replace('0,1:3:0.5', '1,2:8:2')}"
    try:
        vals = [v for item in split_list(text) for v in _expand(item)]
    except (ValueError, OverflowError):
        raise ParameterError(name, f"{allowed}, at most {MAX_POINTS} values", text) from None
    if not vals or any(not math.isfinite(v) or v != int(v) for v in vals):
        raise ParameterError(name, allowed, text)
    ints = [int(v) for v in vals]
    if lo is not None and min(ints) < lo:
        raise ParameterError(name, f"must be integers >= {lo}", text)
    if len(ints) > MAX_POINTS:
        raise ParameterError(name, f"may list at most {MAX_POINTS} values", text)
    return ints


def parse_strs(name: str, text: str, choices: list[str] | tuple[str, ...]) -> list[str]:
    """``"a,b"`` -> ["a", "b"], each one of ``choices``."""
    vals = split_list(text)
    if not vals:
        raise ParameterError(name, f"must list one or more of {', '.join(choices)}", text)
    for v in vals:
        check_choice(name, v, choices)
    return vals


def check_counts(*named: tuple[str, int | None]) -> None:
    """Each ``(option, value)`` pair whose value is given (not None) must be an integer in
    [1, COUNT_MAX] (a count above a data set's size takes all of it)."""
    for name, value in named:
        if value is not None:
            check_int(name, value, 1, COUNT_MAX)


FormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        help="The printed table: table (fits the terminal, 80 columns when piped; 4 significant "
        "figures), or csv, tsv, json (every column, full precision; other lines go to stderr).",
        callback=set_format,
    ),
]

TrackOpt = Annotated[
    str | None,
    typer.Option(
        "--track",
        help="Log the run to mlflow (local store runs/mlflow.db unless --track-uri) or "
        "tensorboard (event files in the run folder); pip install 'noisyhw\\[track]'.",
    ),
]
TrackUriOpt = Annotated[
    str | None,
    typer.Option(
        "--track-uri",
        help="MLflow tracking server or store URI (default $MLFLOW_TRACKING_URI, else a local "
        "store); for tensorboard, the log folder.",
    ),
]
