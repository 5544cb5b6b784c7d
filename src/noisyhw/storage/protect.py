"""Protections without ECC: weight nulling (one parity bit) and range detection.

* **Weight nulling** keeps one even-parity bit per stored value in **bit 0** of its word: the
  representation is reduced by one value bit (:meth:`Representation.reduced`: a float loses its
  mantissa LSB, ``fixed<n>``/``hwo<n>`` keep ``n - 1`` bits of value), so the width and the
  bits per parameter stay the same. A value whose stored word has odd parity (an odd number of
  flips) decodes to 0.0; an even number of flips in one word goes undetected.
  With ``parity="extra"`` (``"nulling-extra"``) the parity bit is an extra stored bit above the
  full-precision value instead: width ``rep.width + 1``, no precision lost, one bit more per
  parameter (the equal-storage comparison counts it).
* **Range detection** decodes to 0.0 every value outside ``[lo - m a, hi + m a]`` (and NaN/inf),
  where ``[lo, hi]`` is the tensor's range at store time (of the weights and of their stored
  values), ``a = max(|lo|, |hi|)`` and ``m`` the
  margin. It costs no stored bits (two side-information numbers per tensor). Fixed point and HWO
  can only decode into their range, so for them it catches nothing beyond the margin.

Both combine with every representation (``"nulling+range"``).

* **Polar ECC** (``"polar:<rate>[:sc|:scl<L>][:n<N>]"``, :mod:`.ecc`) encodes the stored words
  (after any nulling parity) into ``(n, rate n)`` polar codewords; the codewords are what is
  stored and flips, and the decoder corrects before nulling / range detection see the words.
  It combines with the two detections (``"polar:0.5+range"``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError, check_choice, check_float
from .ecc import ECC_SPEC, CodedTensor, PolarECC
from .formats import Representation, StoredTensor, container_for

__all__ = ["PROTECTIONS", "Protection", "decode_tensor", "encode_tensor", "protection"]

PROTECTIONS = (
    "none",
    "nulling",
    "nulling-extra",
    "range",
    "nulling+range",
    "nulling-extra+range",
    ECC_SPEC,
)


@dataclass(frozen=True)
class Protection:
    """Which detections are on. ``margin`` is the range check's slack (fraction of max|w|);
    ``parity`` says which bit the nulling parity costs: ``"lsb"`` (the value's least
    significant bit, same width) or ``"extra"`` (one more stored bit); ``ecc`` an optional
    polar code over the stored words."""

    nulling: bool = False
    range_check: bool = False
    margin: float = 0.1
    parity: str = "lsb"
    ecc: PolarECC | None = None

    def __post_init__(self) -> None:
        check_float("margin", self.margin, 0.0)
        check_choice("parity", self.parity, ("lsb", "extra"))
        if self.ecc is not None and not isinstance(self.ecc, PolarECC):
            raise ParameterError("ecc", "must be a PolarECC or None", type(self.ecc).__name__)

    @property
    def name(self) -> str:
        null = "nulling" if self.parity == "lsb" else "nulling-extra"
        parts = [p for p, on in ((null, self.nulling), ("range", self.range_check)) if on]
        parts += [self.ecc.name] if self.ecc is not None else []
        return "+".join(parts) or "none"

    def width(self, rep: Representation) -> int:
        """Bits per value word of ``rep`` under the detections (before any ECC)."""
        return rep.width + int(self.nulling and self.parity == "extra")


def protection(spec: str | Protection, margin: float = 0.1) -> Protection:
    """Parse one of :data:`PROTECTIONS` (parts joined by ``+`` in any order)."""
    if isinstance(spec, Protection):
        return spec
    parts = str(spec).strip().lower().split("+")
    codes = [p for p in parts if p.startswith("polar")]
    if len(codes) > 1:
        raise ParameterError("protection", "at most one polar code", spec)
    ecc = PolarECC.parse(codes[0]) if codes else None
    parts = [p for p in parts if not p.startswith("polar")]
    if codes and "none" in parts:  # "none+polar:0.5" is no protection and a code at once
        raise ParameterError("protection", f"must be one of {', '.join(PROTECTIONS)}", spec)
    parts = parts or ["none"]
    ok = set(parts) <= {"none", "nulling", "nulling-extra", "range"} and len(set(parts)) == len(
        parts
    )
    if not ok or ("none" in parts and len(parts) > 1) or {"nulling", "nulling-extra"} <= set(parts):
        raise ParameterError("protection", f"must be one of {', '.join(PROTECTIONS)}", spec)
    extra = "nulling-extra" in parts
    return Protection(
        "nulling" in parts or extra, "range" in parts, margin, "extra" if extra else "lsb", ecc
    )


def _inner(rep: Representation, prot: Protection) -> Representation:
    return rep.reduced() if prot.nulling and prot.parity == "lsb" else rep


def encode_tensor(weights: np.ndarray, rep: Representation, prot: Protection) -> StoredTensor:
    """Memory image of ``weights`` under ``rep`` with ``prot`` (width ``prot.width(rep)``)."""
    w = np.asarray(weights, dtype=np.float32)
    inner = _inner(rep, prot)
    width = prot.width(rep)
    container = container_for(width)
    st = inner.encode(w)
    words = st.words
    if prot.nulling:
        wide = words.astype(container)
        parity = (np.bitwise_count(wide) & 1).astype(container)
        words = (wide << container(1)) | parity
    meta = dict(st.meta)
    if prot.range_check and w.size:
        clean = inner.decode(st)  # the stored values may round slightly outside [min w, max w]
        meta["range_lo"] = float(min(w.min(), clean.min()))
        meta["range_hi"] = float(max(w.max(), clean.max()))
    elif prot.range_check:
        meta["range_lo"] = meta["range_hi"] = 0.0
    out = StoredTensor(words.astype(container, copy=False), width, meta)
    return prot.ecc.encode(out) if prot.ecc is not None else out


def decode_tensor(
    stored: StoredTensor,
    rep: Representation,
    prot: Protection,
    channel: tuple[float, float] = (0.0, 0.0),
) -> tuple[np.ndarray, int, int]:
    """Weights of a (possibly corrupted) image: ``(float32 array, n_nulled, n_range_zeroed)``.
    ``channel``: the flip probabilities ``(p01, p10)`` the image went through, which a polar
    decoder uses for its LLRs (ignored without ECC)."""
    if prot.ecc is not None:
        if not isinstance(stored, CodedTensor):
            raise ParameterError("stored", "a polar protection needs a coded image", type(stored))
        stored = prot.ecc.decode(stored, *channel)
    inner = _inner(rep, prot)
    words = stored.words
    bad = None
    if prot.nulling:
        container = words.dtype.type
        valid = words & container(2**stored.width - 1)
        bad = (np.bitwise_count(valid) & 1).astype(bool)
        words = valid >> container(1)
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
