"""Zero-error (alpha, beta, p) rewrite codes: encoder ``write`` and decoder ``read`` pairs.

Every code stores, at each write, a message of ``symbols`` digits in ``[0, radix)`` on ``n``
binary cells; the decoder sees only the current state. The encoder sees the current state and,
when ``memory > 0``, the previous ``memory`` (= alpha - 1) states (``history``, oldest first) so
that it knows which cells changed recently. Rates are exact: ``symbols * log2(radix) / n``.

Constructions
-------------
* :class:`SyndromeCode` - blocks of b cells, each followed by g frozen guard cells
  (g = beta - floor(p / alpha), at most beta - 1: :attr:`Constraint.guards`); a
  block's digit is the syndrome H c (r bits) of its cells; the encoder plays a strategy of the
  safety game in :mod:`.game` whose win is checked exhaustively at construction. Covers every
  (alpha, beta, p); with alpha = 1 it is the guarded syndrome block code.
* :func:`round_robin` - the (alpha, 1, 1) round robin: each bit is the XOR of alpha cells and
  a change flips the cell of its group not flipped in the last alpha-1 writes. Rate 1/alpha.
* :class:`ResidueCode` - (1, beta, p): cells i mod beta < p hold data directly, the rest never
  change. Rate p/beta (n a multiple of beta).
* :class:`TimeSharedCode` - the combination for any (alpha, beta, p): k copies of a
  (1, beta, p_in) code side by side, message = XOR of the copies' messages, each write rewrites
  one copy not written in the last k-1 writes; valid when ceil(alpha / k) * p_in <= p.
  Rate R(1, beta, p_in) / k (k = alpha, p_in = p: the classic combination).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from functools import cached_property

import numpy as np

from ...errors import ParameterError, check_int
from .game import solve_game, syndromes
from .params import Constraint, constraint

__all__ = [
    "Encoder",
    "PCMCode",
    "ResidueCode",
    "SyndromeCode",
    "TimeSharedCode",
    "round_robin",
]


class PCMCode(ABC):
    """Base class: see the module docstring for the contract."""

    constraint: Constraint
    n: int
    radix: int
    symbols: int
    memory: int
    name: str = "code"

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
        return s.astype(np.uint8, copy=False)

    def _message(self, message) -> np.ndarray:
        m = np.asarray(message, dtype=np.int64).reshape(-1)
        if m.shape != (self.symbols,):
            raise ParameterError("message", f"must hold {self.symbols} digit(s)", m.shape)
        if m.size and (m.min() < 0 or m.max() >= self.radix):
            raise ParameterError("message", f"digits must be in [0, {self.radix})", m.tolist())
        return m

    def _diffs(self, state: np.ndarray, history) -> np.ndarray:
        """(memory, n) change rows, most recent first (zeros where there was no write)."""
        out = np.zeros((self.memory, self.n), np.uint8)
        if self.memory == 0 or history is None:
            return out
        h = np.asarray(history, dtype=np.uint8)
        if h.ndim != 2 or h.shape[1] != self.n:
            raise ParameterError("history", f"must be (k, {self.n}) previous states", h.shape)
        h = h[-self.memory :]  # only the most recent `memory` states matter
        chain = np.concatenate([h, state[None]], axis=0)[::-1]  # current first
        d = chain[:-1] ^ chain[1:]
        out[: d.shape[0]] = d
        return out

    @abstractmethod
    def read(self, state) -> np.ndarray:
        """Decode the stored message (symbols,) int64 from a state (n,)."""

    @abstractmethod
    def write(self, state, message, history=None) -> np.ndarray:
        """New state (n,) uint8 storing ``message``.

        ``history``: (k, n) previous states, oldest first (None: no earlier writes); only the
        last ``memory`` rows are used, fewer mean fewer earlier writes.
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
            "rate": self.rate,
        }

    def __repr__(self) -> str:
        c = self.constraint
        return f"{self.name}(({c.alpha},{c.beta},{c.p}), n={self.n}, rate={self.rate:.4f})"


class Encoder:
    """Stateful convenience wrapper: ``enc.write(message) -> state`` tracking the history."""

    def __init__(self, code: PCMCode, state=None) -> None:
        self.code = code
        self.state = code.initial_state() if state is None else code._state(state).copy()
        self._hist: list[np.ndarray] = []

    def write(self, message) -> np.ndarray:
        hist = np.array(self._hist, np.uint8) if self._hist else None
        new = self.code.write(self.state, message, hist)
        if self.code.memory:
            self._hist = [*self._hist, self.state][-self.code.memory :]
        self.state = new
        return new

    def read(self) -> np.ndarray:
        return self.code.read(self.state)


