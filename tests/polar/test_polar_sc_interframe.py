"""Inter-frame SC kernel (float32 / int16 / int8) against the leaf-by-leaf reference SC."""

from __future__ import annotations

import numpy as np
import pytest

from noisyhw.channels import bpsk, bpsk_awgn
from noisyhw.codes.polar import PolarCode, SCDecoder, SCLDecoder, make_decoder
from noisyhw.codes.polar._sc_interframe import quantize
from noisyhw.codes.polar.simulate import decoder_label
from noisyhw.errors import ParameterError
from noisyhw.experiments.polar import parse_decoders

CODES = [
    PolarCode(1024, 512),
    PolarCode(256, 100, crc="crc8"),
    PolarCode(64, 32, systematic=True),
    PolarCode(128, 60, "ga", 1.0),
]


@pytest.mark.parametrize("code", CODES, ids=lambda c: f"{c.n}-{c.k}")
@pytest.mark.parametrize("block", [1, 8, 32])
def test_float_interframe_equals_leaf_sc_on_random_llrs(code: PolarCode, block: int) -> None:
    rng = np.random.default_rng(code.n + block)
    F = 45  # not a multiple of the block: the last block is padded
    llr = rng.normal(0.5, 2.0, size=(F, code.n)).astype(np.float32)
    ref = SCDecoder(code, shortcuts=False)
    fast = SCDecoder(code, frames_per_block=block)
    assert np.array_equal(fast.decode_u(llr), ref.decode_u(llr))
    assert np.array_equal(fast.decode_payload(llr), ref.decode_payload(llr))


@pytest.mark.parametrize("block", [None, 8, 12])  # default, 8x8 word transposes, scalar
@pytest.mark.parametrize("dtype", ["int16", "int8"])
def test_fixed_point_is_exact_without_saturation(dtype: str, block: int | None) -> None:
    """Integer LLRs small enough that no sum can saturate (|llr| n <= max): the fixed-point
    kernel makes exactly the float kernel's decisions on the same integers (quantiser =
    identity; float sums of such integers are exact, zeros included, so ties break alike)."""
    n, lim = (1024, 31) if dtype == "int16" else (32, 3)
    code = PolarCode(n, n // 2)
    rng = np.random.default_rng(1)
    llr = rng.integers(-lim, lim + 1, size=(70, n)).astype(np.float32)
    bits = 8 if dtype == "int8" else 16
    fixed = SCDecoder(code, dtype=dtype, llr_bits=bits, llr_scale=1.0, frames_per_block=block)
    assert np.array_equal(fixed.decode_u(llr), SCDecoder(code).decode_u(llr))


@pytest.mark.parametrize("dtype", ["int16", "int8"])
def test_saturating_g_keeps_the_sign(dtype: str) -> None:
    """(4, 2): u2, u3 are the signs of g = llr[2:] + llr[:2]. Over a grid of integer LLRs up to
    the type's maximum, the saturated sum must keep the sign of the exact sum (a wrapping add
    would flip it)."""
    code = PolarCode(4, 2)
    assert list(code.info_positions) == [2, 3]
    top = np.iinfo(dtype).max
    v = np.unique(np.linspace(-top, top, 61).round())
    a, b = np.meshgrid(v, v)
    llr = np.stack([a.ravel(), a.ravel(), b.ravel(), b.ravel()], 1).astype(np.float32)
    got = SCDecoder(code, dtype=dtype, llr_bits=8 * np.dtype(dtype).itemsize, llr_scale=1.0)
    assert np.array_equal(got.decode_u(llr), SCDecoder(code).decode_u(llr))


@pytest.mark.parametrize("dtype", ["int16", "int8"])
def test_fixed_point_decodes_noiseless_and_stays_close_to_float(dtype: str) -> None:
    code = PolarCode(1024, 512)
    msg = code.random_messages(200, rng=2)
    x = code.encode(msg)
    dec = SCDecoder(code, dtype=dtype)
    # huge LLRs: the channel quantiser clips and every g deep in the tree saturates
    assert np.array_equal(dec(bpsk(x) * 1e3), msg)
    llr = bpsk_awgn(x, 2.0, code.rate, rng=3)
    e_fix = (dec(llr) != msg).any(1)
    e_flt = (SCDecoder(code)(llr) != msg).any(1)
    # a sanity bound only (the measured loss is in docs/polar.md): at most 5% of the frames
    # change status between float and fixed point
    assert (e_fix != e_flt).mean() <= 0.05


def test_quantize_reference() -> None:
    q = quantize(np.array([-100.0, -1.13, -0.1, 0.0, 0.13, 2.4, 7.9]), 4.0, 31, np.int8)
    assert q.dtype == np.int8
    assert q.tolist() == [-31, -5, 0, 0, 1, 10, 31]
    # the kernel's fused quantiser is the same map: decoding the quantised values (rescaled)
    # gives the same decisions
    code = PolarCode(256, 128)
    llr = np.random.default_rng(4).normal(0, 3, (40, 256)).astype(np.float32)
    dec = SCDecoder(code, dtype="int8")
    requant = quantize(llr, 4.0, 31, np.int8).astype(np.float32) / 4
    assert np.array_equal(dec.decode_u(llr), dec.decode_u(requant))


def test_leading_batch_dims() -> None:
    code = PolarCode(128, 64, crc="crc8")
    llr = bpsk_awgn(code.encode(code.random_messages(24, rng=5)), 1.5, code.rate, rng=6)
    for dec in (SCDecoder(code), SCDecoder(code, dtype="int8"), SCLDecoder(code, 4)):
        flat = dec(llr)
        got = dec(llr.reshape(2, 3, 4, code.n))
        assert got.shape == (2, 3, 4, code.k)
        assert np.array_equal(got.reshape(24, code.k), flat)
        assert dec(llr[5]).shape == (code.k,)
        assert np.array_equal(dec(llr[5]), flat[5])
        assert dec(llr[:0].reshape(0, 2, code.n)).shape == (0, 2, code.k)
    with pytest.raises(ParameterError):
        SCDecoder(code)(np.zeros((2, 3, code.n + 1)))
    with pytest.raises(ParameterError):
        SCDecoder(code)(np.float64(1.0))


def test_fixed_point_decoders_by_name_and_bad_input() -> None:
    code = PolarCode(64, 32)
    dec = make_decoder(code, "sc-int8")
    assert isinstance(dec, SCDecoder) and dec.dtype == "int8"
    assert (dec.llr_bits, dec.llr_scale) == (6, 4.0)
    assert [decoder_label(*d) for d in parse_decoders("sc,sc-int16,scl:4")] == [
        "sc",
        "sc-int16",
        "scl-4",
    ]
    for kw in (
        {"dtype": "int4"},
        {"dtype": "int8", "llr_bits": 9},
        {"dtype": "int8", "llr_scale": 0.0},
        {"dtype": "int8", "shortcuts": False},
        {"llr_bits": 6},
        {"frames_per_block": 0},
    ):
        with pytest.raises(ParameterError):
            SCDecoder(code, **kw)
