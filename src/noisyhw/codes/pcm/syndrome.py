"""Syndrome block codes and the (alpha, 1, 1) round robin.

* :class:`SyndromeCode` - blocks of b cells, each followed by g frozen guard cells
  (g = beta - floor(p / alpha), at most beta - 1: :attr:`Constraint.guards`); a
  block's digit is the syndrome H c (r bits) of its cells; the encoder plays a strategy of the
  safety game in :mod:`.game` whose win is checked exhaustively at construction. Covers every
  (alpha, beta, p); with alpha = 1 it is the guarded syndrome block code.
* :func:`round_robin` - the (alpha, 1, 1) round robin: each bit is the XOR of alpha cells and
  a change flips the cell of its group not flipped in the last alpha-1 writes. Rate 1/alpha.

See :mod:`.base` for the encoder/decoder contract.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ...errors import ParameterError, check_int
from .base import PCMCode
from .game import solve_game, syndromes
from .params import constraint

__all__ = ["SyndromeCode", "round_robin"]


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
