"""Presets, stats, augmentations, the gate, adapters and the JPEG coefficient path."""

import copy

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from noisyhw.compress import frequency as fq
from noisyhw.data import ArrayDataset
from noisyhw.errors import DataError, ParameterError
from noisyhw.train import TrainConfig, fit


# --------------------------------------------------------------------------- presets
def test_presets_have_the_reference_counts_and_known_lists():
    for n, (ny, nb, nr) in fq.PRESET_COUNTS.items():
        ch = fq.preset_channels(n)
        assert len(ch) == n == len(set(ch))
        comp = fq.subset_by_component(ch)
        assert (len(comp["Y"]), len(comp["Cb"]), len(comp["Cr"])) == (ny, nb, nr)
    c24 = fq.subset_by_component(fq.preset_channels(24))
    assert c24["Y"] == [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27]
    assert c24["Cb"] == c24["Cr"] == [0, 1, 8, 9]
    assert fq.subset_by_component(fq.preset_channels(48))["Cb"] == [0, 1, 2, 8, 9, 10, 16, 17]
    # presets are nested: a bigger preset keeps every channel of a smaller one
    for a, b in [(24, 32), (32, 48), (48, 64)]:
        assert set(fq.preset_channels(a)) <= set(fq.preset_channels(b))
    with pytest.raises(ParameterError, match="presets"):
        fq.preset_channels(20)


def test_select_channels_and_resolve():
    x = torch.arange(2 * 192 * 4, dtype=torch.float32).reshape(2, 192, 2, 2)
    sel = fq.ChannelSelect(24)(x)
    assert sel.shape == (2, 24, 2, 2)
    assert torch.equal(sel[:, 4], x[:, fq.preset_channels(24)[4]])
    assert fq.resolve_channels("all") == list(range(192))
    assert fq.resolve_channels([5, 1]) == [1, 5]
    with pytest.raises(ParameterError):
        fq.resolve_channels([1, 1])
    with pytest.raises(ParameterError):
        fq.resolve_channels([192])


# --------------------------------------------------------------------------- stats
def test_streaming_stats_equal_batch_stats_and_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    data = rng.normal(3.0, 2.0, (37, 5, 3, 4)) * np.arange(1, 6)[None, :, None, None]
    s = fq.ChannelStats({"block": 8})
    for i in range(0, 37, 10):  # uneven batches
        s.update(torch.from_numpy(data[i : i + 10]))
    flat = data.transpose(1, 0, 2, 3).reshape(5, -1)
    assert np.allclose(s.mean, flat.mean(1), rtol=1e-12)
    assert np.allclose(s.std, flat.std(1), rtol=1e-12)
    path = s.save(tmp_path / "stats.json")
    t = fq.ChannelStats.load(path)
    assert t.count == s.count and np.allclose(t.std, s.std) and t.config == {"block": 8}
    t.update(data[:3])  # a loaded file keeps accumulating exactly
    both = np.concatenate([data, data[:3]])
    assert np.allclose(t.mean, both.transpose(1, 0, 2, 3).reshape(5, -1).mean(1))
    norm = s.normalizer()
    z = norm(torch.from_numpy(data).float())
    assert abs(float(z.mean())) < 1e-4 and abs(float(z.std()) - 1) < 0.02
    assert s.normalizer([0, 2]).mean.shape == (1, 2, 1, 1)
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(DataError):
        fq.ChannelStats.load(tmp_path / "bad.json")
    with pytest.raises(ParameterError):
        s.update(np.zeros((1, 4, 2, 2)))


# --------------------------------------------------------------------------- augmentations
def test_random_resized_crop_is_aligned_seeded_and_full_scale_is_identity():
    x = torch.rand(4, 3, 32, 48)
    g = torch.Generator().manual_seed(0)
    a = fq.random_resized_crop(x, 16, generator=g)
    b = fq.random_resized_crop(x, 16, generator=torch.Generator().manual_seed(0))
    assert a.shape == (4, 3, 16, 16) and torch.equal(a, b)
    # scale 1 with the source aspect ratio: the whole image, resampled at the same size
    same = fq.random_resized_crop(x, (32, 48), scale=(1.0, 1.0), ratio=(1.5, 1.5))
    assert torch.allclose(same, x, atol=1e-5)
    u8 = (x * 255).to(torch.uint8)
    assert fq.random_resized_crop(u8, 8).dtype == torch.uint8
    with pytest.raises(ParameterError, match="multiple of align"):
        fq.random_resized_crop(x, 12)
    flipped = fq.random_flip(x, p=1.0)
    assert torch.equal(flipped, x.flip(-1))
    assert torch.equal(fq.random_flip(x, p=0.0), x)


