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
import shutil
import sqlite3
import sys
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from .. import __version__
from ..errors import ParameterError, check_seed, option_name
from ..io import write_json
from ..progress import progress_bar
from .executors import Executor, LocalExecutor, TrialFn
from .grid import RUNTIME_KEYS, canonical_json, identity, trial_key
from .montecarlo import ChunkLog, simulate_points
from .report import Report, Section
from .store import ResultStore, RunLock, check_sqlite, same_run

__all__ = ["RUNTIME_KEYS", "Run", "default_out", "identity", "versions"]

#: files a run's bookkeeping writes (a folder holding only these and no finished trial holds
#: no results yet)
_STORE_FILES = ("trials.sqlite", "mc_chunks.sqlite", "run.lock")


def default_out(command: str) -> Path:
    """``runs/<command>-<YYYYmmdd-HHMMSS>`` (spaces in the command become dashes)."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{command.replace(' ', '-')}-{stamp}"


def first_difference(old: Any, new: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The key path of the first value that differs between two JSON-like trees (None: equal)."""
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for k in sorted(set(old) | set(new), key=str):
            if k not in old or k not in new:
                return (*path, str(k))
            found = first_difference(old[k], new[k], (*path, str(k)))
            if found is not None:
                return found
        return None
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            found = first_difference(a, b, (*path, str(i)))
            if found is not None:
                return found
        return None
    if canonical_json(old) != canonical_json(new):
        return path
    return None


