"""Progress for people and for logs, on stderr (stdout keeps the results: tables, CSV, JSON).

* On a terminal: a rich progress bar.
* Not a terminal (piped, redirected, a batch job): a plain timestamped line every
  ``NOISYHW_PROGRESS_INTERVAL`` seconds (default 5) while work runs, and one when a bar ends::

      12:03:07 demo: small CNN epoch 1/3  41/94 (44%)  loss 0.6180  elapsed 0:00:18  left 0:00:23

* Quiet (``--quiet`` or ``NOISYHW_QUIET=1``): nothing.

Monte-Carlo loops report each finished point through :func:`point_done`; a command that wants a
live row per point (``polar simulate``, ``sweep bpsk``) listens with :func:`on_point_done`.
:func:`label` (:func:`noisyhw.labels.point_label`, where every label for people lives) turns
a parameter dict into a short human label (``SCL-8 @ 2.5 dB``).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from .labels import point_label as label

__all__ = [
    "label",
    "on_point_done",
    "point_done",
    "progress_bar",
    "set_quiet",
    "track",
]

T = TypeVar("T")
_QUIET = os.environ.get("NOISYHW_QUIET", "") not in ("", "0")
_POINT_HOOKS: list[Callable[[Mapping[str, Any], Mapping[str, Any]], None]] = []


def set_quiet(quiet: bool) -> None:
    """Turn all progress output off (True) or on (False)."""
    global _QUIET
    _QUIET = quiet


def _interval() -> float:
    try:
        return max(0.1, float(os.environ.get("NOISYHW_PROGRESS_INTERVAL", "5")))
    except ValueError:
        return 5.0


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class _PlainProgress:
    """Timestamped progress lines on a stream, every ``interval`` seconds from a daemon thread
    (so a long step without updates still shows that the work is alive) and at the end."""

    def __init__(self, description: str, total: int | None, stream: Any, interval: float):
        self.description, self.total, self.stream = description, total, stream
        self.done, self.info = 0, ""
        self.t0 = time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._tick, args=(interval,), daemon=True)

    def line(self) -> str:
        elapsed = time.monotonic() - self.t0
        parts = [time.strftime("%H:%M:%S"), self.description]
        if self.total:
            parts.append(f"{self.done}/{self.total} ({100 * self.done // self.total}%)")
        elif self.done:
            parts.append(str(self.done))
        if self.info:
            parts.append(self.info)
        parts.append(f"elapsed {_clock(elapsed)}")
        if self.total and 0 < self.done < self.total:
            parts.append(f"left {_clock(elapsed * (self.total - self.done) / self.done)}")
        return "  ".join(parts)

    def _print(self) -> None:
        with self._lock:
            print(self.line(), file=self.stream, flush=True)

    def _tick(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self._print()

    def advance(self, n: int = 1, info: str | None = None) -> None:
        self.done += n
        if info is not None:
            self.info = info

    def __enter__(self) -> _PlainProgress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._print()


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Callable[..., None]]:
    """Context manager yielding ``advance(n=1, info=None)``: a rich bar on a terminal, plain
    timestamped lines when stderr is not one (see module docstring), nothing when quiet."""
    if _QUIET:
        yield lambda n=1, **_: None
        return
    stream = sys.stderr
    if not (hasattr(stream, "isatty") and stream.isatty()):
        with _PlainProgress(description, total, stream, _interval()) as plain:
            yield plain.advance
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    prog = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}", markup=False),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
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


# ----------------------------------------------------------------------------- finished points
@contextmanager
def on_point_done(
    hook: Callable[[Mapping[str, Any], Mapping[str, Any]], None],
) -> Iterator[None]:
    """Call ``hook(params, row)`` for every Monte-Carlo point that finishes inside the block."""
    _POINT_HOOKS.append(hook)
    try:
        yield
    finally:
        _POINT_HOOKS.remove(hook)


def point_done(params: Mapping[str, Any], row: Mapping[str, Any]) -> None:
    """Tell the listeners (:func:`on_point_done`) that the point ``params`` finished with ``row``."""
    for hook in list(_POINT_HOOKS):
        hook(params, row)
