"""``noisyhw polar simulate`` (FER/BER by Monte-Carlo) and ``noisyhw polar text`` (joint
source-channel decoding of text)."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import ParameterError, check_choice, check_float, check_int, check_memory, renamed
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
    make_executor_from_cli,
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
    from ..codes.polar.simulate import (
        CHANNELS,
        SimulationConfig,
        check_points,
        parse_decoder_specs,
    )
    from ..experiments.polar import COLUMNS, run_simulation
    from ..sweep import Run

    apply_quiet(quiet)
    check_choice("--channel", channel, CHANNELS)
    check_choice("--metric", metric, ("approx", "exact"))
    from ..sweep.montecarlo import MAX_FRAMES

    check_int("--list", list_size, 1, 1024)
    check_int("--n", n, 2, 2**20)
    check_float("--design-snr-db", design_snr_db, -100.0, 300.0)
    check_int("--frames-per-chunk", frames_per_chunk, 1, 10**7)
    check_int("--min-errors", min_errors, 1, MAX_FRAMES)
    check_int("--max-frames", max_frames, 1, MAX_FRAMES)
    spec_text = compare if compare is not None else f"{decoder}:{list_size}"
    try:
        specs = parse_decoder_specs(spec_text, list_size)
    except ParameterError as exc:  # the option the decoders came from
        raise renamed(exc, {"decoder": "--compare"} if compare is not None else {}) from None
    # a chunk decodes its frames x L paths of n LLRs over log2(n)+1 stages (float64), for the
    # largest list any decoder asks for (--compare scl:1024 included)
    largest = max(s.list_size for s in specs)
    check_memory(
        "--frames-per-chunk",
        8.0 * min(frames_per_chunk, max_frames) * largest * n * (n.bit_length() + 1),
        frames_per_chunk,
        "a chunk",
    )
    # both point lists are checked, the one the channel does not use too
    ebn0_points = check_points("awgn", parse_floats("--ebn0", ebn0), "--ebn0")
    p_points = check_points("bsc" if channel == "bsc" else "bec", parse_floats("--p", p), "--p")
    points = ebn0_points if channel == "awgn" else p_points
    from ..codes.crc import CRCS

    check_choice("--crc", crc.lower(), ("none", *CRCS))
    crc_name = None if crc.lower() == "none" else crc
    cfg = SimulationConfig(
        n=n,
        k=k,
        construction=construction,
        design_snr_db=design_snr_db,
        crc=crc_name,
        systematic=systematic,
        metric=metric,
        channel=channel,
        frames_per_chunk=min(frames_per_chunk, max_frames),
        seed=seed,
    )
    code = cfg.code()  # validates n, k, crc, construction before anything runs
    ex = make_executor_from_cli(executor, address, workers)
    if any(s.name in ("cascl", "ascl") for s in specs) and code.crc is None:
        raise ParameterError("--crc", "cascl and ascl need a CRC (e.g. --crc crc16)", crc)
    say(code.describe())
    config = {
        "n": n,
        "k": k,
        "construction": construction,
        "design_snr_db": design_snr_db,
        "crc": crc_name,
        "systematic": systematic,
        "metric": metric,
        "channel": channel,
        "decoders": [s.label for s in specs],
        "points": points,
        "min_errors": min_errors,
        "max_frames": max_frames,
        "frames_per_chunk": cfg.frames_per_chunk,
        "executor": executor,
        "address": address,
        "workers": workers,
    }
    run = Run("polar simulate", config, out=out, seed=seed)
    with live_rows(k):
        rows = run_simulation(
            run, cfg, specs, points, min_errors=min_errors, max_frames=max_frames, executor=ex
        )
    x = CHANNELS[channel]
    finish(run, rows, [c if c != "ebn0_db" else x for c in COLUMNS], title=code.describe(), keys=2)


from .polar_text import text as _text  # noqa: E402

app.command("text")(_text)
