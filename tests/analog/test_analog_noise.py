"""NoiseSpec modes, apply_noise statistics, inject/remove/calibrate/measure_snr on whole models."""

import copy
import math
import pickle

import pytest
import torch
from torch import nn

from noisyhw.analog import (
    NoisePoint,
    NoiseSpec,
    apply_noise,
    calibrate,
    get_noise,
    inject_noise_,
    measure_snr,
    noise_disabled,
    remove_noise,
    set_noise,
)
from noisyhw.errors import ParameterError
from noisyhw.models import create


def _db(x: float) -> float:
    return 10 * math.log10(x)


def _signal(n=2000, c=500, seed=0):
    g = torch.Generator().manual_seed(seed)
    # uneven scales per sample and per output, so the granularities give different sigmas
    return (
        torch.randn(n, c, generator=g)
        * torch.linspace(0.2, 3.0, c)
        * torch.linspace(0.5, 2.0, n)[:, None]
    )


@pytest.mark.parametrize("snr", [-5.0, 0.0, 10.0, 20.0])
def test_relative_layer_snr_within_0p2_db(snr):
    z = _signal()
    out = apply_noise(z, NoiseSpec(snr), NoisePoint(), torch.Generator().manual_seed(1))
    n = out - z
    assert abs(_db(z.square().mean() / n.square().mean()) - snr) < 0.2


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_relative_power_in_other_dtypes(dtype):
    # the in-place path's power: a float16 sum of squares would overflow at 65504 (here ~2e6)
    z = (4.0 * torch.randn(256, 512)).to(dtype)
    with torch.no_grad():
        out = apply_noise(z.clone(), NoiseSpec(10.0), NoisePoint(), inplace=True)
    assert torch.isfinite(out).all()
    n = (out - z).double()
    assert abs(_db(z.double().square().mean() / n.square().mean()) - 10.0) < 0.2


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.float64])
def test_inplace_groups_measure_power_per_replica(dtype):
    # the in-place path with one power per replica (voting): replica 2 is 10x replica 1
    z = 4.0 * torch.randn(256, 512)
    both = torch.cat([z, 10 * z]).to(dtype)
    with torch.no_grad():
        out = apply_noise(
            both.clone(), NoiseSpec(10.0), NoisePoint(), torch.Generator(), groups=2, inplace=True
        )
    assert torch.isfinite(out).all()
    n = (out - both).double()
    for rows in (slice(0, 256), slice(256, 512)):
        power = both[rows].double().square().mean()
        assert abs(_db(power / n[rows].square().mean()) - 10.0) < 0.2


@pytest.mark.parametrize("mode", ["relative", "fixed"])
def test_groups_must_divide_the_batch_on_every_path(mode):
    z = torch.randn(5, 4096)
    spec, point = NoiseSpec(10.0, mode=mode), NoisePoint()
    if mode == "fixed":
        point.ref["out"] = torch.tensor(1.0)
    for inplace in (False, True):
        with torch.no_grad(), pytest.raises(ParameterError, match="groups"):
            apply_noise(z.clone(), spec, point, groups=2, inplace=inplace)


def test_relative_sample_and_output_granularity_per_unit():
    z = _signal(n=200, c=20000)
    out = apply_noise(
        z, NoiseSpec(3.0, granularity="sample"), NoisePoint(), torch.Generator().manual_seed(2)
    )
    per_sample = 10 * torch.log10(z.square().mean(1) / (out - z).square().mean(1))
    assert (per_sample - 3.0).abs().max() < 0.2
    z = _signal(n=20000, c=50)
    out = apply_noise(
        z, NoiseSpec(3.0, granularity="output"), NoisePoint(), torch.Generator().manual_seed(3)
    )
    per_out = 10 * torch.log10(z.square().mean(0) / (out - z).square().mean(0))
    assert (per_out - 3.0).abs().max() < 0.2
    # channel dim 1 (conv layout)
    zc = torch.randn(400, 8, 10, 10) * torch.arange(1, 9).float()[None, :, None, None]
    outc = apply_noise(zc, NoiseSpec(0.0, granularity="output"), NoisePoint(), channel_dim=1)
    per_ch = 10 * torch.log10(zc.square().mean((0, 2, 3)) / (outc - zc).square().mean((0, 2, 3)))
    assert (per_ch - 0.0).abs().max() < 0.2


