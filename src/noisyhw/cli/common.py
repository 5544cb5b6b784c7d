"""Options and helpers shared by every sub-command (keep each command thin)."""

from __future__ import annotations

import csv
import functools
import inspect
import json
import math
import shutil
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, get_type_hints

import typer

from ..errors import ParameterError, check_choice, check_int, check_seed
from ..models import MODELS
from ..progress import set_quiet
from ..sweep import Executor, Run, make_executor
from ..sweep.labels import cell

if TYPE_CHECKING:
    from ..experiments.classify import ClassifierJob

__all__ = [
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
    "say",
    "split_list",
    "tracked",
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


# ----------------------------------------------------------------------------- printed tables
FORMATS = ("table", "csv", "tsv", "json")
_FORMAT = ["table"]  # set by --format while parsing, read by print_rows / say / echo_paths


def _set_format(value: str) -> str:
    _FORMAT[0] = check_choice("--format", value, FORMATS)
    return value


FormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        help="The printed table: table (fits the terminal, 80 columns when piped; 4 significant "
        "figures), or csv, tsv, json (every column, full precision; other lines go to stderr).",
        callback=_set_format,
    ),
]


def reset_output() -> None:
    """Back to ``--format table`` (each :func:`noisyhw.cli.main` call starts here)."""
    _FORMAT[0] = "table"


def output_format() -> str:
    """The ``--format`` of the running command (``table`` unless it has the option)."""
    return _FORMAT[0]


def say(text: str) -> None:
    """A line for the reader beside the table: stdout with ``--format table``, else stderr
    (so that a csv/tsv/json stdout holds the table only)."""
    typer.echo(text, err=output_format() != "table")


def _machine_cell(value: Any) -> str:
    if isinstance(value, list | tuple | Mapping):
        return json.dumps(value, default=str)
    return "" if value is None else str(value)


def _table_width() -> int:
    if sys.stdout.isatty():
        return max(40, shutil.get_terminal_size((80, 24)).columns)
    return 80


def _blocks(widths: list[int], width: int, keys: int) -> list[list[int]]:
    """Column indices per printed block: each block fits ``width`` (two spaces between
    columns) and repeats the first ``keys`` columns; a column wider than the line goes alone."""
    keys = min(keys, len(widths))
    head = list(range(keys))
    blocks: list[list[int]] = []
    cur = list(head)
    used = sum(widths[:keys]) + 2 * max(0, keys - 1)
    for i in range(keys, len(widths)):
        need = widths[i] + (2 if cur else 0)
        if len(cur) > keys and used + need > width:
            blocks.append(cur)
            cur, used = list(head), sum(widths[:keys]) + 2 * max(0, keys - 1)
            need = widths[i] + (2 if cur else 0)
        cur.append(i)
        used += need
    if len(cur) > keys or not blocks:
        blocks.append(cur)
    return blocks


