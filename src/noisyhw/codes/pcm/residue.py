"""Residue-class codes for (1, beta, p).

* :class:`ResidueCode` - (1, beta, p): cells i mod beta < p hold data directly, the rest never
  change. Rate p/beta (n a multiple of beta).

See :mod:`.base` for the encoder/decoder contract.
"""

from __future__ import annotations

import numpy as np

from ...errors import check_int
from .base import PCMCode
from .params import constraint

__all__ = ["ResidueCode"]


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
