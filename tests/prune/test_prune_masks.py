"""Achieved sparsity (counted from saved weights), masked retraining, penalties, ADMM, resume."""

import pytest
import torch
from torch import nn

from noisyhw import data as D
from noisyhw import models as M
from noisyhw.compress.prune import (
    PruneSpec,
    PruningCallback,
    hard_prune,
    prune_,
    register_masks,
    resolve_targets,
)
from noisyhw.errors import ParameterError
from noisyhw.io import load_checkpoint, save_checkpoint
from noisyhw.train import Callback, TrainConfig


def _cnn(seed=0):
    torch.manual_seed(seed)
    return M.create("small_cnn", (1, 8, 8), 10, width=8)


def _digits(n=256):
    return D.load("digits", "train").subset(n, seed=0), D.load("digits", "test").subset(128, seed=1)


@pytest.mark.parametrize(
    ("structure", "sparsity", "scope"),
    [
        ("irregular", 0.7, "layer"),
        ("irregular", 0.9, "global"),
        ("filter", 0.5, "layer"),
        ("channel", 0.25, "layer"),
        ("column", 0.6, "layer"),
        ("kernel", 0.5, "global"),
        ("pattern", 0.75, "layer"),
        ("block", 0.5, "layer"),
    ],
)
def test_achieved_sparsity_from_saved_weights(tmp_path, structure, sparsity, scope):
    model = M.create("lenet5", (1, 12, 12), 10) if structure == "pattern" else _cnn()
    if structure == "pattern":  # lenet5 has 5x5 kernels: give it a 3x3 layer to prune
        model.features[3] = nn.Conv2d(6, 16, 3, padding=1)
        layers = ["features.3"]
    else:
        layers = "all" if structure in ("irregular", "kernel", "block") else "auto"
    spec = PruneSpec(structure, sparsity, "magnitude", scope=scope, layers=layers)
    res = prune_(model, spec)
    save_checkpoint(tmp_path / "m.pt", {"state": model.state_dict()})
    state = load_checkpoint(tmp_path / "m.pt")["state"]
    zeros = total = 0
    for t in res.targets:
        w = state[t.key]
        z = int((w == 0).sum())
        if scope == "layer":
            step = int(t.groups.sizes.max()) / w.numel()  # one group of granularity
            assert abs(z / w.numel() - sparsity) <= step / 2 + 1e-9, t.key
            assert torch.equal(state[t.key.rsplit(".", 1)[0] + ".weight_mask"] == 0, w == 0)
        zeros, total = zeros + z, total + w.numel()
    if scope == "global":
        # rounding to one group, plus at most one group given back per layer never to empty one
        biggest = max(int(t.groups.sizes.max()) for t in res.targets)
        assert abs(zeros / total - sparsity) <= biggest * len(res.targets) / total
    assert res.sparsity == pytest.approx(zeros / total)


def test_pattern_prune_keeps_at_most_four_per_kernel():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(2, 4, 3), nn.ReLU(), nn.Conv2d(4, 8, 3), nn.Flatten(), nn.Linear(8, 2)
    )
    prune_(model, PruneSpec("pattern", 0.7, "magnitude", layers=["2"]))
    nz = (model[2].weight != 0).reshape(32, 9).sum(1)
    assert int(nz.max()) <= 4 and set(nz.tolist()) <= {0, 4}
    # connectivity pruning removed whole kernels to go from 5/9 to ~0.7
    assert int((nz == 0).sum()) == round((0.7 - 5 / 9) * 32 * 9 / 4)


def test_filter_prune_zeros_coupled_bias_and_batchnorm():
    model = _cnn()
    res = prune_(model, PruneSpec("filter", 0.5, "magnitude", layers=["features.4"]))
    conv, bn = model.features[4], model.features[5]
    dead = (conv.weight.reshape(conv.out_channels, -1) == 0).all(1)
    assert int(dead.sum()) == conv.out_channels // 2
    assert torch.all(conv.bias[dead] == 0) and torch.all(bn.weight[dead] == 0)
    assert torch.all(bn.bias[dead] == 0) and torch.all(bn.weight[~dead] != 0)
    assert res.layers[0]["sparsity"] == 0.5


@pytest.mark.parametrize("method", ["magnitude", "reweighted", "admm", "agp", "group_lasso"])
def test_masked_retraining_keeps_zeros(method):
    tr, te = _digits()
    model = _cnn()
    spec = PruneSpec("irregular", 0.8, method, lam=1e-4, rho=1e-2, prune_frac=0.5)
    snap = {}

    class Snapshot(Callback):
        def on_epoch_end(self, epoch, model, metrics):
            if epoch == 1:
                snap.update({k: v.clone() for k, v in model.state_dict().items()})

    res = prune_(
        model, spec, tr, te, TrainConfig(epochs=2, batch_size=64, lr=3e-3), callbacks=[Snapshot()]
    )
    for t in res.targets:
        before = snap[t.key]
        after = t.weight.detach()
        assert torch.equal(after == 0, before == 0), t.key  # the zero set did not move
        assert not torch.equal(after, before)  # survivors did train
        assert abs(float((after == 0).float().mean()) - 0.8) < 0.01


