"""Polar-code studies: FER/BER curves through the sweep pipeline, plots, report, demo section."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..codes.polar.simulate import (
    CHANNELS,
    DecoderSpec,
    SimulationConfig,
    simulate,
)
from ..sweep import Run, line_plot
from ..sweep.executors import Executor

__all__ = ["COLUMNS", "demo_section", "plot_curves", "run_simulation"]

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
    decoders: Sequence[DecoderSpec],
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
    decoders = [DecoderSpec("sc"), DecoderSpec("scl", 8), DecoderSpec("cascl", 8)]
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
