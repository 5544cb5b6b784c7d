"""Executors run trial functions and stream ``(index, result)`` back to the driver.

A trial function has the signature ``fn(params: dict, context) -> dict`` and must be importable
(defined at module level) so that worker processes can run it. ``context`` holds large read-only
inputs (a trained model's state, a dataset); it is sent once per worker, never once per trial.

``items`` may be any iterable, also a lazy one: executors pull the next item only when a worker is
free, so a caller can decide what to submit next from the results seen so far (the Monte-Carlo
stopping rule in :mod:`noisyhw.sweep.montecarlo` does). Closing the result iterator early (``break``
or ``.close()``) stops submitting and cancels what has not started.

Backends: :class:`LocalExecutor` (this process or a pool of spawned processes) and
:class:`~noisyhw.sweep.ray_executor.RayExecutor` (a Ray cluster, optional extra).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ..errors import check_int
from .trials import Executor, TrialError, TrialFn, drain

__all__ = ["Executor", "LocalExecutor", "TrialError", "TrialFn", "make_executor"]

_CONTEXT: Any = None


_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")


def _init_worker(context: Any, threads: int) -> None:
    """Per worker process: keep the context; cap torch/BLAS/numba threads at ``threads`` (the
    environment covers libraries the trials import later; torch already loaded is set directly)."""
    global _CONTEXT
    _CONTEXT = context
    for var in _THREAD_VARS:
        os.environ[var] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


def _call(fn: TrialFn, params: dict[str, Any]) -> dict[str, Any]:
    return fn(params, _CONTEXT)


def _mp_context() -> mp.context.BaseContext:
    """Worker processes start from a fork server that has imported noisyhw (and torch) once, so a
    pool starts in a fraction of a spawn's time and later pools reuse the server; on platforms
    without fork servers, spawn. Neither forks a process that has run torch's thread pools."""
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        # Children still re-run the main script's imports (CPython's fork server does not
        # preload __main__), which then hit these modules already in memory.
        # torch too when the driver uses it (its trials will): imported once, not per worker.
        preload = [__name__, "scipy.stats"] + (["torch"] if "torch" in sys.modules else [])
        ctx.set_forkserver_preload(preload)
        return ctx
    return mp.get_context("spawn")


class LocalExecutor:
    """Trials in this process (``workers=1``) or in a pool of worker processes (started from a
    fork server on Linux/macOS, spawned elsewhere); each worker sets torch to
    ``threads_per_worker`` threads.

    ``prefetch`` trials beyond one per worker are kept queued in the pool (default: one more per
    worker), so a worker that finishes starts its next trial at once instead of idling while the
    driver stores the result and submits the next one; with a lazy ``items`` (Monte-Carlo
    stopping rules) these are at most ``prefetch`` speculative trials.

    Used as a context manager (``with LocalExecutor(4) as ex: ...``) the pool outlives each
    ``run``: later runs with the same context reuse the warm workers (their imports and compiled
    kernels), which matters for many short sweeps; the pool is shut down on leaving the block.
    Without ``with``, every run starts and stops its own pool.
    """

    def __init__(
        self, workers: int = 1, threads_per_worker: int = 1, prefetch: int | None = None
    ) -> None:
        self.workers = check_int("workers", workers, 1, 256)
        self.threads = check_int("threads_per_worker", threads_per_worker, 1, 256)
        self.prefetch = self.workers if prefetch is None else check_int("prefetch", prefetch, 0)
        self._keep = False
        self._pool: ProcessPoolExecutor | None = None
        self._pool_context: bytes | None = None

    def __enter__(self) -> LocalExecutor:
        self._keep = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Shut the kept pool down (waits for trials in flight); the executor stays usable."""
        self._keep = False
        self._drop_pool()

    def _drop_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool, self._pool_context = None, None

    def _acquire_pool(self, context: Any) -> ProcessPoolExecutor:
        """A pool whose workers hold ``context``: the kept one when its context pickles to the
        same bytes, else a new one."""
        key = pickle.dumps(context, protocol=pickle.HIGHEST_PROTOCOL) if self._keep else None
        if self._pool is not None and key == self._pool_context:
            return self._pool
        self._drop_pool()
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=_mp_context(),
            initializer=_init_worker,
            initargs=(context, self.threads),
        )
        if self._keep:
            self._pool, self._pool_context = pool, key
        return pool

    def run(
        self, fn: TrialFn, items: Iterable[tuple[int, dict[str, Any]]], context: Any
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        if self.workers == 1:
            for idx, params in items:
                try:
                    result = fn(params, context)
                except Exception as exc:
                    raise TrialError(params, exc) from exc
                yield idx, result
            return
        yield from self._run_pool(fn, items, context)

    def _run_pool(
        self, fn: TrialFn, items: Iterable[tuple[int, dict[str, Any]]], context: Any
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        pool = self._acquire_pool(context)
        running: dict[Future, tuple[int, dict[str, Any]]] = {}
        broken = False

        def collect(futures: list[Future]) -> Iterator[tuple[Future, Any, BaseException | None]]:
            nonlocal broken
            done, _ = wait(futures, return_when=FIRST_COMPLETED)
            for fut in done:
                exc = fut.exception()
                broken = broken or isinstance(exc, BrokenProcessPool)
                yield fut, (None if exc is not None else fut.result()), exc

        def submit(params: dict[str, Any]) -> Future:
            return pool.submit(_call, fn, params)

        try:
            yield from drain(items, submit, collect, self.workers + self.prefetch, running)
        finally:
            if pool is self._pool and not broken:
                for fut in running:  # closed early: drop what has not started, keep the pool
                    fut.cancel()
            elif pool is self._pool:
                self._drop_pool()
            else:
                pool.shutdown(wait=True, cancel_futures=True)


def make_executor(kind: str = "local", *, workers: int = 1, address: str | None = None) -> Executor:
    """``local`` (processes on this machine) or ``ray`` (a Ray cluster; needs ``noisyhw[ray]``).

    For ``ray``, ``workers`` caps the trials in flight; ``workers=1`` (the CLI default) means "as
    many as the cluster has CPUs"; ``address`` is the cluster (``auto``, ``HOST:PORT``,
    ``ray://HOST:10001``) or None: the ``RAY_ADDRESS`` environment variable, else a new local
    cluster.
    """
    if kind == "local":
        return LocalExecutor(workers)
    if kind == "ray":
        try:
            from .ray_executor import RayExecutor  # optional extra
        except ImportError as exc:
            from ..errors import ParameterError

            raise ParameterError(
                "executor", "ray needs the optional extra: pip install 'noisyhw[ray]'", kind
            ) from exc
        return RayExecutor(address=address, workers=None if workers <= 1 else workers)
    from ..errors import ParameterError

    raise ParameterError("executor", "must be one of local, ray", kind)
