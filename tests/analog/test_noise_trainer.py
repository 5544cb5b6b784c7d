"""NoiseTrainer in a hand-written loop equals fit() with the NoiseTraining callback, bit for bit."""

import pytest
import torch
from torch import nn

from noisyhw import data
from noisyhw.analog import NoiseSpec, NoiseTrainer, NoiseTraining, get_noise
from noisyhw.errors import ParameterError
from noisyhw.models import create
from noisyhw.seeding import seed_everything
from noisyhw.train import TrainConfig, fit, iterate_batches

SEED, EPOCHS, BATCH = 2, 3, 50


def _mlp():
    torch.manual_seed(0)
    return create("mlp", (1, 8, 8), 10, hidden=(32,))


def _hand_loop(model, train, **kw):
    seed_everything(SEED)
    gen = torch.Generator().manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    steps = -(-len(train) // BATCH)
    t = NoiseTrainer(model, steps_per_epoch=steps, **kw)
    snrs = []
    for _ in range(EPOCHS):
        for x, y in iterate_batches(train, BATCH, shuffle=True, generator=gen):
            snrs.append(t.snr_db)
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            t.step()
    return t, snrs


@pytest.mark.parametrize(
    "kw",
    [
        {"spec": NoiseSpec(5.0), "snr_range": (-2.0, 8.0), "seed": 4},
        {"spec": NoiseSpec(10.0), "curriculum": [20.0, 5.0], "seed": 1},
        {"spec": NoiseSpec(0.0, mode="fixed"), "seed": 0},
    ],
    ids=["range", "curriculum", "fixed"],
)
def test_hand_loop_equals_fit_with_the_callback(kw):
    train = data.load("digits", "train").subset(200)
    if kw["spec"].mode == "fixed":
        kw = {**kw, "calibration": train}
    ref = _mlp()
    cfg = TrainConfig(epochs=EPOCHS, batch_size=BATCH, lr=1e-2, seed=SEED)
    hist = fit(ref, train, None, cfg, callbacks=[NoiseTraining(**kw)])
    model = _mlp()
    t, snrs = _hand_loop(model, train, **kw)
    sa, sb = ref.state_dict(), model.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k
    assert t.epoch == EPOCHS and t.iteration == EPOCHS * 4
    assert t.snr_db == hist[-1]["train_snr_db"]
    if "snr_range" in kw:  # a fresh seeded SNR per batch, inside the range
        assert len(set(snrs)) == len(snrs) and all(-2.0 <= s <= 8.0 for s in snrs)
    if "curriculum" in kw:  # epoch e trains at curriculum[e] (the last repeats)
        assert snrs == [20.0] * 4 + [5.0] * 8
    # the same noise again from the same seed: a different seed trains differently
    other = _mlp()
    _hand_loop(other, train, **{**kw, "seed": kw["seed"] + 1})
    assert not all(torch.equal(sa[k], v) for k, v in other.state_dict().items())


def test_state_dict_resumes_and_bad_input():
    train = data.load("digits", "train").subset(100)
    model = _mlp()
    t = NoiseTrainer(model, NoiseSpec(0.0), snr_range=(0.0, 6.0), seed=3, steps_per_epoch=2)
    assert get_noise(model) is not None  # noisy from creation on
    t.step()
    state, snr = t.state_dict(), t.snr_db
    t.step()
    after = t.snr_db
    assert t.epoch == 1
    u = NoiseTrainer(_mlp(), NoiseSpec(0.0), snr_range=(0.0, 6.0), seed=3, steps_per_epoch=2)
    u.load_state_dict(state)
    assert u.snr_db == snr and u.iteration == 1
    u.step()
    assert u.snr_db == after and u.epoch == 1
    with pytest.raises(ParameterError, match="steps_per_epoch"):
        NoiseTrainer(_mlp(), NoiseSpec(0.0), steps_per_epoch=0)
    with pytest.raises(ParameterError, match="calibration"):
        NoiseTrainer(_mlp(), NoiseSpec(0.0, mode="fixed"))
    with pytest.raises(ParameterError, match="snr_range"):
        NoiseTrainer(_mlp(), NoiseSpec(0.0), snr_range=(3.0, 1.0))
    del train