# --------------------------------------------------------------------------- gate
def test_gate_mask_is_binary_starts_on_and_gradients_flow():
    torch.manual_seed(0)
    gate = fq.FrequencyGate(64)
    x = torch.randn(256, 64, 4, 4, requires_grad=True)
    y = gate.train()(x)
    m = gate.mask
    assert set(m.detach().unique().tolist()) <= {0.0, 1.0}
    on = float(m.detach().mean())
    # P(on) = sigmoid(2 - 0.1) = 0.870 under Gumbel noise; 16384 draws -> 5 sigma = 0.013
    assert abs(on - 0.8699) < 0.013
    zeroed = (m == 0)[:, :, None, None].expand_as(y)
    assert torch.all(y[zeroed] == 0)
    (y.sum() + 0.1 * gate.active_channels()).backward()
    assert x.grad is not None and gate.logits.weight.grad.abs().sum() > 0
    assert gate.squeeze[1].weight.grad.abs().sum() > 0
    gate.eval()
    gate.reset_heat()
    with torch.no_grad():
        gate(torch.randn(8, 64, 4, 4))
    assert gate.heat.shape == (64,) and float(gate.seen) == 8
    # at init every channel's on-probability is softmax((0.1, 2.0))[1] = 0.870 (weights ~1e-3)
    assert np.allclose(gate.heat, 1 / (1 + np.exp(-1.9)), atol=0.01)
    assert np.all(gate.on_rate == 1.0)  # deterministic at eval: the on logit wins everywhere


def test_gate_logit_scale_keeps_the_initial_logits():
    x = torch.randn(4, 8, 3, 3)
    torch.manual_seed(1)
    a = fq.FrequencyGate(8).eval().channel_logits(x)
    torch.manual_seed(1)
    b = fq.FrequencyGate(8, logit_scale=20.0).eval().channel_logits(x)
    assert torch.allclose(a, b, atol=1e-4)
    assert fq.top_k_channels(np.array([0.1, 0.9, 0.5, 0.9]), 2) == [1, 3]


def test_gate_penalty_trains_channels_off():
    """With a large lambda the active-channel count must fall well below its start."""
    torch.manual_seed(0)
    n = 256
    x = torch.randn(n, 16, 2, 2)
    y = (x[:, 0, 0, 0] > 0).long()  # only channel 0 carries the label
    ds = ArrayDataset(x, y, ["a", "b"], "toy")
    model = nn.Sequential(fq.FrequencyGate(16), nn.Flatten(), nn.Linear(64, 2))
    pen = fq.GatePenalty(lam=0.05)
    hist = fit(
        model, ds, None, TrainConfig(epochs=8, batch_size=64, lr=0.02, seed=0), callbacks=[pen]
    )
    assert hist[0]["active_channels"] > 10
    assert hist[-1]["active_channels"] < hist[0]["active_channels"] - 4
    with pytest.raises(ParameterError, match="FrequencyGate"):
        fq.GatePenalty(0.1).extra_loss(nn.Linear(2, 2))


# --------------------------------------------------------------------------- adapters
@pytest.mark.parametrize(
    "name, grid", [("resnet18", 56), ("resnet34", 28), ("resnet50", 28), ("mobilenet_v2", 32)]
)
def test_adapters_replace_the_stem_and_keep_the_variance(name, grid):
    """The adapted net on a DCT grid g ends on the feature map the RGB net gives an image of the
    size the grid stands for (4g: the ResNet stem's stride; 2g: MobileNetV2's first conv), and
    the re-fitted first convolution keeps the output variance of unit-variance inputs."""
    resnet = name.startswith("resnet")
    for c in (24, 192):
        torch.manual_seed(0)
        base = getattr(torchvision.models, name)(weights=None, num_classes=7).eval()
        orig = copy.deepcopy(base)
        m = fq.to_frequency(base, c).eval()
        sizes: list[tuple[int, ...]] = []

        def grab(mod, args, out, sizes=sizes):
            sizes.append(tuple(out.shape[-2:]))

        last = "layer4" if resnet else "features"
        getattr(m, last).register_forward_hook(grab)
        getattr(orig, last).register_forward_hook(grab)
        rgb = 4 * grid if resnet else 2 * grid
        with torch.no_grad():
            assert m(torch.randn(2, c, grid, grid)).shape == (2, 7)
            orig(torch.randn(1, 3, rgb, rgb))
        assert sizes[0] == sizes[1], (c, sizes)
        new_conv = m.layer1[0].conv1 if resnet else m.features[1].conv[1]
        old_conv = orig.layer1[0].conv1 if resnet else orig.features[1].conv[1]
        with torch.no_grad():
            v_new = new_conv(torch.randn(64, c, 8, 8)).var()
            v_old = old_conv(torch.randn(64, old_conv.in_channels, 8, 8)).var()
        assert 0.75 < float(v_new / v_old) < 1.33, (c, float(v_new / v_old))


def test_resnet_adapter_slices_pretrained_weights_and_layer2_stride():
    torch.manual_seed(0)
    base = torchvision.models.resnet50(weights=None)
    w = base.layer1[0].conv1.weight.detach().clone()
    m = fq.to_frequency(base, 24)
    assert isinstance(m.conv1, nn.Identity) and isinstance(m.maxpool, nn.Identity)
    new = m.layer1[0].conv1.weight
    assert new.shape == (64, 24, 1, 1)
    assert torch.allclose(new, w[:, :24] * (64 / 24) ** 0.5)
    assert m.layer1[0].downsample[0].weight.shape[1] == 24
    r18 = fq.to_frequency("resnet18", 64, layer2_stride=1)
    assert r18.layer2[0].conv1.stride == (1, 1) and r18.layer2[0].downsample[0].stride == (1, 1)
    with torch.no_grad():
        out = r18.layer2(r18.layer1(torch.randn(1, 64, 16, 16)))
    assert out.shape[-1] == 16  # no downsampling in layer2
    r18c = fq.to_frequency("resnet18", 192)
    assert r18c.layer1[0].downsample[0].weight.shape == (64, 192, 1, 1)


