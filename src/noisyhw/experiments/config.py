"""Checks the frozen study configs of ``experiments/`` share (one config per CLI command).

A study config is a frozen dataclass whose fields are named after the CLI options that set them
(``n_train`` <- ``--n-train``), validated in ``__post_init__`` with :mod:`noisyhw.errors`, so a
bad field raises ``ParameterError(field, ...)`` at construction and the CLI names the option
(:func:`noisyhw.errors.option_name`). A run's config is ``dataclasses.asdict(cfg)``; the runtime
fields (``device``, ``workers``) are left out of its identity by :func:`noisyhw.sweep.identity`.
``run(cfg)`` hands back an :class:`Outcome` (the run, where its results went, the table worth
printing).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import COUNT_MAX, ParameterError, check_choice, check_float, check_int

if TYPE_CHECKING:
    from ..sweep import Run

__all__ = [
    "TRIALS_MAX",
    "WORKERS_MAX",
    "Outcome",
    "check_choices",
    "check_count",
    "check_floats",
    "check_ints",
    "check_out",
    "set_field",
]

#: the most worker processes a study runs its trials on
WORKERS_MAX = 100_000
#: the most trials per point of a storage campaign (bounds the work of one point)
TRIALS_MAX = 10_000


def set_field(cfg: Any, name: str, value: Any) -> None:
    """Normalise field ``name`` of a frozen dataclass in its ``__post_init__`` (a list given
    for a tuple field, ``auto`` resolved to a name)."""
    object.__setattr__(cfg, name, value)


def _items(name: str, values: Any) -> tuple[Any, ...]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ParameterError(name, "must be a list of values", values)
    return tuple(values)


def check_ints(
    name: str, values: Sequence[int], lo: int | None = None, hi: int | None = None
) -> tuple[int, ...]:
    """A non-empty list of integers, each in ``[lo, hi]``; returned as a tuple."""
    items = _items(name, values)
    if not items:
        raise ParameterError(name, "must list one or more integers", values)
    return tuple(check_int(name, v, lo, hi) for v in items)


def check_floats(
    name: str,
    values: Sequence[float],
    lo: float | None = None,
    hi: float | None = None,
    *,
    allow_inf: bool = False,
    allow_empty: bool = False,
) -> tuple[float, ...]:
    """A list of numbers (non-empty unless ``allow_empty``), each in ``[lo, hi]``, no NaN (and
    no infinity unless ``allow_inf``); returned as a tuple."""
    items = _items(name, values)
    if not items and not allow_empty:
        raise ParameterError(name, "must list one or more numbers", values)
    return tuple(check_float(name, v, lo, hi, allow_inf=allow_inf) for v in items)


def check_choices(name: str, values: Sequence[str], choices: Iterable[str]) -> tuple[str, ...]:
    """A non-empty list of names, each one of ``choices``; returned as a tuple."""
    options = tuple(choices)
    items = _items(name, values)
    if not items:
        raise ParameterError(name, f"must list one or more of {', '.join(options)}", values)
    return tuple(check_choice(name, v, options) for v in items)


@dataclass(frozen=True)
class Outcome:
    """A finished study run.

    ``run``: its :class:`~noisyhw.sweep.Run` (folder ``run.dir``); ``results``: the path of its
    results.json; ``rows`` / ``columns`` / ``title`` / ``keys``: the table to show (``columns``
    None: every column; ``keys``: identifying columns repeated when the table folds);
    ``tables``: further (title, rows, columns) tables worth reading before it (shown only in a
    terminal table, not in csv/json output); ``notes``: lines worth reading after it.
    """

    run: Run
    results: Path
    rows: list[dict[str, Any]]
    columns: list[str] | None = None
    title: str | None = None
    keys: int = 1
    tables: list[tuple[str, list[dict[str, Any]], list[str] | None]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_out(out: Any) -> str | None:
    """A config's ``out`` (run folder) as a string, or None (the default folder): a study's
    config stays JSON-serialisable (``dataclasses.asdict``)."""
    if out is None:
        return None
    if not isinstance(out, str | Path):
        raise ParameterError("out", "must be a folder path", out)
    return str(out)


def check_count(name: str, value: int | None) -> int | None:
    """A subset size or a number of examples: None (all of them) or an integer in
    [1, :data:`~noisyhw.errors.COUNT_MAX`] (a count above a data set's size takes all of it)."""
    return None if value is None else check_int(name, value, 1, COUNT_MAX)
