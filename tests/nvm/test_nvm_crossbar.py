"""Crossbar layers against the float layers, noise statistics and seeding, quantize/calibrate."""

import math

import pytest
import torch
from torch import nn

from noisyhw.analog.nvm import (
    CrossbarGRU,
    CrossbarLinear,
    CrossbarLSTM,
    QuantSpec,
    calibrate,
    count_mvms,
    crossbars,
    program,
    quantize,
    quantize_weight,
    set_spec,
)
from noisyhw.errors import ParameterError
from noisyhw.quant import UniformQuantizer


def test_crossbar_linear_equals_nn_linear_when_quantization_off():
    torch.manual_seed(0)
    lin = nn.Linear(13, 7)
    xl = CrossbarLinear.from_float(lin, QuantSpec.float())
    x = torch.randn(5, 3, 13)
    assert torch.equal(xl(x), lin(x))
    assert set(lin.state_dict()) <= set(xl.state_dict())


@pytest.mark.parametrize("cls,ref", [(CrossbarLSTM, nn.LSTM), (CrossbarGRU, nn.GRU)])
@pytest.mark.parametrize("batch_first", [True, False])
def test_crossbar_rnn_equals_torch_rnn_when_quantization_off(cls, ref, batch_first):
    torch.manual_seed(1)
    rnn = ref(6, 9, num_layers=2, batch_first=batch_first).double()
    q = cls.from_float(rnn, QuantSpec.float())
    x = torch.randn(4, 11, 6, dtype=torch.float64)
    if not batch_first:
        x = x.transpose(0, 1)
    h0 = torch.randn(2, 4, 9, dtype=torch.float64)
    if ref is nn.LSTM:
        c0 = torch.randn(2, 4, 9, dtype=torch.float64)
        (a, (ha, ca)), (b, (hb, cb)) = rnn(x, (h0, c0)), q(x, (h0, c0))
        assert torch.allclose(ca, cb, atol=1e-12, rtol=0)
    else:
        (a, ha), (b, hb) = rnn(x, h0), q(x, h0)
    assert torch.allclose(a, b, atol=1e-12, rtol=0)
    assert torch.allclose(ha, hb, atol=1e-12, rtol=0)
    # the float state dict loads unchanged
    q2 = cls(6, 9, 2, batch_first=batch_first, spec=QuantSpec.float()).double()
    missing, unexpected = q2.load_state_dict(rnn.state_dict(), strict=False)
    assert not unexpected and all("xbar" in k for k in missing)


def test_weight_only_quantization_matches_an_independent_computation():
    torch.manual_seed(2)
    lin = nn.Linear(10, 4)
    spec = QuantSpec(weight_bits=3, dac_bits=None, adc_bits=None, weight_granularity="layer")
    xl = CrossbarLinear.from_float(lin, spec)
    a = lin.weight.detach().abs().max()
    wq = UniformQuantizer(3, "affine")(lin.weight.detach(), -a, a)
    x = torch.randn(6, 10)
    assert torch.allclose(xl(x), x @ wq.t() + lin.bias, atol=1e-6)
    assert torch.unique(wq).numel() <= 8


def test_dac_and_adc_quantize_inputs_and_outputs():
    torch.manual_seed(3)
    lin = nn.Linear(16, 5)
    spec = QuantSpec(
        weight_bits=None,
        dac_bits=3,
        adc_bits=2,
        adc_granularity="layer",
        adc_percentile=100.0,
        dac_percentile=100.0,
    )
    xl = CrossbarLinear.from_float(lin, spec)
    x = torch.randn(400, 16)
    calibrate(xl, x)
    xb = xl.xbar
    assert math.isclose(float(xb.dac.lo), float(x.min()), rel_tol=1e-6)
    assert math.isclose(float(xb.dac.hi), float(x.max()), rel_tol=1e-6)
    y = xl(x) - lin.bias
    assert torch.unique(y.detach()).numel() <= 4  # 2-bit ADC, one range
    # reference: DAC levels through the float weights, then the ADC
    v = UniformQuantizer(3)(x, xb.dac.lo, xb.dac.hi)
    pre = v @ lin.weight.detach().t()
    assert math.isclose(float(xb.adc.lo), min(float(pre.min()), 0.0), rel_tol=1e-5)
    assert math.isclose(float(xb.adc.hi), max(float(pre.max()), 0.0), rel_tol=1e-5)
    ref = UniformQuantizer(2)(pre, xb.adc.lo, xb.adc.hi)
    assert torch.allclose(y, ref, atol=1e-5)


