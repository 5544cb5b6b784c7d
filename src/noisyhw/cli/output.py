"""Printed output of every command: the result table in the ``--format`` asked for, lines
beside it (:func:`say`) and the closing lines of a finished run (live Monte-Carlo rows:
:mod:`.live`)."""

from __future__ import annotations

import csv
import json
import shutil
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from ..errors import check_choice
from ..sweep.labels import cell

if TYPE_CHECKING:
    from ..experiments.config import Outcome
    from ..sweep import Run

__all__ = [
    "FORMATS",
    "echo_paths",
    "finish",
    "output_format",
    "print_rows",
    "render_table",
    "reset_output",
    "run_rows",
    "say",
    "set_format",
    "show",
]

FORMATS = ("table", "csv", "tsv", "json")
_FORMAT = ["table"]  # set by --format while parsing, read by print_rows / say / echo_paths


def set_format(value: str) -> str:
    """``--format``'s callback: check the value and make it the running command's format."""
    _FORMAT[0] = check_choice("--format", value, FORMATS)
    return value


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


def show(outcome: Outcome) -> None:
    """Print a finished study (``experiments.<study>.run(cfg)``): its further tables (in a
    terminal table only), its table in the ``--format`` asked for, its notes, then where
    results.json and the report went."""
    if output_format() == "table":
        for title, rows, columns in outcome.tables:
            print_rows(rows, columns, title=title)
            typer.echo()
    print_rows(outcome.rows, outcome.columns, title=outcome.title, keys=outcome.keys)
    for note in outcome.notes:
        say(note)
    echo_paths(outcome.run, outcome.results)


def echo_paths(run: Run, results_path: Path) -> None:
    """The two lines every finished command ends with: where results.json and the report are."""
    say(f"results: {results_path}")
    say(f"report:  {run.dir / 'report.html'}")


def run_rows(results_path: Path) -> list[dict[str, Any]]:
    return json.loads(results_path.read_text())["rows"]
