"""Weight quantizer levels, conductance mapping, DAC/ADC converters, STE gradients, bad specs."""

import math

import numpy as np
import pytest
import torch

from noisyhw.analog.nvm import (
    Converter,
    QuantSpec,
    from_conductance,
    quantize_weight,
    to_conductance,
)
from noisyhw.errors import ParameterError
from noisyhw.quant import UniformQuantizer, fake_quant


@pytest.mark.parametrize("bits", [2, 3, 4, 5, 6, 8])
def test_weight_bits_give_exactly_2_pow_n_levels(bits):
    w = torch.linspace(-1.0, 1.0, 4001).reshape(1, -1)
    wq, w_fs = quantize_weight(w, bits, "layer")  # default scheme: affine over [-a, a]
    levels = torch.unique(wq)
    assert levels.numel() == 2**bits
    step = 2.0 / (2**bits - 1)
    assert torch.allclose(torch.diff(levels), torch.full((levels.numel() - 1,), step), atol=1e-5)
    assert math.isclose(float(levels[0]), -1.0) and math.isclose(float(levels[-1]), 1.0)
    assert math.isclose(float(w_fs), 1.0, rel_tol=1e-6)


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_signed_and_symmetric_weight_schemes(bits):
    w = torch.linspace(-1.0, 1.0, 4001).reshape(1, -1)
    ws, fs = quantize_weight(w, bits, "layer", "signed")
    lv = torch.unique(ws)
    # zero is a level; the code -2^(n-1) lies beyond -max|W|, so 2^n - 1 levels are reached
    assert (lv == 0).any() and lv.numel() == 2**bits - 1
    step = 1.0 / (2 ** (bits - 1) - 1)
    assert math.isclose(float(fs), step * 2 ** (bits - 1), rel_tol=1e-6)
    wy, _ = quantize_weight(w, bits, "layer", "symmetric")
    assert torch.unique(wy).numel() == 2**bits - 1


def test_weight_quantizer_per_channel_uses_each_rows_range():
    torch.manual_seed(0)
    w = torch.randn(5, 300) * torch.tensor([0.1, 1.0, 3.0, 0.5, 10.0])[:, None]
    wq, w_fs = quantize_weight(w, 4, "channel")
    assert w_fs.shape == (5, 1)
    for r in range(5):
        a = w[r].abs().max()
        ref = UniformQuantizer(4, "affine")(w[r], -a, a)
        assert torch.allclose(wq[r], ref)
        assert torch.unique(wq[r]).numel() <= 16
    # per layer: small rows collapse to few levels
    wl, _ = quantize_weight(w, 4, "layer")
    assert torch.unique(wl[0]).numel() < torch.unique(wq[0]).numel()


def test_weight_ste_gradient_is_identity():
    torch.manual_seed(1)
    w = torch.randn(4, 7, requires_grad=True)
    g = torch.randn(4, 7)
    wq, _ = quantize_weight(w, 3, "channel")
    (wq * g).sum().backward()
    assert torch.allclose(w.grad, g)


def test_float_weight_is_untouched():
    w = torch.randn(3, 4)
    wq, w_fs = quantize_weight(w, None, "layer")
    assert wq is w and math.isclose(float(w_fs), float(w.abs().max()), rel_tol=1e-6)