# ----------------------------------------------------------------------------- syndrome blocks
class SyndromeCode(PCMCode):
    """``copies`` blocks of ``b`` cells + ``g`` guard cells; digit = syndrome (r bits).

    ``columns``: the b syndrome columns as r-bit ints. Construction solves the safety game
    (:func:`~noisyhw.codes.pcm.game.solve_game`) and raises ParameterError if the columns admit
    no zero-error strategy. The game keeps every window inside a block (cut at its edges) within
    p; g = :attr:`Constraint.guards` = min(beta - 1, beta - floor(p / alpha)) frozen cells after
    each block bound every window that touches two blocks (it holds <= floor(p / alpha) data
    cells, each changed <= alpha times). n = copies * (b + g), radix = 2^r, symbols = copies.
    """

    name = "syndrome"

    def __init__(self, alpha: int, beta: int, p: int, b: int, r: int, columns, copies: int = 1):
        self.constraint = constraint(alpha, beta, p)
        self.b = check_int("b", b, 1, 22)
        self.r = check_int("r", r, 1, 20)
        self.copies = check_int("copies", copies, 1)
        self.columns = [int(c) for c in columns]
        self.guards = self.constraint.guards
        self.block = self.b + self.guards
        self.n = self.copies * self.block
        self.radix = 2**self.r
        self.symbols = self.copies
        self.memory = self.constraint.alpha - 1
        self.syn = syndromes(self.columns, self.b)
        table = solve_game(*self.constraint, self.b, self.columns, self.r)
        if table is None:
            raise ParameterError(
                "columns", f"admit no zero-error strategy for {self.constraint}", self.columns
            )
        self.table = table
        self._weights = 1 << np.arange(self.b, dtype=np.int64)

    def with_copies(self, copies: int) -> SyndromeCode:
        """The same block repeated ``copies`` times (tables shared)."""
        new = object.__new__(SyndromeCode)
        new.__dict__.update(self.__dict__)
        new.copies = check_int("copies", copies, 1)
        new.n = new.copies * new.block
        new.symbols = new.copies
        return new

    def _pack(self, rows: np.ndarray) -> np.ndarray:
        """(..., n) -> (..., copies) ints of each block's b data cells."""
        blk = rows.reshape(*rows.shape[:-1], self.copies, self.block)[..., : self.b]
        return blk.astype(np.int64) @ self._weights

    def read(self, state) -> np.ndarray:
        return self.syn[self._pack(self._state(state))]

    def write(self, state, message, history=None) -> np.ndarray:
        s = self._state(state)
        m = self._message(message)
        cur = self._pack(s)
        hid = np.zeros(self.copies, np.int64)
        if self.memory:
            d = self._pack(self._diffs(s, history))  # (memory, copies), most recent first
            for i in range(self.memory):
                hid |= d[i] << (self.b * i)
        x = self.table[hid, m ^ self.syn[cur]]
        if np.any(x < 0):
            raise ParameterError("history", "is not one this code's encoder can produce")
        new = cur ^ x
        out = s.copy().reshape(self.copies, self.block)
        out[:, : self.b] = ((new[:, None] >> np.arange(self.b)) & 1).astype(np.uint8)
        return out.reshape(-1)

    @cached_property
    def max_changes(self) -> int:
        """Largest number of cells one write changes in one block."""
        t = self.table[self.table >= 0]
        return int(max(bin(int(v)).count("1") for v in np.unique(t)))

    def describe(self) -> dict:
        return {**super().describe(), "b": self.b, "r": self.r, "columns": self.columns}

    def __repr__(self) -> str:
        c = self.constraint
        return (
            f"SyndromeCode(({c.alpha},{c.beta},{c.p}), b={self.b}, r={self.r}, "
            f"copies={self.copies}, n={self.n}, rate={self.rate:.4f})"
        )


def round_robin(alpha: int, copies: int = 1) -> SyndromeCode:
    """(alpha, 1, 1) round robin: each bit is the XOR of alpha cells; rate exactly 1/alpha."""
    a = check_int("alpha", alpha, 2)
    code = SyndromeCode(a, 1, 1, a, 1, [1] * a, copies)
    code.name = "round-robin"
    return code


# ----------------------------------------------------------------------------- residue classes
class ResidueCode(PCMCode):
    """(1, beta, p): cells with i mod beta < p store bits directly; the others never change.

    Any beta consecutive cells contain exactly p data cells, so every write costs <= p in every
    window. n = groups * beta, radix 2, symbols = groups * p, rate p / beta.
    """

    name = "residue"

    def __init__(self, beta: int, p: int, groups: int = 1):
        self.constraint = constraint(1, beta, p)
        self.groups = check_int("groups", groups, 1)
        self.n = self.groups * self.constraint.beta
        self.radix = 2
        self.symbols = self.groups * self.constraint.p
        self.memory = 0
        cells = np.arange(self.n)
        self.data = cells[cells % self.constraint.beta < self.constraint.p]

    def read(self, state) -> np.ndarray:
        return self._state(state)[self.data].astype(np.int64)

    def write(self, state, message, history=None) -> np.ndarray:
        out = self._state(state).copy()
        out[self.data] = self._message(message).astype(np.uint8)
        return out