def render_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    title: str | None = None,
    width: int = 80,
    keys: int = 1,
) -> str:
    """Rows as plain text that fits ``width``: numbers right-aligned to 4 significant figures,
    text left-aligned, nothing cut; columns that do not fit fold into further blocks, each
    repeating the first ``keys`` (identifying) columns; a text cell wider than the line left
    beside the key columns wraps onto more lines."""
    if not rows:
        return (f"{title}\n" if title else "") + "(no rows)"
    cols = list(columns or dict.fromkeys(k for r in rows for k in r))
    keys = min(keys, len(cols))
    cells = [[cell(r.get(c)) if c in r else "" for c in cols] for r in rows]
    numeric = [
        all(isinstance(r.get(c), int | float) or r.get(c) is None for r in rows) for c in cols
    ]
    widths = [max(len(c), *(len(row[j]) for row in cells)) for j, c in enumerate(cols)]
    for j in range(keys):  # a key column takes at most half the line
        if not numeric[j] and widths[j] > width // 2:
            widths[j] = max(width // 2, len(cols[j]))
    room = max(20, width - sum(widths[:keys]) - 2 * keys)
    for j in range(keys, len(cols)):
        if not numeric[j] and widths[j] > room:
            widths[j] = max(room, len(cols[j]))
    lines = [title] if title else []
    for b, block in enumerate(_blocks(widths, width, keys)):
        if b:
            lines.append("")

        def fmt(texts: list[str], block: list[int] = block) -> list[str]:
            parts = [
                textwrap.wrap(t, widths[j], break_on_hyphens=False) or [""] for t, j in
                zip(texts, block, strict=True)
            ]  # fmt: skip
            out = []
            for i in range(max(map(len, parts))):
                texts_i = [p[i] if i < len(p) else "" for p in parts]
                out.append(
                    "  ".join(
                        t.rjust(widths[j]) if numeric[j] else t.ljust(widths[j])
                        for t, j in zip(texts_i, block, strict=True)
                    ).rstrip()
                )
            return out

        lines.extend(fmt([cols[j] for j in block]))
        lines.extend(fmt(["-" * widths[j] for j in block]))
        for row in cells:
            lines.extend(fmt([row[j] for j in block]))
    return "\n".join(lines)


def print_rows(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    title: str | None = None,
    *,
    keys: int = 1,
    fmt: str | None = None,
) -> None:
    """Print a result table in the ``--format`` of the command (or ``fmt``).

    ``table``: :func:`render_table` at the terminal's width (80 when piped) showing
    ``columns``; ``csv`` / ``tsv``: every column of every row, full precision; ``json``: the
    rows as a JSON list. Tables other than the result table pass ``fmt="table"``.
    """
    fmt = fmt or output_format()
    if fmt == "table":
        typer.echo(render_table(rows, columns, title, _table_width(), keys))
        return
    if fmt == "json":
        typer.echo(json.dumps([dict(r) for r in rows], default=str, indent=1))
        return
    cols = list(dict.fromkeys([*(columns or []), *(k for r in rows for k in r)]))
    writer = csv.writer(sys.stdout, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")
    writer.writerow(cols)
    for r in rows:
        writer.writerow([_machine_cell(r.get(c)) for c in cols])
    sys.stdout.flush()


#: the Monte-Carlo point keys shown as the x column of a live row, with their headers
_X_KEYS = {"ebn0_db": "Eb/N0", "p": "p", "snr_db": "SNR"}


def _live_header(x_name: str) -> str:
    cols = f"{'decoder':<10} {x_name:>6}  {'FER':>9} {'BER':>9} {'FE':>6} {'frames':>9}"
    return f"{cols} {'Mb/s':>6} {'elapsed':>8}"


@contextmanager
def live_rows(
    bits_per_frame: int, frame_errors: str = "frame_errors", decoder: str | None = None
) -> Iterator[None]:
    """Print a row per finished Monte-Carlo point as it finishes (as AFF3CT's simulator does):
    decoder, channel point, FER, BER, frame errors, frames, decoded Mb/s, elapsed time.

    ``bits_per_frame``: information bits per frame (BER and Mb/s); ``frame_errors``: the count
    key of erroneous frames; ``decoder``: the name shown (default: the point's label without
    its channel value, e.g. ``SCL-8``). Mb/s needs a ``decode_s`` count (decoder time), else ``-``.
    Rows go to stdout with ``--format table`` only (a csv/json stdout holds the table only).
    """
    from ..progress import _clock, label, on_point_done

    if output_format() != "table":
        yield
        return
    t0 = time.monotonic()
    shown = [False]

    def show(params: Mapping[str, Any], row: Mapping[str, Any]) -> None:
        x_key = next((k for k in _X_KEYS if k in params), None)
        rest = {k: v for k, v in params.items() if k != x_key}
        x = params[x_key] if x_key else None
        x_text = f"{x:.2f}" if x_key != "p" and isinstance(x, float) else cell(x)
        if not shown[0]:
            header = _live_header(_X_KEYS.get(x_key or "", "point"))
            typer.echo(f"{header}\n{'-' * len(header)}")
            shown[0] = True
        frames = int(row.get("frames", 0))
        fe = int(row.get(frame_errors, 0))
        bits = frames * bits_per_frame
        dt = float(row.get("decode_s", 0.0))
        ber = row.get("bit_errors", 0) / bits if bits and "bit_errors" in row else None
        fields = [
            f"{decoder or label(rest) or '-':<10}",
            f"{x_text:>6} ",
            f"{cell(fe / frames if frames else None):>9}",
            f"{cell(ber):>9}",
            f"{fe:>6}",
            f"{frames:>9}",
            f"{cell(bits / dt / 1e6 if dt > 0 else None):>6}",
            f"{_clock(time.monotonic() - t0):>8}",
        ]
        typer.echo(" ".join(fields))

    with on_point_done(show):
        yield


def finish(
    run: Run,
    rows: list[dict[str, Any]] | None = None,
    columns: list[str] | None = None,
    title: str | None = None,
    *,
    keys: int = 1,
    **extra: Any,
) -> None:
    """Write results.json + report.html, print the table and where everything went."""
    path = run.finish(rows, **extra)
    shown = rows if rows is not None else run_rows(path)
    print_rows(shown, columns, title=title, keys=keys)
    echo_paths(run, path)


def echo_paths(run: Run, results_path: Path) -> None:
    """The two lines every finished command ends with: where results.json and the report are."""
    say(f"results: {results_path}")
    say(f"report:  {run.dir / 'report.html'}")


def run_rows(results_path: Path) -> list[dict[str, Any]]:
    return json.loads(results_path.read_text())["rows"]


# --------------------------------------------------------------------------- run tracking
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
