"""Pieces every study config and ``run(cfg)`` share: the :class:`Outcome` a finished study hands
back to its caller (the run, where its results went, the table worth printing: the CLI prints
it, a script may read ``rows`` or results.json) and checks of the fields all studies have."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import COUNT_MAX, ParameterError, check_int

if TYPE_CHECKING:
    from ..sweep import Run

__all__ = ["Outcome", "check_count", "check_out"]


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