def _lookup(tree: Any, path: tuple[str, ...]) -> Any:
    for k in path:
        if isinstance(tree, list) and k.isdigit() and int(k) < len(tree):
            tree = tree[int(k)]
        elif isinstance(tree, Mapping) and k in tree:
            tree = tree[k]
        else:
            return "(not set)"
    return tree


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

    Constructing a Run writes nothing: it checks ``out`` (not a file, not a folder of other
    files, no damaged store, not in use by another process, the same command and parameters
    as a run it holds) and the folder, its store and its lock appear on first use of
    :attr:`dir` or :attr:`store`. ``extendable`` names top-level config keys whose value may
    grow on resume (``train``'s ``epochs``); ``options`` maps config fields to the options
    that set them, for messages (default ``--field-name``).

    >>> run = Run("noise sweep", {"snr_db": [0, 10]}, out="runs/x", seed=0)  # doctest: +SKIP
    >>> rows = run.sweep(trial_fn, trials, context=model_state, workers=2)   # doctest: +SKIP
    >>> run.section("Accuracy").image(run.plot_path("acc.png")); run.finish(rows)  # doctest: +SKIP
    """

    _live: ClassVar[weakref.WeakSet[Run]] = weakref.WeakSet()

    def __init__(
        self,
        command: str,
        config: Mapping[str, Any],
        *,
        out: str | Path | None = None,
        seed: int = 0,
        argv: Sequence[str] | None = None,
        title: str | None = None,
        extendable: Sequence[str] = (),
        options: Mapping[str, str] | None = None,
    ) -> None:
        self.command = command
        self.config = dict(config)
        # checked before the folder exists: a bad seed must not leave a run behind to resume
        self.seed = check_seed("seed", seed)
        if out is not None and str(out).strip() in ("", "."):
            raise ParameterError(
                "--out", "must name a run folder, not the working directory", str(out)
            )
        self._dir = Path(out) if out is not None else default_out(command)
        self.argv = list(argv if argv is not None else sys.argv)
        self.extendable = tuple(extendable)
        self.options = dict(options or {})
        self.fingerprint = {"command": command, "config": identity(self.config), "seed": seed}
        self._store: ResultStore | None = None
        self._created = False
        self._top = self._dir
        self._replace = self._check_folder()
        self.started = _dt.datetime.now().isoformat(timespec="seconds")
        self._t0 = time.perf_counter()
        self.report = Report(title or f"noisyhw {command}")

    # ------------------------------------------------------------------ the folder
    def _check_folder(self) -> bool:
        """Refuse an unusable ``out`` before anything is written; True when the folder holds an
        empty store of another run (a refused or killed first attempt) to be taken over."""
        d = self._dir
        if d.exists() and not d.is_dir():
            raise ParameterError("--out", "must be a folder (a new path or a run folder)", str(d))
        if not d.exists():
            return False
        db = d / "trials.sqlite"
        if not db.exists():
            if any(True for _ in d.iterdir()):
                raise ParameterError(
                    "--out",
                    f"{d} holds other files and no run; pick a new folder (or a run folder)",
                )
            return False
        check_sqlite(db, ResultStore.TABLES)
        chunks = d / "mc_chunks.sqlite"
        if chunks.exists():
            check_sqlite(chunks, ChunkLog.TABLES)
        RunLock(d).check()
        recorded = ResultStore.read_fingerprint(db)
        if recorded is None:
            return False
        old = dict(recorded["fingerprint"])
        old["config"] = identity(old.get("config", {}))  # folders of older versions resume too
        new = self.fingerprint
        if same_run(old, new, self.extendable):
            for key in self.extendable:
                was, now = old["config"].get(key), new["config"].get(key)
                if isinstance(was, int | float) and isinstance(now, int | float) and now < was:
                    raise ParameterError(
                        self._option(key),
                        f"the run in {d} already went to {was}; give {was} or more to resume "
                        "or extend it, or pick another --out",
                        now,
                    )
            return False
        if recorded["trials"] == 0 and self._only_store_files():
            return True  # nothing finished: the corrected command takes the folder
        path = first_difference(old, new) or ("config",)
        names = [k for k in path[1:] if not k.isdigit()] if path[0] == "config" else []
        what = names[-1] if names else path[0]
        raise ParameterError(
            "--out",
            f"{d} holds a run with {self._option(what)} {_show(_lookup(old, path))} "
            f"(this command: {_show(_lookup(new, path))}); rerun with its parameters to "
            "resume, or pick another --out",
        )

    def _option(self, field: str) -> str:
        if field == "command":
            return "command"
        return self.options.get(field) or option_name(field)

    def _only_store_files(self) -> bool:
        return all(p.name.startswith(_STORE_FILES) for p in self._dir.iterdir())

    def open(self) -> ResultStore:
        """Create the folder, its store and lock, and record the fingerprint (first use)."""
        if self._store is not None:
            return self._store
        existed = self._dir.exists()
        top = self._dir.absolute()  # the outermost folder this creates (runs/ too)
        while not top.parent.exists():
            top = top.parent
        self._top = top
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ParameterError(
                "--out", f"cannot create the folder ({exc.strerror or exc})", str(self._dir)
            ) from None
        self._created = not existed
        store = ResultStore(self._dir / "trials.sqlite")
        try:
            if self._replace:  # chunks of the refused first attempt are not this run's
                for p in self._dir.glob("mc_chunks.sqlite*"):
                    p.unlink()
            store.bind(self.fingerprint, replace=self._replace, extendable=self.extendable)
            started = store.get_meta("started")
            if started is None:
                store.set_meta("started", self.started)
            else:
                self.started = started
        except BaseException:
            store.close()
            raise
        self._store = store
        Run._live.add(self)
        return store

    @property
    def dir(self) -> Path:
        """The run folder, created (with its store and lock) on first use."""
        self.open()
        return self._dir

    @property
    def store(self) -> ResultStore:
        """The trial store, opened on first use."""
        return self.open()

    def discard_if_unused(self) -> bool:
        """Remove the folder this run created when nothing was stored in it (a refusal after
        the Run was made); True when removed. A folder that existed before is left alone."""
        if self._store is None or not self._created or not self._dir.is_dir():
            return False
        try:
            used = len(self._store) > 0 or _has_chunks(self._dir / "mc_chunks.sqlite")
        except sqlite3.Error:
            used = True
        if used or not self._only_store_files():
            return False
        self._store.close()
        shutil.rmtree(self._dir, ignore_errors=True)
        parent = self._dir.absolute().parent
        while parent != self._top.parent and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()  # the runs/ folder it made for it, when empty
            parent = parent.parent
        return True

    @classmethod
    def discard_unused(cls) -> None:
        """:meth:`discard_if_unused` for every Run of this process (the CLI, on an error)."""
        for run in list(cls._live):
            run.discard_if_unused()

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
                "--out", f"{self._dir} holds trials of a different grid; choose another --out"
            )
        return [(i, t) for i, (t, k) in enumerate(zip(trials, keys, strict=True)) if k not in done]

    #: seeded chunked Monte-Carlo over points, resumable chunk by chunk:
    #: ``run.montecarlo(fn, points, rule=StopRule(...), executor=..., stream_keys=...)``
    #: (:func:`noisyhw.sweep.montecarlo.simulate_points`, whose parameters it is)
    montecarlo = simulate_points

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


def _show(value: Any) -> str:
    text = canonical_json(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _has_chunks(path: Path) -> bool:
    """Whether the chunk log at ``path`` holds a finished chunk (read-only)."""
    if not path.exists():
        return False
    log = ChunkLog.open_readonly(path)
    try:
        return any(p["chunks"] for p in log.progress())
    except sqlite3.Error:
        return False
    finally:
        log.close()