def _noisy_linear(**kw):
    torch.manual_seed(4)
    lin = nn.Linear(32, 8)
    spec = QuantSpec(weight_bits=4, dac_bits=None, adc_bits=None, **kw)
    return lin, CrossbarLinear.from_float(lin, spec).eval()


def test_noise_is_off_by_default_and_seeded_when_on():
    _, xl = _noisy_linear()
    x = torch.randn(10, 32)
    assert torch.equal(xl(x), xl(x))
    _, xn = _noisy_linear(prog_noise=0.05, read_noise=0.05)
    program(xn, 7)
    a = xn(x)
    program(xn, 7)
    assert torch.equal(a, xn(x))
    program(xn, 8)
    assert not torch.allclose(a, xn(x))
    assert not torch.allclose(a, xl(x))


def test_programming_noise_statistics():
    # w_eff - w_q has std prog_noise * sqrt(2) * w_fs per weight (two devices).
    _, xn = _noisy_linear(prog_noise=0.1)
    xb = xn.xbar
    big = torch.randn(400, 500)
    xb2 = type(xb)(500, 400, xb.spec)
    xb2.program(3)
    w_eff, wq, w_fs = xb2.effective_weight(big, noisy=True)
    z = (w_eff - wq) / (0.1 * math.sqrt(2) * w_fs)
    # 200k samples: the std of the sample std is ~0.16%; 1% is > 6 sigma
    assert abs(float(z.std()) - 1.0) < 0.01 and abs(float(z.mean())) < 0.01


@pytest.mark.parametrize("ratio", [math.inf, 10.0])
def test_read_noise_output_std_matches_device_model(ratio):
    # Monte Carlo over devices: each device reads G (1 + read_noise * N(0, 1)).
    torch.manual_seed(5)
    spec = QuantSpec(
        weight_bits=3,
        dac_bits=None,
        adc_bits=None,
        read_noise=0.1,
        on_off_ratio=ratio,
        weight_granularity="layer",
    )
    w = torch.randn(3, 6)
    x = torch.randn(1, 6)
    xl = CrossbarLinear(6, 3, bias=False, spec=spec).eval()
    with torch.no_grad():
        xl.weight.copy_(w)
    ys = xl(x.expand(20000, 6)).detach()  # every row (read) draws its own noise
    wq, w_fs = quantize_weight(w, 3, "layer")
    g_min = 0.0 if math.isinf(ratio) else float(w_fs) / (ratio - 1)
    gp = g_min + wq.clamp(min=0)
    gn = g_min + (-wq).clamp(min=0)
    draws = torch.randn(4000, 2, 3, 6)
    wn = gp * (1 + 0.1 * draws[:, 0]) - gn * (1 + 0.1 * draws[:, 1])
    mc = (wn @ x[0]).std(dim=0)
    assert torch.allclose(
        ys.mean(0), x[0] @ wq.t(), atol=4 * float(mc.max()) / math.sqrt(20000) + 1e-6
    )
    # std estimates from 20000 / 4000 samples agree within ~5 sigma (~6%)
    assert torch.allclose(ys.std(0), mc, rtol=0.06)


