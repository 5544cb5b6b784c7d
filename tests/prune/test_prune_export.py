"""export(): physically smaller models with the same outputs as the masked model (eval mode)."""

import pytest
import torch
from torch import nn

from noisyhw import models as M
from noisyhw.compress.prune import PruneSpec, analyze, count_params, export, prune_
from noisyhw.errors import ParameterError


def _randomize_bn(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            with torch.no_grad():
                m.weight.mul_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.add_(torch.randn(m.num_features, generator=g) * 0.1)


CASES = [
    ("small_cnn", (1, 16, 16)),
    ("resnet20", (3, 16, 16)),
    ("lenet5", (1, 16, 16)),
    ("mlp", (1, 8, 8)),
    ("torchvision:resnet18", (3, 32, 32)),
]


@pytest.mark.parametrize(("name", "shape"), CASES)
@pytest.mark.parametrize("structure", ["filter", "channel"])
def test_export_equals_masked_model(name, shape, structure):
    torch.manual_seed(0)
    model = M.create(name, shape, 10)
    _randomize_bn(model)
    prune_(model, PruneSpec(structure, 0.5, "magnitude"))
    model.eval()
    small = export(model).eval()
    x = torch.randn(4, *shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref, out = model(x), small(x)
    assert torch.allclose(ref, out, atol=1e-5, rtol=0), (ref - out).abs().max()
    assert count_params(small) < count_params(model)
    assert not any(b.endswith("_mask") for b, _ in small.named_buffers())


def test_export_shapes_follow_live_filters():
    torch.manual_seed(0)
    model = M.create("small_cnn", (1, 16, 16), 10)
    prune_(model, PruneSpec("filter", 0.75, "magnitude"))
    small = export(model)
    conv2 = model.features[4]
    live = int((conv2.weight.reshape(conv2.out_channels, -1) != 0).any(1).sum())
    assert small.features[4].out_channels == live == conv2.out_channels // 4
    assert small.features[5].num_features == live
    assert small.classifier[1].in_features == live * 16


def test_resnet_coupled_channels():
    torch.manual_seed(0)
    res = M.create("resnet20", (3, 16, 16), 10)
    groups = {id(g): g for g in analyze(res).values()}.values()
    coupled = sorted(g.producers for g in groups if g.coupled)
    assert coupled[0] == ["conv1", "layer1.0.conv2", "layer1.1.conv2", "layer1.2.conv2"]
    assert [
        "layer3.0.downsample.0",
        "layer3.0.conv2",
        "layer3.1.conv2",
        "layer3.2.conv2",
    ] in coupled
    # auto: the stream's producers are linked and prune the same channels, so the stream shrinks
    r = prune_(res, PruneSpec("filter", 0.5, "magnitude"))
    dead = {t.name: (t.weight.reshape(t.weight.shape[0], -1) == 0).all(1) for t in r.targets}
    assert torch.equal(dead["conv1"], dead["layer1.2.conv2"])
    sres = export(res)
    assert sres.layer1[0].conv2.out_channels == 8 and sres.layer1[0].conv1.out_channels == 8
    assert sres.fc.in_features == 32
    # pruning only the block-internal convs leaves the residual stream at full width
    res2 = M.create("resnet20", (3, 16, 16), 10)
    inner = [n for n, m in res2.named_modules() if n.endswith("conv1") and "layer" in n]
    prune_(res2, PruneSpec("filter", 0.5, "magnitude", layers=inner))
    s2 = export(res2)
    assert s2.layer1[0].conv2.out_channels == 16 and s2.layer1[0].conv1.out_channels == 8


def test_export_after_reweighted_training_and_quantization():
    from noisyhw import data as D
    from noisyhw.train import TrainConfig

    tr = D.load("digits", "train").subset(192, seed=0)
    torch.manual_seed(0)
    model = M.create("small_cnn", (1, 8, 8), 10, width=8)
    spec = PruneSpec("filter", 0.5, "reweighted", lam=1e-3, bits=4)
    prune_(model, spec, tr, None, TrainConfig(epochs=2, batch_size=64))
    model.eval()
    small = export(model).eval()
    x = tr.x[:16]
    with torch.no_grad():
        assert torch.allclose(model(x), small(x), atol=1e-5, rtol=0)


def test_untraceable_model_is_a_clear_error():
    class Dynamic(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3)
            self.conv2 = nn.Conv2d(4, 4, 3)

        def forward(self, x):
            x = self.conv(x)
            if x.sum() > 0:  # data-dependent control flow: fx cannot trace it
                x = x * 2
            return self.conv2(x)

    with pytest.raises(ParameterError, match=r"torch\.fx"):
        export(Dynamic())
