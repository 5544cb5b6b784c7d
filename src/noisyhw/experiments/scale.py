"""Scale study: the seeded chunked Monte-Carlo on a reference channel (uncoded BPSK over AWGN),
whose frame error rate has a closed form, run through any executor."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scipy.stats import norm

from ..codes.polar.simulate import check_channel_points
from ..errors import ParameterError, check_choice, check_int, check_memory
from ..sweep import LocalExecutor, Run, line_plot, make_executor
from ..sweep.executors import Executor
from ..sweep.montecarlo import MAX_FRAMES, StopRule, bpsk_chunk, simulate

if TYPE_CHECKING:
    from .demo import DemoContext

__all__ = [
    "BPSK_COLUMNS",
    "BpskConfig",
    "bpsk_fer_theory",
    "bpsk_reference_sweep",
    "demo_section",
    "noop_trial",
    "run_bpsk",
]

BPSK_COLUMNS = ["ebn0_db", "frames", "errors", "error_rate", "ci_low", "ci_high", "theory"]


@dataclass(frozen=True)
class BpskConfig:
    """``sweep bpsk``: uncoded BPSK over AWGN at the Eb/N0 points ``ebn0`` (dB), ``k`` bits per
    frame, chunks of ``chunk_size`` frames, a point stopping at ``min_errors`` frame errors or
    ``max_frames`` frames. ``executor`` / ``address`` / ``workers``: runtime keys."""

    ebn0: tuple[float, ...] = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0)
    k: int = 1
    chunk_size: int = 20_000
    min_errors: int = 100
    max_frames: int = 2_000_000
    seed: int = 0
    executor: str = "local"
    address: str | None = None
    workers: int = 1

    def __post_init__(self) -> None:
        if not self.ebn0:
            raise ParameterError("ebn0", "give at least one Eb/N0 point")
        object.__setattr__(self, "ebn0", tuple(check_channel_points("awgn", self.ebn0)))
        check_int("k", self.k, 1, 4096)
        check_int("chunk_size", self.chunk_size, 1, MAX_FRAMES)
        check_int("min_errors", self.min_errors, 1, MAX_FRAMES)
        check_int("max_frames", self.max_frames, 1, MAX_FRAMES)
        check_int("seed", self.seed, 0)
        check_choice("executor", self.executor, ("local", "ray"))
        check_int("workers", self.workers, 1, 100_000)
        if self.address is not None and self.executor != "ray":
            raise ParameterError("address", "is for executor ray only", self.address)
        # a chunk holds its bits (int8), their LLRs and noise (float64) and a mask: ~26 B a bit
        frames = min(self.chunk_size, self.max_frames)
        check_memory("chunk_size", 26.0 * frames * self.k, self.chunk_size, "a chunk")


def run_bpsk(cfg: BpskConfig, *, out: str | Path | None = None) -> tuple[Run, list]:
    """:func:`bpsk_reference_sweep` of ``cfg`` in a run folder; returns the run and rows."""
    ex = make_executor(cfg.executor, workers=cfg.workers, address=cfg.address)
    run = Run("sweep bpsk", asdict(cfg), out=out, seed=cfg.seed, title="noisyhw sweep bpsk")
    rows = bpsk_reference_sweep(
        run,
        cfg.ebn0,
        k=cfg.k,
        chunk_size=cfg.chunk_size,
        min_errors=cfg.min_errors,
        max_frames=cfg.max_frames,
        executor=ex,
    )
    return run, rows


def bpsk_fer_theory(ebn0_db: float, k: int = 1) -> float:
    """Frame error rate of ``k`` uncoded BPSK bits over AWGN: ``1 - (1 - Q(sqrt(2 Eb/N0)))^k``."""
    ber = float(norm.sf(math.sqrt(2.0 * 10.0 ** (ebn0_db / 10.0))))
    return -math.expm1(k * math.log1p(-ber))


def _with_theory(rows: Sequence[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    return [dict(r, theory=bpsk_fer_theory(r["ebn0_db"], k)) for r in rows]


def bpsk_reference_sweep(
    run: Run,
    ebn0_db: Sequence[float],
    *,
    k: int = 1,
    chunk_size: int = 20_000,
    min_errors: int = 100,
    max_frames: int = 2_000_000,
    executor: Executor | None = None,
) -> list[dict[str, Any]]:
    """FER of uncoded BPSK at each Eb/N0 (resumable, any executor) + a plot against theory."""
    rule = StopRule(chunk_size=chunk_size, min_errors=min_errors, max_frames=max_frames)
    points = [{"ebn0_db": float(e), "k": k} for e in ebn0_db]
    rows = _with_theory(run.montecarlo(bpsk_chunk, points, rule=rule, executor=executor), k)
    curves = [dict(r, curve="simulated") for r in rows if r["errors"] > 0]
    curves += [dict(r, curve="closed form", error_rate=r["theory"]) for r in rows]
    png = line_plot(
        curves,
        "ebn0_db",
        "error_rate",
        run.plot_path("bpsk_fer.png"),
        hue="curve",
        logy=True,
        xlabel="Eb/N0 (dB)",
        ylabel="frame error rate",
        title=f"uncoded BPSK, {k} bit(s) per frame, seed {run.seed}",
    )
    sec = run.section("Uncoded BPSK over AWGN: seeded chunked Monte-Carlo")
    sec.text(
        f"Chunks of {chunk_size} frames, chunk i seeded from (seed, point, i); a point stops at "
        f"the first chunk prefix with {min_errors} frame errors or at {max_frames} frames. The "
        "numbers for a seed do not depend on the executor or the number of workers."
    )
    sec.image(png, "simulated frame error rate (95% Clopper-Pearson interval in the table)")
    sec.table(rows, BPSK_COLUMNS)
    return rows


def demo_section(ctx: DemoContext) -> list[dict[str, Any]]:
    """The same seeded Monte-Carlo on 1 and 2 worker processes: identical numbers, vs theory."""
    ctx.section.title = "Scale: one seeded Monte-Carlo on 1 and 2 workers"
    points = [0.0, 2.0, 4.0] if ctx.fast else [0.0, 2.0, 4.0, 6.0]
    rule = StopRule(chunk_size=5_000, min_errors=200, max_frames=400_000)
    rows, same = [], True
    t0 = time.perf_counter()
    one = [simulate(bpsk_chunk, {"ebn0_db": e}, seed=ctx.seed, rule=rule) for e in points]
    t_one = time.perf_counter() - t0
    t0 = time.perf_counter()
    ex = LocalExecutor(2)
    two = [
        simulate(bpsk_chunk, {"ebn0_db": e}, seed=ctx.seed, rule=rule, executor=ex) for e in points
    ]
    t_two = time.perf_counter() - t0
    for e, a, b in zip(points, one, two, strict=True):
        same &= a == b
        rows.append(
            {
                "ebn0_db": e,
                "frames": a["frames"],
                "errors": a["errors"],
                "error_rate": a["error_rate"],
                "ci_low": a["ci_low"],
                "ci_high": a["ci_high"],
                "theory": bpsk_fer_theory(e),
                "same_on_2_workers": a == b,
            }
        )
    png = line_plot(
        [dict(r, curve="simulated") for r in rows]
        + [dict(r, curve="closed form", error_rate=r["theory"]) for r in rows],
        "ebn0_db",
        "error_rate",
        ctx.path("scale_bpsk_fer.png"),
        hue="curve",
        logy=True,
        xlabel="Eb/N0 (dB)",
        ylabel="bit error rate",
        title="uncoded BPSK: chunked Monte-Carlo vs Q(sqrt(2 Eb/N0))",
    )
    ctx.section.text(
        "Monte-Carlo split into seeded chunks (chunk i seeded from (seed, point, i)), stopped at "
        f"the first chunk prefix with {rule.min_errors} errors. 1 worker: {t_one:.1f} s; 2 worker "
        f"processes (incl. start-up): {t_two:.1f} s; identical numbers: {same}."
    )
    ctx.section.image(png, "simulated bit error rate against the closed form")
    ctx.section.table(rows)
    return rows


def noop_trial(params: dict[str, Any], context: Any) -> dict[str, Any]:
    """A trial that does nothing (echoes ``params["i"]``): measures executor overhead."""
    return {"i": params["i"]}
