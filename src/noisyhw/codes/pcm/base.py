"""Zero-error (alpha, beta, p) rewrite codes: encoder ``write`` and decoder ``read`` pairs.

Every code stores, at each write, a message of ``symbols`` digits in ``[0, radix)`` on ``n``
binary cells; the decoder sees only the current state. The encoder sees the current state and,
when ``memory > 0``, the previous ``memory`` states (``history``, oldest first) so that it knows
which cells changed recently; encoders of ``clocked`` codes also take the write clock ``step``
(number of earlier writes). Rates are exact: ``symbols * log2(radix) / n``.

The constructions live beside this module: :mod:`.syndrome`, :mod:`.residue`,
:mod:`.timeshare`, :mod:`.staggered`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

from ...errors import ParameterError
from .params import Constraint

__all__ = ["Encoder", "PCMCode"]


class PCMCode(ABC):
    """Base class: see the module docstring for the contract."""

    constraint: Constraint
    n: int
    radix: int
    symbols: int
    memory: int
    name: str = "code"
    clocked: bool = False  #: True when the encoder needs the write clock ``step``

    @property
    def rate(self) -> float:
        """Exact rate in bits per cell per write: symbols * log2(radix) / n."""
        return self.symbols * math.log2(self.radix) / self.n

    @property
    def messages_log2(self) -> float:
        """log2 of the message alphabet size M = radix ** symbols."""
        return self.symbols * math.log2(self.radix)

    def initial_state(self) -> np.ndarray:
        """The state every code starts from: all cells 0, shape (n,) uint8."""
        return np.zeros(self.n, np.uint8)

    def random_messages(self, count: int, rng) -> np.ndarray:
        """(count, symbols) int64 uniform messages."""
        return rng.integers(0, self.radix, size=(count, self.symbols), dtype=np.int64)

    # -- checks shared by every code
    def _state(self, state) -> np.ndarray:
        s = np.asarray(state)
        if s.shape != (self.n,):
            raise ParameterError("state", f"must have shape ({self.n},)", s.shape)
        # data cells must be 0/1 (cells a code never touches are copied as they are)
        if s.dtype == np.uint8 and (s.size == 0 or s.max() <= 1):  # the common case
            return s
        cells = getattr(self, "data", None)
        v = s if cells is None else s[cells]
        if v.dtype != bool and ((v != 0) & (v != 1)).any():
            raise ParameterError("state", "cells must be 0/1", np.unique(v)[:5].tolist())
        return s.astype(np.uint8, copy=False)

    def _message(self, message) -> np.ndarray:
        raw = np.asarray(message)
        m = raw.astype(np.int64).reshape(-1)
        if raw.dtype.kind not in "iub" and not np.array_equal(m, raw.reshape(-1)):
            raise ParameterError("message", "digits must be integers", raw.reshape(-1).tolist())
        if m.shape != (self.symbols,):
            raise ParameterError("message", f"must hold {self.symbols} digit(s)", m.shape)
        if m.size and (m.min() < 0 or m.max() >= self.radix):
            raise ParameterError("message", f"digits must be in [0, {self.radix})", m.tolist())
        return m

    def _recent(self, history) -> np.ndarray:
        """The last <= ``memory`` previous states (k, n) uint8, oldest first, contiguous ((0, n)
        without history); only those matter to any code here."""
        if self.memory == 0 or history is None:
            return np.zeros((0, self.n), np.uint8)
        h = np.asarray(history, dtype=np.uint8)
        if h.ndim != 2 or h.shape[1] != self.n:
            raise ParameterError("history", f"must be (k, {self.n}) previous states", h.shape)
        return np.ascontiguousarray(h[-self.memory :])

    def _diffs(self, state: np.ndarray, history) -> np.ndarray:
        """(memory, n) change rows, most recent first (zeros where there was no write)."""
        out = np.zeros((self.memory, self.n), np.uint8)
        h = self._recent(history)
        if h.shape[0] == 0:
            return out
        chain = np.concatenate([h, state[None]], axis=0)[::-1]  # current first
        d = chain[:-1] ^ chain[1:]
        out[: d.shape[0]] = d
        return out

    @abstractmethod
    def read(self, state) -> np.ndarray:
        """Decode the stored message (symbols,) int64 from a state (n,)."""

    @abstractmethod
    def write(self, state, message, history=None, step=None) -> np.ndarray:
        """New state (n,) uint8 storing ``message``.

        ``history``: (k, n) previous states, oldest first (None: no earlier writes); only the
        last ``memory`` rows are used, fewer mean fewer earlier writes.
        ``step``: the write clock, number of earlier writes (0 for the first write); only codes
        with ``clocked = True`` use it (and require it); the decoder never needs it.
        """

    def encoder(self, state=None) -> Encoder:
        """An :class:`Encoder` that keeps the history for you."""
        return Encoder(self, state)

    def describe(self) -> dict:
        return {
            "code": self.name,
            "n": self.n,
            "radix": self.radix,
            "symbols": self.symbols,
            "memory": self.memory,
            "clocked": self.clocked,
            "rate": self.rate,
        }

    def __repr__(self) -> str:
        c = self.constraint
        return f"{self.name}(({c.alpha},{c.beta},{c.p}), n={self.n}, rate={self.rate:.4f})"


class Encoder:
    """Stateful convenience wrapper: ``enc.write(message) -> state`` tracking the history and
    the write clock (``step``: writes done so far)."""

    def __init__(self, code: PCMCode, state=None) -> None:
        self.code = code
        self.state = code.initial_state() if state is None else code._state(state).copy()
        self._hist: list[np.ndarray] = []
        self.step = 0

    @property
    def history(self) -> np.ndarray | None:
        """(k, n) previous states the encoder keeps (k <= memory), oldest first; None if none."""
        return np.array(self._hist, np.uint8) if self._hist else None

    def write(self, message) -> np.ndarray:
        new = self.code.write(self.state, message, self.history, step=self.step)
        if self.code.memory:
            self._hist = [*self._hist, self.state][-self.code.memory :]
        self.state = new
        self.step += 1
        return new

    def read(self) -> np.ndarray:
        return self.code.read(self.state)
