"""Seeded, chunked Monte-Carlo simulation with an unbiased min-errors stopping rule.

A simulation point (one Eb/N0, one fault rate, ...) is split into independent **chunks** of
``chunk_size`` frames. Chunk ``i`` of a point draws all its randomness from
``np.random.default_rng(SeedSequence(seed, spawn_key=(stream, i)))`` where ``stream`` is derived
from the point's parameters. A chunk's result therefore depends only on ``(seed, params, i)``, never
on which worker ran it or when, so a point's result for a seed is identical on 1 worker, N local
worker processes or a Ray cluster.

Common random numbers: with ``stream_keys`` (e.g. ``("ebn0_db",)``) the stream is derived from
those parameters only, so points that differ in other parameters (the decoder, the list size) see
exactly the same frames and their comparison is paired.

Stopping rule (``min_errors``), decided in chunk-index order
    Chunks may finish in any order, but a point stops at the **shortest prefix of chunks
    0, 1, ..., K-1 whose error total reaches min_errors** (or at ``max_frames``). Its result is
    the sum over exactly those K chunks; chunks with an index >= K that finished early
    (speculative work of idle workers) are discarded. K depends only on the chunks' contents,
    never on their completion order, so the rule is the one a single sequential run applies: no
    bias toward chunks that happen to finish first (e.g. fast, error-free decodes) and no
    dependence on the number of workers. It is ordinary sequential (inverse) sampling observed at
    chunk boundaries: ``errors / frames`` then has a relative bias of order 1/min_errors, the
    usual price of a min-errors rule (about 1% at min_errors=100).

Chunk function contract::

    def chunk_fn(params: dict, rng: np.random.Generator, n: int, context) -> dict[str, int | float]

simulates ``n`` frames at ``params`` using only ``rng`` and returns **additive** counts (e.g.
``{"errors": frame_errors, "bit_errors": b}``); it must be defined at module level (worker
processes import it). ``context`` carries big read-only inputs (a code's frozen set, a model's
weights): sent once per worker (Ray: once into the object store).

>>> rule = StopRule(chunk_size=10_000, min_errors=100, max_frames=10**7)
>>> row = simulate(bpsk_chunk, {"ebn0_db": 4.0}, seed=0, rule=rule)          # doctest: +SKIP
>>> rows = run.montecarlo(bpsk_chunk, points, rule=rule, executor=ex)         # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ParameterError, check_int
from ..labels import point_label
from ..progress import point_done, progress_bar
from .executors import Executor, LocalExecutor
from .grid import trial_key
from .protocols import TrialRun
from .store import check_sqlite, connect_readonly

__all__ = [
    "MAX_FRAMES",
    "ChunkFn",
    "ChunkLog",
    "StopRule",
    "bpsk_chunk",
    "chunk_rng",
    "clopper_pearson",
    "point_stream",
    "simulate",
    "simulate_all",
    "simulate_points",
]

#: the most frames one point may simulate (a bound on the work a stopping rule can ask for)
MAX_FRAMES = 10**12

ChunkFn = Callable[[dict[str, Any], np.random.Generator, int, Any], Mapping[str, Any]]


@dataclass(frozen=True)
class StopRule:
    """When a simulation point stops.

    chunk_size: frames per chunk (the unit of work and of the stopping decision).
    min_errors: stop at the first chunk prefix whose ``error_key`` total reaches this; None:
        always run ``max_frames``.
    max_frames: frames per point at most (the last chunk is shortened to fit).
    error_key: the chunk-result count the rule watches (``errors`` = frame errors by default).
    """

    chunk_size: int = 10_000
    min_errors: int | None = 100
    max_frames: int = 1_000_000
    error_key: str = "errors"

    def __post_init__(self) -> None:
        check_int("chunk_size", self.chunk_size, 1, MAX_FRAMES)
        if self.min_errors is not None:
            check_int("min_errors", self.min_errors, 1, MAX_FRAMES)
        check_int("max_frames", self.max_frames, 1, MAX_FRAMES)
        if not self.error_key:
            raise ParameterError("error_key", "must be a non-empty key of the chunk results")

    @property
    def max_chunks(self) -> int:
        return math.ceil(self.max_frames / self.chunk_size)

    def chunk_frames(self, i: int) -> int:
        """Frames in chunk ``i`` (``chunk_size`` except a shorter last one)."""
        return min(self.chunk_size, self.max_frames - i * self.chunk_size)


def point_stream(params: Mapping[str, Any], keys: Sequence[str] | None = None) -> int:
    """A 64-bit stream id for a point, from its parameters (independent of its grid position);
    with ``keys``, from those parameters only (common random numbers across the others)."""
    if keys is not None:
        missing = [k for k in keys if k not in params]
        if missing:
            raise ParameterError("stream_keys", f"must be parameters of every point {params}", keys)
        params = {k: params[k] for k in keys}
    return int(trial_key(params), 16)


def chunk_rng(seed: int, chunk: int, stream: int = 0) -> np.random.Generator:
    """The generator of chunk ``chunk`` of stream ``stream`` under ``seed``.

    Equal to ``SeedSequence(seed).spawn(...)`` children addressed directly, so any chunk can be
    generated on any machine without generating the ones before it.
    """
    ss = np.random.SeedSequence(entropy=int(seed), spawn_key=(int(stream), int(chunk)))
    return np.random.default_rng(ss)


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) two-sided interval of a binomial proportion ``k / n``."""
    from scipy.stats import beta

    if n <= 0:
        return 0.0, 1.0
    a = 1.0 - confidence
    lo = 0.0 if k <= 0 else float(beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k >= n else float(beta.ppf(1 - a / 2, k + 1, n - k))
    return lo, hi


# --------------------------------------------------------------------------- chunk log (resume)
class ChunkLog:
    """Finished chunks in SQLite, so a killed run resumes mid-point (driver writes, one writer).

    Rows are keyed by ``(point, chunk)`` where ``point`` fingerprints the parameters, the seed and
    the chunk size; a chunk is reused only when its frame count matches.
    """

    TABLES = ("chunks", "points")

    def __init__(self, path: str | Path) -> None:
        if Path(path).exists():
            check_sqlite(path, self.TABLES)
        self._db = sqlite3.connect(Path(path), timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS chunks (point TEXT NOT NULL, chunk INTEGER NOT NULL, "
            "n INTEGER NOT NULL, result TEXT NOT NULL, PRIMARY KEY (point, chunk))"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS points (point TEXT PRIMARY KEY, params TEXT NOT NULL)"
        )
        self._db.commit()

    @staticmethod
    def point_key(params: Mapping[str, Any], seed: int, chunk_size: int) -> str:
        return trial_key({"params": dict(params), "seed": seed, "chunk_size": chunk_size})

    def load(self, point: str) -> dict[int, tuple[int, dict[str, Any]]]:
        rows = self._db.execute("SELECT chunk, n, result FROM chunks WHERE point=?", (point,))
        return {c: (n, json.loads(r)) for c, n, r in rows}

    def register(self, point: str, params: Mapping[str, Any]) -> None:
        """Remember a point's parameters (for progress reports)."""
        self._db.execute(
            "INSERT OR IGNORE INTO points VALUES (?, ?)", (point, json.dumps(dict(params)))
        )
        self._db.commit()

    def progress(self) -> list[dict[str, Any]]:
        """Per point: ``{"params", "chunks", "frames", "totals"}`` over its logged chunks."""
        out = []
        for point, params in self._db.execute("SELECT point, params FROM points ORDER BY rowid"):
            totals: dict[str, Any] = {}
            chunks = frames = 0
            for n, res in self._db.execute("SELECT n, result FROM chunks WHERE point=?", (point,)):
                chunks, frames = chunks + 1, frames + n
                for k, v in json.loads(res).items():
                    totals[k] = totals.get(k, 0) + v
            out.append(
                {"params": json.loads(params), "chunks": chunks, "frames": frames, "totals": totals}
            )
        return out

    @classmethod
    def open_readonly(cls, path: str | Path) -> ChunkLog:
        """Open an existing log without writing to it (progress reports of a running sweep)."""
        log = cls.__new__(cls)
        log._db = connect_readonly(path)
        return log

    def add(self, point: str, chunk: int, n: int, result: Mapping[str, Any]) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO chunks VALUES (?, ?, ?, ?)",
            (point, chunk, n, json.dumps(dict(result))),
        )
        self._db.commit()

    def close(self) -> None:
        self._db.close()


# --------------------------------------------------------------------------- engine
def _plain(value: Any, key: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ParameterError(f"chunk result {key!r}", "must be a number (an additive count)", value)
    return value.item() if isinstance(value, np.generic) else value


def _chunk_task(item: dict[str, Any], context: tuple[ChunkFn, Any]) -> dict[str, Any]:
    """Executor trial: run one chunk (module level, so worker processes can import it)."""
    fn, user_context = context
    rng = chunk_rng(item["seed"], item["chunk"], item["stream"])
    out = fn(dict(item["params"]), rng, item["n"], user_context)
    if not isinstance(out, Mapping):
        raise ParameterError("chunk function", "must return a dict of counts", type(out))
    return {k: _plain(v, k) for k, v in out.items()}


@dataclass
class _Point:
    idx: int
    params: dict[str, Any]
    stream: int
    key: str
    rule: StopRule
    results: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_chunk: int = 0
    prefix: int = 0
    totals: dict[str, int | float] = field(default_factory=dict)
    frames: int = 0
    stopped: str | None = None

    def take(self, i: int, result: dict[str, Any]) -> None:
        """Record chunk ``i``; extend the finished prefix in index order; apply the rule."""
        if self.stopped is not None or i < self.prefix:
            return
        self.results[i] = result
        rule = self.rule
        while self.stopped is None and self.prefix in self.results:
            res = self.results.pop(self.prefix)
            for k, v in res.items():
                self.totals[k] = self.totals.get(k, 0) + v
            self.frames += rule.chunk_frames(self.prefix)
            self.prefix += 1
            if rule.min_errors is not None:
                if rule.error_key not in self.totals:
                    raise ParameterError(
                        "error_key", "must be a key of the chunk results", rule.error_key
                    )
                if self.totals[rule.error_key] >= rule.min_errors:
                    self.stopped = "min_errors"
            if self.stopped is None and self.prefix >= rule.max_chunks:
                self.stopped = "max_frames"
        if self.stopped is not None:
            self.results.clear()  # chunks past the prefix are discarded

    def row(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.totals)
        errors = self.totals.get(self.rule.error_key, 0)
        out.update(frames=self.frames, chunks=self.prefix, stopped=self.stopped)
        out["error_rate"] = errors / self.frames if self.frames else float("nan")
        if isinstance(errors, int) and 0 <= errors <= self.frames:
            out["ci_low"], out["ci_high"] = clopper_pearson(errors, self.frames)
        return out


def _run_points(
    fn: ChunkFn,
    points: Sequence[tuple[int, Mapping[str, Any]]],
    *,
    seed: int,
    rule: StopRule,
    context: Any,
    executor: Executor | None,
    log: ChunkLog | None,
    on_point: Callable[[int, dict[str, Any], dict[str, Any]], None],
    description: str,
    stream_keys: Sequence[str] | None = None,
) -> None:
    """Simulate ``points`` (``(index, params)``) through one executor run, in point order.

    Chunks are submitted lazily: while the current point's finished prefix has not met the rule,
    free workers get its next chunks (at most one executor's in-flight window of speculative
    chunks per point); then they move on to the next point, so no pool restarts between points.
    """
    check_int("seed", seed, 0)
    states = []
    for idx, params in points:
        p = _Point(
            idx,
            dict(params),
            point_stream(params, stream_keys),
            ChunkLog.point_key(params, seed, rule.chunk_size),
            rule,
        )
        if log is not None:
            log.register(p.key, params)
            for i, (n, res) in sorted(log.load(p.key).items()):
                if i < rule.max_chunks and n == rule.chunk_frames(i):
                    p.take(i, res)
        states.append(p)
    tags: dict[int, tuple[_Point, int]] = {}
    counter = iter(range(1 << 62))

    def items() -> Iterator[tuple[int, dict[str, Any]]]:
        for p in states:
            while p.stopped is None and p.next_chunk < rule.max_chunks:
                i = p.next_chunk
                p.next_chunk += 1
                if i < p.prefix or i in p.results:
                    continue  # restored from the log
                tag = next(counter)
                tags[tag] = (p, i)
                item = {
                    "params": p.params,
                    "seed": seed,
                    "stream": p.stream,
                    "chunk": i,
                    "n": rule.chunk_frames(i),
                }
                yield tag, item

    ex = executor or LocalExecutor(1)
    reported: set[int] = set()

    def report_finished(advance: Callable[..., None]) -> None:
        for p in states:
            if p.stopped is not None and p.idx not in reported:
                reported.add(p.idx)
                row = p.row()
                on_point(p.idx, p.params, row)
                point_done(p.params, row)
                advance(info=f"{point_label(p.params)}: error rate {row['error_rate']:.3g}")

    with progress_bar(description, len(states)) as advance:
        report_finished(advance)
        if len(reported) < len(states):
            for tag, res in ex.run(_chunk_task, items(), (fn, context)):
                p, i = tags.pop(tag)
                if log is not None:
                    log.add(p.key, i, rule.chunk_frames(i), res)
                p.take(i, res)
                if p.stopped is None:  # long points: show how far the current one is
                    errors = p.totals.get(rule.error_key, 0)
                    goal = f"/{rule.min_errors}" if rule.min_errors is not None else ""
                    advance(
                        0,
                        info=f"{point_label(p.params)}: {errors}{goal} errors in {p.frames} frames",
                    )
                report_finished(advance)
    missing = [p.params for p in states if p.stopped is None]
    if missing:  # pragma: no cover - an executor that dropped results
        raise RuntimeError(f"Monte-Carlo points left unfinished: {missing}")


def simulate(
    fn: ChunkFn,
    params: Mapping[str, Any],
    *,
    seed: int,
    rule: StopRule,
    context: Any = None,
    executor: Executor | None = None,
    stream_keys: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Simulate one point; return the summed counts plus ``frames``, ``chunks``, ``stopped``
    (``min_errors`` / ``max_frames``), ``error_rate`` and a 95% Clopper-Pearson ``ci_low`` /
    ``ci_high`` (when ``error_key`` counts frames)."""
    return simulate_all(
        fn,
        [params],
        seed=seed,
        rule=rule,
        context=context,
        executor=executor,
        stream_keys=stream_keys,
    )[0]


def simulate_all(
    fn: ChunkFn,
    points: Sequence[Mapping[str, Any]],
    *,
    seed: int,
    rule: StopRule,
    context: Any = None,
    executor: Executor | None = None,
    stream_keys: Sequence[str] | None = None,
    description: str = "monte-carlo",
) -> list[dict[str, Any]]:
    """Simulate several points through one executor run, nothing stored; one row per point (in
    ``points`` order) as :func:`simulate` returns it."""
    rows: dict[int, dict[str, Any]] = {}
    _run_points(
        fn,
        list(enumerate(points)),
        seed=seed,
        rule=rule,
        context=context,
        executor=executor,
        log=None,
        on_point=lambda i, _p, row: rows.__setitem__(i, row),
        description=description,
        stream_keys=stream_keys,
    )
    return [rows[i] for i in range(len(points))]


def simulate_points(
    run: TrialRun,
    fn: ChunkFn,
    points: Sequence[Mapping[str, Any]],
    *,
    rule: StopRule,
    context: Any = None,
    executor: Executor | None = None,
    workers: int = 1,
    description: str | None = None,
    stream_keys: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Simulate every point not yet in ``run``'s store; return all rows (``{**params, **row}``).

    The seed is ``run.seed``. Each point's row is stored when its stopping rule is met, and every
    finished chunk is logged in ``run.dir/mc_chunks.sqlite``, so a killed run resumes from its
    last finished chunks with the same final numbers. ``Run.montecarlo`` is this function
    (``run.montecarlo(fn, points, rule=...)``).
    """
    todo = run.pending(points)
    run.store.set_meta("total_trials", len(points))  # for `noisyhw sweep status`
    if todo:
        log = ChunkLog(run.dir / "mc_chunks.sqlite")
        try:
            _run_points(
                fn,
                todo,
                seed=run.seed,
                rule=rule,
                context=context,
                executor=executor or LocalExecutor(workers),
                log=log,
                on_point=run.store.add,
                description=description or run.command,
                stream_keys=stream_keys,
            )
        finally:
            log.close()
    return run.store.rows()


def bpsk_chunk(
    params: dict[str, Any], rng: np.random.Generator, n: int, context: Any = None
) -> dict[str, int]:
    """Reference chunk: ``n`` frames of ``params["k"]`` (default 1) uncoded BPSK bits over AWGN
    at ``params["ebn0_db"]``; a frame errs when any hard decision is wrong.

    Closed forms for checks: bit error rate ``Q(sqrt(2 Eb/N0))``, frame error rate
    ``1 - (1 - BER)^k``.
    """
    from ..channels import bpsk_awgn

    k = int(params.get("k", 1))
    bits = rng.integers(0, 2, size=(n, k), dtype=np.int8)
    llr = bpsk_awgn(bits, float(params["ebn0_db"]), 1.0, rng)
    wrong = (llr < 0) != (bits == 1)
    return {"errors": int(wrong.any(axis=1).sum()), "bit_errors": int(wrong.sum())}
