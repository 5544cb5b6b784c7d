"""Number representations of stored weights: what bits a weight occupies in memory.

A :class:`Representation` turns a float32 weight array into a :class:`StoredTensor` (its memory
image: one unsigned word per value, of which the low ``width`` bits are stored) and back.

=============  =====  =========================================================================
name           width  memory image
=============  =====  =========================================================================
``float32``    32     IEEE binary32 bits (bit 31 sign, 30..23 exponent, 22..0 mantissa)
``float16``    16     IEEE binary16 (round to nearest even; |w| > 65504 becomes inf)
``bfloat16``   16     the top half of binary32, round to nearest even, held in a uint16
``fixed<n>``   n      two's-complement code of ``noisyhw.quant.UniformQuantizer(n, "signed")``
                      with a per-tensor scale ``max|w| / (2**(n-1) - 1)``
``hwo<n>``     n      Hamming-weight-ordered codeword of the index of ``w`` on ``2**n`` levels
                      spread uniformly over the tensor's ``[min, max]`` (affine quantizer);
                      see :mod:`noisyhw.storage.enumerative`
=============  =====  =========================================================================

Per-tensor side information (scale, range) lives in ``StoredTensor.meta``: a few numbers per
tensor, assumed held in protected memory (its size is counted in ``side_bits``).

``reduced()`` gives the representation with one value bit fewer in ``width - 1`` bits, used by
weight nulling to free bit 0 for the parity bit: floats round away their mantissa LSB, fixed
point and HWO use ``n - 1`` bits (half the levels).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from ..errors import ParameterError, check_int
from ..quant import UniformQuantizer
from .enumerative import MAX_BITS, hwo_decode, hwo_encode

__all__ = [
    "REPRESENTATIONS",
    "BFloat16",
    "FixedPoint",
    "Float16",
    "Float32",
    "FloatBits",
    "HammingOrdered",
    "Representation",
    "StoredTensor",
    "representation",
]


def container_for(width: int) -> type[np.unsignedinteger]:
    """Smallest unsigned dtype holding ``width`` bits."""
    for bits, dt in ((8, np.uint8), (16, np.uint16), (32, np.uint32), (64, np.uint64)):
        if width <= bits:
            return dt
    raise ParameterError("width", "must be <= 64 bits", width)


@dataclass
class StoredTensor:
    """Memory image of one tensor: ``words`` (unsigned, the weight's shape; only the low ``width``
    bits of each word are stored) and per-tensor side information ``meta``."""

    words: np.ndarray
    width: int
    meta: dict[str, float] = field(default_factory=dict)

    @property
    def num_values(self) -> int:
        """Values held (one word each here; a coded image holds fewer values than words)."""
        return self.words.size

    @property
    def side_bits(self) -> int:
        """Bits of side information (each meta value counted as a float32)."""
        return 32 * len(self.meta)

    def copy(self) -> StoredTensor:
        return StoredTensor(self.words.copy(), self.width, dict(self.meta))


class Representation(ABC):
    """How a float32 weight is laid out in ``width`` stored bits."""

    name: str
    width: int

    @abstractmethod
    def encode(self, weights: np.ndarray) -> StoredTensor:
        """Memory image of ``weights`` (any shape, float)."""

    @abstractmethod
    def decode(self, stored: StoredTensor) -> np.ndarray:
        """float32 weights (same shape) of a memory image; never raises on corrupted bits."""

    @abstractmethod
    def reduced(self) -> Representation:
        """The representation with one value bit fewer, stored in ``width - 1`` bits."""

    @property
    def container(self) -> type[np.unsignedinteger]:
        return container_for(self.width)

    def roundtrip(self, weights: np.ndarray) -> np.ndarray:
        """``decode(encode(weights))``: the value the representation actually stores."""
        return self.decode(self.encode(weights))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, width={self.width})"


# --------------------------------------------------------------------------- floating point
_FLOAT_KINDS = {"float32": 32, "float16": 16, "bfloat16": 16}


@dataclass(frozen=True, repr=False)
class FloatBits(Representation):
    """An IEEE-style float format; ``drop`` low mantissa bits are rounded away (nearest, ties
    to even) so that the code fits in ``width - drop`` bits."""

    kind: str = "float32"
    drop: int = 0

    def __post_init__(self) -> None:
        if self.kind not in _FLOAT_KINDS:
            raise ParameterError("kind", f"must be one of {', '.join(_FLOAT_KINDS)}", self.kind)
        check_int("drop", self.drop, 0, 7)

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.kind if self.drop == 0 else f"{self.kind}-{self.drop}lsb"

    @property
    def width(self) -> int:  # type: ignore[override]
        return _FLOAT_KINDS[self.kind] - self.drop

    def _bits(self, w: np.ndarray) -> np.ndarray:
        w = np.ascontiguousarray(w, dtype=np.float32)
        if self.kind == "float32":
            return w.view(np.uint32).copy()
        if self.kind == "float16":
            return w.astype(np.float16).view(np.uint16)
        u = w.view(np.uint32).astype(np.uint64)
        rounded = (u + np.uint64(0x7FFF) + ((u >> np.uint64(16)) & np.uint64(1))) >> np.uint64(16)
        out = rounded.astype(np.uint16)
        out[np.isnan(w)] = 0x7FC0
        return out

    def _floats(self, bits: np.ndarray) -> np.ndarray:
        if self.kind == "float32":
            return bits.astype(np.uint32).view(np.float32)
        if self.kind == "float16":
            return bits.astype(np.uint16).view(np.float16).astype(np.float32)
        return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)

    def encode(self, weights: np.ndarray) -> StoredTensor:
        bits = self._bits(weights)
        if self.drop:
            b = bits.astype(np.uint64)
            d = np.uint64(self.drop)
            half = np.uint64((1 << (self.drop - 1)) - 1)
            b = (b + half + ((b >> d) & np.uint64(1))) >> d
            top = np.uint64(2**self.width - 1)
            bits = np.minimum(b, top).astype(self.container)  # a carry past the top saturates
        return StoredTensor(bits.astype(self.container, copy=False), self.width)

    def decode(self, stored: StoredTensor) -> np.ndarray:
        bits = stored.words.astype(np.uint64) & np.uint64(2**self.width - 1)
        if self.drop:
            bits = bits << np.uint64(self.drop)
        return self._floats(bits).copy()

    def reduced(self) -> Representation:
        return FloatBits(self.kind, self.drop + 1)


def Float32() -> FloatBits:  # noqa: N802 - a constructor
    """IEEE binary32, bit-exact."""
    return FloatBits("float32")


def Float16() -> FloatBits:  # noqa: N802
    """IEEE binary16 (round to nearest even)."""
    return FloatBits("float16")


def BFloat16() -> FloatBits:  # noqa: N802
    """bfloat16 held in a uint16 (round to nearest even from float32)."""
    return FloatBits("bfloat16")


# --------------------------------------------------------------------------- fixed point
@dataclass(frozen=True, repr=False)
class FixedPoint(Representation):
    """Signed ``bits``-bit fixed point, per-tensor scale ``max|w| / (2**(bits-1) - 1)``, stored
    as the two's-complement code in ``bits`` bits."""

    bits: int = 8

    def __post_init__(self) -> None:
        check_int("n", self.bits, 2, MAX_BITS)

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"fixed{self.bits}"

    @property
    def width(self) -> int:  # type: ignore[override]
        return self.bits

    def encode(self, weights: np.ndarray) -> StoredTensor:
        w = np.asarray(weights, dtype=np.float64)
        amax = float(np.abs(w).max()) if w.size else 0.0
        q = UniformQuantizer(self.bits, "signed")
        codes = q.codes(w, -amax, amax).astype(np.int64)
        words = (codes & (2**self.bits - 1)).astype(self.container)
        return StoredTensor(words, self.width, {"amax": amax})

    def decode(self, stored: StoredTensor) -> np.ndarray:
        n = self.bits
        u = stored.words.astype(np.int64) & (2**n - 1)
        codes = np.where(u >= 2 ** (n - 1), u - 2**n, u)
        amax = stored.meta["amax"]
        q = UniformQuantizer(n, "signed")
        return q.levels(codes.astype(np.float64), -amax, amax).astype(np.float32)

    def reduced(self) -> Representation:
        if self.bits <= 2:
            raise ParameterError("n", "fixed point with a parity bit needs n >= 3", self.bits)
        return FixedPoint(self.bits - 1)


