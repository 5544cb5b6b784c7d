import math

import numpy as np
import pytest
import torch

from noisyhw import channels
from noisyhw.errors import ParameterError
from noisyhw.quant import UniformQuantizer, calibrate_range, fake_quant


def test_noise_std_gives_requested_snr():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200_000, generator=g) * 3
    for snr in (-5.0, 0.0, 10.0, 20.0):
        std = channels.noise_std(float(x.pow(2).mean()), snr)
        y = channels.awgn(x, std, g)
        assert abs(channels.measured_snr_db(x, y - x) - snr) < 0.05


def test_awgn_seeded_and_inf_snr():
    x = np.ones((3, 4))
    assert np.array_equal(channels.awgn(x, 0.5, 7), channels.awgn(x, 0.5, 7))
    assert channels.noise_std(2.0, math.inf) == 0.0
    with pytest.raises(ParameterError, match="snr_db"):
        channels.noise_std(1.0, float("nan"))


def test_ebn0_convention_matches_closed_form_bpsk_ber():
    # uncoded BPSK (rate 1): BER = Q(sqrt(2 Eb/N0))
    from scipy.special import erfc

    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, 400_000)
    llr = channels.bpsk_awgn(bits, 4.0, 1.0, rng)
    ber = np.mean((llr < 0) != bits.astype(bool))
    expected = 0.5 * erfc(math.sqrt(10**0.4))
    assert abs(ber - expected) < 4 * math.sqrt(expected / bits.size)
    assert channels.ebn0_to_sigma(0.0, 0.5) == pytest.approx(1.0)


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, bool])
@pytest.mark.parametrize("ebn0", [-2.0, 1.5, 6.0])
def test_bpsk_awgn_compiled_pass_is_bit_identical_to_the_numpy_reference(dtype, ebn0):
    bits = np.random.default_rng(3).integers(0, 2, (37, 1024)).astype(dtype)
    sigma = channels.ebn0_to_sigma(ebn0, 0.5)
    ref = channels.llr_awgn(channels.awgn(channels.bpsk(bits), sigma, 7), sigma)
    got = channels.bpsk_awgn(bits, ebn0, 0.5, 7)
    assert got.dtype == np.float64 and got.shape == bits.shape
    np.testing.assert_array_equal(got, ref)


def test_llr_bsc_and_bec():
    llr = channels.llr_bsc(np.array([0, 1]), 0.1)
    assert llr[0] == pytest.approx(math.log(9)) and llr[1] == pytest.approx(-math.log(9))
    erased = channels.bec(np.ones(100_000), 0.3, 0)
    assert abs(np.mean(erased == 0) - 0.3) < 0.01


def test_bsc_bits_rate():
    out = channels.bsc_bits(np.zeros(200_000, np.uint8), 0.05, 3)
    assert abs(out.mean() - 0.05) < 0.003


def test_bsc_memory_image_basic():
    x = np.arange(1000, dtype=np.float32)
    assert np.array_equal(channels.bsc(x, 0.0, 0), x)
    flipped = channels.bsc(x, 1.0, 0)
    assert np.array_equal(flipped.view(np.uint32), ~x.view(np.uint32))
    with pytest.raises(ParameterError, match="p"):
        channels.bsc(x, 1.5)


@pytest.mark.parametrize("scheme,levels", [("affine", 16), ("signed", 16), ("symmetric", 15)])
def test_quantizer_levels(scheme, levels):
    q = UniformQuantizer(4, scheme)
    x = torch.linspace(-2, 2, 10_001)
    y = q(x, -1.0, 1.0)
    assert q.num_levels == levels and torch.unique(y).numel() == levels
    step = 2 / 15 if scheme == "affine" else 1 / 7
    lowest = (
        -8 * step if scheme == "signed" else -1.0
    )  # two's complement has one extra negative code
    assert float(y.min()) == pytest.approx(lowest, abs=1e-6) and float(y.max()) == pytest.approx(
        1.0
    )


def test_quantizer_is_nearest_level_numpy_and_torch_agree():
    q = UniformQuantizer(3, "affine")
    x = np.random.default_rng(0).uniform(0, 1, 1000)
    y = q(x, 0.0, 1.0)
    levels = np.linspace(0, 1, 8)
    nearest = levels[np.abs(x[:, None] - levels[None]).argmin(1)]
    np.testing.assert_allclose(y, nearest, atol=1e-12)
    np.testing.assert_allclose(q(torch.from_numpy(x), 0.0, 1.0).numpy(), y)


def test_fake_quant_straight_through_inside_zero_outside():
    x = torch.tensor([-2.0, -0.3, 0.2, 0.9, 3.0], requires_grad=True)
    y = fake_quant(x, 4, -1.0, 1.0, "symmetric")
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]
    assert torch.allclose(y.detach(), UniformQuantizer(4, "symmetric")(x.detach(), -1.0, 1.0))


def test_calibrate_range_per_channel_and_percentile():
    w = torch.stack([torch.linspace(-1, 1, 101), torch.linspace(-3, 2, 101)])
    lo, hi = calibrate_range(w, dim=0)
    assert (
        lo.shape == (2, 1)
        and lo.flatten().tolist() == [-1.0, -3.0]
        and hi.flatten().tolist() == [1.0, 2.0]
    )
    x = torch.cat([torch.zeros(9999), torch.tensor([1000.0])])
    lo, hi = calibrate_range(x, "percentile", percentile=99.0)
    assert float(hi) == 0.0
    lo, hi = calibrate_range(w, symmetric=True)
    assert float(lo) == -3.0 and float(hi) == 3.0


def test_bad_quantizer_specs():
    with pytest.raises(ParameterError, match="bits"):
        UniformQuantizer(0)
    with pytest.raises(ParameterError, match="scheme"):
        UniformQuantizer(4, "log")
