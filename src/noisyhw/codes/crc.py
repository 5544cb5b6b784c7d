"""Cyclic redundancy checks, batched over frames of bits.

A :class:`CRC` is described by the usual catalogue parameters (Williams' "Rocksoft" model, as in
the reveng catalogue): ``width``, ``poly`` (without the top bit), ``init``, ``refin``, ``refout``
and ``xorout``.

* :meth:`CRC.checksum` computes the CRC of a byte string exactly as the catalogue defines it
  (``check`` is the published value for the ASCII bytes ``"123456789"``).
* :meth:`CRC.compute` / :meth:`CRC.attach` / :meth:`CRC.check` work on **bit arrays** of shape
  ``(F, k)`` (one frame per row, first bit first): the register is fed most significant bit
  first (``refin`` is a byte-order convention and does not apply to bit streams), starts at
  ``init``, and the ``width`` parity bits are appended most significant first after XOR with
  ``xorout``. This is the TS 38.212 section 5.1 convention for the 5G CRCs.

The short names used by the polar codes (:data:`CRCS`) all have ``init = xorout = 0``, so the
CRC-aided code stays linear (the all-zero message has the all-zero CRC).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from ..errors import ParameterError

__all__ = ["CATALOGUE", "CRC", "CRCS", "get_crc"]


@numba.njit(cache=True, nogil=True)
def _crc_bits(bits: np.ndarray, width: int, poly: int, init: int, xorout: int) -> np.ndarray:
    """Register after feeding each row of ``bits`` (F, k) MSB-first; returns (F, width) uint8."""
    F, k = bits.shape
    out = np.empty((F, width), dtype=np.uint8)
    mask = (np.int64(1) << width) - 1
    top = width - 1
    for f in range(F):
        reg = np.int64(init)
        for j in range(k):
            fb = ((reg >> top) & 1) ^ np.int64(bits[f, j] & 1)
            reg = (reg << 1) & mask
            if fb:
                reg ^= poly
        reg ^= xorout
        for j in range(width):
            out[f, j] = (reg >> (top - j)) & 1
    return out


def _reflect(value: int, width: int) -> int:
    out = 0
    for _ in range(width):
        out = (out << 1) | (value & 1)
        value >>= 1
    return out


@dataclass(frozen=True)
class CRC:
    """One CRC algorithm (catalogue parameters). ``check`` is the published CRC of b"123456789"."""

    name: str
    width: int
    poly: int
    init: int = 0
    refin: bool = False
    refout: bool = False
    xorout: int = 0
    check_value: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.width <= 62:
            raise ParameterError("width", "must be in [1, 62]", self.width)
        for field in ("poly", "init", "xorout"):
            v = getattr(self, field)
            if not 0 <= v < (1 << self.width):
                raise ParameterError(field, f"must fit in {self.width} bits", v)

    # ----------------------------------------------------------------- bytes (catalogue)
    def checksum(self, data: bytes) -> int:
        """CRC of a byte string under the full catalogue definition (refin/refout honoured)."""
        bits = np.unpackbits(
            np.frombuffer(bytes(data), dtype=np.uint8), bitorder="little" if self.refin else "big"
        )
        reg_bits = _crc_bits(bits[None, :], self.width, self.poly, self.init, 0)[0]
        reg = int("".join(map(str, reg_bits)) or "0", 2)
        if self.refout:
            reg = _reflect(reg, self.width)
        return reg ^ self.xorout

    # ----------------------------------------------------------------- bit frames
    def compute(self, bits: np.ndarray) -> np.ndarray:
        """Parity bits of each frame: ``bits`` (F, k) or (k,) of 0/1 -> (F, width) / (width,)."""
        b, squeeze = _as_frames(bits)
        out = _crc_bits(b, self.width, self.poly, self.init, self.xorout)
        return out[0] if squeeze else out

    def attach(self, bits: np.ndarray) -> np.ndarray:
        """Append the parity bits: (F, k) -> (F, k + width) uint8."""
        b, squeeze = _as_frames(bits)
        out = np.concatenate([b, _crc_bits(b, self.width, self.poly, self.init, self.xorout)], 1)
        return out[0] if squeeze else out

    def check(self, bits: np.ndarray) -> np.ndarray:
        """Whether each frame's last ``width`` bits are the CRC of the rest: (F, k+w) -> (F,) bool."""
        b, squeeze = _as_frames(bits)
        if b.shape[1] < self.width:
            raise ParameterError("bits", f"frames need at least {self.width} bits", b.shape)
        k = b.shape[1] - self.width
        par = _crc_bits(
            np.ascontiguousarray(b[:, :k]), self.width, self.poly, self.init, self.xorout
        )
        ok = np.all(par == b[:, k:], axis=1)
        return ok[0] if squeeze else ok


