"""Monte-Carlo FER/BER simulation of polar codes over the sweep pipeline.

Each *trial* is one seeded chunk of ``frames_per_chunk`` frames of one decoder at one channel
point: ``{"decoder", "list_size", <point key>, "chunk"}``. Chunk ``c`` at point ``x`` draws its
messages and noise from ``SeedSequence([seed, c, x])``, so every decoder sees the same frames
(common random numbers: comparisons are paired) and a result is identical for a seed whatever
the number of workers. Chunks are planned in rounds from the errors counted so far (a pure
function of earlier results, hence deterministic) until each point has ``min_errors`` frame
errors or ``max_frames`` frames; with a :class:`~noisyhw.sweep.Run`, finished chunks are stored
and a rerun resumes.

Channels (conventions of :mod:`noisyhw.channels`): ``awgn`` (BPSK, points are Eb/N0 in dB
counting the ``k`` information bits only: Es/N0 = (k/n) Eb/N0), ``bsc`` (points are the
crossover probability) and ``bec`` (points are the erasure probability).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy import stats

from ...channels import bec, bpsk, bpsk_awgn, bsc_bits, llr_bsc
from ...errors import ParameterError, check_choice, check_int
from .code import PolarCode
from .decoders import DECODERS, Decoder, make_decoder

__all__ = [
    "CHANNELS",
    "DecoderSpec",
    "SimulationConfig",
    "channel_llr",
    "clopper_pearson",
    "parse_decoder_specs",
    "simulate",
    "simulate_chunk",
]

CHANNELS = {"awgn": "ebn0_db", "bsc": "p", "bec": "p"}
_BEC_LLR = 1e6  # LLR magnitude of a non-erased BEC output ("known bit")


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) confidence interval of a binomial proportion ``k / n``."""
    if n <= 0:
        return (0.0, 1.0)
    a = (1.0 - confidence) / 2.0
    lo = 0.0 if k == 0 else float(stats.beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(stats.beta.ppf(1.0 - a, k + 1, n - k))
    return lo, hi


@dataclass(frozen=True)
class DecoderSpec:
    """A decoder by name and list size (``list_size`` is ignored for ``sc``)."""

    name: str
    list_size: int = 1

    @property
    def label(self) -> str:
        return self.name if self.name == "sc" else f"{self.name}-{self.list_size}"


def parse_decoder_specs(text: str, default_list: int = 8) -> list[DecoderSpec]:
    """``"sc,scl:8,cascl:8"`` -> specs (a missing ``:L`` uses ``default_list``)."""
    specs = []
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        name, _, lsz = item.partition(":")
        check_choice("decoder", name, DECODERS)
        try:
            L = int(lsz) if lsz else (1 if name == "sc" else default_list)
        except ValueError:
            raise ParameterError(
                "decoder", "list size after ':' must be an integer", item
            ) from None
        specs.append(DecoderSpec(name, 1 if name == "sc" else check_int("list_size", L, 1)))
    if not specs:
        raise ParameterError("decoder", "give at least one decoder", text)
    return specs


@dataclass(frozen=True)
class SimulationConfig:
    """Everything a chunk needs (sent once to each worker)."""

    n: int
    k: int
    construction: str = "5g"
    design_snr_db: float = 2.0
    crc: str | None = None
    systematic: bool = False
    metric: str = "approx"
    channel: str = "awgn"
    frames_per_chunk: int = 1000
    seed: int = 0

    def code(self) -> PolarCode:
        return PolarCode(
            self.n, self.k, self.construction, self.design_snr_db, self.crc, self.systematic
        )


def channel_llr(
    code: PolarCode, x: np.ndarray, channel: str, point: float, rng: np.random.Generator
) -> np.ndarray:
    """Send codewords ``x`` (F, n) through ``channel`` at ``point``; return LLRs (F, n)."""
    if channel == "awgn":
        return bpsk_awgn(x, point, code.rate, rng)
    if channel == "bsc":
        if point <= 0.0:
            return bpsk(x) * _BEC_LLR
        return llr_bsc(bsc_bits(x, point, rng), point)
    if channel == "bec":
        return bec(bpsk(x) * _BEC_LLR, point, rng)
    raise ParameterError("channel", f"must be one of {', '.join(CHANNELS)}", channel)


_CACHE: dict[Any, tuple[PolarCode, dict[DecoderSpec, Decoder]]] = {}


def _decoder(cfg: SimulationConfig, spec: DecoderSpec) -> tuple[PolarCode, Decoder]:
    code, decs = _CACHE.setdefault(cfg, (cfg.code(), {}))
    if spec not in decs:
        dec = (
            make_decoder(code, spec.name, spec.list_size, cfg.metric)
            if spec.name != "sc"
            else make_decoder(code, "sc")
        )
        dec(np.ones((1, code.n)))  # load / compile the kernels outside the timed region
        decs[spec] = dec
    return code, decs[spec]


def _chunk_rng(seed: int, chunk: int, point: float) -> np.random.Generator:
    return np.random.default_rng([seed, chunk, round(point * 1e6) + (1 << 40)])


def simulate_chunk(params: dict[str, Any], cfg: SimulationConfig) -> dict[str, Any]:
    """Trial function: one seeded chunk of frames -> frames, frame_errors, bit_errors, decode_s."""
    key = CHANNELS[cfg.channel]
    spec = DecoderSpec(params["decoder"], int(params["list_size"]))
    code, dec = _decoder(cfg, spec)
    rng = _chunk_rng(cfg.seed, int(params["chunk"]), float(params[key]))
    msg = code.random_messages(cfg.frames_per_chunk, rng)
    llr = channel_llr(code, code.encode(msg), cfg.channel, float(params[key]), rng)
    t0 = time.process_time()  # CPU time: the kernels are single-threaded (one core)
    dec_msg = dec(llr)
    dt = time.process_time() - t0
    err = dec_msg != msg
    return {
        "frames": int(msg.shape[0]),
        "frame_errors": int(err.any(1).sum()),
        "bit_errors": int(err.sum()),
        "decode_s": float(dt),
    }


class _Local:
    """Stand-in for a Run when simulating without one (in-process, nothing stored)."""

    def __init__(self) -> None:
        self.done: dict[tuple, dict[str, Any]] = {}

    def sweep(self, fn, trials, *, context=None, workers=1, description=None):
        for t in trials:
            key = tuple(sorted(t.items()))
            if key not in self.done:
                self.done[key] = {**t, **fn(dict(t), context)}
        return list(self.done.values())


def simulate(
    config: SimulationConfig,
    decoders: Sequence[DecoderSpec],
    points: Sequence[float],
    *,
    min_errors: int = 100,
    max_frames: int = 100_000,
    run: Any = None,
    workers: int = 1,
    max_chunks_per_round: int = 64,
) -> list[dict[str, Any]]:
    """FER/BER for every decoder at every channel point; returns one row per (decoder, point).

    Rows: decoder, list_size, <ebn0_db | p>, frames, frame_errors, bit_errors, fer, ber,
    fer_ci_low, fer_ci_high (95% Clopper-Pearson), info_throughput_mbps (decoded information
    bits per second of decoder CPU time on one core), n, k, crc, construction.
    """
    check_choice("channel", config.channel, CHANNELS)
    min_errors = check_int("min_errors", min_errors, 1)
    max_frames = check_int("max_frames", max_frames, 1)
    if not points:
        raise ParameterError("points", "give at least one channel point")
    config.code()  # validate parameters before starting workers
    key = CHANNELS[config.channel]
    chunk = config.frames_per_chunk
    max_chunks = math.ceil(max_frames / chunk)
    runner = run if run is not None else _Local()
    series = [(d, float(x)) for d in decoders for x in points]
    trials: list[dict[str, Any]] = []
    planned = {s: 0 for s in series}

    def ident(t: dict[str, Any]) -> tuple:
        return (t["decoder"], int(t["list_size"]), float(t[key]), int(t["chunk"]))

    # On resume the rounds are replayed exactly; chunks already stored are passed along (the
    # sweep skips them) but only the replayed plan's chunks are counted.
    store = getattr(runner, "store", None)
    stored = (
        [{k: r[k] for k in ("decoder", "list_size", key, "chunk")} for r in store.rows()]
        if store is not None
        else []
    )
    while True:
        mine = {ident(t) for t in trials}
        extra = [t for t in stored if ident(t) not in mine]
        rows = (
            runner.sweep(
                simulate_chunk,
                trials + extra,
                context=config,
                workers=workers,
                description="polar simulate",
            )
            if trials
            else []
        )
        agg = _aggregate([r for r in rows if ident(r) in mine], key)
        new = []
        for s in series:
            d, x = s
            fr, fe = agg.get((d.name, d.list_size, x), (0, 0, 0, 0.0))[:2]
            if fe >= min_errors or planned[s] >= max_chunks:
                continue
            need = (min_errors - fe) * fr / fe if fe > 0 else max(fr, chunk)
            add = max(
                1, min(math.ceil(need / chunk), max_chunks - planned[s], max_chunks_per_round)
            )
            for c in range(planned[s], planned[s] + add):
                new.append({"decoder": d.name, "list_size": d.list_size, key: x, "chunk": c})
            planned[s] += add
        if not new:
            break
        trials = trials + new
    out = []
    for d, x in series:
        fr, fe, be, dt = agg.get((d.name, d.list_size, x), (0, 0, 0, 0.0))
        lo, hi = clopper_pearson(fe, fr)
        out.append(
            {
                "decoder": d.label,
                "list_size": d.list_size,
                key: x,
                "frames": fr,
                "frame_errors": fe,
                "bit_errors": be,
                "fer": fe / fr if fr else float("nan"),
                "ber": be / (fr * config.k) if fr else float("nan"),
                "fer_ci_low": lo,
                "fer_ci_high": hi,
                "info_throughput_mbps": fr * config.k / dt / 1e6 if dt > 0 else float("nan"),
                "n": config.n,
                "k": config.k,
                "crc": config.crc or "none",
                "construction": config.construction,
            }
        )
    return out


def _aggregate(rows: Sequence[dict[str, Any]], key: str) -> dict[tuple, tuple]:
    agg: dict[tuple, list] = {}
    for r in rows:
        a = agg.setdefault((r["decoder"], int(r["list_size"]), float(r[key])), [0, 0, 0, 0.0])
        a[0] += r["frames"]
        a[1] += r["frame_errors"]
        a[2] += r["bit_errors"]
        a[3] += r["decode_s"]
    return {k: tuple(v) for k, v in agg.items()}


def config_dict(config: SimulationConfig) -> dict[str, Any]:
    return asdict(config)