@pytest.mark.parametrize("scheme", ["affine", "signed", "symmetric"])
@pytest.mark.parametrize("bits", [2, 4, 6])
def test_conductance_pair_levels_and_round_trip(bits, scheme):
    torch.manual_seed(2)
    spec = QuantSpec(weight_bits=bits, on_off_ratio=20.0, g_max_us=40.0, weight_scheme=scheme)
    w = torch.rand(6, 3000) * 2 - 1
    gp, gn, step = to_conductance(w, spec)
    g_min = 40.0 / 20.0
    for g in (gp, gn):
        assert float(g.min()) >= g_min - 1e-5 and float(g.max()) <= 40.0 + 1e-5
        assert torch.unique(torch.round(g * 1e4)).numel() <= spec.device_levels
    # at most one device of a pair is above G_min
    assert bool((((gp - g_min) > 1e-6) & ((gn - g_min) > 1e-6)).sum() == 0)
    back = from_conductance(gp, gn, step, spec)
    wq, _ = quantize_weight(w, bits, "channel", scheme)
    assert torch.allclose(back, wq, atol=1e-5)
    # the devices use the levels the spec announces (uniform weights reach them all, except
    # the signed scheme's most negative code, which lies beyond -max|W|)
    used = torch.unique(torch.round(torch.cat([gp, gn]) * 1e4)).numel()
    assert used == spec.device_levels - (scheme == "signed")
    assert spec.device_levels == 2 ** (bits - 1) + (0 if scheme == "symmetric" else 1)


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_converter_output_levels(bits):
    conv = Converter(bits, fixed=(-1.0, 3.0))
    x = torch.linspace(-5, 5, 20001)
    y = conv(x)
    levels = torch.unique(y)
    assert levels.numel() == 2**bits
    assert math.isclose(float(levels.min()), -1.0, abs_tol=1e-6)
    assert math.isclose(float(levels.max()), 3.0, abs_tol=1e-6)
    assert torch.allclose(conv.lsb, torch.tensor(4.0 / (2**bits - 1)))


def test_converter_ste_and_learned_range_gradients():
    conv = Converter(4, learned=True)
    with torch.no_grad():
        conv.lo.fill_(-1.0)
        conv.hi.fill_(1.0)
        conv.calibrated.fill_(True)
    x = torch.tensor([-3.0, -0.5, 0.2, 0.9, 2.5], requires_grad=True)
    conv(x).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]  # clipped inputs get no gradient
    assert conv.hi.grad is not None and float(conv.hi.grad) != 0.0
    assert conv.lo.grad is not None and float(conv.lo.grad) != 0.0


@pytest.mark.parametrize("bits", [2, 4])
def test_fixed_range_converter_matches_shared_fake_quant(bits):
    # the converter's fused straight-through node (fixed / calibrated range) against the shared
    # noisyhw.quant.fake_quant: same values, same gradient mask, per column and with levels()
    torch.manual_seed(0)
    conv = Converter(bits, 3, per_column=True)
    with torch.no_grad():
        conv.lo.copy_(torch.tensor([-1.0, -0.3, 0.0]))
        conv.hi.copy_(torch.tensor([1.0, 0.7, 0.0]))  # last column degenerate (dead)
        conv.calibrated.fill_(True)
    x = (2.0 * torch.randn(500, 3)).requires_grad_(True)
    xr = x.detach().clone().requires_grad_(True)
    y = conv(x)
    ref = fake_quant(xr, bits, conv.lo, conv.hi, "affine")
    assert torch.equal(y, ref)
    w = torch.randn(500, 3)
    (y * w).sum().backward()
    (ref * w).sum().backward()
    assert torch.equal(x.grad == 0, xr.grad == 0)  # same clipping mask
    assert torch.allclose(x.grad, xr.grad, rtol=1e-6, atol=0)  # fake_quant: (g / step) * step
    assert 0 < int((x.grad == 0).sum()) < x.numel()  # some clipped, some not
    with torch.no_grad():
        assert torch.equal(conv(x, levels=conv.levels()), ref)


def test_converter_calibration_percentile_matches_quantile():
    torch.manual_seed(3)
    conv = Converter(4, 3, per_column=True, percentile=99.0)
    data = torch.randn(20000, 3) * torch.tensor([1.0, 2.0, 5.0])
    conv.observing = True
    for chunk in data[:4000].split(1000):  # calls of <= 1024 rows are kept whole
        conv.observe(chunk)
    conv.finish_calibration()
    ref_hi = torch.quantile(data[:4000], 0.99, dim=0)
    ref_lo = torch.quantile(data[:4000], 0.01, dim=0)
    assert torch.allclose(conv.hi, ref_hi, rtol=1e-4)
    assert torch.allclose(conv.lo, ref_lo, rtol=1e-4)


def test_uncalibrated_converter_is_a_clear_error():
    with pytest.raises(ParameterError, match="calibrate"):
        Converter(4)(torch.zeros(3))


