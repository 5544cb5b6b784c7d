"""The gradient of the noisy forward ``z + sigma(z) * eps`` with eps fixed (one seeded draw).

Every check compares autograd with central finite differences of the *whole stochastic
forward*, re-run with the same seed so that ``eps`` is the same in every evaluation
(``torch.autograd.gradcheck``, float64). In relative / fullscale mode sigma depends on the
signal; a gradient that treats it as a constant (the bug of arXiv-1811.10649 reproduction
issue 20) fails these checks.
"""

import math

import pytest
import torch
from torch import nn

from noisyhw.analog import NoisePoint, NoiseSpec, apply_noise, get_noise, inject_noise_
from noisyhw.errors import ParameterError

MODE_GRAN = [
    ("relative", "layer"),
    ("relative", "sample"),
    ("relative", "output"),
    ("fullscale", "layer"),
    ("fullscale", "sample"),
    ("fullscale", "output"),
]


def _noised(spec: NoiseSpec, site: str = "out", groups: int = 1, cdim: int = -1):
    point = NoisePoint("p")

    def f(z: torch.Tensor) -> torch.Tensor:
        gen = torch.Generator().manual_seed(7)  # the same eps in every evaluation
        return apply_noise(z, spec, point, gen, site=site, channel_dim=cdim, groups=groups)

    return f


@pytest.mark.parametrize("mode,granularity", MODE_GRAN)
@pytest.mark.parametrize("groups", [1, 2])
def test_apply_noise_gradient_matches_finite_differences(mode, granularity, groups):
    # distinct magnitudes: no ties for the peak (fullscale), so the forward is smooth at z
    z = (torch.randn(4, 5, dtype=torch.float64) * torch.linspace(0.5, 2.0, 5)).requires_grad_()
    f = _noised(NoiseSpec(0.0, mode=mode, granularity=granularity), groups=groups)
    assert torch.autograd.gradcheck(f, (z,), eps=1e-6, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("mode,granularity", MODE_GRAN[:1] + MODE_GRAN[3:4] + MODE_GRAN[2:3])
def test_conv_layout_and_weight_site_gradients(mode, granularity):
    spec = NoiseSpec(3.0, mode=mode, granularity=granularity)
    zc = torch.randn(3, 4, 2, 2, dtype=torch.float64).requires_grad_()
    assert torch.autograd.gradcheck(_noised(spec, cdim=1), (zc,), eps=1e-6, atol=1e-5)
    w = torch.randn(4, 3, dtype=torch.float64).requires_grad_()
    assert torch.autograd.gradcheck(_noised(spec, site="weight"), (w,), eps=1e-6, atol=1e-5)


def test_detach_std_ignores_the_growth_of_sigma():
    # d/dz sum(c * (z + sigma eps)) with sigma held constant is c itself
    z = torch.randn(6, 8, dtype=torch.float64, requires_grad=True)
    c = torch.randn(6, 8, dtype=torch.float64)
    for detach, exact in ((True, False), (False, True)):
        spec = NoiseSpec(0.0, detach_std=detach)
        (g,) = torch.autograd.grad((_noised(spec)(z) * c).sum(), z)
        assert torch.allclose(g, c) is not exact
    # the forward pass is the same
    a = _noised(NoiseSpec(0.0, detach_std=True))(z)
    b = _noised(NoiseSpec(0.0))(z)
    assert torch.equal(a, b)


def test_exact_gradient_in_closed_form():
    # layer power: sigma = ||z|| / sqrt(n) * k, so d/dz sum(c * out) = c + k (c . eps) z / (||z|| sqrt(n))
    z = torch.randn(5, 7, dtype=torch.float64, requires_grad=True)
    c = torch.randn(5, 7, dtype=torch.float64)
    out = _noised(NoiseSpec(-3.0))(z)
    (g,) = torch.autograd.grad((out * c).sum(), z)
    k, n = 10.0 ** (3.0 / 20.0), z.numel()
    zd = z.detach()
    sigma = zd.norm() / math.sqrt(n) * k
    eps = (out.detach() - zd) / sigma
    expected = c + k * (c * eps).sum() * zd / (zd.norm() * math.sqrt(n))
    assert torch.allclose(g, expected, atol=1e-10)


def test_zero_signal_has_a_finite_gradient():
    for mode in ("relative", "fullscale"):
        for gran in ("layer", "output"):
            z = torch.zeros(4, 3, dtype=torch.float64, requires_grad=True)
            out = _noised(NoiseSpec(0.0, mode=mode, granularity=gran))(z)
            (g,) = torch.autograd.grad(out.sum(), z)
            assert torch.isfinite(g).all()


def test_detach_std_must_be_a_bool():
    with pytest.raises(ParameterError, match="detach_std"):
        NoiseSpec(0.0, detach_std="yes")


@pytest.mark.parametrize("mode", ["relative", "fullscale", "fixed"])
def test_whole_model_gradient_through_every_site(mode):
    # Linear + LSTM with output, input (DAC) and weight noise: parameter gradients of the full
    # stochastic forward, reseeded per evaluation, against finite differences
    torch.manual_seed(0)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.LSTM(3, 4, batch_first=True)
            self.fc = nn.Linear(4, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(self.rnn(x)[0][:, -1])

    net = Net().double()
    spec = NoiseSpec(2.0, mode=mode, input_snr_db=10.0, weight_snr_db=15.0)
    inject_noise_(net, spec, seed=0)
    x = torch.randn(3, 4, 3, dtype=torch.float64)
    if mode == "fixed":
        from noisyhw.analog import calibrate

        calibrate(net, x)
    params = list(net.parameters())
    names = [n for n, _ in net.named_parameters()]

    def f(*ps: torch.Tensor) -> torch.Tensor:
        get_noise(net).reseed(5)  # the same eps in every evaluation
        return torch.func.functional_call(net, dict(zip(names, ps, strict=True)), (x,))

    inputs = tuple(p.detach().clone().requires_grad_() for p in params)
    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-5, rtol=1e-4)


def test_relative_noise_training_lowers_the_loss():
    # at 0 dB relative, the biased gradient (sigma detached) makes the loss grow (issue 20:
    # 9.6 -> 279 over 8 epochs on the digits MLP); the exact gradient lowers it
    from noisyhw.data import load
    from noisyhw.models import create

    train = load("digits", "train")
    losses = {}
    for detach in (False, True):
        torch.manual_seed(0)
        model = create("mlp", train.input_shape, train.num_classes)
        inject_noise_(model, NoiseSpec(0.0, detach_std=detach), seed=0)
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        hist = []
        for _ in range(4):
            total = 0.0
            for i in range(0, len(train), 64):
                xb, yb = train.x[i : i + 64], train.y[i : i + 64]
                loss = nn.functional.cross_entropy(model(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * len(xb)
            hist.append(total / len(train))
        losses[detach] = hist
    exact, biased = losses[False], losses[True]
    assert exact[-1] < 0.8 * exact[0]
    assert biased[-1] > exact[-1]
