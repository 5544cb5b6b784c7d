"""A result-producing run: its folder, trial store, results.json, plots and HTML report.

Layout of ``DIR`` (default ``runs/<command>-<timestamp>``)::

    DIR/trials.sqlite   finished trials, written as each finishes (resume source)
    DIR/results.json    {"command", "config", "rows", "meta": {...}} (DESIGN.md schema)
    DIR/*.png           plots
    DIR/report.html     plots + tables + the exact command + versions
"""

from __future__ import annotations

import datetime as _dt
import platform
import shlex
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import ParameterError, check_seed
from ..io import write_json
from ..progress import progress_bar
from .executors import Executor, LocalExecutor, TrialFn
from .grid import trial_key
from .report import Report, Section
from .store import ResultStore

__all__ = ["Run", "default_out", "versions"]

#: config keys that do not change results (how, not what) and so may differ on resume
RUNTIME_KEYS = frozenset({"workers", "out", "executor", "address", "device", "quiet", "threads"})


def default_out(command: str) -> Path:
    """``runs/<command>-<YYYYmmdd-HHMMSS>`` (spaces in the command become dashes)."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{command.replace(' ', '-')}-{stamp}"


def versions() -> dict[str, str]:
    """Versions that matter for reproducing numbers."""
    import numpy
    import torch

    return {
        "noisyhw": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "machine": f"{platform.machine()} {platform.system()}",
    }


class Run:
    """One run of a command into one folder; resumable through its trial store.

    >>> run = Run("noise sweep", {"snr_db": [0, 10]}, out="runs/x", seed=0)  # doctest: +SKIP
    >>> rows = run.sweep(trial_fn, trials, context=model_state, workers=2)   # doctest: +SKIP
    >>> run.section("Accuracy").image(run.plot_path("acc.png")); run.finish(rows)  # doctest: +SKIP
    """

    def __init__(
        self,
        command: str,
        config: Mapping[str, Any],
        *,
        out: str | Path | None = None,
        seed: int = 0,
        argv: Sequence[str] | None = None,
        title: str | None = None,
    ) -> None:
        self.command = command
        self.config = dict(config)
        # checked before the folder exists: a bad seed must not leave a run behind to resume
        self.seed = check_seed("seed", seed)
        self.dir = Path(out) if out is not None else default_out(command)
        if self.dir.exists() and not self.dir.is_dir():
            raise ParameterError("--out", "must be a folder (a new path or a run folder)", str(out))
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ParameterError(
                "--out", f"cannot create the folder ({exc.strerror or exc})", str(self.dir)
            ) from None
        self.argv = list(argv if argv is not None else sys.argv)
        self.store = ResultStore(self.dir / "trials.sqlite")
        identity = {k: v for k, v in self.config.items() if k not in RUNTIME_KEYS}
        fingerprint = {"command": command, "config": identity, "seed": seed}
        # a folder that holds nothing but an empty store (a run refused by a late parameter
        # check, or killed before anything finished) takes the corrected command
        self.store.bind(fingerprint, replace=self._holds_only_an_empty_store())
        started = self.store.get_meta("started")
        if started is None:
            started = _dt.datetime.now().isoformat(timespec="seconds")
            self.store.set_meta("started", started)
        self.started = started
        self._t0 = time.perf_counter()
        self.report = Report(title or f"noisyhw {command}")

    def _holds_only_an_empty_store(self) -> bool:
        if len(self.store):
            return False
        return all(p.name.startswith("trials.sqlite") for p in self.dir.iterdir())

    # ------------------------------------------------------------------ trials
    def sweep(
        self,
        fn: TrialFn,
        trials: Sequence[Mapping[str, Any]],
        *,
        context: Any = None,
        executor: Executor | None = None,
        workers: int = 1,
        description: str | None = None,
    ) -> list[dict[str, Any]]:
        """Run every trial not yet in the store; return all rows (``{**params, **result}``).

        Each result is committed to the store as soon as it arrives. A failing trial raises
        :class:`~noisyhw.sweep.executors.TrialError` after in-flight trials are stored.
        """
        trials = [dict(t) for t in trials]
        todo = self.pending(trials)
        self.store.set_meta("total_trials", len(trials))  # for `noisyhw sweep status`
        ex = executor or LocalExecutor(workers)
        if todo:
            with progress_bar(description or self.command, len(trials)) as advance:
                advance(len(trials) - len(todo))
                for idx, result in ex.run(fn, todo, context):
                    self.store.add(idx, trials[idx], result)
                    advance()
        return self.store.rows()

    def pending(self, trials: Sequence[Mapping[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
        """``(grid index, params)`` of the trials not yet in the store (checks the grid first)."""
        trials = [dict(t) for t in trials]
        keys = [trial_key(t) for t in trials]
        if len(set(keys)) != len(keys):
            raise ParameterError("trials", "must be distinct parameter sets")
        done = self.store.done_keys()
        if done - set(keys):
            raise ParameterError(
                "--out", f"{self.dir} holds trials of a different grid; choose another --out"
            )
        return [(i, t) for i, (t, k) in enumerate(zip(trials, keys, strict=True)) if k not in done]

    def montecarlo(
        self,
        fn: Any,
        points: Sequence[Mapping[str, Any]],
        *,
        rule: Any,
        context: Any = None,
        executor: Executor | None = None,
        workers: int = 1,
        description: str | None = None,
        stream_keys: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Seeded chunked Monte-Carlo over ``points`` (see :mod:`noisyhw.sweep.montecarlo`):
        ``fn(params, rng, n, context) -> counts``, ``rule`` a ``StopRule``; seed ``self.seed``;
        ``stream_keys``: the parameters that choose the random stream (common random numbers).
        Resumable chunk by chunk; rows as :meth:`sweep` returns them."""
        from .montecarlo import simulate_points

        return simulate_points(
            self,
            fn,
            points,
            rule=rule,
            context=context,
            executor=executor,
            workers=workers,
            description=description,
            stream_keys=stream_keys,
        )

    # ------------------------------------------------------------------ outputs
    def plot_path(self, name: str) -> Path:
        return self.dir / name

    def section(self, title: str) -> Section:
        return self.report.section(title)

    def finish(self, rows: Sequence[Mapping[str, Any]] | None = None, **extra: Any) -> Path:
        """Write ``results.json`` and ``report.html``; return the results path.

        ``rows`` defaults to the trial store's rows; ``extra`` keys go to the top level of
        results.json (e.g. a training history).
        """
        rows = [dict(r) for r in (rows if rows is not None else self.store.rows())]
        finished = _dt.datetime.now().isoformat(timespec="seconds")
        elapsed = round(time.perf_counter() - self._t0, 3)
        meta = {
            "version": __version__,
            "seed": self.seed,
            "started": self.started,
            "finished": finished,
            "elapsed_s": elapsed,
            "versions": versions(),
            "argv": self.argv,
        }
        results = {"command": self.command, "config": self.config, "rows": rows, "meta": meta}
        results.update(extra)
        path = write_json(self.dir / "results.json", results)
        self.report.meta = {
            "command": shlex.join(["noisyhw", *self.argv[1:]]) if self.argv else self.command,
            "seed": self.seed,
            "started": self.started,
            "finished": finished,
            "elapsed (s)": elapsed,
            **versions(),
        }
        self.report.write(self.dir / "report.html")
        self.store.close()
        return path