def test_reweighted_alphas_and_gradient():
    model = _cnn()
    spec = PruneSpec("filter", 0.5, "reweighted", lam=0.1, eps=1e-3, layers=["features.4"])
    cb = PruningCallback(model, spec, epochs=2)
    cb.refresh_alphas()
    w = model.features[4].weight
    sq = w.detach().reshape(w.shape[0], -1).square().sum(1)
    assert torch.allclose(cb.alphas[0], 1 / (sq + 1e-3))
    model.zero_grad()
    cb.penalty().backward()
    expect = 2 * 0.1 * (1 / (sq + 1e-3))[:, None, None, None] * w.detach()
    assert torch.allclose(w.grad, expect, rtol=1e-5)
    # near-vanished groups get a pull ~1/eps, large ones ~1/||W||^2
    assert float(cb.alphas[0].max()) <= 1e3


def test_group_lasso_gradient_closed_form():
    model = _cnn()
    spec = PruneSpec("channel", 0.5, "group_lasso", lam=0.3, layers=["features.4"])
    cb = PruningCallback(model, spec, epochs=2)
    w = model.features[4].weight
    cb.penalty().backward()
    per = w.detach().transpose(0, 1).reshape(w.shape[1], -1)
    size = per.shape[1]
    expect = 0.3 * size**0.5 * per / per.norm(dim=1, keepdim=True)
    assert torch.allclose(w.grad.transpose(0, 1).reshape(w.shape[1], -1), expect, rtol=1e-4)


def test_admm_z_meets_the_constraint():
    model = _cnn()
    spec = PruneSpec("kernel", 0.5, "admm", rho=0.5, rho_growth=2.0, layers="all")
    cb = PruningCallback(model, spec, epochs=4)
    cb.on_train_begin(model, None)
    with torch.no_grad():
        for t in cb.targets:
            t.weight.add_(0.01)
    cb._admm_update()
    assert cb.rho == 1.0
    for t, z, u in zip(cb.targets, cb.Z, cb.U, strict=True):
        kern = (z.reshape(z.shape[0] * z.shape[1], -1) != 0).any(1)
        assert abs(1 - float(kern.float().mean()) - 0.5) <= 1 / kern.numel()
        assert torch.allclose(u, cb.U[cb.targets.index(t)])


def test_resume_gives_the_same_weights(tmp_path):
    tr, te = _digits(192)
    cfg = TrainConfig(epochs=4, batch_size=64, lr=3e-3)
    spec = PruneSpec("filter", 0.5, "reweighted", lam=1e-3, prune_frac=0.5)

    full = _cnn()
    prune_(full, spec, tr, te, cfg)

    class Crash(Callback):
        def __init__(self):
            self.epoch = 0

        def on_epoch_end(self, epoch, model, metrics):
            self.epoch = epoch

        def extra_loss(self, model):
            if self.epoch == 3:
                raise KeyboardInterrupt
            return None

    ckpt = tmp_path / "ck.pt"
    with pytest.raises(KeyboardInterrupt):
        prune_(_cnn(), spec, tr, te, cfg, callbacks=[Crash()], checkpoint=ckpt)
    resumed = _cnn()
    prune_(resumed, spec, tr, te, cfg, callbacks=[Crash()], checkpoint=ckpt)
    for (k, a), b in zip(full.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), k


def test_bad_specs_are_clear_errors():
    for kw in [
        {"sparsity": 1.0},
        {"sparsity": -0.1},
        {"sparsity": float("nan")},
        {"structure": "rows"},
        {"method": "lottery"},
        {"scope": "net"},
        {"structure": "pattern", "sparsity": 0.5},
        {"bits": 1},
        {"layers": []},
    ]:
        with pytest.raises(ParameterError):
            PruneSpec(**kw)
    model = _cnn()
    with pytest.raises(ParameterError, match="kernel"):
        resolve_targets(model, PruneSpec("kernel", 0.5, layers=["classifier.1"]))
    with pytest.raises(ParameterError, match="not a prunable layer"):
        resolve_targets(model, PruneSpec("filter", 0.5, layers=["features.1"]))
    mlp = M.create("mlp", (1, 8, 8), 10)
    with pytest.raises(ParameterError, match="fits no layer"):
        resolve_targets(mlp, PruneSpec("pattern", 0.6))
    with pytest.raises(ParameterError, match="training data"):
        prune_(model, PruneSpec("filter", 0.5, "reweighted"))


