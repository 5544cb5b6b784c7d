"""Staggered WOM codes for any alpha >= 2.

* :class:`StaggeredWOMCode` - any alpha >= 2: P = t + a - 1 groups take turns running a linear
  t-write WOM code for t writes and resting a - 1; rate S_t / (t + a - 1) (times s / beta in
  space). For (alpha, 1, 1): 4 / (3 (alpha + 1)) > 1/alpha for alpha >= 4. Clocked.

See :mod:`.base` for the encoder/decoder contract.
"""

from __future__ import annotations

import numpy as np

from ...errors import ParameterError, check_int
from .base import PCMCode
from .params import constraint

__all__ = ["StaggeredWOMCode", "staggered_wom"]


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
