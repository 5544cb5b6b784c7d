"""Joint source-channel polar decoding of English text: the study behind ``noisyhw polar text``
and the demo section.

Setup (the paper's, 1601.06184, is not known; this one is stated in every result): text in the
``a27`` alphabet (lower-cased; every run of non-letters becomes one space), polar code
N = ``n`` with k = ``k`` text bits per block (a multiple of 5: whole characters), 5G
construction, BPSK-AWGN with Eb/N0 per *text* bit for every scheme (equal overall rate k/n).
CRC schemes put the CRC on top (K = k + r information positions), so their rate is still k/n.
Each trial decodes ``streams`` independent streams of ``blocks`` consecutive blocks (trie state
carried across block boundaries); all schemes see the same text and, for the same code, the same
noise (seeded by ``(seed, chunk, point)``).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..channels import bpsk_awgn
from ..codes.jscc import AdaptiveJointDecoder, JointSCLDecoder, text_metrics, trie_source
from ..codes.polar import PolarCode
from ..codes.text import ALPHABETS, Trie, load_word_list
from ..errors import ParameterError, check_choice, check_int
from ..sweep import Run, line_plot
from ..sweep.montecarlo import clopper_pearson

__all__ = [
    "SCHEMES",
    "SPLITS",
    "TextStudy",
    "bootstrap_ratio_ci",
    "build_dictionary",
    "demo_section",
    "fer_gain_db",
    "load_text",
    "run_study",
    "tune_penalty",
]

#: scheme -> (crc?, source mode or None, adaptive?). Joint schemes decode Rate-1 / SPC nodes
#: inside the text bits as whole nodes (``source_nodes=True``, the fast joint decoder) except
#: ``joint-bitwise`` (exact bitwise joint SCL) and ``joint-prune`` (pruning needs bitwise
#: decisions: a node whose candidates are all pruned would drop the dictionary).
SCHEMES: dict[str, tuple[bool, str | None, bool]] = {
    "scl": (False, None, False),
    "cascl": (True, None, False),
    "joint": (False, "penalty", False),
    "joint-bitwise": (False, "penalty", False),
    "joint-prune": (False, "prune", False),
    "joint-prior": (False, "penalty+prior", False),
    "joint-crc": (True, "penalty", False),
    "adaptive": (True, "penalty", True),
}
COLUMNS = [
    "scheme",
    "ebn0_db",
    "frames",
    "frame_errors",
    "fer",
    "fer_ci_low",
    "fer_ci_high",
    "ber",
    "cer",
    "cer_ci_low",
    "cer_ci_high",
    "wer",
    "wer_ci_low",
    "wer_ci_high",
    "avg_list",
    "seconds",
]

SPLITS = ("train", "test", "fit", "val")

#: bootstrap resamples for the CER / WER intervals
BOOTSTRAP = 2000


def bootstrap_ratio_ci(
    errors: Sequence[int], counts: Sequence[int], level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``sum(errors) / sum(counts)`` resampling the units
    (text streams: errors inside a stream are correlated, streams are independent).
    Returns ``(0, 0)`` for no units or no counts."""
    e = np.asarray(errors, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    if e.size == 0 or c.sum() == 0:
        return 0.0, 0.0
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, e.size, size=(BOOTSTRAP, e.size))
    den = c[idx].sum(1)
    ratio = np.where(den > 0, e[idx].sum(1) / np.maximum(den, 1), 0.0)
    lo, hi = np.quantile(ratio, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def normalize(text: str) -> str:
    """Lower-case, every run of non-letters -> one space (the a27 text the study sends)."""
    return re.sub(r"[^a-z]+", " ", text.lower()).strip()


def load_text(corpus: str, split: str) -> str:
    """A corpus split, normalised: named corpora via ``noisyhw.data.load`` (train = first 90%,
    test = last 10%), a file path split the same way. ``"val"`` is the last ninth of the
    training split (10% of the text) and ``"fit"`` the rest of it: hyper-parameters are chosen
    on ``val`` with a dictionary built from ``fit``, never on the test text."""
    from ..data import load
    from ..data.text import CORPORA, load_corpus

    check_choice("split", split, SPLITS)
    if corpus in CORPORA:
        raw = load(corpus, "test" if split == "test" else "train")
    else:
        full = load_corpus(corpus)
        cut = int(len(full) * 0.9)
        raw = full[:cut] if split != "test" else full[cut:]
    if split in ("fit", "val"):  # the training split's last ninth is the validation text
        cut = int(len(raw) * 8 / 9)
        raw = raw[:cut] if split == "fit" else raw[cut:]
    text = normalize(raw)
    if not text:
        raise ParameterError("--corpus", "a text with letters", corpus)
    return text


def build_dictionary(kind: str, train_text: str | None = None) -> Trie:
    """``"wamerican"`` (Debian word list, every word count 1), ``"in-domain"`` (the words of the
    *training* split with their counts) or a path to a word list."""
    alpha = ALPHABETS["a27"]
    if kind == "in-domain":
        if not train_text:
            raise ParameterError("--dictionary", "in-domain needs training text")
        counts = Counter(train_text.split())
        return Trie.from_words(counts.keys(), alpha, counts.values())
    words = load_word_list() if kind == "wamerican" else load_word_list(kind)
    return Trie.from_words(words, alpha)


@dataclass
class TextStudy:
    """Everything a trial needs (the trial context)."""

    bits: np.ndarray  # (m,) uint8 test-text bits
    trie: Trie
    n: int = 256
    k: int = 120
    crc: str = "crc8"
    list_size: int = 8
    streams: int = 32
    blocks: int = 8
    penalty: float = 8.0
    seed: int = 0

    def __post_init__(self) -> None:
        self._cache: dict[str, Any] = {}
        check_int("seed", self.seed, 0)
        check_int("k", self.k, 5)
        if self.k % 5:
            raise ParameterError("k", "a multiple of 5 (whole a27 characters)", self.k)
        if self.bits.size < self.blocks * self.k * 2:
            raise ParameterError("--corpus", "a test text longer than two streams")

    def decoder(self, scheme: str):
        if scheme not in self._cache:
            crc, mode, adaptive = SCHEMES[check_choice("scheme", scheme, tuple(SCHEMES))]
            code = PolarCode(self.n, self.k, construction="5g", crc=self.crc if crc else None)
            src = None if mode is None else self._source(mode)
            cls = AdaptiveJointDecoder if adaptive else JointSCLDecoder
            nodes = mode is not None and scheme not in ("joint-bitwise", "joint-prune")
            self._cache[scheme] = cls(code, src, self.list_size, source_nodes=nodes)
        return self._cache[scheme]

    def _source(self, mode: str):
        key = f"src:{mode}"
        if key not in self._cache:
            base, _, extra = mode.partition("+")
            self._cache[key] = trie_source(
                self.trie, base, penalty=self.penalty, prior=extra == "prior"
            )
        return self._cache[key]

    def chunk_bits(self, chunk: int) -> np.ndarray:
        """(streams, blocks, k): consecutive text, stream g starting at bit g * blocks * k
        (wrapping around the test text)."""
        span = self.blocks * self.k
        n_pos = self.bits.size // span
        g = (chunk * self.streams + np.arange(self.streams)) % n_pos
        idx = (g[:, None] * span + np.arange(span)).reshape(self.streams, self.blocks, self.k)
        return self.bits[idx]


def _noise_key(seed: int, chunk: int, ebn0_db: float) -> list[int]:
    """Seed words of a chunk's channel noise. SeedSequence takes non-negative words only, so a
    negative Eb/N0 gets its own marked key; points >= 0 keep the keys of the documented runs."""
    key = round(ebn0_db * 100)
    return [seed, chunk, key] if key >= 0 else [seed, chunk, -key, 1]


def _trial(params: dict[str, Any], study: TextStudy) -> dict[str, Any]:
    dec = study.decoder(params["scheme"])
    ref = study.chunk_bits(params["chunk"])
    S, B, k = ref.shape
    code = dec.code
    x = code.encode(ref.reshape(S * B, k))
    rng = np.random.default_rng(_noise_key(study.seed, params["chunk"], params["ebn0_db"]))
    llr = bpsk_awgn(x, params["ebn0_db"], code.rate, rng=rng).reshape(S, B, code.n)
    out = dec.decode_stream(llr)
    m = text_metrics(ref, out.bits)
    m.update(list_sum=int(out.list_size.sum()), seconds=out.seconds, valid=int(out.valid.sum()))
    return m


def _aggregate(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    acc: dict[tuple, dict[str, Any]] = {}
    keys = (
        "frames",
        "frame_errors",
        "bits",
        "bit_errors",
        "chars",
        "char_errors",
        "words",
        "word_errors",
        "list_sum",
        "seconds",
        "valid",
    )
    per_stream = ("stream_chars", "stream_char_errors", "stream_words", "stream_word_errors")
    for r in rows:
        a = acc.setdefault(
            (r["scheme"], r["ebn0_db"]),
            {"scheme": r["scheme"], "ebn0_db": r["ebn0_db"], **dict.fromkeys(keys, 0)},
        )
        for key in keys:
            a[key] += r[key]
        for key in per_stream:
            a.setdefault(key, []).extend(r.get(key, []))
    out = []
    for a in acc.values():
        a["fer"] = a["frame_errors"] / a["frames"]
        a["fer_ci_low"], a["fer_ci_high"] = clopper_pearson(a["frame_errors"], a["frames"])
        a["ber"] = a["bit_errors"] / a["bits"]
        a["cer"] = a["char_errors"] / a["chars"]
        a["wer"] = a["word_errors"] / max(a["words"], 1)
        a["cer_ci_low"], a["cer_ci_high"] = bootstrap_ratio_ci(
            a.pop("stream_char_errors", []), a.pop("stream_chars", [])
        )
        a["wer_ci_low"], a["wer_ci_high"] = bootstrap_ratio_ci(
            a.pop("stream_word_errors", []), a.pop("stream_words", [])
        )
        a["avg_list"] = a["list_sum"] / a["frames"]
        a["seconds"] = round(a["seconds"], 3)
        out.append(a)
    return sorted(out, key=lambda r: (list(SCHEMES).index(r["scheme"]), r["ebn0_db"]))


def _tune_trial(params: dict[str, Any], studies: dict[float, TextStudy]) -> dict[str, Any]:
    return _trial(params, studies[params["penalty"]])


def tune_penalty(
    out: str | Path,
    corpus: str,
    dictionary: str,
    penalties: Sequence[float],
    points: Sequence[float],
    chunks: int,
    *,
    seed: int = 0,
    workers: int = 1,
    target_fer: float = 3e-2,
    **study_kw: Any,
) -> tuple[float, list[dict[str, Any]]]:
    """Choose the out-of-dictionary penalty on the **validation** text (``load_text(corpus,
    "val")``) with the dictionary built from the rest of the training split (``"fit"``), never
    on the test text. Runs CA-SCL once and ``joint`` per penalty at ``points`` (a resumable run
    in ``out``) and picks the largest Eb/N0 gain over CA-SCL at ``target_fer`` (when every
    penalty's curve crosses it; else the fewest joint frame errors over all points).

    Returns ``(penalty, table)``, table rows: penalty, frames, frame_errors, gain_db.
    """
    if not penalties:
        raise ParameterError("--tune-penalty", "one or more penalties")
    for p in penalties:
        if not p > 0:
            raise ParameterError("--tune-penalty", "penalties > 0", p)
    fit, val = load_text(corpus, "fit"), load_text(corpus, "val")
    trie = build_dictionary(dictionary, fit)
    bits = ALPHABETS["a27"].text_to_bits(val)
    studies = {
        float(p): TextStudy(bits, trie, penalty=float(p), seed=seed, **study_kw) for p in penalties
    }
    config = {
        "corpus": corpus,
        "dictionary": dictionary,
        "penalties": [float(p) for p in penalties],
    }
    config.update(points=[float(x) for x in points], chunks=chunks, **study_kw)
    run = Run("polar text tune", config, out=out, seed=seed)
    p0 = float(penalties[0])
    trials = [
        {"scheme": "cascl", "penalty": p0, "ebn0_db": float(x), "chunk": c}
        for x in points
        for c in range(chunks)
    ] + [
        {"scheme": "joint", "penalty": float(p), "ebn0_db": float(x), "chunk": c}
        for p in penalties
        for x in points
        for c in range(chunks)
    ]
    raw = run.sweep(_tune_trial, trials, context=studies, workers=workers, description="tune")
    base = _aggregate([r for r in raw if r["scheme"] == "cascl"])
    table = []
    for p in penalties:
        rows = _aggregate([r for r in raw if r["scheme"] == "joint" and r["penalty"] == p])
        table.append(
            {
                "penalty": float(p),
                "frames": sum(r["frames"] for r in rows),
                "frame_errors": sum(r["frame_errors"] for r in rows),
                "gain_db": fer_gain_db(rows + base, "joint", "cascl", target_fer),
            }
        )
    if all(t["gain_db"] is not None for t in table):
        best = max(table, key=lambda t: t["gain_db"])
    else:
        best = min(table, key=lambda t: t["frame_errors"])
    run.finish(table, chosen_penalty=best["penalty"], target_fer=target_fer)
    return best["penalty"], table


def fer_gain_db(
    rows: Sequence[dict[str, Any]], scheme: str, baseline: str, target: float, metric: str = "fer"
) -> float | None:
    """Eb/N0 gain (dB) of ``scheme`` over ``baseline`` at ``metric = target``, interpolating
    log10(metric) linearly in Eb/N0 between measured points (None when a curve does not cross
    the target)."""

    def at(name: str) -> float | None:
        pts = sorted((r["ebn0_db"], r[metric]) for r in rows if r["scheme"] == name)
        for (x0, y0), (x1, y1) in itertools.pairwise(pts):
            if y0 >= target >= y1 and y0 > 0 and y1 > 0 and y0 != y1:
                t = (np.log10(y0) - np.log10(target)) / (np.log10(y0) - np.log10(y1))
                return x0 + t * (x1 - x0)
        return None

    a, b = at(scheme), at(baseline)
    return None if a is None or b is None else round(float(b - a), 3)


def run_study(
    run: Run,
    study: TextStudy,
    schemes: Sequence[str],
    points: Sequence[float],
    chunks: int,
    *,
    title: str,
    workers: int = 1,
    prefix: str = "jscc_",
    target_fer: float = 1e-2,
    section: Any = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Trials (scheme x Eb/N0 x chunk) through the sweep pipeline, plots, a report section."""
    for s in schemes:
        check_choice("scheme", s, tuple(SCHEMES))
    trials = [
        {"scheme": s, "ebn0_db": float(p), "chunk": c}
        for s in schemes
        for p in points
        for c in range(chunks)
    ]
    rows = _aggregate(
        run.sweep(_trial, trials, context=study, workers=workers, description="polar text")
    )
    d = Path(run.dir)
    fer_rows = [r for r in rows if r["frame_errors"] > 0]
    wer_rows = [r for r in rows if r["word_errors"] > 0]
    fer = line_plot(
        fer_rows,
        "ebn0_db",
        "fer",
        d / f"{prefix}fer.png",
        hue="scheme",
        logy=True,
        band=("fer_ci_low", "fer_ci_high"),
        title=f"FER, {title}",
        xlabel="Eb/N0 (dB, per text bit)",
        ylabel="FER",
    )
    wer = line_plot(
        wer_rows,
        "ebn0_db",
        "wer",
        d / f"{prefix}wer.png",
        hue="scheme",
        logy=True,
        band=("wer_ci_low", "wer_ci_high"),
        title=f"WER, {title}",
        xlabel="Eb/N0 (dB, per text bit)",
        ylabel="WER",
    )
    lst = line_plot(
        [r for r in rows if r["scheme"] == "adaptive"] or rows,
        "ebn0_db",
        "avg_list",
        d / f"{prefix}list.png",
        hue="scheme",
        title="Average list size used",
        xlabel="Eb/N0 (dB)",
        ylabel="L",
    )
    gains = {}
    for s in ("joint", "joint-crc", "adaptive"):
        if s in schemes and "cascl" in schemes:
            gains[f"{s}_vs_cascl_db@fer={target_fer:g}"] = fer_gain_db(rows, s, "cascl", target_fer)
    sec = (
        section
        if section is not None
        else run.section(f"Joint source-channel polar decoding: {title}")
    )
    sec.text(
        f"Polar N={study.n}, k={study.k} text bits per block (24 a27 characters at k=120), 5G "
        f"construction; CRC schemes add {study.crc} on top (same rate k/n). List size "
        f"L={study.list_size} for every list decoder (adaptive: 1, 2, 4, .. up to L). "
        f"Dictionary: {study.trie.num_words} words. Penalty for an out-of-dictionary symbol: "
        f"{study.penalty} nats. Each point: {chunks} chunks x {study.streams} streams x "
        f"{study.blocks} blocks = {chunks * study.streams * study.blocks} frames; seed "
        f"{study.seed}. Eb/N0 per text bit. Gains (dB, interpolated on log-FER): {gains}."
    )
    sec.image(fer, "Frame error rate (shaded: 95% Clopper-Pearson interval)")
    sec.image(wer, "Word error rate (shaded: 95% bootstrap interval over streams)")
    sec.image(lst, "Average list size of the adaptive decoder")
    sec.table(rows, COLUMNS)
    return rows, gains


def demo_section(ctx: Any) -> list[dict[str, Any]]:
    """Small comparison: CA-SCL-8 vs joint vs adaptive joint, in-domain dictionary; on the
    fortunes text, else (not installed) on the licence texts that every Debian system has."""
    from ..data.text import CORPORA

    corpus = "fortunes"
    if not CORPORA["fortunes"].exists():
        corpus = "licenses"
        ctx.fallback(
            "The fortunes text", "the licence texts in /usr/share/common-licenses",
            "apt-get install fortunes, or scripts/install-data as root",
        )  # fmt: skip
    train = load_text(corpus, "train")
    test = load_text(corpus, "test")
    trie = build_dictionary("in-domain", train)
    streams, blocks = (32, 6) if ctx.fast else (64, 12)
    study = TextStudy(
        ALPHABETS["a27"].text_to_bits(test),
        trie,
        streams=streams,
        blocks=blocks,
        seed=int(ctx.seed),
    )
    points = [1.0, 1.5, 2.0]
    schemes = ["scl", "cascl", "joint", "adaptive"]
    rows, _ = run_study(
        ctx.subrun("jscc", {"points": points, "schemes": schemes}),
        study,
        schemes,
        points,
        chunks=1,
        title=f"{corpus}, in-domain dictionary",
        prefix="demo_jscc_",
        target_fer=0.05,
        section=ctx.section,
    )
    ctx.section.title = "Joint source-channel polar decoding of English text"
    ctx.section.text(
        f"{streams * blocks} frames per point (small: FER below ~{3 / (streams * blocks):.0e} "
        "is not resolved). See "
        "docs/jscc.md and `noisyhw polar text` for the full study."
    )
    return [{k: r[k] for k in ("scheme", "ebn0_db", "frames", "fer", "wer")} for r in rows]