def test_load_pretrained_shaped_state_dict():
    torch.manual_seed(0)
    rgb = torchvision.models.resnet18(weights=None, num_classes=10)
    sd = rgb.state_dict()
    m = fq.load_pretrained(fq.to_frequency("resnet18", 32, num_classes=10), sd)
    assert torch.equal(m.layer3[1].conv2.weight, sd["layer3.1.conv2.weight"])
    assert torch.allclose(m.layer1[0].conv1.weight, sd["layer1.0.conv1.weight"][:, :32] * 2**0.5)
    mb = torchvision.models.mobilenet_v2(weights=None, num_classes=10)
    msd = mb.state_dict()
    mm = fq.load_pretrained(fq.to_frequency("mobilenet_v2", 96, num_classes=10), msd)
    dw = mm.features[1].conv[0][0].weight
    assert dw.shape == (96, 1, 3, 3)
    assert torch.equal(dw[32:64], msd["features.1.conv.0.0.weight"])
    bad = {"fc.weight": torch.zeros(3, 3)}
    with pytest.raises(ParameterError):
        fq.load_pretrained(m, bad)


def test_small_models_and_bad_models():
    m = fq.to_frequency("small_cnn", 64, grid=(7, 7))
    assert m(torch.randn(3, 64, 7, 7)).shape == (3, 10)
    with pytest.raises(ParameterError, match="grid"):
        fq.to_frequency("small_cnn", 64)
    with pytest.raises(ParameterError):
        fq.to_frequency(nn.Linear(3, 3), 64)
    with pytest.raises(ParameterError):
        fq.to_frequency("vgg11", 64)
    with pytest.raises(ParameterError, match="ResNets"):
        fq.to_frequency("mobilenet_v2", 64, layer2_stride=1)


# --------------------------------------------------------------------------- JPEG path
@pytest.mark.skipif(not fq.jpeg_available(), reason="optional jpeglib not installed")
@pytest.mark.parametrize("subsampling, chroma", [(0, "full"), (2, "420")])
def test_jpeg_coefficients_agree_with_pixel_path(tmp_path, subsampling, chroma):
    from PIL import Image
    from sklearn.datasets import load_sample_images

    img = load_sample_images().images[1][:160, :240]
    path = tmp_path / "x.jpg"
    Image.fromarray(img).save(path, quality=90, subsampling=subsampling)
    coef = fq.read_jpeg_dct(path)
    pix = fq.dct_channels(np.ascontiguousarray(img.transpose(2, 0, 1)[None]), chroma=chroma)[0]
    assert coef.shape == pix.shape == (192, 20, 30)
    err = np.abs(coef - pix)
    assert err.mean() < 1.5  # quality 90: steps of 2-10, errors up to half a step
    assert np.corrcoef(coef[0].ravel(), pix[0].ravel())[0, 1] > 0.9999


def test_jpeg_path_reports_missing_dependency_or_bad_file(tmp_path):
    (tmp_path / "x.jpg").write_bytes(b"not a jpeg")
    with pytest.raises((ParameterError, DataError)):
        fq.read_jpeg_dct(tmp_path / "x.jpg")


# --------------------------------------------------------------------------- pipeline
def test_frequency_input_pipeline_shapes_normalisation_and_augmentation():
    torch.manual_seed(0)
    x = torch.rand(6, 3, 32, 32)
    stats = fq.ChannelStats().update(fq.dct_channels(x))
    front = fq.FrequencyInput(32, channels=24, stats=stats, augment=True, seed=0)
    front.eval()
    z = front(x)
    assert z.shape == (6, 24, 4, 4)
    # eval = deterministic transform: select + normalise the plain DCT
    ref = (
        fq.select_channels(fq.dct_channels(x), fq.preset_channels(24))
        - torch.from_numpy(stats.mean[fq.preset_channels(24)]).float()[None, :, None, None]
    ) / (torch.from_numpy(stats.std[fq.preset_channels(24)]).float()[None, :, None, None] + 1e-6)
    assert torch.allclose(z, ref, atol=1e-3)
    front.train()
    za, zb = front(x), front(x)
    assert za.shape == z.shape and not torch.allclose(za, zb)  # fresh crops each call
    model = fq.frequency_model(front, fq.to_frequency("resnet18", 24, num_classes=3))
    assert model(torch.rand(2, 3, 48, 48)).shape == (2, 3)  # eval-size resize inside
    with pytest.raises(ParameterError):
        fq.FrequencyInput(30)
    with pytest.raises(ParameterError):
        fq.FrequencyInput(32, stats=fq.ChannelStats().update(torch.zeros(1, 64, 1, 1)))
