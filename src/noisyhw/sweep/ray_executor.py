"""Run sweep trials and Monte-Carlo chunks as Ray tasks (optional extra: ``noisyhw[ray]``).

The driver (the process that runs ``noisyhw ...``) submits trials as Ray tasks, takes results as
they finish and alone writes them to the run's SQLite store, so resume and no-loss work exactly as
with the local executor: a killed driver loses only the trials in flight, a rerun skips the stored
ones. ``context`` (model weights, a dataset, a code's tables) goes into Ray's object store once per
:meth:`RayExecutor.run`; each Ray worker process fetches and unpickles it once and keeps it for
every later task of that run (numpy arrays are read zero-copy from shared memory).

Every node of the cluster needs the same noisyhw (and torch/numpy) installed as the driver, since
trial functions travel by reference (module + name), like with worker processes.

>>> ex = RayExecutor(address="auto")                                     # doctest: +SKIP
>>> rows = Run("noise sweep", cfg, out="runs/x").sweep(fn, trials, executor=ex)  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

import ray

from ..errors import ParameterError, check_float, check_int
from .trials import TrialFn, drain

__all__ = ["RayExecutor", "connect"]

# per Ray worker process: the context of the run in progress, keyed by its object id
_CONTEXT_CACHE: dict[str, Any] = {}


def _ray_call(fn: TrialFn, params: dict[str, Any], ctx_box: list[Any]) -> dict[str, Any]:
    """A Ray task: ``fn(params, context)`` with the context fetched once per worker process.

    The context's ObjectRef travels inside a list so Ray does not resolve (and unpickle) it for
    every task; the worker resolves it itself the first time and caches it.
    """
    ref = ctx_box[0]
    if ref is None:
        return fn(params, None)
    key = ref.hex()
    if key not in _CONTEXT_CACHE:
        _CONTEXT_CACHE.clear()  # a new run: drop the previous run's context
        _CONTEXT_CACHE[key] = ray.get(ref)
    return fn(params, _CONTEXT_CACHE[key])


def connect(address: str | None = None, **init_kwargs: Any) -> None:
    """Connect this process to a Ray cluster once (a no-op when already connected).

    ``address``: ``"auto"`` (a cluster started on this machine with ``ray start``), ``HOST:PORT``
    of a head node, ``ray://HOST:10001`` (Ray client), or None: ``RAY_ADDRESS`` from the
    environment, else start a local single-machine cluster with this machine's CPUs.
    """
    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    init_kwargs.setdefault("log_to_driver", False)
    if address is None:
        init_kwargs.setdefault("include_dashboard", False)
    try:
        ray.init(address=address, **init_kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ParameterError(
            "--address",
            f"cannot connect to a Ray cluster there ({exc.__class__.__name__}: {exc})",
            address,
        ) from exc


class RayExecutor:
    """Trials as Ray tasks on a Ray cluster; results stream back in completion order.

    Parameters
    ----------
    address: the cluster (see :func:`connect`); ignored when this process is already connected.
    workers: trials in flight at most; None: twice the cluster's CPUs (keeps every CPU busy while
        the driver stores results, without queueing a whole grid in Ray).
    cpus_per_trial: Ray CPU resource each task asks for (e.g. 4 for a torch trial using 4 threads).
    gpus_per_trial: Ray GPU resource each task asks for (0 = CPU only).
    max_retries: Ray retries of a task whose worker process or node died (not of exceptions the
        trial raises: those stop the sweep with :class:`TrialError`).
    init_kwargs: extra ``ray.init`` arguments, e.g. ``runtime_env={"pip": [...]}``.
    """

    def __init__(
        self,
        address: str | None = None,
        workers: int | None = None,
        *,
        cpus_per_trial: float = 1.0,
        gpus_per_trial: float = 0.0,
        max_retries: int = 3,
        init_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.address = address
        self.workers = None if workers is None else check_int("workers", workers, 1, 1_000_000)
        self.cpus_per_trial = check_float("cpus_per_trial", cpus_per_trial, 0.0)
        self.gpus_per_trial = check_float("gpus_per_trial", gpus_per_trial, 0.0)
        self.max_retries = check_int("max_retries", max_retries, 0, 100)
        self.init_kwargs = dict(init_kwargs or {})

    def _in_flight_cap(self) -> int:
        if self.workers is not None:
            return self.workers
        cpus = float(ray.cluster_resources().get("CPU", 1.0))
        per = self.cpus_per_trial or 1.0
        return max(1, int(2 * cpus / per))

    def run(
        self, fn: TrialFn, items: Iterable[tuple[int, dict[str, Any]]], context: Any
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """Yield ``(index, result)`` as trials finish; raise :class:`TrialError` on a failure
        after the trials already in flight have been yielded."""
        connect(self.address, **self.init_kwargs)
        task = ray.remote(_ray_call).options(
            num_cpus=self.cpus_per_trial,
            num_gpus=self.gpus_per_trial,
            max_retries=self.max_retries,
            retry_exceptions=False,
        )
        ctx_box = [None if context is None else ray.put(context)]
        fn_ref = ray.put(fn)  # pickled once, not once per task
        running: dict[Any, tuple[int, dict[str, Any]]] = {}

        def submit(params: dict[str, Any]) -> Any:
            return task.remote(fn_ref, params, ctx_box)

        def collect(refs: list[Any]) -> Iterator[tuple[Any, Any, BaseException | None]]:
            done, rest = ray.wait(refs, num_returns=1)
            if rest:  # collect everything else already finished in the same round trip
                done += ray.wait(rest, num_returns=len(rest), timeout=0)[0]
            for ref in done:
                try:
                    yield ref, ray.get(ref), None
                except ray.exceptions.RayTaskError as exc:
                    yield ref, None, getattr(exc, "cause", None) or exc
                except ray.exceptions.RayError as exc:  # worker/node lost beyond retries
                    yield ref, None, exc

        try:
            yield from drain(items, submit, collect, self._in_flight_cap(), running)
        finally:
            for ref in running:  # closed early (stopping rule, Ctrl-C): cancel the rest
                ray.cancel(ref, force=False)