@pytest.mark.parametrize("snr", [0.0, 12.0])
def test_fullscale_snr_against_peak(snr):
    z = _signal()
    out = apply_noise(
        z, NoiseSpec(snr, mode="fullscale"), NoisePoint(), torch.Generator().manual_seed(4)
    )
    peak_power = float(z.abs().max()) ** 2
    assert abs(_db(peak_power / (out - z).square().mean()) - snr) < 0.2
    # mean-power SNR is below the nominal by the crest factor
    assert _db(z.square().mean() / (out - z).square().mean()) < snr - 3


def test_groups_measure_power_per_replica():
    z = _signal(n=1000, c=200)
    both = torch.cat([z, 10 * z])
    out = apply_noise(
        both, NoiseSpec(0.0), NoisePoint(), torch.Generator().manual_seed(5), groups=2
    )
    n1, n2 = (out - both)[:1000], (out - both)[1000:]
    assert abs(_db(n2.square().mean() / n1.square().mean()) - 20.0) < 0.2
    with pytest.raises(ParameterError, match="groups"):
        apply_noise(both, NoiseSpec(0.0), NoisePoint(), groups=3)


def _linear_model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 128))


@pytest.mark.parametrize("snr", [-5.0, 0.0, 10.0, 20.0])
@pytest.mark.parametrize("granularity", ["layer", "output"])
def test_fixed_mode_snr_and_sigma_constant_under_rescaling(snr, granularity):
    model = _linear_model()
    x = torch.rand(4000, 64)
    spec = NoiseSpec(snr, mode="fixed", granularity=granularity)
    calibrate(model, x, spec=spec, max_batches=None, batch_size=1000, seed=0)
    rows = {r["layer"]: r["snr_db"] for r in measure_snr(model, x, seed=1)}
    # first layer: its input is clean, so the effective SNR is the nominal one
    assert abs(rows["0"] - snr) < 0.2
    last = model[2]
    captured = {}

    def grab(m, a, o):
        captured["o"] = o

    h = last.register_forward_hook(grab)
    with torch.no_grad():
        with noise_disabled(model):
            model(x)
        clean = captured["o"]
        set_noise(model, seed=2)
        # noise only at the last layer: compare with the clean output of its (clean) input
        ctx = get_noise(model)
        p0 = ctx.points["0"]
        saved = p0.ref["out"].clone()
        p0.ref["out"] = torch.zeros_like(saved)  # silence layer 0 (sigma = 0)
        model(x)
        noise_before = (captured["o"] - clean).square().mean()
        last.weight.data *= 3.0
        last.bias.data *= 3.0
        with noise_disabled(model):
            model(x)
        clean3 = captured["o"]
        model(x)
        noise_after = (captured["o"] - clean3).square().mean()
    h.remove()
    assert abs(_db(noise_after / noise_before)) < 0.2  # sigma held constant
    eff = _db(clean3.square().mean() / noise_after)
    assert abs(eff - (snr + 20 * math.log10(3.0))) < 0.3  # effective SNR rose by 9.54 dB


def test_fixed_mode_needs_calibration():
    model = inject_noise_(_linear_model(), NoiseSpec(0.0, mode="fixed"))
    with pytest.raises(ParameterError, match="calibrate"):
        model(torch.rand(3, 64))


def test_input_and_weight_noise_snr():
    model = _linear_model()
    inject_noise_(model, NoiseSpec(math.inf, input_snr_db=5.0, weight_snr_db=15.0), seed=0)
    rows = measure_snr(model, torch.rand(4000, 64))
    for r in rows:
        assert abs(r["input_snr_db"] - 5.0) < 0.2
        assert abs(r["weight_snr_db"] - 15.0) < 0.2
        assert r["snr_db"] == math.inf
    # weight noise changes the outputs even with output noise off
    x = torch.rand(10, 64)
    with noise_disabled(model):
        clean = model(x)
    set_noise(model, NoiseSpec(math.inf, weight_snr_db=15.0))
    assert not torch.allclose(model(x), clean)