# --------------------------------------------------------------------------- Hamming-weight order
@dataclass(frozen=True, repr=False)
class HammingOrdered(Representation):
    """``bits``-bit Hamming-weight-ordered codes of ``2**bits`` uniform levels over the tensor's
    ``[min, max]`` (``UniformQuantizer(bits, "affine")``). One flip moves the value by at most
    ``(C(bits+1, (bits+1)//2) - 1)`` steps (see :mod:`noisyhw.storage.enumerative`)."""

    bits: int = 8

    def __post_init__(self) -> None:
        check_int("n", self.bits, 2, MAX_BITS)

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"hwo{self.bits}"

    @property
    def width(self) -> int:  # type: ignore[override]
        return self.bits

    def encode(self, weights: np.ndarray) -> StoredTensor:
        w = np.asarray(weights, dtype=np.float64)
        lo = float(w.min()) if w.size else 0.0
        hi = float(w.max()) if w.size else 0.0
        q = UniformQuantizer(self.bits, "affine")
        idx = q.codes(w, lo, hi).astype(np.int64)
        words = hwo_encode(idx, self.bits).astype(self.container)
        return StoredTensor(words, self.width, {"lo": lo, "hi": hi})

    def decode(self, stored: StoredTensor) -> np.ndarray:
        idx = hwo_decode(stored.words, self.bits)
        q = UniformQuantizer(self.bits, "affine")
        return q.levels(idx.astype(np.float64), stored.meta["lo"], stored.meta["hi"]).astype(
            np.float32
        )

    def reduced(self) -> Representation:
        if self.bits <= 2:
            raise ParameterError("n", "hwo with a parity bit needs n >= 3", self.bits)
        return HammingOrdered(self.bits - 1)


# --------------------------------------------------------------------------- registry
REPRESENTATIONS = ("float32", "float16", "bfloat16", "fixed<n>", "hwo<n>")


def representation(spec: str | Representation) -> Representation:
    """Parse ``float32``, ``float16``, ``bfloat16``, ``fixed<n>`` or ``hwo<n>`` (2 <= n <= 32)."""
    if isinstance(spec, Representation):
        return spec
    if not isinstance(spec, str):
        raise ParameterError("representation", f"must be one of {', '.join(REPRESENTATIONS)}", spec)
    s = spec.strip().lower()
    if s in _FLOAT_KINDS:
        return FloatBits(s)
    m = re.fullmatch(r"(fixed|hwo)(-?\d+)", s)
    if m is None:
        raise ParameterError("representation", f"must be one of {', '.join(REPRESENTATIONS)}", spec)
    n = int(m.group(2))
    if not 2 <= n <= MAX_BITS:
        raise ParameterError("representation", f"n must be in [2, {MAX_BITS}]", spec)
    return FixedPoint(n) if m.group(1) == "fixed" else HammingOrdered(n)