def _as_frames(bits: np.ndarray) -> tuple[np.ndarray, bool]:
    b = np.asarray(bits)
    if b.ndim not in (1, 2):
        raise ParameterError("bits", "must have shape (k,) or (F, k)", b.shape)
    squeeze = b.ndim == 1
    b = np.ascontiguousarray(b.reshape(1, -1) if squeeze else b, dtype=np.uint8)
    return b, squeeze


#: CRCs for polar codes (init = xorout = 0, bit streams MSB first). 5G NR ones per TS 38.212 5.1.
CRCS: dict[str, CRC] = {
    c.name: c
    for c in (
        CRC("crc6", 6, 0x21),  # 5G gCRC6 = D^6+D^5+1
        CRC("crc8", 8, 0x07, check_value=0xF4),  # = CRC-8/SMBUS
        CRC("crc11", 11, 0x621),  # 5G gCRC11 = D^11+D^10+D^9+D^5+1
        CRC("crc16", 16, 0x1021, check_value=0x31C3),  # 5G gCRC16 (CCITT) = CRC-16/XMODEM
        CRC("crc24a", 24, 0x864CFB, check_value=0xCDE703),  # 5G/LTE gCRC24A = CRC-24/LTE-A
        CRC("crc24b", 24, 0x800063, check_value=0x23EF52),  # 5G/LTE gCRC24B = CRC-24/LTE-B
        CRC("crc24c", 24, 0xB2B117),  # 5G gCRC24C (polar downlink)
        CRC("crc32", 32, 0x04C11DB7),  # IEEE 802.3 polynomial, init 0, no reflection
    )
}

#: Catalogue algorithms with their published check values (for :meth:`CRC.checksum`).
CATALOGUE: dict[str, CRC] = {
    c.name: c
    for c in (
        CRC("CRC-6/CDMA2000-B", 6, 0x07, init=0x3F, check_value=0x3B),
        CRC("CRC-8/SMBUS", 8, 0x07, check_value=0xF4),
        CRC("CRC-12/CDMA2000", 12, 0xF13, init=0xFFF, check_value=0xD4D),
        CRC("CRC-13/BBC", 13, 0x1CF5, check_value=0x4FA),
        CRC("CRC-16/XMODEM", 16, 0x1021, check_value=0x31C3),
        CRC("CRC-16/IBM-3740", 16, 0x1021, init=0xFFFF, check_value=0x29B1),
        CRC("CRC-16/KERMIT", 16, 0x1021, refin=True, refout=True, check_value=0x2189),
        CRC("CRC-21/CAN-FD", 21, 0x102899, check_value=0x0ED841),
        CRC("CRC-24/LTE-A", 24, 0x864CFB, check_value=0xCDE703),
        CRC("CRC-24/LTE-B", 24, 0x800063, check_value=0x23EF52),
        CRC(
            "CRC-24/BLE", 24, 0x00065B, init=0x555555, refin=True, refout=True, check_value=0xC25A56
        ),
        CRC(
            "CRC-32/ISO-HDLC",
            32,
            0x04C11DB7,
            init=0xFFFFFFFF,
            refin=True,
            refout=True,
            xorout=0xFFFFFFFF,
            check_value=0xCBF43926,
        ),
        CRC(
            "CRC-32/BZIP2",
            32,
            0x04C11DB7,
            init=0xFFFFFFFF,
            xorout=0xFFFFFFFF,
            check_value=0xFC891918,
        ),
    )
}


def get_crc(crc: str | CRC | None) -> CRC | None:
    """A :class:`CRC` from a short name in :data:`CRCS` (or a catalogue name), a CRC, or None."""
    if crc is None or isinstance(crc, CRC):
        return crc
    if isinstance(crc, str):
        key = crc.lower().replace("-", "")
        if key in ("", "none"):
            return None
        if key in CRCS:
            return CRCS[key]
        if crc in CATALOGUE:
            return CATALOGUE[crc]
    raise ParameterError("crc", f"must be None or one of {', '.join(CRCS)}", crc)
