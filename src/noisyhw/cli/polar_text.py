"""``noisyhw polar text``: joint source-channel polar decoding of English text (issue 9)."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import (
    FormatOpt,
    OutOpt,
    QuietOpt,
    SeedOpt,
    WorkersOpt,
    apply_quiet,
    finish,
    parse_floats,
    parse_ints,
    parse_strs,
    say,
    tracked,
)


@tracked
def text(
    corpus: Annotated[
        str,
        typer.Option(
            help="fortunes, licenses or a text file path (train = first 90%, test = last 10%)."
        ),
    ] = "fortunes",
    dictionary: Annotated[
        str,
        typer.Option(
            help="wamerican, in-domain (words of the training split) or a word-list path."
        ),
    ] = "in-domain",
    ebn0: Annotated[
        str, typer.Option("--ebn0", help="Eb/N0 per text bit (dB).")
    ] = "1.0,1.5,2.0,2.5",
    list_size: Annotated[int, typer.Option("--list", help="List size L (max L for adaptive).")] = 8,
    schemes: Annotated[
        str,
        typer.Option(
            help="Comma list of scl, cascl, joint, joint-bitwise, joint-prune, joint-prior, "
            "joint-crc, adaptive."
        ),
    ] = "scl,cascl,joint,joint-prune,joint-crc,adaptive",
    n: Annotated[int, typer.Option("--n", help="Code length.")] = 256,
    k: Annotated[int, typer.Option("--k", help="Text bits per block (multiple of 5).")] = 120,
    crc: Annotated[
        str, typer.Option(help="CRC of the CRC schemes (on top of k), any case: crc8, CRC16.")
    ] = "crc8",
    penalty: Annotated[float, typer.Option(help="Nats per out-of-dictionary symbol.")] = 8.0,
    tune_penalty: Annotated[
        str | None,
        typer.Option(
            help="Comma list of penalties to choose from on the validation text (last ninth "
            "of the training split, dictionary from the rest); overrides --penalty."
        ),
    ] = None,
    streams: Annotated[int, typer.Option(help="Streams per chunk (decoded as one batch).")] = 64,
    blocks: Annotated[int, typer.Option(help="Consecutive blocks per stream.")] = 8,
    chunks: Annotated[
        str,
        typer.Option(
            help="Chunks (trials) per scheme and point: one count, or one per --ebn0 point "
            "(more where the FER is low)."
        ),
    ] = "2",
    target_fer: Annotated[float, typer.Option(help="FER at which the gain is reported.")] = 0.05,
    workers: WorkersOpt = 1,
    seed: SeedOpt = 0,
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """FER / BER / CER / WER of SCL, CA-SCL, joint and adaptive joint decoding of text.

    Example: noisyhw polar text --dictionary wamerican --ebn0 1,1.5,2,2.5 --list 8 --out runs/t
    """
    from ..experiments import jscc

    apply_quiet(quiet)
    per_point = parse_ints("--chunks", chunks, 1)
    grid = None if tune_penalty is None else parse_floats("--tune-penalty", tune_penalty)
    cfg = jscc.PolarTextConfig(
        corpus=corpus,
        dictionary=dictionary,
        points=tuple(parse_floats("--ebn0", ebn0)),
        list_size=list_size,
        schemes=tuple(parse_strs("--schemes", schemes, tuple(jscc.SCHEMES))),
        n=n,
        k=k,
        crc=crc.lower(),
        penalty=penalty,
        tune_penalty=None if grid is None else tuple(grid),
        streams=streams,
        blocks=blocks,
        chunks=per_point[0] if len(per_point) == 1 else tuple(per_point),
        target_fer=target_fer,
        seed=seed,
        workers=workers,
    )
    run, rows, extra = jscc.run(cfg, out=out)  # errors name the option (noisyhw.cli.main)
    if extra["tuning"] is not None:
        tried = ", ".join(
            f"{t['penalty']:g}: {t['frame_errors']}/{t['frames']} frame errors"
            for t in extra["tuning"]
        )
        say(f"penalty chosen on the validation text: {extra['penalty']:g} (tried {tried})")
    say(jscc.gains_text(extra["gains"], target_fer))
    title = f"polar text ({corpus}, {dictionary})"
    finish(run, rows, jscc.COLUMNS, keys=2, title=title, **extra)
