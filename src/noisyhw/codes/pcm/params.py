"""Validation of the (alpha, beta, p) time-space constraint parameters."""

from __future__ import annotations

from typing import NamedTuple

from ...errors import ParameterError, check_int

__all__ = ["Constraint", "constraint"]


class Constraint(NamedTuple):
    """An (alpha, beta, p) constraint: in any ``alpha`` consecutive rewrites and any ``beta``
    contiguous cells, at most ``p`` cell changes in total."""

    alpha: int
    beta: int
    p: int

    @property
    def unconstrained(self) -> bool:
        """True when ``p >= alpha * beta``: no alpha x beta box can exceed p."""
        return self.p >= self.alpha * self.beta

    @property
    def guards(self) -> int:
        """Frozen cells needed between two independently coded blocks: beta - floor(p / alpha),
        at most beta - 1.

        A window that touches two blocks contains every guard cell between them, hence at most
        beta - g data cells, each changing at most alpha times in alpha writes: <= p when
        g >= beta - floor(p / alpha). With beta - 1 guards no window touches two blocks at all.
        """
        return min(self.beta - 1, self.beta - self.p // self.alpha)

    def transpose(self) -> Constraint:
        """(beta, alpha, p): same 2-D capacity (time and space swap roles)."""
        return Constraint(self.beta, self.alpha, self.p)

    def __str__(self) -> str:
        return f"({self.alpha},{self.beta},{self.p})"


def constraint(alpha: int, beta: int, p: int, *, allow_unconstrained: bool = False) -> Constraint:
    """Validate and return a :class:`Constraint`.

    Raises :class:`~noisyhw.errors.ParameterError` when a parameter is not an integer >= 1, or,
    unless ``allow_unconstrained``, when ``p >= alpha * beta`` (every change pattern is allowed,
    so capacity is 1 bit/cell/write and there is nothing to code).
    """
    a = check_int("alpha", alpha, 1)
    b = check_int("beta", beta, 1)
    q = check_int("p", p, 1)
    c = Constraint(a, b, q)
    if c.unconstrained and not allow_unconstrained:
        raise ParameterError(
            "p",
            f"must be < alpha*beta = {a * b}; p >= alpha*beta is unconstrained "
            "(every change pattern is allowed, capacity 1 bit/cell/write)",
            q,
        )
    return c
