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

#: the longest code and the most chunks per scheme and point (a bound on the work)
N_MAX = 2**16
CHUNKS_MAX = 100_000


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
    crc: Annotated[str, typer.Option(help="CRC of the CRC schemes (on top of k).")] = "crc8",
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
    from ..codes.crc import CRCS
    from ..codes.polar.simulate import check_points
    from ..codes.text import ALPHABETS
    from ..errors import (
        DataError,
        ParameterError,
        check_choice,
        check_float,
        check_int,
        check_memory,
    )
    from ..experiments.jscc import (
        COLUMNS,
        TextStudy,
        build_dictionary,
        gains_text,
        load_text,
        run_study,
    )
    from ..sweep import Run

    apply_quiet(quiet)
    check_int("--list", list_size, 1, 1024)
    check_int("--n", n, 2, N_MAX)
    check_int("--streams", streams, 1)  # the upper bounds: memory, below
    check_int("--blocks", blocks, 1)
    per_point = parse_ints("--chunks", chunks, 1)
    check_int("--chunks", max(per_point), 1, CHUNKS_MAX)
    check_choice("--crc", crc, tuple(CRCS))  # checked even when no scheme uses it
    # a chunk decodes streams x list paths of n LLRs and partial sums over log2(n)+1 stages
    per_chunk = 16.0 * streams * list_size * n * (n.bit_length() + 1)
    check_memory("--streams", per_chunk, streams, f"a chunk of {streams} streams x L={list_size}")
    check_memory("--blocks", 8.0 * streams * blocks * k, blocks, "the text of a chunk")
    check_float("--penalty", penalty, 0.0, 1e6, lo_open=True)
    check_float("--target-fer", target_fer, 0.0, 1.0, lo_open=True, hi_open=True)
    points = check_points("awgn", parse_floats("--ebn0", ebn0), "--ebn0")
    if len(per_point) not in (1, len(points)):
        raise ParameterError(
            "--chunks", f"one count, or one per --ebn0 point ({len(points)})", chunks
        )
    n_chunks = per_point[0] if len(per_point) == 1 else per_point
    from ..codes.polar import PolarCode
    from ..experiments.jscc import SCHEMES

    names = parse_strs("--schemes", schemes, tuple(SCHEMES))
    # the CRC schemes' code (penalty tuning runs CA-SCL too), checked before any trial
    uses_crc = tune_penalty is not None or any(SCHEMES[name][0] for name in names)
    PolarCode(n, k, crc=crc if uses_crc else None)
    # the code, decoder and batch shape: the same for the penalty tuning and the test study
    shape = dict(n=n, k=k, crc=crc, list_size=list_size, streams=streams, blocks=blocks)
    grid = None
    if tune_penalty is not None:
        grid = [
            check_float("--tune-penalty", v, 0.0, 1e6, lo_open=True)
            for v in parse_floats("--tune-penalty", tune_penalty)
        ]
    try:
        train = load_text(corpus, "train")
        test = load_text(corpus, "test")
    except DataError as exc:
        raise DataError(f"--corpus: {exc}") from None
    try:
        trie = build_dictionary(dictionary, train)
    except DataError as exc:
        raise DataError(f"--dictionary: {exc}") from None
    bits = ALPHABETS["a27"].text_to_bits(test)
    study = TextStudy(bits, trie, penalty=penalty, seed=seed, **shape)
    for name in names:  # validates every scheme's n, k, crc and penalty before any trial
        study.decoder(name)
    config = {
        "corpus": corpus,
        "dictionary": dictionary,
        "points": points,
        "list": list_size,
        "schemes": names,
        "n": n,
        "k": k,
        "crc": crc,
        "penalty": None if grid else penalty,  # tuned: chosen from the grid, in the run
        "tune_penalty": tune_penalty or "",  # "" as before: older runs keep their identity
        "streams": streams,
        "blocks": blocks,
        "chunks": n_chunks,
        "workers": workers,
    }
    run = Run("polar text", config, out=out, seed=seed)
    tuning = None
    if grid:
        from ..experiments.jscc import tune_penalty as _tune

        # the validation run lives inside this run's folder (a fixed default folder made a
        # second tuning with other settings fail as "a run with a different grid")
        penalty, tuning = _tune(
            run.dir / "tune",
            corpus,
            dictionary,
            grid,
            points,
            n_chunks,
            seed=seed,
            workers=workers,
            target_fer=target_fer,
            **shape,
        )
        tried = ", ".join(
            f"{t['penalty']:g}: {t['frame_errors']}/{t['frames']} frame errors" for t in tuning
        )
        say(f"penalty chosen on the validation text: {penalty:g} (tried {tried})")
        study = TextStudy(bits, trie, penalty=penalty, seed=seed, **shape)
    rows, gains = run_study(
        run,
        study,
        names,
        points,
        n_chunks,
        workers=workers,
        title=f"{corpus}, {dictionary} dictionary",
        target_fer=target_fer,
    )
    say(gains_text(gains, target_fer))
    finish(
        run,
        rows,
        COLUMNS,
        keys=2,
        title=f"polar text ({corpus}, {dictionary})",
        gains=gains,
        penalty=penalty,
        tuning=tuning,
    )
