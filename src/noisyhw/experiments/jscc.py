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

Intervals: frame errors inside a stream are correlated (the trie state and the text carry over
from block to block), so FER, CER and WER intervals come from a **block bootstrap over text
positions** (a stream's span of text; a position decoded twice, when the run wraps around the
test text, is one unit), resampled jointly for every scheme and Eb/N0 (they see the same text).
The Eb/N0 gain at a target FER is bootstrapped the same way: per replicate, both FER curves are
recomputed, interpolated (log-FER linear in Eb/N0) at the target and subtracted.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..channels import bpsk_awgn
from ..codes.crc import CRCS
from ..codes.jscc import AdaptiveJointDecoder, JointSCLDecoder, text_metrics, trie_source
from ..codes.polar import PolarCode
from ..codes.polar.simulate import check_channel_points
from ..codes.text import ALPHABETS, Trie, load_word_list
from ..errors import DataError, ParameterError, check_choice, check_float, check_int, check_memory
from ..sweep import Run, line_plot
from ..sweep.montecarlo import clopper_pearson

__all__ = [
    "SCHEMES",
    "SPLITS",
    "PolarTextConfig",
    "TextStudy",
    "bootstrap_ratio_ci",
    "build_dictionary",
    "crossing_db",
    "demo_section",
    "fer_gain_db",
    "fer_replicates",
    "gain_interval",
    "gain_table",
    "load_text",
    "run",
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
    "fer_cp_low",
    "fer_cp_high",
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

    def positions(self, chunk: int) -> np.ndarray:
        """(streams,) text positions of a chunk's streams: position g starts at bit
        g * blocks * k; positions wrap around the test text."""
        n_pos = self.bits.size // (self.blocks * self.k)
        return (chunk * self.streams + np.arange(self.streams)) % n_pos

    def chunk_bits(self, chunk: int) -> np.ndarray:
        """(streams, blocks, k): consecutive text of the chunk's :meth:`positions`."""
        span = self.blocks * self.k
        g = self.positions(chunk)
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
    m["stream_positions"] = [int(g) for g in study.positions(params["chunk"])]
    return m


def _aggregate(
    rows: Sequence[dict[str, Any]], reps: dict[tuple[str, float], np.ndarray] | None = None
) -> list[dict[str, Any]]:
    """Sum the trials per (scheme, Eb/N0). FER interval: the union of the percentile interval
    of ``reps`` (block bootstrap replicates, :func:`fer_replicates`: it accounts for errors
    correlated within a stream) and Clopper-Pearson (exact for independent frames; a bootstrap
    of a handful of errors is too narrow, and of none is a point); Clopper-Pearson alone is
    kept as ``fer_cp_low``/``fer_cp_high``."""
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
    for key, a in acc.items():
        a["fer"] = a["frame_errors"] / a["frames"]
        a["fer_cp_low"], a["fer_cp_high"] = clopper_pearson(a["frame_errors"], a["frames"])
        a["fer_ci_low"], a["fer_ci_high"] = a["fer_cp_low"], a["fer_cp_high"]
        if reps is not None and key in reps and a["frame_errors"] > 0:
            lo, hi = (float(v) for v in np.nanquantile(reps[key], _LEVELS))
            a["fer_ci_low"], a["fer_ci_high"] = min(lo, a["fer_ci_low"]), max(hi, a["fer_ci_high"])
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


_LEVELS = (0.025, 0.975)


def fer_replicates(
    rows: Sequence[dict[str, Any]], n_boot: int = BOOTSTRAP, seed: int = 0
) -> dict[tuple[str, float], np.ndarray]:
    """Block-bootstrap replicates of the FER of every (scheme, Eb/N0) in the trial ``rows``.

    The unit is a text position (``stream_positions`` of the trials; its ``stream_frame_errors``
    and frames summed over every time it was decoded). Units are resampled with replacement,
    **the same draw for every scheme and Eb/N0** (all see the same text, so curves and their
    differences keep their pairing); replicate FER = resampled errors / resampled frames.
    Points may cover different positions (more chunks where the FER is low): a unit a point did
    not decode adds nothing to it. Returns ``{(scheme, ebn0_db): (n_boot,) array}`` (NaN in a
    replicate that drew none of a point's units).
    """
    errs: dict[tuple[str, float], dict[int, int]] = {}
    frames: dict[tuple[str, float], dict[int, int]] = {}
    if any("stream_positions" not in r for r in rows):
        return {}  # trials stored before per-stream counts were kept: no bootstrap
    for r in rows:
        key = (r["scheme"], r["ebn0_db"])
        e, f = errs.setdefault(key, {}), frames.setdefault(key, {})
        per = r["frames"] // max(len(r["stream_positions"]), 1)
        for g, k in zip(r["stream_positions"], r["stream_frame_errors"], strict=True):
            e[g] = e.get(g, 0) + k
            f[g] = f.get(g, 0) + per
    if not errs:
        return {}
    keys = list(errs)
    units = sorted(set().union(*(frames[k] for k in keys)))
    # (U, K): a point that decoded fewer streams (fewer chunks) has 0 frames at the others
    E = np.array([[errs[k].get(g, 0) for k in keys] for g in units], dtype=np.float64)
    F = np.array([[frames[k].get(g, 0) for k in keys] for g in units], dtype=np.float64)
    rng = np.random.default_rng(seed)
    W = rng.multinomial(len(units), np.full(len(units), 1 / len(units)), size=n_boot)
    with np.errstate(invalid="ignore", divide="ignore"):
        reps = (W @ E) / (W @ F)
    return {key: reps[:, i] for i, key in enumerate(keys)}


def crossing_db(xs: Sequence[float], fers: np.ndarray, target: float) -> np.ndarray:
    """Eb/N0 where FER curves first fall through ``target``: ``fers`` (R, P) over the sorted
    ``xs`` (P,); log10(FER) interpolated linearly between the two points around the first
    crossing (``y0 >= target >= y1``, both > 0). NaN where a curve does not cross."""
    f = np.atleast_2d(np.asarray(fers, dtype=np.float64))
    out = np.full(f.shape[0], np.nan)
    lt = np.log10(target)
    for j in range(len(xs) - 1):
        y0, y1 = f[:, j], f[:, j + 1]
        ok = np.isnan(out) & (y0 >= target) & (target >= y1) & (y1 > 0) & (y0 != y1)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (np.log10(y0) - lt) / (np.log10(y0) - np.log10(y1))
        out[ok] = xs[j] + t[ok] * (xs[j + 1] - xs[j])
    return out


def _curve(rows: Sequence[dict[str, Any]], scheme: str, metric: str) -> tuple[list, np.ndarray]:
    pts = sorted((r["ebn0_db"], r[metric]) for r in rows if r["scheme"] == scheme)
    return [x for x, _ in pts], np.array([[y for _, y in pts]], dtype=np.float64)


def _per_point(chunks: int | Sequence[int], points: Sequence[float]) -> list[int]:
    """Chunks per Eb/N0 point from one count or one count per point."""
    per_point = [chunks] * len(points) if isinstance(chunks, int) else list(chunks)
    if len(per_point) != len(points) or min(per_point, default=1) < 1:
        raise ParameterError(
            "--chunks", f"one count >= 1, or one per Eb/N0 ({len(points)})", chunks
        )
    return per_point


def _tune_trial(params: dict[str, Any], studies: dict[float, TextStudy]) -> dict[str, Any]:
    return _trial(params, studies[params["penalty"]])


def tune_penalty(
    out: str | Path,
    corpus: str,
    dictionary: str,
    penalties: Sequence[float],
    points: Sequence[float],
    chunks: int | Sequence[int],
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
    per_point = _per_point(chunks, points)
    trials = [
        {"scheme": "cascl", "penalty": p0, "ebn0_db": float(x), "chunk": c}
        for x, n_chunks in zip(points, per_point, strict=True)
        for c in range(n_chunks)
    ] + [
        {"scheme": "joint", "penalty": float(p), "ebn0_db": float(x), "chunk": c}
        for p in penalties
        for x, n_chunks in zip(points, per_point, strict=True)
        for c in range(n_chunks)
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


def gains_text(gains: dict[str, dict[str, Any]], target_fer: float) -> str:
    """One line for people from :func:`gain_table`'s rows keyed as in :func:`run_study`:
    ``Eb/N0 gained over CA-SCL (dB, 95% interval): joint 0.61 [0.42, 0.80] at FER 0.01, ...``
    (``n/a`` where a curve does not cross the target)."""

    def one(g: dict[str, Any]) -> str:
        where = "largest" if g["where"] == "max" else "at"
        if g["gain_db"] is None:
            return f"{g['scheme']} n/a at FER {g['target_fer']:g}"
        ci = (
            f" [{g['ci_low']:.2f}, {g['ci_high']:.2f}]"
            if g["ci_low"] is not None
            else " (interval unresolved)"
        )
        return f"{g['scheme']} {g['gain_db']:+.2f}{ci} {where} FER {g['target_fer']:g}"

    parts = "; ".join(one(g) for g in gains.values()) or "none (no CA-SCL baseline)"
    return f"Eb/N0 gained over CA-SCL (dB, 95% interval): {parts}"


def fer_gain_db(
    rows: Sequence[dict[str, Any]], scheme: str, baseline: str, target: float, metric: str = "fer"
) -> float | None:
    """Eb/N0 gain (dB) of ``scheme`` over ``baseline`` at ``metric = target``, interpolating
    log10(metric) linearly in Eb/N0 between measured points (:func:`crossing_db`; None when a
    curve does not cross the target)."""
    a = crossing_db(*_curve(rows, scheme, metric), target)[0]
    b = crossing_db(*_curve(rows, baseline, metric), target)[0]
    return None if np.isnan(a) or np.isnan(b) else round(float(b - a), 3)


def gain_interval(
    reps: dict[tuple[str, float], np.ndarray],
    scheme: str,
    baseline: str,
    target: float,
    confidence: float = 0.95,
) -> tuple[float | None, float | None, float]:
    """Percentile interval of the gain at ``target`` over block-bootstrap replicates
    (:func:`fer_replicates`) and the fraction of replicates in which both curves cross the
    target. ``(None, None, frac)`` when fewer than ``confidence`` of them do (the interval would
    rest on the replicates that happen to cross: unresolved)."""

    def crossing(name: str) -> np.ndarray:
        xs = sorted(x for s, x in reps if s == name)
        return crossing_db(xs, np.stack([reps[(name, x)] for x in xs], 1), target)

    g = crossing(baseline) - crossing(scheme)
    ok = ~np.isnan(g)
    frac = float(ok.mean()) if g.size else 0.0
    if frac < confidence:
        return None, None, frac
    a = (1 - confidence) / 2
    lo, hi = np.quantile(g[ok], [a, 1 - a])
    return round(float(lo), 3), round(float(hi), 3), frac


def gain_table(
    rows: Sequence[dict[str, Any]],
    reps: dict[tuple[str, float], np.ndarray],
    schemes: Sequence[str],
    baseline: str = "cascl",
    targets: Sequence[float] = (1e-2, 1e-3),
    confidence: float = 0.95,
) -> list[dict[str, Any]]:
    """Per scheme the gain over ``baseline`` with its bootstrap interval at each target FER,
    plus where the point estimate is largest (``where = "max"``: over 41 log-spaced targets
    between the highest and lowest FER both curves reach, among those where both curves cross
    in at least ``confidence`` of the replicates; that row's interval is the interval at that
    target, not corrected for having picked the largest)."""
    out = []
    for s in schemes:
        if s == baseline:
            continue
        fers = [r["fer"] for r in rows if r["scheme"] in (s, baseline) and r["fer"] > 0]
        grid = []
        if fers:
            hi = min(max(r["fer"] for r in rows if r["scheme"] == n) for n in (s, baseline))
            lo = max(
                min((r["fer"] for r in rows if r["scheme"] == n and r["fer"] > 0), default=1.0)
                for n in (s, baseline)
            )
            if lo < hi:
                grid = list(np.logspace(np.log10(hi), np.log10(lo), 41)[1:-1])
        dense = [(t, fer_gain_db(rows, s, baseline, t)) for t in grid]
        dense = [  # resolved targets only: both curves cross in the replicates too
            (t, g)
            for t, g in dense
            if g is not None and gain_interval(reps, s, baseline, t, confidence)[0] is not None
        ]
        picks = [(float(t), "target") for t in targets]
        if dense:
            picks.append((float(max(dense, key=lambda tg: tg[1])[0]), "max"))
        for t, where in picks:
            lo_g, hi_g, frac = gain_interval(reps, s, baseline, t, confidence)
            out.append(
                {
                    "scheme": s,
                    "baseline": baseline,
                    "where": where,
                    "target_fer": float(f"{t:.3g}"),
                    "gain_db": fer_gain_db(rows, s, baseline, t),
                    "ci_low": lo_g,
                    "ci_high": hi_g,
                    "crossing_replicates": round(frac, 3),
                }
            )
    return out


def run_study(
    run: Run,
    study: TextStudy,
    schemes: Sequence[str],
    points: Sequence[float],
    chunks: int | Sequence[int],
    *,
    title: str,
    workers: int = 1,
    prefix: str = "jscc_",
    target_fer: float = 1e-2,
    section: Any = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Trials (scheme x Eb/N0 x chunk) through the sweep pipeline, plots, a report section.

    Returns the rows (one per scheme and Eb/N0, FER intervals from the block bootstrap over text
    positions) and the gains over CA-SCL: ``{"<scheme>_vs_cascl_db@fer=<t>": {"gain_db",
    "ci_low", "ci_high", ...}}`` at FER 1e-2, 1e-3 and ``target_fer``, and ``...@max`` where
    the point estimate is largest (:func:`gain_table`)."""
    for s in schemes:
        check_choice("scheme", s, tuple(SCHEMES))
    per_point = _per_point(chunks, points)
    trials = [
        {"scheme": s, "ebn0_db": float(p), "chunk": c}
        for s in schemes
        for p, n_chunks in zip(points, per_point, strict=True)
        for c in range(n_chunks)
    ]
    raw = run.sweep(_trial, trials, context=study, workers=workers, description="polar text")
    reps = fer_replicates(raw, seed=study.seed)
    rows = _aggregate(raw, reps)
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
    targets = sorted({1e-2, 1e-3, float(target_fer)}, reverse=True)
    vs = [s for s in ("joint", "joint-bitwise", "joint-crc", "adaptive") if s in schemes]
    table = gain_table(rows, reps, vs, "cascl", targets) if "cascl" in schemes else []
    gains = {
        f"{g['scheme']}_vs_cascl_db@"
        + ("max" if g["where"] == "max" else f"fer={g['target_fer']:g}"): g
        for g in table
    }
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
        f"{study.penalty} nats. Frames per point: chunks ({per_point}) x {study.streams} streams "
        f"x {study.blocks} blocks; seed "
        f"{study.seed}. Eb/N0 per text bit. Intervals: 95% block bootstrap over text positions "
        f"({BOOTSTRAP} resamples, the same for every scheme and Eb/N0); gains interpolated on "
        "log-FER, None where a curve does not cross the target or fewer than 95% of the "
        "bootstrap replicates do."
    )
    sec.image(fer, "Frame error rate (shaded: 95% block-bootstrap interval over text positions)")
    sec.image(wer, "Word error rate (shaded: 95% bootstrap interval over streams)")
    sec.image(lst, "Average list size of the adaptive decoder")
    if table:
        sec.table(
            table,
            ["scheme", "where", "target_fer", "gain_db", "ci_low", "ci_high"],
            title="Eb/N0 gain over CA-SCL (dB) with its 95% block-bootstrap interval",
        )
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


# --------------------------------------------------------------------------- the study
#: the longest code and the most chunks per scheme and point (a bound on the work)
N_MAX = 2**16
CHUNKS_MAX = 100_000


@dataclass(frozen=True)
class PolarTextConfig:
    """One ``polar text`` study (every field checked here, before any text is read or any
    folder made): the text (``corpus``, ``dictionary``), the code (``n``, ``k`` text bits per
    block, ``crc`` of the CRC schemes), the decoders (``schemes``, ``list_size``, ``penalty``
    nats per out-of-dictionary symbol, or the one of ``tune_penalty`` best on the validation
    text), the Eb/N0 ``points`` (dB per text bit) and the work per point: ``chunks`` trials (one
    count, or one per point) of ``streams`` x ``blocks`` frames. ``workers`` is a runtime key."""

    corpus: str = "fortunes"
    dictionary: str = "in-domain"
    points: tuple[float, ...] = (1.0, 1.5, 2.0, 2.5)
    list_size: int = 8
    schemes: tuple[str, ...] = ("scl", "cascl", "joint", "joint-prune", "joint-crc", "adaptive")
    n: int = 256
    k: int = 120
    crc: str = "crc8"
    penalty: float = 8.0
    tune_penalty: tuple[float, ...] | None = None
    streams: int = 64
    blocks: int = 8
    chunks: int | tuple[int, ...] = 2
    target_fer: float = 0.05
    seed: int = 0
    workers: int = 1

    def __post_init__(self) -> None:
        check_int("list_size", self.list_size, 1, 1024)
        check_int("n", self.n, 2, N_MAX)
        check_int("streams", self.streams, 1)  # the upper bounds: memory, below
        check_int("blocks", self.blocks, 1)
        check_int("seed", self.seed, 0)
        check_int("workers", self.workers, 1, 100_000)
        counts = [self.chunks] if isinstance(self.chunks, int) else list(self.chunks)
        for c in counts:
            check_int("chunks", c, 1, CHUNKS_MAX)
        check_choice("crc", self.crc, tuple(CRCS))  # checked even when no scheme uses it
        # a chunk decodes streams x list paths of n LLRs and partial sums over log2(n)+1 stages
        per_chunk = 16.0 * self.streams * self.list_size * self.n * (self.n.bit_length() + 1)
        what = f"a chunk of {self.streams} streams x L={self.list_size}"
        check_memory("streams", per_chunk, self.streams, what)
        check_memory("blocks", 8.0 * self.streams * self.blocks * self.k, self.blocks, "the text")
        check_float("penalty", self.penalty, 0.0, 1e6, lo_open=True)
        check_float("target_fer", self.target_fer, 0.0, 1.0, lo_open=True, hi_open=True)
        if not self.points:
            raise ParameterError("ebn0_db", "give at least one Eb/N0 point")
        object.__setattr__(self, "points", tuple(check_channel_points("awgn", self.points)))
        if len(counts) not in (1, len(self.points)):
            raise ParameterError(
                "chunks", f"one count, or one per Eb/N0 point ({len(self.points)})", self.chunks
            )
        if not self.schemes:
            raise ParameterError("schemes", "give at least one scheme", self.schemes)
        for name in self.schemes:
            check_choice("schemes", name, tuple(SCHEMES))
        if self.tune_penalty is not None:
            if not self.tune_penalty:
                raise ParameterError("tune_penalty", "one or more penalties", self.tune_penalty)
            for v in self.tune_penalty:
                check_float("tune_penalty", v, 0.0, 1e6, lo_open=True)
        # the CRC schemes' code (penalty tuning runs CA-SCL too), checked before any trial
        uses_crc = self.tune_penalty is not None or any(SCHEMES[s][0] for s in self.schemes)
        PolarCode(self.n, self.k, crc=self.crc if uses_crc else None)

    @property
    def shape(self) -> dict[str, Any]:
        """The code, decoder and batch shape: the same for the tuning and the test study."""
        return {
            "n": self.n,
            "k": self.k,
            "crc": self.crc,
            "list_size": self.list_size,
            "streams": self.streams,
            "blocks": self.blocks,
        }


def run(cfg: PolarTextConfig, *, out: str | Path | None = None) -> tuple[Run, list, dict]:
    """Read the text and dictionary, check every scheme's decoder, then (in a run folder,
    resumable) tune the penalty when asked, run the study, plot and report.

    Returns the :class:`~noisyhw.sweep.Run` (to finish), the rows and what results.json
    carries beside them: ``gains`` (:func:`run_study`), ``penalty`` (the one used) and
    ``tuning`` (the validation table, or None)."""
    try:
        train, test = load_text(cfg.corpus, "train"), load_text(cfg.corpus, "test")
    except DataError as exc:
        raise DataError(f"--corpus: {exc}") from None
    try:
        trie = build_dictionary(cfg.dictionary, train)
    except DataError as exc:
        raise DataError(f"--dictionary: {exc}") from None
    bits = ALPHABETS["a27"].text_to_bits(test)
    study = TextStudy(bits, trie, penalty=cfg.penalty, seed=cfg.seed, **cfg.shape)
    for name in cfg.schemes:  # every scheme's decoder (n, k, crc, list size) before any trial
        study.decoder(name)
    folder = Run("polar text", asdict(cfg), out=out, seed=cfg.seed)
    penalty, tuning = cfg.penalty, None
    chunks = list(cfg.chunks) if isinstance(cfg.chunks, tuple) else cfg.chunks
    if cfg.tune_penalty is not None:
        # the validation run lives inside this run's folder (a fixed default folder made a
        # second tuning with other settings fail as "a run with a different grid")
        penalty, tuning = tune_penalty(
            folder.dir / "tune",
            cfg.corpus,
            cfg.dictionary,
            cfg.tune_penalty,
            cfg.points,
            chunks,
            seed=cfg.seed,
            workers=cfg.workers,
            target_fer=cfg.target_fer,
            **cfg.shape,
        )
        study = TextStudy(bits, trie, penalty=penalty, seed=cfg.seed, **cfg.shape)
    rows, gains = run_study(
        folder,
        study,
        cfg.schemes,
        cfg.points,
        chunks,
        workers=cfg.workers,
        title=f"{cfg.corpus}, {cfg.dictionary} dictionary",
        target_fer=cfg.target_fer,
    )
    return folder, rows, {"gains": gains, "penalty": penalty, "tuning": tuning}
