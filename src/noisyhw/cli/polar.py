"""``noisyhw polar simulate`` (FER/BER by Monte-Carlo) and ``noisyhw polar text`` (joint
source-channel decoding of text)."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import ParameterError, renamed
from .common import (
    AddressOpt,
    ExecutorOpt,
    FormatOpt,
    OutOpt,
    QuietOpt,
    SeedOpt,
    WorkersOpt,
    apply_quiet,
    finish,
    live_rows,
    parse_floats,
    say,
    tracked,
)

app = typer.Typer(
    help="Polar codes: FER/BER of SC / SCL / CA-SCL / adaptive SCL; joint decoding of text.",
    no_args_is_help=True,
)


@app.command()
@tracked
def simulate(
    n: Annotated[int, typer.Option("--n", help="Code length (a power of two).")] = 1024,
    k: Annotated[int, typer.Option("--k", help="Information bits (CRC bits come on top).")] = 512,
    construction: Annotated[str, typer.Option(help="5g, ga or bhattacharyya.")] = "5g",
    design_snr_db: Annotated[
        float, typer.Option("--design-snr-db", help="Design Eb/N0 (dB) for ga / bhattacharyya.")
    ] = 2.0,
    decoder: Annotated[str, typer.Option(help="sc, sc-int16, sc-int8, scl, cascl or ascl.")] = "sc",
    list_size: Annotated[int, typer.Option("--list", help="List size L (max L for ascl).")] = 8,
    crc: Annotated[
        str, typer.Option(help="none, crc6, crc8, crc11, crc16, crc24a, crc24b, crc24c or crc32.")
    ] = "none",
    ebn0: Annotated[
        str,
        typer.Option(
            "--ebn0", help="Eb/N0 points in dB (awgn): '1.0,1.5,2.0' or 'start:stop:step'."
        ),
    ] = "1.0,1.5,2.0,2.5,3.0",
    channel: Annotated[str, typer.Option(help="awgn, bsc or bec.")] = "awgn",
    p: Annotated[
        str, typer.Option("--p", help="Crossover / erasure probabilities for bsc / bec.")
    ] = "0.05,0.08,0.11",
    metric: Annotated[str, typer.Option(help="List path metric: approx or exact.")] = "approx",
    systematic: Annotated[bool, typer.Option(help="Systematic encoding.")] = False,
    compare: Annotated[
        str | None,
        typer.Option(
            help="Overlay several decoders, e.g. 'sc,scl:8,cascl:8,ascl:32' (overrides --decoder)."
        ),
    ] = None,
    min_errors: Annotated[int, typer.Option(help="Frame errors to collect per point.")] = 100,
    max_frames: Annotated[int, typer.Option(help="Frame budget per point.")] = 100_000,
    frames_per_chunk: Annotated[int, typer.Option(help="Frames per trial (seeded chunk).")] = 1000,
    executor: ExecutorOpt = "local",
    address: AddressOpt = None,
    workers: WorkersOpt = 1,
    seed: SeedOpt = 0,
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Frame/bit error rates with 95% confidence intervals and decoder throughput.

    Example: noisyhw polar simulate --n 1024 --k 512 --decoder sc --ebn0 1.5,2.0,2.5,3.0
    """
    from ..codes.polar.simulate import check_channel_points
    from ..experiments import polar as study

    apply_quiet(quiet)
    options = {
        "decoders": "--compare" if compare is not None else "--decoder",
        "points": "--ebn0" if channel == "awgn" else "--p",
        "address": "--address",
    }
    try:
        ebn0_points = parse_floats("--ebn0", ebn0)
        p_points = parse_floats("--p", p)
        # both point lists are checked, the one the channel does not use too
        check_channel_points("awgn", ebn0_points)
        check_channel_points("bsc" if channel == "bsc" else "bec", p_points)
        decoders = study.parse_decoders(compare or f"{decoder}:{list_size}", list_size)
        cfg = study.PolarSimulateConfig(
            n=n,
            k=k,
            construction=construction,
            design_snr_db=design_snr_db,
            crc=None if crc.lower() == "none" else crc.lower(),
            systematic=systematic,
            metric=metric,
            channel=channel,
            decoders=decoders,
            points=tuple(ebn0_points if channel == "awgn" else p_points),
            min_errors=min_errors,
            max_frames=max_frames,
            frames_per_chunk=frames_per_chunk,
            seed=seed,
            executor=executor,
            address=address,
            workers=workers,
        )
    except ParameterError as exc:  # the option the value came from
        raise renamed(exc, options) from None
    code = cfg.simulation().code()
    say(code.describe())
    with live_rows(k):
        run, rows = study.run(cfg, out=out)
    finish(run, rows, cfg.columns, title=code.describe(), keys=2)


from .polar_text import text as _text  # noqa: E402

app.command("text")(_text)
