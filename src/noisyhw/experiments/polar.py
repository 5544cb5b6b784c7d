"""Polar-code studies: FER/BER curves through the sweep pipeline, plots, report, demo section.

``noisyhw polar simulate`` is :func:`run` of one :class:`PolarSimulateConfig` (frozen, checked
when made); the run's configuration is ``asdict`` of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..codes.crc import CRCS
from ..codes.polar.decoders import DECODERS, METRICS, SC_DECODERS
from ..codes.polar.simulate import (
    CHANNELS,
    SimulationConfig,
    check_channel_points,
    check_decoders,
    simulate,
)
from ..errors import ParameterError, check_choice, check_float, check_int, check_memory
from ..sweep import Run, line_plot, make_executor
from ..sweep.executors import Executor
from ..sweep.montecarlo import MAX_FRAMES

__all__ = [
    "COLUMNS",
    "PolarSimulateConfig",
    "demo_section",
    "parse_decoders",
    "plot_curves",
    "run",
    "run_simulation",
]

#: the longest code and the largest chunk ``polar simulate`` accepts (bounds on the work)
N_MAX = 2**20
CHUNK_MAX = 10**7


def parse_decoders(text: str, default_list: int = 8) -> tuple[tuple[str, int], ...]:
    """``"sc,sc-int8,scl:8,cascl:8"`` -> ``(name, list size)`` pairs (a missing ``:L`` uses
    ``default_list``; the SC kinds get 1). Errors name the field ``decoders``; the sizes and
    names are checked by :func:`~noisyhw.codes.polar.decoders.make_decoder` when the
    :class:`PolarSimulateConfig` is made."""
    check_int("list_size", default_list, 1, 1024)
    out = []
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        name, _, size = item.partition(":")
        check_choice("decoders", name, DECODERS)
        try:
            list_size = int(size) if size else default_list
        except ValueError:
            raise ParameterError(
                "decoders", "list size after ':' must be an integer", item
            ) from None
        out.append((name, 1 if name in SC_DECODERS else list_size))
    if not out:
        raise ParameterError("decoders", "give at least one decoder", text)
    return tuple(out)


@dataclass(frozen=True)
class PolarSimulateConfig:
    """One ``polar simulate`` study: the code, the channel, the decoders compared, the points
    and the Monte-Carlo budget (every field checked here, before any folder or worker).

    ``decoders``: ``(name, list size)`` pairs (:func:`parse_decoders`); ``points``: Eb/N0 in dB
    (awgn, information bits) or crossover / erasure probabilities (bsc / bec); a point stops at
    ``min_errors`` frame errors or ``max_frames`` frames, in chunks of ``frames_per_chunk``.
    ``executor`` / ``address`` / ``workers`` say where chunks run (runtime keys: not part of
    the run's identity).
    """

    n: int = 1024
    k: int = 512
    construction: str = "5g"
    design_snr_db: float = 2.0
    crc: str | None = None
    systematic: bool = False
    metric: str = "approx"
    channel: str = "awgn"
    decoders: tuple[tuple[str, int], ...] = (("sc", 1),)
    points: tuple[float, ...] = (1.0, 1.5, 2.0, 2.5, 3.0)
    min_errors: int = 100
    max_frames: int = 100_000
    frames_per_chunk: int = 1000
    seed: int = 0
    executor: str = "local"
    address: str | None = None
    workers: int = 1

    def __post_init__(self) -> None:
        check_int("n", self.n, 2, N_MAX)
        check_float("design_snr_db", self.design_snr_db, -100.0, 300.0)
        check_choice("channel", self.channel, CHANNELS)
        check_choice("metric", self.metric, METRICS)
        if self.crc is not None:
            check_choice("crc", self.crc, tuple(CRCS))
        check_int("frames_per_chunk", self.frames_per_chunk, 1, CHUNK_MAX)
        check_int("min_errors", self.min_errors, 1, MAX_FRAMES)
        check_int("max_frames", self.max_frames, 1, MAX_FRAMES)
        check_int("seed", self.seed, 0)
        check_choice("executor", self.executor, ("local", "ray"))
        check_int("workers", self.workers, 1, 100_000)
        if self.address is not None and self.executor != "ray":
            raise ParameterError("address", "is for executor ray only", self.address)
        if not self.points:
            raise ParameterError(CHANNELS[self.channel], "give at least one channel point")
        points = tuple(check_channel_points(self.channel, self.points))
        object.__setattr__(self, "points", points)
        for name, size in self.decoders:  # sizes first: the memory estimate uses the largest
            if name not in SC_DECODERS:
                check_int("list_size", size, 1, 1024)
        # a chunk decodes its frames x L paths of n LLRs over log2(n)+1 stages (float64), for
        # the largest list any decoder asks for
        largest = max((size for _, size in self.decoders), default=1)
        chunk = self.simulation().frames_per_chunk
        check_memory(
            "frames_per_chunk",
            8.0 * chunk * largest * self.n * (self.n.bit_length() + 1),
            self.frames_per_chunk,
            "a chunk",
        )
        # the code (n, k, crc, construction) and every decoder, built once by make_decoder
        object.__setattr__(
            self, "decoders", tuple(check_decoders(self.simulation(), self.decoders))
        )

    def simulation(self) -> SimulationConfig:
        """What every chunk needs (sent once to each worker)."""
        return SimulationConfig(
            n=self.n,
            k=self.k,
            construction=self.construction,
            design_snr_db=self.design_snr_db,
            crc=self.crc,
            systematic=self.systematic,
            metric=self.metric,
            channel=self.channel,
            frames_per_chunk=min(self.frames_per_chunk, self.max_frames),
            seed=self.seed,
        )

    @property
    def x(self) -> str:
        """The rows' channel-point column: ``ebn0_db`` or ``p``."""
        return CHANNELS[self.channel]

    @property
    def columns(self) -> list[str]:
        """The columns of the printed table."""
        return [c if c != "ebn0_db" else self.x for c in COLUMNS]


def run(cfg: PolarSimulateConfig, *, out: str | Path | None = None) -> tuple[Run, list[dict]]:
    """Simulate ``cfg`` into a run folder (``out``; resumable), plot, add a report section;
    returns the :class:`~noisyhw.sweep.Run` (to finish) and the rows."""
    ex = make_executor(cfg.executor, workers=cfg.workers, address=cfg.address)
    folder = Run("polar simulate", asdict(cfg), out=out, seed=cfg.seed)
    rows = run_simulation(
        folder,
        cfg.simulation(),
        cfg.decoders,
        cfg.points,
        min_errors=cfg.min_errors,
        max_frames=cfg.max_frames,
        executor=ex,
    )
    return folder, rows


COLUMNS = [
    "decoder",
    "ebn0_db",
    "frames",
    "frame_errors",
    "bit_errors",
    "fer",
    "ber",
    "fer_ci_low",
    "fer_ci_high",
    "info_throughput_mbps",
]

#: Public reference points (BPSK-AWGN, Eb/N0 over information bits) from the research notes.
REFERENCE_SC_1024_512 = {1.5: 0.370, 2.0: 0.102, 2.5: 0.0157, 3.0: 0.00154}


def plot_curves(
    rows: Sequence[dict[str, Any]], x: str, out_dir: Path, prefix: str = "polar_", title: str = ""
) -> tuple[Path, Path]:
    """FER (with its 95% CI band) and BER against the channel point, one curve per decoder."""
    xlabel = "Eb/N0 (dB, information bits)" if x == "ebn0_db" else f"{x}"
    # a log axis cannot show zeros: drop points without errors from the plot only
    fer_rows = [r for r in rows if r["frame_errors"] > 0]
    ber_rows = [r for r in rows if r["bit_errors"] > 0]
    fer = line_plot(
        fer_rows,
        x,
        "fer",
        out_dir / f"{prefix}fer.png",
        hue="decoder",
        logy=True,
        band=("fer_ci_low", "fer_ci_high"),
        title=title or "Frame error rate",
        xlabel=xlabel,
        ylabel="FER",
    )
    ber = line_plot(
        ber_rows,
        x,
        "ber",
        out_dir / f"{prefix}ber.png",
        hue="decoder",
        logy=True,
        title=title or "Bit error rate",
        xlabel=xlabel,
        ylabel="BER",
    )
    return fer, ber


def run_simulation(
    run: Run,
    config: SimulationConfig,
    decoders: Sequence[tuple[str, int]],
    points: Sequence[float],
    *,
    min_errors: int,
    max_frames: int,
    workers: int = 1,
    executor: Executor | None = None,
) -> list[dict[str, Any]]:
    """Simulate, plot and add a report section to ``run``; returns the rows."""
    rows = simulate(
        config,
        decoders,
        points,
        min_errors=min_errors,
        max_frames=max_frames,
        run=run,
        workers=workers,
        executor=executor,
    )
    x = CHANNELS[config.channel]
    code = config.code()
    fer, ber = plot_curves(rows, x, run.dir)
    sec = run.section(f"Polar code {code.describe()}")
    sec.text(
        f"{code.describe()}. k = {code.k} information bits; the CRC's {code.crc_bits} bits are "
        f"added on top (K = {code.K} information-set positions). Channel {config.channel}"
        + (
            " with BPSK; Eb/N0 counts information bits only (Es/N0 = k/n Eb/N0)."
            if config.channel == "awgn"
            else "."
        )
        + f" Frames per point: until {min_errors} frame errors or {max_frames} frames; "
        f"chunks of {config.frames_per_chunk} frames, seed {config.seed}. FER intervals are "
        "95% Clopper-Pearson. Throughput: decoded information bits per second of decoder time "
        "on one core."
    )
    sec.image(fer, "Frame error rate (shaded: 95% CI)")
    sec.image(ber, "Bit error rate")
    sec.table(rows, [c if c != "ebn0_db" else x for c in COLUMNS])
    return rows


def demo_section(ctx: Any) -> list[dict[str, Any]]:
    """A small FER curve: (256,128) 5G polar code with CRC-8, SC vs SCL-8 vs CA-SCL-8."""
    fast = bool(getattr(ctx, "fast", False))
    config = SimulationConfig(
        n=256, k=128, construction="5g", crc="crc8", frames_per_chunk=500, seed=int(ctx.seed)
    )
    decoders = [("sc", 1), ("scl", 8), ("cascl", 8)]
    points = [1.0, 1.5, 2.0, 2.5] if fast else [1.0, 1.5, 2.0, 2.5, 3.0]
    rows = simulate(
        config, decoders, points, min_errors=50 if fast else 100, max_frames=2000 if fast else 6000
    )
    fer, _ = plot_curves(
        rows,
        "ebn0_db",
        Path(ctx.run.dir),
        prefix="demo_polar_",
        title="Polar (256,128) + CRC-8, BPSK-AWGN",
    )
    sec = ctx.section
    sec.title = "Polar codes: SC vs SCL vs CA-SCL"
    code = config.code()
    sec.text(
        f"{code.describe()}: FER against Eb/N0 (information bits only) for successive "
        "cancellation, list decoding with L = 8 and CRC-aided list decoding with L = 8 "
        "(numba-compiled, batched over frames). Every decoder sees the same frames. The CRC-8 "
        "picks the right path out of the list, which is where most of the list gain comes from."
    )
    sec.image(fer, "FER with 95% Clopper-Pearson bands")
    sec.table(rows, COLUMNS)
    return [
        {k: r[k] for k in ("decoder", "ebn0_db", "frames", "fer", "info_throughput_mbps")}
        for r in rows
    ]
