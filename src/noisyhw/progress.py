"""Progress bars (rich) that stay quiet when asked to or when output is not a terminal."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["progress_bar", "set_quiet", "track"]

T = TypeVar("T")
_QUIET = os.environ.get("NOISYHW_QUIET", "") not in ("", "0")


def set_quiet(quiet: bool) -> None:
    """Turn all progress bars off (True) or on (False)."""
    global _QUIET
    _QUIET = quiet


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[callable]:
    """Context manager yielding ``advance(n=1, **fields)``; draws nothing when quiet."""
    if _QUIET:
        yield lambda n=1, **_: None
        return
    prog = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=False,
    )
    with prog:
        task = prog.add_task(description, total=total, info="")

        def advance(n: int = 1, info: str | None = None) -> None:
            prog.update(task, advance=n, **({"info": info} if info is not None else {}))

        yield advance


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Iterate ``items`` with a progress bar."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with progress_bar(description, total) as advance:
        for item in items:
            yield item
            advance()
