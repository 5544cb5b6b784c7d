"""Voting, noise-injected training through the shared loop, and black-box attacks."""

import math

import pytest
import torch
from torch import nn

from noisyhw import data
from noisyhw.analog import (
    AdversarialLoss,
    NoiseSpec,
    NoiseTraining,
    fgsm,
    get_noise,
    inject_noise_,
    noisy_accuracy,
    perturb,
    pgd,
    set_noise,
    train_substitute,
    transfer_attack,
    vote,
)
from noisyhw.errors import ParameterError
from noisyhw.models import create
from noisyhw.train import TrainConfig, evaluate, fit


def _mlp(seed=0):
    torch.manual_seed(seed)
    return create("mlp", (1, 8, 8), 10, hidden=(32,))


@pytest.mark.parametrize("method", ["majority", "mean"])
def test_vote_k1_equals_single_noisy_pass(method):
    model = inject_noise_(_mlp().eval(), NoiseSpec(0.0), seed=0)
    x = torch.rand(50, 1, 8, 8)
    set_noise(model, seed=11)
    single = model(x).argmax(-1)
    res = vote(model, x, votes=1, method=method, seed=11)
    assert torch.equal(res.pred, single)


def test_vote_equals_loop_of_passes_when_one_replica_per_forward():
    model = inject_noise_(_mlp().eval(), NoiseSpec(-3.0), seed=0)
    x = torch.rand(40, 1, 8, 8)
    set_noise(model, seed=5)
    with torch.no_grad():
        passes = [model(x) for _ in range(7)]
    probs = torch.stack([p.softmax(-1) for p in passes]).mean(0)
    counts = torch.stack([nn.functional.one_hot(p.argmax(-1), 10) for p in passes]).sum(0).float()
    maj = (counts + 0.5 * probs).argmax(-1)
    assert torch.equal(vote(model, x, 7, "mean", seed=5, max_rows=40).pred, probs.argmax(-1))
    assert torch.equal(vote(model, x, 7, "majority", seed=5, max_rows=40).pred, maj)
    assert torch.allclose(vote(model, x, 7, "mean", seed=5, max_rows=40).scores, probs, atol=1e-6)
    # batched (all 7 replicas in one forward) is reproducible and has the same shape of result
    a = vote(model, x, 7, "majority", seed=5)
    b = vote(model, x, 7, "majority", seed=5)
    assert torch.equal(a.pred, b.pred) and a.scores.shape == (40, 10)
    assert torch.allclose(a.scores.floor().sum(1), torch.full((40,), 7.0))


def test_vote_without_noise_is_argmax_and_bad_args():
    model = _mlp().eval()
    x = torch.rand(9, 1, 8, 8)
    assert torch.equal(vote(model, x, 3).pred, model(x).argmax(-1))
    for kw in ({"votes": 0}, {"votes": 2.5}, {"method": "median"}, {"max_rows": 0}):
        with pytest.raises(ParameterError):
            vote(model, x, **{"votes": 3, **kw})


class _RowsFromInput(nn.Module):
    """Reads the batch size from its input: sharing the first layer cannot replicate rows."""

    def __init__(self) -> None:
        super().__init__()
        self.l1, self.l2 = nn.Linear(8, 16), nn.Linear(16, 4)

    def forward(self, x):
        return self.l2(self.l1(x)).reshape(x.shape[0], -1)[:, :4]


class _IndexesInputRows(nn.Module):
    """A per-row skip from the input after the first layer: with the first layer's output
    replicated but the input not, ``x[i]`` runs out of rows (an IndexError, not a shape error)."""

    def __init__(self) -> None:
        super().__init__()
        self.l1, self.l2 = nn.Linear(8, 16), nn.Linear(16, 4)

    def forward(self, x):
        h = torch.relu(self.l1(x))
        return self.l2(torch.stack([h[i] + x[i].sum() for i in range(h.shape[0])]))


