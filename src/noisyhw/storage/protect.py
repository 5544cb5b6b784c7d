"""Protections without ECC: weight nulling (one parity bit) and range detection.

* **Weight nulling** keeps one even-parity bit per stored value in **bit 0** of its word: the
  representation is reduced by one value bit (:meth:`Representation.reduced`: a float loses its
  mantissa LSB, ``fixed<n>``/``hwo<n>`` keep ``n - 1`` bits of value), so the width and the
  bits per parameter stay the same. A value whose stored word has odd parity (an odd number of
  flips) decodes to 0.0; an even number of flips in one word goes undetected.
* **Range detection** decodes to 0.0 every value outside ``[lo - m a, hi + m a]`` (and NaN/inf),
  where ``[lo, hi]`` is the tensor's range at store time (of the weights and of their stored
  values), ``a = max(|lo|, |hi|)`` and ``m`` the
  margin. It costs no stored bits (two side-information numbers per tensor). Fixed point and HWO
  can only decode into their range, so for them it catches nothing beyond the margin.

Both combine with every representation (``"nulling+range"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError, check_float
from .formats import Representation, StoredTensor

__all__ = ["PROTECTIONS", "Protection", "decode_tensor", "encode_tensor", "protection"]

PROTECTIONS = ("none", "nulling", "range", "nulling+range")


@dataclass(frozen=True)
class Protection:
    """Which detections are on; ``margin`` is the range check's slack (fraction of max|w|)."""

    nulling: bool = False
    range_check: bool = False
    margin: float = 0.1

    def __post_init__(self) -> None:
        check_float("margin", self.margin, 0.0)

    @property
    def name(self) -> str:
        parts = [p for p, on in (("nulling", self.nulling), ("range", self.range_check)) if on]
        return "+".join(parts) or "none"


def protection(spec: str | Protection, margin: float = 0.1) -> Protection:
    """Parse ``none``, ``nulling``, ``range`` or ``nulling+range`` (also ``range+nulling``)."""
    if isinstance(spec, Protection):
        return spec
    parts = set(str(spec).strip().lower().split("+"))
    if not parts <= {"none", "nulling", "range"} or ("none" in parts and len(parts) > 1):
        raise ParameterError("protection", f"must be one of {', '.join(PROTECTIONS)}", spec)
    return Protection("nulling" in parts, "range" in parts, margin)


def _inner(rep: Representation, prot: Protection) -> Representation:
    return rep.reduced() if prot.nulling else rep


def encode_tensor(weights: np.ndarray, rep: Representation, prot: Protection) -> StoredTensor:
    """Memory image of ``weights`` under ``rep`` with ``prot`` (width ``rep.width``)."""
    w = np.asarray(weights, dtype=np.float32)
    inner = _inner(rep, prot)
    st = inner.encode(w)
    words = st.words
    if prot.nulling:
        wide = words.astype(rep.container)
        parity = (np.bitwise_count(wide) & 1).astype(rep.container)
        words = (wide << rep.container(1)) | parity
    meta = dict(st.meta)
    if prot.range_check and w.size:
        clean = inner.decode(st)  # the stored values may round slightly outside [min w, max w]
        meta["range_lo"] = float(min(w.min(), clean.min()))
        meta["range_hi"] = float(max(w.max(), clean.max()))
    elif prot.range_check:
        meta["range_lo"] = meta["range_hi"] = 0.0
    return StoredTensor(words.astype(rep.container, copy=False), rep.width, meta)


def decode_tensor(
    stored: StoredTensor, rep: Representation, prot: Protection
) -> tuple[np.ndarray, int, int]:
    """Weights of a (possibly corrupted) image: ``(float32 array, n_nulled, n_range_zeroed)``."""
    inner = _inner(rep, prot)
    words = stored.words
    bad = None
    if prot.nulling:
        valid = words & rep.container(2**rep.width - 1)
        bad = (np.bitwise_count(valid) & 1).astype(bool)
        words = valid >> rep.container(1)
    values = inner.decode(StoredTensor(words, inner.width, stored.meta))
    n_null = 0
    if bad is not None and bad.any():
        n_null = int(bad.sum())
        values[bad] = 0.0
    n_range = 0
    if prot.range_check:
        lo, hi = stored.meta["range_lo"], stored.meta["range_hi"]
        slack = prot.margin * max(abs(lo), abs(hi))
        with np.errstate(invalid="ignore"):
            out = ~((values >= lo - slack) & (values <= hi + slack))
        if bad is not None:
            out &= ~bad
        if out.any():
            n_range = int(out.sum())
            values[out] = 0.0
    return values, n_null, n_range
