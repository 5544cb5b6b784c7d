"""CA-SCL's choice made inside the list kernel equals the numpy selection over the full list."""

from __future__ import annotations

import numpy as np
import pytest

from noisyhw.channels import bpsk_awgn
from noisyhw.codes.polar import AdaptiveSCLDecoder, CASCLDecoder, PolarCode
from noisyhw.errors import ParameterError


@pytest.mark.parametrize(
    ("code", "L", "ebn0"),
    [
        (PolarCode(1024, 512, crc="crc16"), 8, 1.5),
        (PolarCode(256, 100, crc="crc8"), 4, 0.5),  # many frames where no path passes
        (PolarCode(128, 53, crc="crc11"), 16, 1.0),
        (PolarCode(64, 20, crc="crc6"), 1, 2.0),
    ],
    ids=lambda v: getattr(v, "n", v),
)
def test_in_kernel_crc_choice_equals_full_list_selection(code, L, ebn0) -> None:
    rng = np.random.default_rng(code.n + L)
    msg = code.random_messages(150, rng)
    llr = bpsk_awgn(code.encode(msg), ebn0, code.rate, rng)
    dec = CASCLDecoder(code, L)
    pay, ok = dec.decode_select(llr)
    want_pay, want_ok = dec.select(dec.decode_list(llr))
    assert np.array_equal(ok, want_ok) and np.array_equal(pay, want_pay)
    assert 0 < ok.mean() < 1 or ebn0 >= 1.5  # the low-SNR cases exercise the fallback
    assert np.array_equal(ok, code.crc.check(pay))
    assert np.array_equal(dec(llr), want_pay[:, : code.k])


def test_adaptive_and_systematic_paths_agree() -> None:
    code = PolarCode(128, 60, crc="crc8")
    rng = np.random.default_rng(3)
    llr = bpsk_awgn(code.encode(code.random_messages(120, rng)), 1.0, code.rate, rng)
    ad = AdaptiveSCLDecoder(code, 8)
    got = ad(llr)
    ad._crc_in_kernel = False  # the numpy selection of the full list at every list size
    assert np.array_equal(ad(llr), got)
    sys_code = PolarCode(128, 60, crc="crc8", systematic=True)
    llr = bpsk_awgn(sys_code.encode(sys_code.random_messages(50, rng)), 1.0, 0.47, rng)
    dec = CASCLDecoder(sys_code, 4)  # systematic: selected in numpy after re-encoding
    assert np.array_equal(dec(llr), dec.select(dec.decode_list(llr))[0][:, :60])
    with pytest.raises(ParameterError):
        dec.decode_list(llr, crc_select=True)