class _TwoBranches(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(8, 4), nn.Linear(8, 4)

    def forward(self, x):
        return self.a(x) + self.b(x)


class _SameLayerTwice(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(8, 8)

    def forward(self, x):
        return self.a(torch.relu(self.a(x)))


@pytest.mark.parametrize("mode", ["relative", "fixed"])
@pytest.mark.parametrize("cache_elems", [None, 1])  # all replicas in one forward / one each
def test_shared_first_layer_gives_the_same_votes(mode, cache_elems):
    torch.manual_seed(0)
    model = inject_noise_(create("small_cnn", (1, 12, 12), 10).eval(), NoiseSpec(0.0, mode), seed=0)
    x = torch.rand(6, 1, 12, 12)
    if mode == "fixed":
        from noisyhw.analog import calibrate

        calibrate(model, x)
    conv1 = model.features[0]
    calls, compute = [], conv1._conv_forward
    conv1._conv_forward = lambda x, *a: calls.append(x.shape[0]) or compute(x, *a)
    shared = vote(model, x, 5, "mean", seed=3, cache_elems=cache_elems, share_prefix=True)
    assert calls == [6]  # the first conv ran once, on the 6 un-replicated rows
    calls.clear()
    plain = vote(model, x, 5, "mean", seed=3, cache_elems=cache_elems, share_prefix=False)
    assert torch.equal(shared.pred, plain.pred)
    assert torch.allclose(shared.scores, plain.scores, atol=1e-6)
    assert "forward" not in conv1.__dict__  # the layer computes again after the vote
    assert sum(calls) == 5 * 6  # plain: on every replica


@pytest.mark.parametrize("cls", [_RowsFromInput, _IndexesInputRows, _TwoBranches, _SameLayerTwice])
def test_shared_first_layer_falls_back_where_rows_are_not_independent(cls):
    torch.manual_seed(0)
    model = inject_noise_(cls(), NoiseSpec(0.0), seed=0)
    x = torch.rand(5, 8)
    auto = vote(model, x, 4, "mean", seed=1)
    plain = vote(model, x, 4, "mean", seed=1, share_prefix=False)
    assert torch.equal(auto.scores, plain.scores)
    assert not any("forward" in m.__dict__ for m in model.modules())
    with pytest.raises(ParameterError, match="share_prefix"):
        vote(
            inject_noise_(_mlp(), NoiseSpec(0.0, input_snr_db=10.0)),
            torch.rand(3, 1, 8, 8),
            2,
            share_prefix=True,
        )


def test_first_layer_is_shared_by_default_wherever_possible(monkeypatch):
    import importlib

    vote_module = importlib.import_module("noisyhw.analog.vote")  # the package exports vote()
    made = []

    class Spy(vote_module.SharedPrefix):
        def __init__(self) -> None:
            made.append(1)
            super().__init__()

    monkeypatch.setattr(vote_module, "SharedPrefix", Spy)
    x = torch.rand(4, 1, 28, 28)
    for name, spec, shared in (
        ("small_cnn", NoiseSpec(0.0), True),  # 3x3 conv on 1 channel: still shared
        ("mlp", NoiseSpec(0.0), True),
        ("mlp", NoiseSpec(0.0, input_snr_db=10.0), False),  # input noise differs per vote
        ("mlp", NoiseSpec(0.0, weight_snr_db=10.0), False),
    ):
        made.clear()
        model = inject_noise_(create(name, (1, 28, 28), 10).eval(), spec, seed=0)
        vote(model, x, 3, "mean", seed=0)
        assert bool(made) is shared, name


def test_voting_helps_at_low_snr():
    train, test = data.load("digits", "train"), data.load("digits", "test")
    model = _mlp()
    fit(model, train, None, TrainConfig(epochs=12, batch_size=64, lr=3e-3, seed=0))
    inject_noise_(model, NoiseSpec(0.0), seed=0)
    single = noisy_accuracy(model, test, votes=1, seed=0)
    voted = noisy_accuracy(model, test, votes=15, method="mean", seed=0)
    assert voted > single + 0.1  # averaging 15 passes removes most of the noise


def test_noise_training_callback_curriculum_and_range():
    train = data.load("digits", "train").subset(300)
    model = _mlp()
    cb = NoiseTraining(NoiseSpec(10.0), curriculum=[20.0, 5.0], seed=0)
    hist = fit(model, train, train, TrainConfig(epochs=3, batch_size=100, seed=0), callbacks=[cb])
    assert [h["train_snr_db"] for h in hist] == [20.0, 5.0, 5.0]
    assert get_noise(model).spec.snr_db == 5.0
    model = _mlp()
    seen = []
    cb = NoiseTraining(NoiseSpec(0.0), snr_range=(-2.0, 4.0), seed=1)
    orig = cb.on_step_end

    def spy(m):
        orig(m)
        seen.append(get_noise(m).spec.snr_db)

    cb.on_step_end = spy
    fit(model, train, None, TrainConfig(epochs=1, batch_size=50, seed=0), callbacks=[cb])
    assert len(seen) == 6 and len(set(seen)) == 6 and all(-2.0 <= s <= 4.0 for s in seen)
    with pytest.raises(ParameterError):
        NoiseTraining(NoiseSpec(0.0), snr_range=(3.0, 1.0))
    with pytest.raises(ParameterError, match="calibration"):
        fit(
            _mlp(),
            train,
            None,
            TrainConfig(epochs=1),
            callbacks=[NoiseTraining(NoiseSpec(0.0, mode="fixed"))],
        )


class _Crash(NoiseTraining):
    """Noise training that dies after ``at`` epochs (a simulated kill)."""

    def __init__(self, at, **kw):
        super().__init__(NoiseSpec(0.0), snr_range=(-3.0, 6.0), **kw)
        self.at = at

    def on_epoch_end(self, epoch, model, metrics):
        super().on_epoch_end(epoch, model, metrics)
        if epoch == self.at:
            raise KeyboardInterrupt("simulated kill")


def test_noise_training_fixed_mode_and_resume(tmp_path):
    train = data.load("digits", "train").subset(200)
    cfg = TrainConfig(epochs=3, batch_size=50, seed=0)
    model = _mlp()
    fit(
        model,
        train,
        None,
        cfg,
        callbacks=[NoiseTraining(NoiseSpec(0.0, mode="fixed"), calibration=train)],
    )
    assert all(p.ref for p in get_noise(model).points.values())
    # resume after a kill draws the same SNRs and the same noise: equal to an uninterrupted run
    ref = _mlp()
    fit(ref, train, None, cfg, callbacks=[_Crash(99, seed=4)])
    ck = tmp_path / "ck.pt"
    with pytest.raises(KeyboardInterrupt):
        fit(_mlp(), train, None, cfg, checkpoint=ck, callbacks=[_Crash(2, seed=4)])
    resumed = _mlp()
    fit(resumed, train, None, cfg, checkpoint=ck, callbacks=[_Crash(99, seed=4)])
    sa, sb = ref.state_dict(), resumed.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def _trained_digits(seed=0, epochs=10):
    train, test = data.load("digits", "train"), data.load("digits", "test")
    model = _mlp(seed)
    fit(model, train, None, TrainConfig(epochs=epochs, batch_size=64, lr=3e-3, seed=seed))
    return model.eval(), train, test


def test_fgsm_pgd_hurt_and_stay_in_ball():
    model, _, test = _trained_digits()
    x, y = test.x[:200], test.y[:200]
    clean = (model(x).argmax(-1) == y).float().mean()
    xa = fgsm(model, x, y, 0.1)
    xp = pgd(model, x, y, 0.1, steps=10, seed=0)
    for adv in (xa, xp):
        assert (adv - x).abs().max() <= 0.1 + 1e-6 and adv.min() >= 0 and adv.max() <= 1
    acc_f = (model(xa).argmax(-1) == y).float().mean()
    acc_p = (model(xp).argmax(-1) == y).float().mean()
    assert acc_f < clean - 0.2 and acc_p <= acc_f + 0.02
    with pytest.raises(ParameterError):
        perturb(model, x, y, "cw", 0.1)


def test_substitute_learns_target_labels_not_true_labels():
    class Const(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1))

        def forward(self, x):
            out = torch.zeros(x.shape[0], 10) + self.w
            out[:, 3] = 1.0
            return out

    pool = data.load("digits", "train").subset(300)
    sub = train_substitute(Const(), pool, _mlp(1), TrainConfig(epochs=3, batch_size=50))
    assert (sub(pool.x).argmax(-1) == 3).float().mean() > 0.95


def test_transfer_attack_and_adversarial_training():
    target, train, test = _trained_digits(0)
    sub = train_substitute(
        target, train.subset(600, seed=3), _mlp(7), TrainConfig(epochs=10, batch_size=64, lr=3e-3)
    )
    _, res = transfer_attack(target, sub, test, "fgsm", 0.15)
    assert res.adv_acc < res.clean_acc - 0.1 and 0 < res.transfer_rate <= 1
    adv_model = _mlp(0)
    loss = AdversarialLoss(adv_model, "fgsm", 0.15)
    fit(
        adv_model, train, test, TrainConfig(epochs=10, batch_size=64, lr=3e-3, seed=0), loss_fn=loss
    )
    loss.close()
    _, res_adv = transfer_attack(adv_model.eval(), sub, test, "fgsm", 0.15)
    assert res_adv.adv_acc > res.adv_acc
    assert evaluate(adv_model, test)["accuracy"] > 0.85
    assert not math.isnan(res_adv.substitute_adv_acc)
