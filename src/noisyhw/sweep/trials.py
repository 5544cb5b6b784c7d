"""What every executor shares: the trial contract and the submit/drain loop.

A trial function ``fn(params: dict, context) -> dict`` runs once per parameter dict; an
:class:`Executor` runs many and yields ``(index, result)`` as they finish. :func:`drain` is the
scheduling loop of the local and the Ray executor: they differ only in how a trial is submitted
and how finished ones are collected. This module imports neither executor, so each can import it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

from ..errors import NoisyhwError

__all__ = ["Executor", "TrialError", "TrialFn", "drain"]

TrialFn = Callable[[dict[str, Any], Any], dict[str, Any]]
Handle = TypeVar("Handle")


class TrialError(NoisyhwError):
    """A trial raised: carries its parameters; finished trials were kept."""

    def __init__(self, params: dict[str, Any], cause: BaseException) -> None:
        self.params = params
        self.cause = cause
        super().__init__(f"trial {params} failed: {cause.__class__.__name__}: {cause}")


class Executor(Protocol):
    def run(
        self, fn: TrialFn, items: Iterable[tuple[int, dict[str, Any]]], context: Any
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(index, result)`` as trials finish; raise :class:`TrialError` on a failure
        after the trials already in flight have been yielded."""
        ...


def drain(
    items: Iterable[tuple[int, dict[str, Any]]],
    submit: Callable[[dict[str, Any]], Handle],
    collect: Callable[[list[Handle]], Iterable[tuple[Handle, Any, BaseException | None]]],
    cap: int,
    running: dict[Handle, tuple[int, dict[str, Any]]],
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Keep up to ``cap`` trials in flight and yield ``(index, result)`` as they finish.

    ``submit(params)`` starts one trial and returns its handle; ``collect(handles)`` blocks until
    at least one has finished and returns ``(handle, result, exception)`` for each finished one
    (``exception`` None on success). ``running`` (handle -> ``(index, params)``, empty on entry)
    is the caller's, so that its ``finally`` can cancel what is still in flight when the loop is
    closed early. After a failure nothing new is submitted; the trials in flight are drained
    (their results yielded) and the first failure is raised as :class:`TrialError`.
    """
    pending = iter(items)
    exhausted = False
    failure: TrialError | None = None
    while not exhausted or running:
        while not exhausted and failure is None and len(running) < cap:
            nxt = next(pending, None)
            if nxt is None:
                exhausted = True
                break
            running[submit(nxt[1])] = nxt
        if not running:
            break
        for handle, result, exc in collect(list(running)):
            idx, params = running.pop(handle)
            if exc is not None:
                failure = failure or TrialError(params, exc)
            else:
                yield idx, result
    if failure is not None:
        raise failure
