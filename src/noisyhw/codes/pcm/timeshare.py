"""Time sharing of a (1, beta, p_in) code for any (alpha, beta, p).

* :class:`TimeSharedCode` - the combination for any (alpha, beta, p): k copies of a
  (1, beta, p_in) code side by side, message = XOR of the copies' messages, each write rewrites
  one copy not written in the last k-1 writes; valid when ceil(alpha / k) * p_in <= p.
  Rate R(1, beta, p_in) / k (k = alpha, p_in = p: the classic combination).

See :mod:`.base` for the encoder/decoder contract.
"""

from __future__ import annotations

import numpy as np

from ...errors import ParameterError, check_int
from .base import PCMCode
from .params import constraint
from .residue import ResidueCode
from .syndrome import SyndromeCode

__all__ = ["TimeSharedCode"]


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