def test_recurrent_weights_block_and_filter():
    torch.manual_seed(0)
    model = M.create("lstm", (8, 8), 10, hidden=16)
    spec = PruneSpec("block", 0.5, "magnitude", block=4)
    targets = resolve_targets(model, spec)
    assert {t.param for t in targets} == {"weight_ih_l0", "weight_hh_l0"}
    register_masks(targets)
    hard_prune(targets, spec)
    for t in targets:
        w = t.weight.detach()
        blocks = w.reshape(w.shape[0] // 4, 4, w.shape[1] // 4, 4).abs().sum((1, 3))
        assert float((blocks == 0).float().mean()) == 0.5
        assert float((w == 0).float().mean()) == 0.5
    x = torch.randn(3, 8, 8)
    assert torch.isfinite(model(x)).all()


def test_linked_residual_producers_share_alphas_and_masks():
    torch.manual_seed(0)
    model = M.create("resnet20", (1, 8, 8), 10)
    cb = PruningCallback(model, PruneSpec("filter", 0.5, "reweighted", lam=1e-3), epochs=2)
    cb.refresh_alphas()
    by = {t.name: (t, a) for t, a in zip(cb.targets, cb.alphas, strict=True)}
    members = ["conv1", "layer1.0.conv2", "layer1.1.conv2", "layer1.2.conv2"]
    assert len({by[n][0].link for n in members}) == 1 and by["conv1"][0].link is not None
    joint = sum(by[n][0].weight.detach().reshape(16, -1).square().sum(1) for n in members)
    for n in members:
        assert torch.allclose(by[n][1], 1 / (joint + 1e-6))
    assert by["layer1.0.conv1"][0].link is None  # block-internal: its own channels


def test_agp_follows_the_cubic_schedule():
    tr, _ = _digits(128)
    model = _cnn()
    spec = PruneSpec("irregular", 0.8, "agp", prune_frac=0.75)
    res = prune_(model, spec, tr, None, TrainConfig(epochs=4, batch_size=64))
    got = [h["sparsity"] for h in res.history]
    expect = [0.8 * (1 - (1 - e / 3) ** 3) for e in (1, 2)] + [0.8, 0.8]
    assert got == pytest.approx(expect, abs=2e-3)


def test_global_scope_spreads_sparsity_unevenly():
    model = _cnn()
    with torch.no_grad():
        model.classifier[1].weight.mul_(0.01)  # a much weaker layer loses more under a global rank
    res = prune_(model, PruneSpec("irregular", 0.5, "magnitude", scope="global", layers="all"))
    by = {r["layer"]: r for r in res.layers}
    total = sum(r["weights"] for r in res.layers)
    # the weak layer (77% of the weights) takes nearly the whole budget, the others ~nothing
    assert abs(sum(r["zeros"] for r in res.layers) - 0.5 * total) <= 1
    assert by["classifier.1.weight"]["zeros"] >= 0.99 * 0.5 * total
    assert all(r["sparsity"] < 0.03 for k, r in by.items() if k != "classifier.1.weight")


def test_pruned_energy_is_small_after_proximal_reweighting():
    tr, _ = _digits(512)
    cfg = TrainConfig(epochs=4, batch_size=32, lr=2e-3)
    out = {}
    for method, lam in (("magnitude", 0.0), ("reweighted", 4.0), ("group_lasso", 0.05)):
        model = _cnn()
        spec = PruneSpec("filter", 0.5, method, lam=lam, update="proximal")
        res = prune_(model, spec, tr, None, cfg)
        out[method] = res.callback.pruned_energy
        assert res.history[-1]["pruned_energy"] == out[method]
    # shrinking the groups that will be cut before the cut: the hard prune removes less
    assert 0 <= out["reweighted"] < 0.5 * out["magnitude"], out
    assert out["group_lasso"] < out["magnitude"], out


def test_proximal_step_closed_form():
    model = _cnn()
    spec = PruneSpec(
        "filter", 0.5, "reweighted", lam=2.0, eps=1e-3, update="proximal", layers=["features.4"]
    )
    cb = PruningCallback(model, spec, epochs=2)
    w = model.features[4].weight
    before = w.detach().clone()
    cb.refresh_alphas()
    cb.proximal_step(lr=0.01)
    sq = before.reshape(before.shape[0], -1).square().sum(1)
    factor = (1 - 0.01 * 2.0 * 2 / (sq + 1e-3)).clamp(min=0)
    assert torch.allclose(w.detach(), before * factor[:, None, None, None])
    assert cb.extra_loss(model) is None  # proximal: nothing added to the loss