@pytest.mark.parametrize(
    "kw",
    [
        {"weight_bits": 0},
        {"weight_bits": 1, "weight_scheme": "signed"},
        {"weight_scheme": "ternary"},
        {"dac_bits": 0},
        {"adc_bits": 0},
        {"adc_bits": 2.5},
        {"weight_bits": 17},
        {"on_off_ratio": 1.0},
        {"on_off_ratio": -5.0},
        {"g_max_us": -1.0},
        {"prog_noise": -0.1},
        {"read_noise": -1e-3},
        {"adc_noise": -1.0},
        {"adc_bits": None, "adc_noise": 0.5},
        {"dac_percentile": -1.0},
        {"adc_percentile": 120.0},
        {"weight_granularity": "row"},
        {"dac_range": "learned", "dac_bits": None},
        {"seed": -1},
    ],
)
def test_bad_specs_raise_parameter_error(kw):
    with pytest.raises(ParameterError):
        QuantSpec(**kw)


def test_spec_properties():
    s = QuantSpec(weight_bits=4, on_off_ratio=10.0, g_max_us=20.0)
    assert s.device_levels == 9 and math.isclose(s.g_min_us, 2.0)
    assert not s.noisy and s.quantized
    f = QuantSpec.float()
    assert not f.quantized and f.device_levels is None
    assert QuantSpec(on_off_ratio=math.inf).g_min_us == 0.0
    assert s.with_(prog_noise=0.1).noisy


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("scheme", ["affine", "signed"])
def test_half_precision_inputs_quantize_to_the_nearest_level(dtype, scheme):
    # reference: the same (exactly representable) half values quantized in float64; the half
    # arithmetic used to put ~0.35 % of them one level off (those within ~1e-2 step of a tie)
    g = torch.Generator().manual_seed(0)
    x = (torch.randn(20000, generator=g, dtype=torch.float64) * 0.8).clamp(-1.9, 1.9).to(dtype)
    q = UniformQuantizer(4, scheme)
    step, offset = q.step_offset(-2.0, 2.0)
    frac = ((x.double() - offset) / step) % 1.0
    x = x[(frac - 0.5).abs() > 1e-6]  # exact ties (e.g. -1.0 = -3.5 steps) may go either way
    assert torch.equal(q.codes(x, -2.0, 2.0).double(), q.codes(x.double(), -2.0, 2.0))
    ref = q(x.double(), -2.0, 2.0)
    # a level itself is rounded to the half format (float32 -> half may differ from
    # float64 -> half by one half ulp), so values are compared to half precision
    tol = {"atol": 0.0, "rtol": 1e-2 if dtype == torch.bfloat16 else 1e-3}
    got = q(x, -2.0, 2.0)
    assert got.dtype == dtype and torch.allclose(got.double(), ref, **tol)
    xg = x.clone().requires_grad_(True)
    y = fake_quant(xg, 4, -2.0, 2.0, scheme)
    assert y.dtype == dtype and torch.allclose(y.double(), ref, **tol)
    y.sum().backward()
    assert xg.grad.dtype == dtype and bool((xg.grad == 1).all())  # every value inside the range


@pytest.mark.parametrize("scheme", ["affine", "signed"])
def test_float16_arrays_quantize_to_the_nearest_level(scheme):
    # numpy float16 arrays, as the half tensors above: quantized in float32, returned as float16
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(20000) * 0.8).clip(-1.9, 1.9).astype(np.float16)
    q = UniformQuantizer(4, scheme)
    step, offset = q.step_offset(-2.0, 2.0)
    frac = ((x.astype(np.float64) - offset) / step) % 1.0
    x = x[np.abs(frac - 0.5) > 1e-6]
    np.testing.assert_array_equal(q.codes(x, -2.0, 2.0), q.codes(x.astype(np.float64), -2.0, 2.0))
    got = q(x, -2.0, 2.0)
    assert got.dtype == np.float16
    np.testing.assert_allclose(got, q(x.astype(np.float64), -2.0, 2.0), rtol=1e-3, atol=0.0)
