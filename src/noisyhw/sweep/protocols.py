"""What the Monte-Carlo engine needs of a run, as a protocol (so ``montecarlo`` does not import
``run``, and ``run`` imports ``montecarlo``: one direction, no import circle)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from .store import ResultStore

__all__ = ["TrialRun"]


class TrialRun(Protocol):
    """A run folder with a trial store: :class:`noisyhw.sweep.Run` is one."""

    command: str
    seed: int

    @property
    def dir(self) -> Path:
        """The run folder (created on first use)."""
        ...

    @property
    def store(self) -> ResultStore:
        """The trial store (opened on first use)."""
        ...

    def pending(self, trials: Sequence[Mapping[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
        """``(grid index, params)`` of the trials not yet in the store."""
        ...
