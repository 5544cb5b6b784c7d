"""Zero-error (alpha, beta, p) rewrite codes: encoder ``write`` and decoder ``read`` pairs.

Every code stores, at each write, a message of ``symbols`` digits in ``[0, radix)`` on ``n``
binary cells; the decoder sees only the current state. The encoder sees the current state and,
when ``memory > 0``, the previous ``memory`` states (``history``, oldest first) so that it knows
which cells changed recently; encoders of ``clocked`` codes also take the write clock ``step``
(number of earlier writes). Rates are exact: ``symbols * log2(radix) / n``.

Constructions
-------------
* :class:`SyndromeCode` - blocks of b cells, each followed by g frozen guard cells
  (g = beta - floor(p / alpha), at most beta - 1: :attr:`Constraint.guards`); a
  block's digit is the syndrome H c (r bits) of its cells; the encoder plays a strategy of the
  safety game in :mod:`.game` whose win is checked exhaustively at construction. Covers every
  (alpha, beta, p); with alpha = 1 it is the guarded syndrome block code.
* :func:`round_robin` - the (alpha, 1, 1) round robin: each bit is the XOR of alpha cells and
  a change flips the cell of its group not flipped in the last alpha-1 writes. Rate 1/alpha.
* :class:`StaggeredWOMCode` - any alpha >= 2: P = t + a - 1 groups take turns running a linear
  t-write WOM code for t writes and resting a - 1; rate S_t / (t + a - 1) (times s / beta in
  space). For (alpha, 1, 1): 4 / (3 (alpha + 1)) > 1/alpha for alpha >= 4. Clocked.
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
    "StaggeredWOMCode",
    "SyndromeCode",
    "TimeSharedCode",
    "round_robin",
    "staggered_wom",
]


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

    def write(self, state, message, history=None, step=None) -> np.ndarray:
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

    def write(self, state, message, history=None, step=None) -> np.ndarray:
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

    def write(self, state, message, history=None, step=None) -> np.ndarray:
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


# ----------------------------------------------------------------------------- staggered WOM
#: primitive polynomials of GF(2^d) (any irreducible one would do: the certificate re-checks)
_PRIMITIVE = {
    1: 0b11,
    2: 0b111,
    3: 0b1011,
    4: 0b10011,
    5: 0b100101,
    6: 0b1000011,
    7: 0b10000011,
    8: 0x11D,
    9: 0x211,
    10: 0x409,
    11: 0x805,
    12: 0x1053,
    13: 0x201B,
    14: 0x4443,
    15: 0x8003,
    16: 0x1100B,
}


def _gf_mul(a: int, b: int, d: int) -> int:
    """Product in GF(2^d) (d-bit ints, primitive polynomial ``_PRIMITIVE[d]``)."""
    poly, out = _PRIMITIVE[d], 0
    while b:
        if b & 1:
            out ^= a
        b >>= 1
        a <<= 1
        if a >> d:
            a ^= poly
    return out


def _cyclic_colouring(length: int, window: int, colours: int) -> list[int] | None:
    """A cyclic sequence of ``length`` colours in which any ``window`` cyclically consecutive
    entries differ (backtracking; small sizes only), or None."""
    seq: list[int] = []

    def ok(c: int) -> bool:
        i = len(seq)
        near = seq[max(0, i - window + 1) :]
        # wrap-around: positions i..i+window-1 (mod length) must differ too
        wrap = seq[: max(0, i + window - length)]
        return c not in near and c not in wrap

    def go() -> bool:
        if len(seq) == length:
            return True
        for c in range(colours):
            if ok(c):
                seq.append(c)
                if go():
                    return True
                seq.pop()
        return False

    return seq if go() else None


def _gf2_inverse(cols: list[int], r: int) -> list[int] | None:
    """Rows of B^-1 over GF(2) for the r x r matrix B with columns ``cols`` (r-bit ints):
    coefficient k of B^-1 v is parity(rows[k] & v). None if B is singular."""
    rows = [sum(((cols[c] >> q) & 1) << c for c in range(r)) | (1 << (r + q)) for q in range(r)]
    for c in range(r):
        piv = next((i for i in range(c, r) if (rows[i] >> c) & 1), None)
        if piv is None:
            return None
        rows[c], rows[piv] = rows[piv], rows[c]
        for i in range(r):
            if i != c and (rows[i] >> c) & 1:
                rows[i] ^= rows[c]
    return [row >> r for row in rows]


class StaggeredWOMCode(PCMCode):
    """Staggered linear WOM groups for any (alpha, beta, p); for (alpha, 1, 1) with alpha >= 4
    they beat the round robin's 1/alpha.

    The data cells of one copy form P = t + a - 1 groups of g cells. Group j is *active* at the
    t writes w with (w - j) mod P in 0..t-1 (its *span*; phase i = (w - j) mod P) and rests for
    the next a - 1 writes. Inside a span the group runs a linear t-write WOM code (local
    columns: d-bit ints, ``columns``): every write moves its local syndrome by any vector of
    GF(2)^d flipping only cells not flipped earlier in the span. So a data cell flips at most
    once per span, and two flips of one cell in different spans are >= P - t + 1 = a writes
    apart: at most q = ceil(alpha / a) changes of a cell in any alpha consecutive writes
    (a = ceil(alpha / q), q = ``flips``).

    Space: data cells sit at the positions i with i mod beta < s (s = min(beta, p // q)), the
    other positions never change, so any beta contiguous cells hold exactly s positions that may
    be data: a window costs <= s q <= p. With beta = 1 every cell is a data cell.

    The decoder reads the state only: message = XOR over the data cells of value 1 of their
    global column, E_j(local column) for a cell of group j, E_j: GF(2)^d -> GF(2)^r (r = t d)
    the embedding x -> (x, c_j x, ..., c_j^(t-1) x) over GF(2^d) (or (0, ..., 0, x) for the
    point at infinity): t distinct points give a Vandermonde matrix, so the t active groups'
    images are in direct sum = GF(2)^r whenever their points differ, which a cyclic colouring
    of the P groups guarantees. The encoder splits target XOR current syndrome into one
    component per active group (B_w^-1, B_w the active basis) and each group serves its
    component from its WOM table. Certificate at construction: the WOM game is won from the
    empty flipped set (:func:`~noisyhw.codes.pcm.game.solve_wom`) and every B_w is invertible.

    The encoder needs the write clock ``step`` (mod P) and the changes of the last t - 1 writes
    (memory t - 1): ``clocked = True``. n = ceil(copies P g / s) beta, radix 2^r,
    symbols = copies; rate = t d copies / n = S_t / (t + a - 1) * s / beta when s divides
    copies P g, S_t = t d / g the WOM sum-rate.
    """

    name = "staggered-wom"
    clocked = True

    def __init__(
        self,
        alpha: int,
        columns,
        d: int,
        t: int,
        *,
        beta: int = 1,
        p: int = 1,
        copies: int = 1,
        flips: int | None = None,
    ):
        from .game import MAX_WOM_CELLS, solve_wom, two_write_first

        self.constraint = c = constraint(alpha, beta, p)
        self.flips = check_int("flips", c.p if flips is None else flips, 1, c.p)
        self.stride = min(c.beta, c.p // self.flips)  # data positions per beta cells
        self.d = check_int("d", d, 1, max(_PRIMITIVE))
        self.t = check_int("t", t, 1, 2**self.d + 1)
        self.columns = [int(v) for v in columns]
        self.g = len(self.columns)
        self.copies = check_int("copies", copies, 1)
        self.spacing = -(-c.alpha // self.flips)  # a: flips of one cell are >= a writes apart
        self.period = self.t + self.spacing - 1
        self.r = self.t * self.d
        if self.r > 62:
            raise ParameterError("t * d", "must be <= 62", self.r)
        if self.g <= MAX_WOM_CELLS:
            tables = solve_wom(self.columns, self.d, self.t)
            self.first = None
        elif self.t == 2:  # any size: first-write table + linear algebra at the second write
            tables = None
            self.first = two_write_first(self.columns, self.d)
        else:
            raise ParameterError("columns", f"more than {MAX_WOM_CELLS} cells need t = 2", self.g)
        if tables is None and self.first is None:
            raise ParameterError(
                "columns", f"do not form a {self.t}-write WOM code on GF(2)^{self.d}", columns
            )
        self.tables = tables
        colours = _cyclic_colouring(self.period, self.t, 2**self.d + 1)
        if colours is None:  # e.g. d = 1, t = 3, P = 4 needs 4 > 2^d + 1 curve points
            raise ParameterError(
                "d",
                f"too small: {2**self.d + 1} curve points cannot colour {self.period} groups so "
                f"that any {self.t} consecutive ones differ",
                self.d,
            )
        self.colours = colours
        self.embed = [self._embedding(col) for col in colours]  # per group: d basis images
        self.gcols = np.array(
            [[self._apply(self.embed[j], v) for v in self.columns] for j in range(self.period)],
            np.int64,
        )  # (P, g) global columns
        self.inverse = []
        for w in range(self.period):
            basis = [v for i in range(self.t) for v in self.embed[(w - i) % self.period]]
            inv = _gf2_inverse(basis, self.r)
            if inv is None:  # pragma: no cover - the Vandermonde argument forbids it
                raise ParameterError("colours", f"active groups at write {w} not independent")
            self.inverse.append(np.array(inv, np.int64))
        # column b of B_w^-1: the coefficient int of unit target 1 << b (split = XOR of columns)
        rows = np.array(self.inverse, np.int64)  # (P, r) row masks
        bits = (rows[:, :, None] >> np.arange(self.r)) & 1  # (P, k, b) entry k, b
        self.split_columns = (bits << np.arange(self.r)[None, :, None]).sum(axis=1)  # (P, r)
        n_data = self.copies * self.period * self.g
        self.n = -(-n_data // self.stride) * c.beta
        pos = np.arange(self.n)
        self.data = pos[pos % c.beta < self.stride][:n_data]  # data cell k sits at data[k]
        self.radix = 2**self.r
        self.symbols = self.copies
        self.memory = self.t - 1
        self._kernel_args = self._pack_kernel_args()

    def _embedding(self, colour: int) -> list[int]:
        """Images of the d unit vectors of GF(2)^d under E for a curve point (2^d = infinity)."""
        d, out = self.d, []
        for k in range(d):
            x, v = 1 << k, 0
            for i in range(self.t):
                if colour == 2**d:
                    block = x if i == self.t - 1 else 0
                else:
                    block = x
                    for _ in range(i):
                        block = _gf_mul(block, colour, d)
                v |= block << (i * d)
            out.append(v)
        return out

    @staticmethod
    def _apply(images: list[int], v: int) -> int:
        out = 0
        for k, img in enumerate(images):
            if (v >> k) & 1:
                out ^= img
        return out

    @property
    def sum_rate(self) -> float:
        """S_t = t d / g of the local WOM code (bits per cell per span)."""
        return self.t * self.d / self.g

    def read(self, state) -> np.ndarray:
        s = self._state(state)[self.data].reshape(self.copies, self.period, self.g)
        return np.bitwise_xor.reduce(np.where(s == 1, self.gcols, 0).reshape(self.copies, -1), 1)

    def _pack_kernel_args(self) -> tuple:
        """Read-only arrays of :func:`._kernels.staggered_write`: data (copies P g,), gcols
        (P, g), split (P, r), tables (t, 2^g, 2^d) or (1, 1, 1), first (2^d,) or (1,), columns
        (g,), all int64 and contiguous; then t, d and the mode."""
        from ._kernels import MODE_TABLES, MODE_TWO_WRITE

        if self.tables is not None:
            tables, first, mode = np.stack(self.tables), np.zeros(1, np.int64), MODE_TABLES
        else:
            tables, first, mode = np.zeros((1, 1, 1), np.int64), self.first, MODE_TWO_WRITE
        arrays = (self.data, self.gcols, self.split_columns, tables, first, self.columns)
        packed = tuple(np.ascontiguousarray(a, dtype=np.int64) for a in arrays)
        return (*packed, self.t, self.d, mode)

    def write(self, state, message, history=None, step=None) -> np.ndarray:
        """New state (n,) uint8 (see :meth:`PCMCode.write`); one compiled call for all copies
        (:func:`._kernels.staggered_write`). Data cells of ``state`` / ``history`` must be 0/1."""
        from ._kernels import BAD_HISTORY, NOT_BINARY, staggered_write

        if step is None:
            raise ParameterError("step", "is needed: this code's encoder runs on the write clock")
        w = check_int("step", step, 0)
        s = np.ascontiguousarray(self._state(state))
        m = np.ascontiguousarray(self._message(message))
        new, status = staggered_write(s, m, self._recent(history), w, *self._kernel_args)
        if status == BAD_HISTORY:
            raise ParameterError("history", "is not one this code's encoder can produce")
        if status == NOT_BINARY:
            raise ParameterError("state", "data cells (and history) must be 0/1", "other values")
        return new

    def describe(self) -> dict:
        return {
            **super().describe(),
            "g": self.g,
            "d": self.d,
            "t": self.t,
            "period": self.period,
            "flips": self.flips,
            "stride": self.stride,
            "columns": self.columns,
            "sum_rate": self.sum_rate,
        }

    def __repr__(self) -> str:
        c = self.constraint
        return (
            f"StaggeredWOMCode(({c.alpha},{c.beta},{c.p}), g={self.g}, d={self.d}, t={self.t}, "
            f"P={self.period}, flips={self.flips}, stride={self.stride}, copies={self.copies}, "
            f"n={self.n}, rate={self.rate:.4f})"
        )


def staggered_wom(
    alpha: int,
    p: int = 1,
    copies: int = 1,
    *,
    beta: int = 1,
    t: int | None = None,
    d: int | None = None,
) -> StaggeredWOMCode:
    """The best :class:`StaggeredWOMCode` for (alpha, beta, p) over the searched WOM groups
    (``_tables.WOM_CODES``; only write count ``t`` / dimension ``d`` if given) and every split
    of p into q flips per cell times s = p // q data positions per beta cells.

    Highest rate S_t / (t + ceil(alpha / q) - 1) * s / beta first, then the shortest code. For
    (alpha, 1, 1), alpha >= 4, this is the Rivest-Shamir group (t = 2, d = 2, g = 3): rate
    4 / (3 (alpha + 1)).
    """
    from ._tables import WOM_CODES

    c = constraint(alpha, beta, p)
    keys = [k for k in WOM_CODES if (t is None or k[0] == t) and (d is None or k[1] == d)]
    if not keys:
        raise ParameterError("t, d", f"one of the searched groups {sorted(WOM_CODES)}", (t, d))
    options = []
    for q in range(1, c.p + 1):
        s = min(c.beta, c.p // q)
        a = -(-c.alpha // q)
        for kt, kd in keys:
            g = len(WOM_CODES[(kt, kd)])
            if kt == 1 and kd > 1:
                continue
            period = kt + a - 1
            n_data = period * g
            n = -(-n_data // s) * c.beta
            options.append((kt * kd / n, -n, q, kt, kd))
    _, _, q, kt, kd = max(options)
    return StaggeredWOMCode(
        c.alpha, WOM_CODES[(kt, kd)], kd, kt, beta=c.beta, p=c.p, copies=copies, flips=q
    )
