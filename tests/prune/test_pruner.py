"""The imperative Pruner in a hand-written loop equals prune_() through fit, bit for bit."""

import pytest
import torch
from torch import nn

from noisyhw import data as D
from noisyhw import models as M
from noisyhw.compress.prune import Pruner, PruneSpec, prune_
from noisyhw.errors import ParameterError
from noisyhw.seeding import seed_everything
from noisyhw.train import TrainConfig, iterate_batches

SEED, EPOCHS, BATCH = 3, 4, 64


def _cnn():
    torch.manual_seed(0)
    return M.create("small_cnn", (1, 8, 8), 10, width=8)


def _train():
    return D.load("digits", "train").subset(256, seed=0)


def _hand_loop(model, spec, train, *, proximal=False):
    """A plain PyTorch loop: the batches and optimizer fit() would use, and the Pruner."""
    seed_everything(SEED)
    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    steps = -(-len(train) // BATCH)
    p = Pruner(model, spec, epochs=EPOCHS, steps_per_epoch=steps, optimizer=opt)
    for _ in range(EPOCHS):
        for x, y in iterate_batches(train, BATCH, shuffle=True, generator=gen):
            loss = nn.functional.cross_entropy(model(x), y) + p.penalty()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            p.step()
    return p


@pytest.mark.parametrize(
    "spec",
    [
        PruneSpec("filter", 0.5, "reweighted", lam=1e-2, prune_frac=0.5),
        PruneSpec("filter", 0.5, "reweighted", lam=0.5, prune_frac=0.5, update="proximal"),
        PruneSpec("irregular", 0.8, "agp", layers="all", prune_frac=0.75),
        PruneSpec("irregular", 0.7, "magnitude", layers="all", prune_frac=0.25),
    ],
    ids=["reweighted", "reweighted-proximal", "agp", "magnitude"],
)
def test_hand_loop_equals_prune_through_fit(spec):
    train = _train()
    ref = _cnn()
    res = prune_(
        ref, spec, train, None, TrainConfig(epochs=EPOCHS, batch_size=BATCH, lr=1e-2, seed=SEED)
    )
    model = _cnn()
    p = _hand_loop(model, spec, train)
    assert p.pruned and p.epoch == EPOCHS
    sa, sb = ref.state_dict(), model.state_dict()
    assert sa.keys() == sb.keys() and any(k.endswith("_mask") for k in sa)
    for k in sa:  # weights and masks
        assert torch.equal(sa[k], sb[k]), k
    assert p.sparsity() == pytest.approx(res.sparsity)
    # the designated sparsity, counted from the weights (per layer, within one group)
    for t in p.targets:
        w = t.weight.detach()
        group = float(t.groups.sizes.max()) / w.numel()
        assert abs(float((w == 0).float().mean()) - spec.sparsity) <= group + 1e-9, t.name
    # the history's sparsity is fit's, epoch by epoch
    assert [h["sparsity"] for h in p.history] == [h["sparsity"] for h in res.history]


def test_agp_ramp_and_masked_retraining():
    """AGP: sparsity rises along s(1 - (1 - e/E)^3) epoch by epoch; pruned weights stay zero."""
    spec = PruneSpec("irregular", 0.8, "agp", layers="all", prune_frac=0.75)
    p = _hand_loop(_cnn(), spec, _train())
    phase = round(0.75 * EPOCHS)
    for h in p.history[:phase]:
        e = h["epoch"]
        assert h["sparsity"] == pytest.approx(0.8 * (1 - (1 - e / phase) ** 3), abs=0.01)
    assert p.history[-1]["sparsity"] == pytest.approx(0.8, abs=0.01)


def test_manual_epochs_and_bad_input():
    model = _cnn()
    spec = PruneSpec("filter", 0.5, "magnitude", prune_frac=0.5)
    p = Pruner(model, spec, epochs=2)  # no steps_per_epoch: the loop ends epochs itself
    assert float(p.penalty()) == 0.0
    p.step()
    assert not p.pruned and p.epoch == 0
    p.epoch_end()
    assert p.pruned and p.sparsity() >= 0.5 - 1e-9  # hard prune after prune_frac * epochs
    state = p.state_dict()
    q = Pruner(_cnn(), spec, epochs=2)
    q.load_state_dict(state)
    assert q.pruned and q.epoch == 1
    with pytest.raises(ParameterError, match="optimizer"):
        Pruner(_cnn(), PruneSpec("filter", 0.5, "reweighted", update="proximal"), epochs=2)
    with pytest.raises(ParameterError, match="epochs"):
        Pruner(_cnn(), spec, epochs=0)
    with pytest.raises(ParameterError, match="spec"):
        Pruner(_cnn(), {"structure": "filter"}, epochs=2)
    # filter_fn narrows the layers, as in prune_
    only = Pruner(_cnn(), spec, epochs=2, filter_fn=lambda m, fqn: fqn == "features.4")
    assert [t.name for t in only.targets] == ["features.4"]
    # a loop stopped before the hard prune: finish() prunes
    p = Pruner(_cnn(), spec, epochs=4)
    assert p.finish() >= 0.5 - 1e-9 and p.pruned
