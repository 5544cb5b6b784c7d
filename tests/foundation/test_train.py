import pytest
import torch

from noisyhw import data, models
from noisyhw.errors import ParameterError
from noisyhw.train import Callback, TrainConfig, evaluate, fit


@pytest.fixture(scope="module")
def digits():
    return data.load("digits", "train"), data.load("digits", "test")


def _model(ds):
    torch.manual_seed(0)
    return models.create("mlp", ds.input_shape, ds.num_classes, hidden=(32,))


def _equal(a, b):
    return all(
        torch.equal(x, y)
        for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )


def test_learns_digits(digits):
    tr, te = digits
    m = _model(tr)
    hist = fit(m, tr, te, TrainConfig(epochs=8, batch_size=64, lr=3e-3))
    assert hist[-1]["val_acc"] > 0.9
    assert evaluate(m, te)["accuracy"] == pytest.approx(hist[-1]["val_acc"])


def test_same_seed_same_weights(digits):
    tr, _ = digits
    a, b = _model(tr), _model(tr)
    fit(a, tr, None, TrainConfig(epochs=2, seed=5))
    fit(b, tr, None, TrainConfig(epochs=2, seed=5))
    assert _equal(a, b)
    c = _model(tr)
    fit(c, tr, None, TrainConfig(epochs=2, seed=6))
    assert not _equal(a, c)


class _KilledError(Exception):
    """Stands in for the process being killed after an epoch's checkpoint."""


class _Crash(Callback):
    def __init__(self, at):
        self.at = at

    def on_epoch_end(self, epoch, model, metrics):
        if epoch == self.at:
            raise _KilledError("simulated kill")


def test_checkpoint_resume_equals_uninterrupted(digits, tmp_path):
    tr, te = digits
    cfg = TrainConfig(epochs=4, seed=1, batch_size=32, scheduler="cosine", optimizer="sgd", lr=0.05)
    ref = _model(tr)
    ref_hist = fit(ref, tr, te, cfg)
    ck = tmp_path / "ck.pt"
    m = _model(tr)
    with pytest.raises(_KilledError):
        fit(m, tr, te, cfg, checkpoint=ck, callbacks=[_Crash(3)])
    state = torch.load(ck, weights_only=True)
    assert state["epoch"] == 2
    resumed = _model(tr)
    hist = fit(resumed, tr, te, cfg, checkpoint=ck)
    assert _equal(ref, resumed)
    assert [h["train_loss"] for h in hist] == [h["train_loss"] for h in ref_hist]


def test_checkpoint_with_other_config_refused(digits, tmp_path):
    tr, _ = digits
    ck = tmp_path / "ck.pt"
    fit(_model(tr), tr, None, TrainConfig(epochs=1), checkpoint=ck)
    with pytest.raises(ParameterError, match="checkpoint"):
        fit(_model(tr), tr, None, TrainConfig(epochs=1, lr=0.1), checkpoint=ck)


def test_checkpoint_resumes_on_another_device(digits, tmp_path):
    """The device is where a run goes, not what it computes (a runtime key of a run folder)."""
    from noisyhw.io import save_checkpoint

    tr, _ = digits
    ck = tmp_path / "ck.pt"
    hist = fit(_model(tr), tr, None, TrainConfig(epochs=1), checkpoint=ck)
    state = torch.load(ck, weights_only=True)
    state["config"]["device"] = "cuda:0"  # as written by the same run on a GPU machine
    save_checkpoint(ck, state)
    again = fit(_model(tr), tr, None, TrainConfig(epochs=1, device="cpu"), checkpoint=ck)
    assert again == hist  # resumed from the finished checkpoint, nothing retrained


class _Recorder(Callback):
    def __init__(self):
        self.calls = []

    def on_train_begin(self, model, optimizer):
        self.calls.append("begin")

    def extra_loss(self, model):
        self.calls.append("loss")
        return 0.0 * sum(p.sum() for p in model.parameters())

    def on_after_backward(self, model):
        self.calls.append("backward")

    def on_step_end(self, model):
        self.calls.append("step")

    def on_epoch_end(self, epoch, model, metrics):
        metrics["custom"] = 1.0
        self.calls.append("epoch")


def test_callback_hooks_in_order(digits):
    tr, _ = digits
    rec = _Recorder()
    hist = fit(_model(tr), tr, None, TrainConfig(epochs=1, max_batches=2), callbacks=[rec])
    assert rec.calls == ["begin", "loss", "backward", "step", "loss", "backward", "step", "epoch"]
    assert hist[0]["custom"] == 1.0


def test_mask_callback_keeps_weights_zero(digits):
    tr, _ = digits
    m = _model(tr)
    mask = (torch.rand_like(m[1].weight) > 0.5).float()

    class Mask(Callback):
        def on_step_end(self, model):
            with torch.no_grad():
                model[1].weight.mul_(mask)

    fit(m, tr, None, TrainConfig(epochs=1), callbacks=[Mask()])
    assert torch.all(m[1].weight[mask == 0] == 0)


@pytest.mark.parametrize(
    "kw",
    [{"epochs": -1}, {"lr": 0}, {"optimizer": "lion"}, {"batch_size": 0}, {"lr": float("nan")}],
)
def test_bad_config(kw):
    with pytest.raises(ParameterError):
        TrainConfig(**kw)


def test_sequence_and_lm_models_train(digits):
    tr, te = digits
    seq_tr, seq_te = data.sequence_view(tr.subset(300)), data.sequence_view(te)
    m = models.create("gru", seq_tr.input_shape, 10, hidden=16)
    hist = fit(m, seq_tr, seq_te, TrainConfig(epochs=1))
    assert 0 <= hist[0]["val_acc"] <= 1
    vocab = data.CharVocab.from_text("hello world " * 50)
    win = data.char_windows(vocab.encode("hello world " * 50), 20)
    lm = models.create("char_lstm", num_classes=len(vocab), hidden=16, embed=8, layers=1)
    h = fit(lm, win, win, TrainConfig(epochs=3, lr=1e-2))
    assert h[-1]["val_perplexity"] < h[0]["val_perplexity"]


def test_seed_everything_asks_torch_for_deterministic_kernels():
    import torch

    from noisyhw.seeding import seed_everything

    seed_everything(3)  # (fit does this in every run: leaving the flag on is the norm here)
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.is_deterministic_algorithms_warn_only_enabled()
    a = torch.rand(3)
    seed_everything(3)
    assert torch.equal(a, torch.rand(3))


def test_input_batches_takes_every_input_form_and_caps():
    from noisyhw.data.datasets import ArrayDataset
    from noisyhw.train import input_batches

    x = torch.arange(10.0).view(10, 1)
    ds = ArrayDataset(x, torch.zeros(10, dtype=torch.long), ["a"])
    pairs = [(x[i : i + 4], None) for i in range(0, 10, 4)]
    for src in (x, ds, torch.utils.data.TensorDataset(x), pairs):
        got = list(input_batches(src, 4))
        assert [b.shape[0] for b in got] == [4, 4, 2]
        assert torch.equal(torch.cat(got), x)
    assert len(list(input_batches(x, 3, max_batches=2))) == 2
