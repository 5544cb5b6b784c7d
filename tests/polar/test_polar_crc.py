"""CRCs: published check values, an independent polynomial-division reference, error detection."""

from __future__ import annotations

import binascii

import numpy as np
import pytest

from noisyhw.codes import CATALOGUE, CRC, CRCS, get_crc
from noisyhw.errors import ParameterError


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_catalogue_check_values(name: str) -> None:
    crc = CATALOGUE[name]
    assert crc.checksum(b"123456789") == crc.check_value


def test_against_python_stdlib() -> None:
    data = bytes(range(256)) * 3
    assert CATALOGUE["CRC-32/ISO-HDLC"].checksum(data) == binascii.crc32(data)
    assert CATALOGUE["CRC-16/XMODEM"].checksum(data) == binascii.crc_hqx(data, 0)


def _poly_mod_reference(bits: np.ndarray, width: int, poly: int) -> list[int]:
    """Remainder of M(x) * x^width modulo g(x) by schoolbook long division on Python ints."""
    msg = int("".join(map(str, bits.tolist())) or "0", 2) << width
    g = (1 << width) | poly
    for shift in range(msg.bit_length() - width - 1, -1, -1):
        if msg >> (shift + width) & 1:
            msg ^= g << shift
    return [(msg >> (width - 1 - j)) & 1 for j in range(width)]


@pytest.mark.parametrize("name", list(CRCS))
def test_bit_frames_match_long_division(name: str) -> None:
    crc = CRCS[name]
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, size=(6, 77), dtype=np.uint8)
    par = crc.compute(bits)
    assert par.shape == (6, crc.width)
    for f in range(6):
        assert par[f].tolist() == _poly_mod_reference(bits[f], crc.width, crc.poly)
    if crc.check_value is not None:  # the named polar CRCs that are catalogue algorithms
        assert crc.checksum(b"123456789") == crc.check_value


def test_attach_check_and_detection() -> None:
    crc = get_crc("crc11")
    rng = np.random.default_rng(2)
    msg = rng.integers(0, 2, size=(200, 40), dtype=np.uint8)
    cw = crc.attach(msg)
    assert cw.shape == (200, 51)
    assert crc.check(cw).all()
    # every single-bit error is detected (g(x) has more than one term)
    for j in range(51):
        bad = cw.copy()
        bad[:, j] ^= 1
        assert not crc.check(bad).any()
    assert crc.check(cw[0]) and crc.attach(msg[0]).shape == (51,)


def test_bad_input() -> None:
    with pytest.raises(ParameterError):
        get_crc("crc99")
    with pytest.raises(ParameterError):
        CRC("x", 8, 0x1FF)
    with pytest.raises(ParameterError):
        CRCS["crc8"].check(np.zeros((2, 4), np.uint8))
    with pytest.raises(ParameterError):
        CRCS["crc8"].compute(np.zeros((2, 3, 4), np.uint8))
    assert get_crc(None) is None and get_crc("none") is None
