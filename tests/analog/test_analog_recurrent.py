"""Noisy RNN/LSTM/GRU cells against torch's modules, and deep noise injection."""

import math

import pytest
import torch
from torch import nn

from noisyhw.analog import (
    NoiseSpec,
    NoisyGRU,
    NoisyLSTM,
    NoisyRecurrent,
    NoisyRNN,
    calibrate,
    inject_noise_,
    measure_snr,
    remove_noise,
)
from noisyhw.errors import ParameterError
from noisyhw.models import create

CONFIGS = [
    {"num_layers": 1},
    {"num_layers": 2, "batch_first": True},
    {"num_layers": 2, "bidirectional": True},
    {"num_layers": 1, "bias": False, "batch_first": True, "bidirectional": True},
]


def _close(a, b):
    return torch.allclose(a, b, atol=2e-6, rtol=1e-5)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("cfg", CONFIGS)
def test_noise_off_equals_torch(cell, cfg):
    torch.manual_seed(0)
    ref = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell](7, 11, **cfg)
    noisy = NoisyRecurrent.from_torch(ref)
    dirs = 2 if cfg.get("bidirectional") else 1
    x = torch.randn(5, 9, 7) if cfg.get("batch_first") else torch.randn(9, 5, 7)
    out_r, st_r = ref(x)
    out_n, st_n = noisy(x)
    assert _close(out_r, out_n)
    if cell == "lstm":
        assert _close(st_r[0], st_n[0]) and _close(st_r[1], st_n[1])
        hx = (
            torch.randn(cfg["num_layers"] * dirs, 5, 11),
            torch.randn(cfg["num_layers"] * dirs, 5, 11),
        )
    else:
        assert _close(st_r, st_n)
        hx = torch.randn(cfg["num_layers"] * dirs, 5, 11)
    out_r, _ = ref(x, hx)
    out_n, _ = noisy(x, hx)
    assert _close(out_r, out_n)
    # gradients agree too
    out_r.square().sum().backward()
    g_ref = [p.grad.clone() for p in ref.parameters()]
    for p in ref.parameters():
        p.grad = None
    noisy(x, hx)[0].square().sum().backward()
    for g, p in zip(g_ref, noisy.parameters(), strict=True):
        assert torch.allclose(g, p.grad, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize(
    "cls,torch_cls", [(NoisyRNN, nn.RNN), (NoisyLSTM, nn.LSTM), (NoisyGRU, nn.GRU)]
)
def test_state_dicts_load_both_ways_and_unbatched(cls, torch_cls):
    torch.manual_seed(1)
    ref = torch_cls(4, 6, num_layers=2)
    noisy = cls(4, 6, num_layers=2)
    noisy.load_state_dict(ref.state_dict())
    x = torch.randn(8, 4)  # unbatched (T, F)
    assert _close(ref(x)[0], noisy(x)[0])
    other = torch_cls(4, 6, num_layers=2)
    other.load_state_dict(noisy.state_dict())
    assert _close(other(x)[0], ref(x)[0])
    back = noisy.to_torch()
    assert _close(back(x)[0], ref(x)[0])


def test_relu_rnn_and_rejections():
    torch.manual_seed(2)
    ref = nn.RNN(3, 5, nonlinearity="relu")
    x = torch.randn(6, 2, 3)
    assert _close(ref(x)[0], NoisyRecurrent.from_torch(ref)(x)[0])
    with pytest.raises(ParameterError, match="proj_size"):
        NoisyRecurrent.from_torch(nn.LSTM(3, 5, proj_size=2))
    with pytest.raises(ParameterError):
        NoisyRecurrent.from_torch(nn.Linear(3, 5))
    with pytest.raises(ParameterError):
        NoisyLSTM(3, 5)(torch.randn(2, 3, 4, 5))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_deep_noise_injection_every_step(cell):
    torch.manual_seed(3)
    model = create(cell, (12, 16), 10, hidden=64).eval()
    x = torch.rand(256, 12, 16)
    clean = model(x)
    inject_noise_(model, NoiseSpec(6.0, targets=("recurrent",)), seed=0)
    rows = {r["layer"]: r["snr_db"] for r in measure_snr(model, x)}
    assert set(rows) == {"rnn.l0.ih", "rnn.l0.hh"}  # fc not targeted
    # the hidden product sees h_0 = 0 at t=0 (zero signal, zero relative noise), so energy-wise the
    # SNR over the sequence still equals the nominal one
    assert all(abs(v - 6.0) < 0.2 for v in rows.values())
    assert not torch.allclose(model(x), clean)
    remove_noise(model)
    assert isinstance(model.rnn, {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell])
    assert torch.equal(model(x), clean)


def test_fixed_mode_recurrent_and_dac_noise():
    torch.manual_seed(4)
    model = create("lstm", (10, 8), 10, hidden=32, layers=2).eval()
    x = torch.rand(512, 10, 8)
    calibrate(model, x, spec=NoiseSpec(0.0, mode="fixed", input_snr_db=10.0), seed=0)
    rows = measure_snr(model, x)
    first = next(r for r in rows if r["layer"] == "rnn.l0.ih")
    assert abs(first["input_snr_db"] - 10.0) < 0.2
    assert math.isfinite(first["snr_db"]) and abs(first["snr_db"]) < 3.0
