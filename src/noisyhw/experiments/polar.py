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


# ------------------------------------------------------------------------------ text / JSCC
TEXT_DECODERS = ("scl", "cascl", "joint", "ajoint")
TEXT_COLUMNS = [
    "decoder",
    "ebn0_db",
    "frames",
    "fer",
    "ber",
    "cer",
    "wer",
    "avg_list_size",
    "info_throughput_mbps",
]


def text_source(
    corpus: str, dictionary: str, k: int, blocks: int, streams: int, seed: int
) -> tuple[Any, Any, list[str]]:
    """(messages (T, S, k) uint8, trie, reference texts per stream).

    The corpus is normalised to the 27-symbol alphabet with runs of spaces collapsed; its last
    fifth is the test text (streams start at seeded word boundaries there). ``dictionary``:
    ``words`` (the system word list), ``corpus`` (words of the first four fifths only: an
    in-domain vocabulary that never sees the test text) or ``both``.
    """
    import numpy as np

    from ..codes.text import ALPHABETS, Trie, bits_to_blocks, load_word_list
    from ..data.text import load_corpus
    from ..errors import ParameterError

    alpha = ALPHABETS["a27"]
    if k % alpha.bits:
        raise ParameterError("--k", f"must be a multiple of {alpha.bits} (bits per character)", k)
    words = alpha.normalize(load_corpus(corpus)).split()
    cut = int(0.8 * len(words))
    train, test = words[:cut], words[cut:]
    vocab: list[str] = []
    if dictionary in ("words", "both"):
        vocab += load_word_list()
    if dictionary in ("corpus", "both"):
        vocab += train
    if dictionary not in ("words", "corpus", "both"):
        raise ParameterError("--dictionary", "must be words, corpus or both", dictionary)
    trie = Trie.from_words(vocab, alpha)
    chars = blocks * k // alpha.bits
    rng = np.random.default_rng(seed)
    msgs, refs = [], []
    for _ in range(streams):
        start = int(rng.integers(0, max(1, len(test) - chars // 2)))
        text = " ".join(test[start:])[:chars].ljust(chars)
        refs.append(text)
        msgs.append(bits_to_blocks(alpha.text_to_bits(text), k))
    return np.stack(msgs, 1), trie, refs


def text_trial(params: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    """All four decoders at one Eb/N0 on the same frames; metrics per decoder, flattened."""
    import time

    import numpy as np

    from ..channels import bpsk_awgn
    from ..codes.jscc import JointSCLDecoder
    from ..codes.polar import CASCLDecoder, PolarCode, SCLDecoder
    from ..codes.text import ALPHABETS, character_error_rate, word_error_rate

    alpha = ALPHABETS["a27"]
    msg, trie, refs = ctx["msg"], ctx["trie"], ctx["refs"]
    T, S, k = msg.shape
    code = PolarCode(ctx["n"], k, crc=ctx["crc"])
    L = ctx["list_size"]
    rng = np.random.default_rng([ctx["seed"], round(params["ebn0_db"] * 1e6) + (1 << 40)])
    llr = bpsk_awgn(code.encode(msg.reshape(-1, k)), params["ebn0_db"], code.rate, rng)
    out: dict[str, Any] = {}
    for name in TEXT_DECODERS:
        if name in ("scl", "cascl"):
            dec = SCLDecoder(code, L) if name == "scl" else CASCLDecoder(code, L)
            dec(llr[:1])  # warm up outside the timed region
        else:
            jd = JointSCLDecoder(
                code, trie, L, mode=ctx.get("mode", "prune"), adaptive=name == "ajoint"
            )
        t0 = time.process_time()
        if name in ("scl", "cascl"):
            d = dec(llr).reshape(T, S, k)
            lists = float(L)
        else:
            res = jd.decode(llr.reshape(T, S, -1))
            d = res.payload[..., :k]
            lists = float(res.list_sizes.mean())
        dt = time.process_time() - t0
        err = d != msg
        texts = [alpha.bits_to_text(d[:, s].reshape(-1)) for s in range(S)]
        out[f"{name}_fer"] = float(err.any(-1).mean())
        out[f"{name}_ber"] = float(err.mean())
        out[f"{name}_cer"] = float(
            np.mean([character_error_rate(r, t) for r, t in zip(refs, texts, strict=True)])
        )
        out[f"{name}_wer"] = float(
            np.mean([word_error_rate(r, t) for r, t in zip(refs, texts, strict=True)])
        )
        out[f"{name}_lists"] = lists
        out[f"{name}_mbps"] = T * S * k / dt / 1e6 if dt > 0 else float("nan")
    out["frames"] = int(T * S)
    return out


def text_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flattened trial rows -> one row per (decoder, Eb/N0)."""
    out = []
    for r in sorted(rows, key=lambda r: r["ebn0_db"]):
        for name in TEXT_DECODERS:
            out.append(
                {
                    "decoder": name,
                    "ebn0_db": r["ebn0_db"],
                    "frames": r["frames"],
                    "fer": r[f"{name}_fer"],
                    "ber": r[f"{name}_ber"],
                    "cer": r[f"{name}_cer"],
                    "wer": r[f"{name}_wer"],
                    "avg_list_size": r[f"{name}_lists"],
                    "info_throughput_mbps": r[f"{name}_mbps"],
                }
            )
    return out


def run_text_study(
    run: Run,
    *,
    corpus: str,
    dictionary: str,
    n: int,
    k: int,
    crc: str,
    list_size: int,
    points: Sequence[float],
    blocks: int,
    streams: int,
    seed: int,
    workers: int = 1,
    mode: str = "prune",
) -> list[dict[str, Any]]:
    """FER / WER vs Eb/N0 of SCL, CA-SCL, joint and adaptive joint decoding of text."""
    from ..codes.polar import PolarCode

    msg, trie, refs = text_source(corpus, dictionary, k, blocks, streams, seed)
    code = PolarCode(n, k, crc=crc)
    ctx = {
        "msg": msg,
        "trie": trie,
        "refs": refs,
        "n": n,
        "crc": crc,
        "list_size": list_size,
        "seed": seed,
        "mode": mode,
    }
    raw = run.sweep(
        text_trial,
        [{"ebn0_db": float(x)} for x in points],
        context=ctx,
        workers=workers,
        description="polar text",
    )
    rows = text_rows(raw)
    d = run.dir
    fer = line_plot(
        [r for r in rows if r["fer"] > 0],
        "ebn0_db",
        "fer",
        d / "text_fer.png",
        hue="decoder",
        logy=True,
        title=f"Text over {code.describe()}",
        xlabel="Eb/N0 (dB, text bits)",
        ylabel="FER",
    )
    wer = line_plot(
        [r for r in rows if r["wer"] > 0],
        "ebn0_db",
        "wer",
        d / "text_wer.png",
        hue="decoder",
        logy=True,
        title="Word error rate",
        xlabel="Eb/N0 (dB, text bits)",
        ylabel="WER",
    )
    sec = run.section("Joint source-channel decoding of text")
    sec.text(
        f"{code.describe()}; corpus {corpus!r} (27-symbol alphabet, 5 bits per character, "
        f"{k // 5} characters per codeword), test text = last fifth of the corpus, "
        f"{streams} streams x {blocks} blocks per point; dictionary {dictionary!r} "
        f"({trie.num_words} words, {trie.n_nodes} trie nodes), mode {mode!r}. "
        f"Decoders at L = {list_size}: "
        "scl (ignores the CRC), cascl (CRC picks the path), joint (paths pruned by the "
        "dictionary bit by bit, CRC then picks among valid paths), ajoint (joint with "
        "L = 1, 2, 4, ... until a valid CRC-passing path). All use the same code and frames, "
        "so the same rate."
    )
    sec.image(fer, "Frame error rate")
    sec.image(wer, "Word error rate")
    sec.table(rows, TEXT_COLUMNS)
    return rows