# ----------------------------------------------------------------------------- time sharing
class TimeSharedCode(PCMCode):
    """Combination for any (alpha, beta, p): k copies of a (1, beta, p_in) code, time-shared.

    Copy j occupies cells [j n_in, (j+1) n_in). The message is the digit-wise XOR of the copies'
    messages (radix a power of two). A write rewrites one copy not written in the last k-1
    writes (one exists: each write changes at most one copy), so a copy is written at most
    w = ceil(alpha / k) times in any alpha consecutive writes. A beta-window then holds at most
    w * p_in changes: inside one copy the inner code keeps every write within p_in, and a window
    across a copy boundary contains the inner code's beta - p_in guard cells, hence at most p_in
    data cells, each changed at most w times; a ResidueCode inner (n_in a multiple of beta) keeps
    exactly p_in data cells in every window even across copies; with ``inner=None`` (plain
    cells) a window holds at most w * beta changes. The constructor checks that this is <= p.
    Rate = R_inner / k; memory k - 1.
    With k = 1 (memory 0) it is the inner code run under a p_in <= p / alpha budget.
    """

    name = "time-shared"

    def __init__(
        self,
        alpha: int,
        beta: int,
        p: int,
        inner: PCMCode | None = None,
        *,
        copies: int | None = None,
        width: int = 1,
    ):
        self.constraint = c = constraint(alpha, beta, p)
        k = c.alpha if copies is None else check_int("copies", copies, 1, c.alpha)
        per_window = -(-c.alpha // k)  # writes of one copy inside alpha consecutive writes
        if inner is None:
            self.inner = None
            self.n_in = check_int("width", width, 1)
            self.radix, self.symbols = 2, self.n_in
            worst = per_window * c.beta
        else:
            ic = inner.constraint
            if ic.alpha != 1 or ic.beta != c.beta:
                raise ParameterError("inner", f"must be a (1, {c.beta}, p_in) code", str(ic))
            if inner.radix & (inner.radix - 1):
                raise ParameterError("inner", "radix must be a power of two", inner.radix)
            if isinstance(inner, ResidueCode):
                if inner.n % c.beta:
                    raise ParameterError("inner", "residue code length must be a multiple of beta")
            elif not isinstance(inner, SyndromeCode):
                raise ParameterError("inner", "must be a SyndromeCode or ResidueCode", inner.name)
            self.inner = inner
            self.n_in = inner.n
            self.radix, self.symbols = inner.radix, inner.symbols
            worst = per_window * ic.p
        if worst > c.p:
            raise ParameterError(
                "copies", f"{k} copies let a window collect {worst} > p = {c.p} changes", k
            )
        self.copies = k
        self.n = k * self.n_in
        self.memory = k - 1

    def _read_copy(self, cells: np.ndarray) -> np.ndarray:
        return cells.astype(np.int64) if self.inner is None else self.inner.read(cells)

    def read(self, state) -> np.ndarray:
        s = self._state(state).reshape(self.copies, self.n_in)
        out = np.zeros(self.symbols, np.int64)
        for j in range(self.copies):
            out ^= self._read_copy(s[j])
        return out

    def write(self, state, message, history=None) -> np.ndarray:
        s = self._state(state)
        m = self._message(message)
        cur = self.read(s)
        if np.array_equal(cur, m):
            return s.copy()
        recent = self._diffs(s, history).reshape(self.memory, self.copies, self.n_in)
        busy = recent.any(axis=(0, 2))
        j = int(np.flatnonzero(~busy)[0])
        blocks = s.reshape(self.copies, self.n_in).copy()
        target = m ^ cur ^ self._read_copy(blocks[j])
        if self.inner is None:
            blocks[j] = target.astype(np.uint8)
        else:
            blocks[j] = self.inner.write(blocks[j], target)
        return blocks.reshape(-1)

    def describe(self) -> dict:
        d = super().describe()
        d["inner"] = None if self.inner is None else repr(self.inner)
        d["copies"] = self.copies
        return d

    def __repr__(self) -> str:
        c = self.constraint
        return (
            f"TimeSharedCode(({c.alpha},{c.beta},{c.p}), copies={self.copies}, "
            f"inner={self.inner!r}, n={self.n}, rate={self.rate:.4f})"
        )