def test_adc_noise_in_lsb_units():
    torch.manual_seed(6)
    lin = nn.Linear(8, 3)
    spec = QuantSpec(weight_bits=None, dac_bits=None, adc_bits=8, adc_noise=2.0)
    xl = CrossbarLinear.from_float(lin, spec)
    calibrate(xl, torch.randn(256, 8))
    xl.eval()
    x = torch.randn(1, 8).repeat(20000, 1) * 0.3
    y = xl(x).detach()
    lsb = xl.xbar.adc.lsb
    # quantization of N(mu, (2 LSB)^2): output std ~ sqrt(4 + 1/12) LSB
    std = y.std(0) / lsb
    assert torch.all((std > 1.9) & (std < 2.15))


def test_quantize_maps_modules_and_keeps_state():
    torch.manual_seed(7)
    model = nn.Sequential(nn.Embedding(20, 6), nn.LSTM(6, 8, batch_first=True))

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = model
            self.fc = nn.Linear(8, 20)

        def forward(self, ids):
            out, _ = self.body(ids)
            return self.fc(out)

    m = Head()
    q = quantize(m, QuantSpec.float())
    assert isinstance(q.body[1], CrossbarLSTM) and isinstance(q.fc, CrossbarLinear)
    assert isinstance(m.fc, nn.Linear)  # the original is untouched
    ids = torch.randint(0, 20, (3, 9))
    assert torch.allclose(q(ids), m(ids), atol=1e-6)
    assert {k for k in m.state_dict()} <= set(q.state_dict())
    assert count_mvms(q, ids) == {"body.1.xbar_ih.0": 9, "body.1.xbar_hh.0": 9, "fc.xbar": 9}
    q2 = quantize(m, QuantSpec.float(), filter_fn=lambda m, n: n not in ("fc",))
    assert isinstance(q2.fc, nn.Linear)
    # distinct seeds per array
    assert len({xb.index for _, xb in crossbars(q)}) == 3


def test_quantize_and_calibrate_errors():
    with pytest.raises(ParameterError):
        quantize(nn.Sequential(nn.ReLU()), QuantSpec())
    with pytest.raises(ParameterError):
        quantize(nn.Linear(2, 2), {"weight_bits": 4})
    q = quantize(nn.Linear(4, 2), QuantSpec())
    with pytest.raises(ParameterError, match="calibrate"):
        q.eval()(torch.randn(3, 4))
    with pytest.raises(ParameterError):
        calibrate(q, torch.zeros(0, 4))
    with pytest.raises(ParameterError):
        calibrate(nn.Linear(2, 2), torch.zeros(3, 2))
    with pytest.raises(ParameterError):
        set_spec(q, QuantSpec(weight_bits=3))
    with pytest.raises(ParameterError):
        q(torch.randn(3, 5))


def test_qat_gradients_reach_weights_and_learned_ranges():
    torch.manual_seed(8)
    rnn = nn.LSTM(5, 6, batch_first=True)
    spec = QuantSpec(weight_bits=3, dac_bits=3, adc_bits=3, dac_range="learned")
    q = quantize(rnn, spec)
    x = torch.randn(16, 7, 5)
    calibrate(q, x)
    q.train()
    out, _ = q(x)
    out.pow(2).sum().backward()
    assert q.weight_ih_l0.grad is not None and q.weight_ih_l0.grad.abs().sum() > 0
    assert q.weight_hh_l0.grad.abs().sum() > 0
    assert q.xbar_ih[0].dac.hi.grad is not None
    # 4-bit quantized output stays near the float one on the calibration data
    ref, _ = rnn(x)
    err = float((out.detach() - ref.detach()).abs().mean())
    assert 0 < err < 0.1


def test_set_spec_changes_noise_only():
    torch.manual_seed(9)
    q = quantize(nn.Linear(6, 3), QuantSpec(weight_bits=4, dac_bits=4, adc_bits=4))
    x = torch.randn(50, 6)
    calibrate(q, x)
    q.eval()
    clean = q(x)
    set_spec(q, q.xbar.spec.with_(prog_noise=0.2, seed=1))
    noisy = q(x)
    assert not torch.allclose(clean, noisy)
    set_spec(q, q.xbar.spec.with_(prog_noise=0.0))
    assert torch.equal(q(x), clean)