def test_noise_off_is_exact_and_remove_restores():
    torch.manual_seed(0)
    model = create("small_cnn", (1, 28, 28), 10).eval()
    x = torch.rand(16, 1, 28, 28)
    ref = model(x)
    keys = list(model.state_dict())
    inject_noise_(model, NoiseSpec(), seed=0)  # snr inf
    assert torch.equal(model(x), ref)
    set_noise(model, snr_db=0.0)
    assert not torch.allclose(model(x), ref)
    with noise_disabled(model):
        assert torch.equal(model(x), ref)
    assert list(model.state_dict()) == keys
    remove_noise(model)
    assert get_noise(model) is None
    assert torch.equal(model(x), ref)


def test_same_seed_same_noise_and_copies():
    torch.manual_seed(0)
    model = inject_noise_(create("mlp", (1, 8, 8), 10), NoiseSpec(5.0), seed=3)
    x = torch.rand(20, 1, 8, 8)
    set_noise(model, seed=3)
    a = model(x)
    set_noise(model, seed=3)
    b = model(x)
    c = model(x)
    assert torch.equal(a, b) and not torch.equal(b, c)
    dup = copy.deepcopy(model)
    set_noise(dup, seed=3)
    assert torch.equal(dup(x), a)
    pickle.loads(pickle.dumps(get_noise(model).spec))
    # a copy (or an unpickled model) can be made clean again
    for other in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        remove_noise(other)
        assert torch.equal(other(x), remove_noise(copy.deepcopy(model))(x))
        assert not other._forward_hooks and all(not m._forward_hooks for m in other.modules())


def test_torchvision_model_and_targets():
    torchvision = pytest.importorskip("torchvision")
    m = torchvision.models.resnet18(weights=None, num_classes=10).eval()
    inject_noise_(m, NoiseSpec(10.0, targets=("conv",)), seed=0)
    rows = measure_snr(m, torch.rand(2, 3, 32, 32))
    assert len(rows) == 20 and all(r["layer"] != "fc" for r in rows)
    assert all(abs(r["snr_db"] - 10.0) < 1.0 for r in rows)


@pytest.mark.parametrize(
    "kw",
    [
        {"snr_db": float("nan")},
        {"snr_db": "x"},
        {"snr_db": -math.inf},
        {"mode": "absolute"},
        {"granularity": "pixel"},
        {"mode": "fixed", "granularity": "sample"},
        {"input_snr_db": float("nan")},
        {"targets": ("linear", "attention")},
    ],
)
def test_bad_specs_are_clear_errors(kw):
    with pytest.raises(ParameterError):
        NoiseSpec(**kw)


def test_inject_rejects_non_spec_and_set_noise_needs_noise():
    with pytest.raises(ParameterError):
        inject_noise_(_linear_model(), {"snr_db": 3})
    with pytest.raises(ParameterError, match="inject_noise"):
        set_noise(_linear_model(), snr_db=3.0)


@pytest.mark.parametrize("shape,cdim", [((8, 6, 5, 5), 1), ((8, 40), -1)])
@pytest.mark.parametrize(
    "mode,granularity",
    [
        (m, g)
        for m in ("relative", "fixed", "fullscale")
        for g in ("layer", "sample", "output")
        if not (m == "fixed" and g == "sample")
    ],
)
@pytest.mark.parametrize("groups", [1, 2])
def test_inplace_fast_path_adds_the_same_noise(shape, cdim, mode, granularity, groups):
    # 8 x 6 x 5 x 5 = 1200 elements is below the compiled sampler's minimum: use bigger batches
    shape = (shape[0] * 64, *shape[1:])
    z = torch.randn(shape) * 3
    spec = NoiseSpec(5.0, mode=mode, granularity=granularity)
    point = NoisePoint("p")
    if mode == "fixed":
        point.begin_calibration()
        apply_noise(z, spec, point, channel_dim=cdim)
        point.end_calibration()

    def noised(t: torch.Tensor) -> torch.Tensor:
        gen = torch.Generator().manual_seed(3)
        return apply_noise(t, spec, point, gen, channel_dim=cdim, groups=groups, inplace=True)

    ref = noised(z.clone().requires_grad_(True))  # autograd path: out of place
    with torch.no_grad():
        zi = z.clone()
        out = noised(zi)
    assert out is zi  # fast path taken: the layer output itself was noised
    assert torch.allclose(out, ref.detach(), rtol=1e-5, atol=1e-5)
    assert not torch.allclose(out, z)
