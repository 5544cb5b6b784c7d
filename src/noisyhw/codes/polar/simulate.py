"""Monte-Carlo FER/BER simulation of polar codes on the shared Monte-Carlo engine.

Each (decoder, list size, channel point) is one point of :mod:`noisyhw.sweep.montecarlo`: seeded
chunks of ``frames_per_chunk`` frames, submitted lazily to any executor (this process, worker
processes, a Ray cluster) and stopped at the first chunk prefix with ``min_errors`` frame errors or
at ``max_frames``. A chunk's frames depend only on (seed, channel point, chunk index): every decoder
sees the same frames (common random numbers: comparisons are paired) and a result for a seed is
identical whatever the executor and the number of workers. With a :class:`~noisyhw.sweep.Run`,
finished chunks are logged and a rerun resumes.

Channels (conventions of :mod:`noisyhw.channels`): ``awgn`` (BPSK, points are Eb/N0 in dB
counting the ``k`` information bits only: Es/N0 = (k/n) Eb/N0), ``bsc`` (points are the
crossover probability) and ``bec`` (points are the erasure probability).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...channels import bec, bpsk, bpsk_awgn, bsc_bits, llr_bsc
from ...errors import ParameterError, check_choice, check_float, check_int
from ...sweep.executors import Executor, LocalExecutor
from ...sweep.montecarlo import StopRule, clopper_pearson, simulate_all
from .code import PolarCode
from .decoders import SC_DECODERS, Decoder, make_decoder

__all__ = [
    "CHANNELS",
    "SimulationConfig",
    "channel_llr",
    "check_channel_points",
    "check_decoders",
    "clopper_pearson",
    "decoder_label",
    "fer_chunk",
    "simulate",
]

CHANNELS = {"awgn": "ebn0_db", "bsc": "p", "bec": "p"}
_BEC_LLR = 1e6  # LLR magnitude of a non-erased BEC output ("known bit")


def decoder_label(name: str, list_size: int) -> str:
    """The name of a decoder in rows and legends: ``sc``, ``sc-int8``, ``scl-8``, ``cascl-4``
    (the SC kinds have no list)."""
    return name if name in SC_DECODERS else f"{name}-{list_size}"


def check_channel_points(channel: str, points: Sequence[float]) -> list[float]:
    """Every channel point valid for ``channel`` (Eb/N0 in [-100, 300] dB; BSC 0 < p < 0.5;
    BEC 0 <= p <= 1), checked before any chunk runs; errors name ``ebn0_db`` or ``p``."""
    name = CHANNELS[check_choice("channel", channel, CHANNELS)]
    if channel == "awgn":
        return [check_float(name, v, -100.0, 300.0) for v in points]
    if channel == "bsc":
        return [check_float(name, v, 0.0, 0.5, lo_open=True, hi_open=True) for v in points]
    return [check_float(name, v, 0.0, 1.0) for v in points]


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
        """The code (built once per process: a long code takes seconds to construct)."""
        if self not in _CACHE:
            _CACHE[self] = (
                PolarCode(
                    self.n,
                    self.k,
                    self.construction,
                    self.design_snr_db,
                    self.crc,
                    self.systematic,
                ),
                {},
            )
        return _CACHE[self][0]


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


_CACHE: dict[SimulationConfig, tuple[PolarCode, dict[tuple[str, int], Decoder]]] = {}


def _built(cfg: SimulationConfig, name: str, list_size: int) -> tuple[PolarCode, Decoder]:
    """The code and the decoder :func:`make_decoder` builds for it (once per process)."""
    code = cfg.code()
    decs = _CACHE[cfg][1]
    key = (name, 1 if name in SC_DECODERS else list_size)
    if key not in decs:
        decs[key] = make_decoder(code, name, list_size, cfg.metric)
    return code, decs[key]


def check_decoders(
    cfg: SimulationConfig, decoders: Sequence[tuple[str, int]]
) -> list[tuple[str, int]]:
    """Each ``(name, list size)`` built once for ``cfg``'s code by :func:`make_decoder` (the one
    factory, which checks the name, the list size, the metric and the CRC that CA-SCL needs);
    returns them with list size 1 for the SC kinds. The decoders are kept for this process."""
    if not decoders:
        raise ParameterError("decoders", "give at least one decoder", list(decoders))
    out = []
    for name, list_size in decoders:
        _built(cfg, name, list_size)
        out.append((name, 1 if name in SC_DECODERS else int(list_size)))
    return out


_WARM: set[tuple[SimulationConfig, str, int]] = set()


def _decoder(cfg: SimulationConfig, name: str, list_size: int) -> tuple[PolarCode, Decoder]:
    code, dec = _built(cfg, name, list_size)
    if (cfg, name, list_size) not in _WARM:
        dec(np.ones((1, code.n)))  # load / compile the kernels outside the timed region
        _WARM.add((cfg, name, list_size))
    return code, dec


_BLOCK_BITS = 1 << 17  #: codeword bits per block of a chunk (float64 LLRs: 1 MiB, cache-sized)


def fer_chunk(
    params: dict[str, Any], rng: np.random.Generator, n: int, cfg: SimulationConfig
) -> dict[str, Any]:
    """Monte-Carlo chunk: ``n`` frames of one decoder at one channel point -> frame_errors,
    bit_errors, decode_s (decoder CPU time).

    The messages are drawn first, then the frames go through channel and decoder in blocks of
    about ``_BLOCK_BITS`` codeword bits, so the arrays stay in cache (a chunk of 2,000 frames
    of n = 1024 would otherwise stream 50 MB of temporaries through memory, which two worker
    processes then share). The channel draws the same numbers, in the same order, as one
    whole-chunk draw would: the result depends only on the chunk's generator.
    """
    code, dec = _decoder(cfg, params["decoder"], int(params["list_size"]))
    point = float(params[CHANNELS[cfg.channel]])
    msg = code.random_messages(n, rng)
    x = code.encode(msg)
    block = max(1, _BLOCK_BITS // code.n)
    frame_errors = bit_errors = 0
    dt = 0.0
    for s in range(0, n, block):
        llr = channel_llr(code, x[s : s + block], cfg.channel, point, rng)
        t0 = time.process_time()  # CPU time: the kernels are single-threaded (one core)
        dec_msg = dec(llr)
        dt += time.process_time() - t0
        err = dec_msg != msg[s : s + block]
        frame_errors += int(err.any(1).sum())
        bit_errors += int(err.sum())
    return {"frame_errors": frame_errors, "bit_errors": bit_errors, "decode_s": float(dt)}


def simulate(
    config: SimulationConfig,
    decoders: Sequence[tuple[str, int]],
    points: Sequence[float],
    *,
    min_errors: int = 100,
    max_frames: int = 100_000,
    run: Any = None,
    workers: int = 1,
    executor: Executor | None = None,
) -> list[dict[str, Any]]:
    """FER/BER for every decoder at every channel point; returns one row per (decoder, point).

    ``decoders``: ``(name, list size)`` pairs, the arguments of :func:`make_decoder` (``("sc",
    1)``, ``("cascl", 8)``; the SC kinds ignore the list size). ``run``: a
    :class:`~noisyhw.sweep.Run` (chunks logged, resumable; its seed is used) or None (nothing
    stored; ``config.seed``). ``executor`` (default: ``workers`` local processes).

    Rows: decoder, list_size, <ebn0_db | p>, frames, frame_errors, bit_errors, fer, ber,
    fer_ci_low, fer_ci_high (95% Clopper-Pearson), info_throughput_mbps (decoded information
    bits per second of decoder CPU time on one core), n, k, crc, construction.
    """
    check_choice("channel", config.channel, CHANNELS)
    min_errors = check_int("min_errors", min_errors, 1)
    max_frames = check_int("max_frames", max_frames, 1)
    if not points:
        raise ParameterError("points", "give at least one channel point")
    check_channel_points(config.channel, points)
    decoders = check_decoders(config, decoders)  # the code and decoders, before any worker
    key = CHANNELS[config.channel]
    rule = StopRule(
        chunk_size=min(config.frames_per_chunk, max_frames),
        min_errors=min_errors,
        max_frames=max_frames,
        error_key="frame_errors",
    )
    series = [(d, float(x)) for d in decoders for x in points]
    params = [{"decoder": d[0], "list_size": d[1], key: x} for d, x in series]
    ex = executor or LocalExecutor(workers)
    if run is not None:
        done = run.montecarlo(
            fer_chunk,
            params,
            rule=rule,
            context=config,
            executor=ex,
            description="polar simulate",
            stream_keys=(key,),
        )
        by_point = {(r["decoder"], int(r["list_size"]), float(r[key])): r for r in done}
        rows = [by_point[(p["decoder"], p["list_size"], p[key])] for p in params]
    else:
        rows = simulate_all(
            fer_chunk,
            params,
            seed=config.seed,
            rule=rule,
            context=config,
            executor=ex,
            stream_keys=(key,),
            description="polar simulate",
        )
    out = []
    for (d, x), r in zip(series, rows, strict=True):
        fr, fe, be, dt = r["frames"], r["frame_errors"], r["bit_errors"], r["decode_s"]
        lo, hi = clopper_pearson(fe, fr)
        out.append(
            {
                "decoder": decoder_label(*d),
                "list_size": d[1],
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
