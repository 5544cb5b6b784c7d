"""Drive a code through a message sequence, checking the constraint and decoding every write."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ...errors import ParameterError, check_choice, check_int
from ...seeding import RngLike, as_rng
from .base import PCMCode
from .check import check

__all__ = ["SOURCES", "SimulationResult", "simulate"]


@dataclass
class SimulationResult:
    states: np.ndarray  #: (T+1, n) uint8, row 0 the initial state
    messages: np.ndarray  #: (T, symbols) int64, message of write t in row t-1
    violations: int  #: windows over p found by the checker (0 or 1: it stops at the first)
    first_violation: object  #: Violation or None
    decode_errors: int  #: writes whose decoded message differed from the one written
    write_s: float = 0.0  #: seconds spent inside the encoder (excludes checking and adversary)

    @property
    def writes(self) -> int:
        return int(self.messages.shape[0])


SOURCES = ("random", "flip", "greedy")


def simulate(
    code: PCMCode,
    messages: np.ndarray | None = None,
    *,
    writes: int | None = None,
    source: str = "random",
    rng: RngLike = 0,
    candidates: int = 8,
) -> SimulationResult:
    """Write messages in turn from ``code.initial_state()``; decode after every write and check
    the whole history with :func:`~noisyhw.codes.pcm.check`.

    Either give ``messages`` (T, symbols), or ``writes`` T and a ``source``: ``random``
    (uniform), ``flip`` (every bit of every digit flips at every write: the most data change)
    or ``greedy`` (an adversary that, at each write, tries the flip message and ``candidates``
    random ones and keeps the one that makes the encoder change the most cells).
    """
    g = as_rng(rng)
    if messages is None:
        T = check_int("writes", writes, 1)
        check_choice("source", source, SOURCES)
        msgs = np.zeros((T, code.symbols), np.int64)
    else:
        msgs = np.asarray(messages, np.int64)
        if msgs.ndim != 2 or msgs.shape[1] != code.symbols:
            raise ParameterError("messages", f"must be (T, {code.symbols})", msgs.shape)
        T, source = msgs.shape[0], "given"
    states = np.zeros((T + 1, code.n), np.uint8)
    enc = code.encoder()
    states[0] = enc.state
    errors = 0
    spent = 0.0
    full = code.radix - 1
    for t in range(T):
        if source == "random":
            msgs[t] = g.integers(0, code.radix, code.symbols)
        elif source == "flip":
            msgs[t] = code.read(enc.state) ^ full
        elif source == "greedy":
            cur = code.read(enc.state)
            options = [cur ^ full, *g.integers(0, code.radix, (candidates, code.symbols))]
            hist, w = enc.history, enc.step
            cost = [int((code.write(enc.state, o, hist, w) != enc.state).sum()) for o in options]
            msgs[t] = options[int(np.argmax(cost))]
        t0 = time.perf_counter()
        states[t + 1] = enc.write(msgs[t])
        spent += time.perf_counter() - t0
        errors += int(not np.array_equal(code.read(states[t + 1]), msgs[t]))
    c = code.constraint
    v = check(states, c.alpha, c.beta, c.p)
    return SimulationResult(states, msgs, int(v is not None), v, errors, spent)
