"""noisyhw.stack: every stage equals the standalone transform it wraps (same seeds), the chain
with every stage off equals the float model, bad profiles fail with one error naming the field,
torchvision ResNet-18 and an LSTM go through the chain, the CLI refuses bad input, a sweep
resumes without losing trials."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from noisyhw import data as D
from noisyhw import models as M
from noisyhw.errors import DataError, ParameterError
from noisyhw.stack import (
    PRESETS,
    ComputeStage,
    Profile,
    PruneStage,
    QuantizeStage,
    StoreStage,
    evaluate,
    prepare,
    trial_seeds,
)
from noisyhw.train import TrainConfig, fit
from noisyhw.train import evaluate as evaluate_model


@pytest.fixture(scope="module")
def digits():
    tr = D.load("digits", "train")
    te = D.load("digits", "test")
    torch.manual_seed(0)
    model = M.create("mlp", tr.input_shape, tr.num_classes)
    fit(model, tr, None, TrainConfig(epochs=6, lr=3e-3), description="t")
    return model.eval(), tr, te


def acc(model, data):
    return evaluate_model(model, data)["accuracy"]


# --------------------------------------------------------------------------- profiles
BAD = [
    ({"store": {"representation": "fixed8", "bre": 1e-3}}, "store.bre", "did you mean 'ber'"),
    ({"store": {"ber": 0.7}}, "store.ber", "[0, 0.5]"),
    ({"store": {"representation": "fixed8"}}, "store.ber", "exactly one"),
    ({"store": {"ber": 1e-3, "media": "worn-tlc-nand"}}, "store.ber", "exactly one"),
    ({"store": {"media": "worn-tlc"}}, "store.media", "did you mean 'worn-tlc-nand'"),
    ({"store": {"ber": 0.1, "protection": "nul"}}, "store.protection", "did you mean"),
    ({"store": {"ber": 0.1, "pcm": [2, 1]}}, "store.pcm", "[alpha, beta, p]"),
    ({"quantize": {"weight_bits": 99}}, "quantize.weight_bits", "[1, 16]"),
    ({"quantize": {"prog_noise": -1}}, "quantize.prog_noise", ""),
    ({"prune": {"sparsity": 1.5}}, "prune.sparsity", "[0, 1)"),
    ({"prune": {"structure": "filters"}}, "prune.structure", "did you mean 'filter'"),
    ({"compute": {"votes": 0}}, "compute.votes", ""),
    ({"compute": {"kind": "nvm"}}, "compute.kind", "needs a quantize stage"),
    ({"compute": {"read_noise": 0.1}}, "compute.read_noise", "kind = 'nvm'"),
    ({"comput": {}}, "comput", "did you mean 'compute'"),
    ({"store": 3}, "store", "table"),
    ({"store": {"ber": "1e-3"}}, "store.ber", "number"),
    ({"store": {"ber": True}}, "store.ber", "number"),
    ({"store": {"ber": 0.0, "pcm": 5}}, "store.pcm", "alpha, beta, p"),
    ({"prune": {"sparsity": "0.5"}}, "prune.sparsity", "number"),
    ({"compute": {"votes": 2.5}}, "compute.votes", "whole number"),
    (
        {"quantize": {}, "store": {"ber": 0.0, "buffers": True}},
        "store.buffers",
        "quantize stage",
    ),
]


@pytest.mark.parametrize(("data", "field", "text"), BAD)
def test_bad_profile_dict_names_the_field(data, field, text):
    with pytest.raises(ParameterError) as info:
        Profile.from_dict(data)
    assert info.value.name == field
    assert text in str(info.value)


@pytest.mark.parametrize(("data", "field", "text"), BAD[:3])
def test_bad_profile_toml_names_the_field(tmp_path, data, field, text):
    import json

    lines = []
    for table, values in data.items():
        lines.append(f"[{table}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    path = tmp_path / "bad.toml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ParameterError) as info:
        Profile.from_toml(path)
    assert info.value.name == field


def test_toml_errors_are_data_errors(tmp_path):
    (tmp_path / "x.toml").write_text("[store\n")
    with pytest.raises(DataError, match="not valid TOML"):
        Profile.from_toml(tmp_path / "x.toml")
    with pytest.raises(DataError, match="no such"):
        Profile.from_toml(tmp_path / "missing.toml")


@pytest.mark.parametrize("name", list(PRESETS))
def test_presets_round_trip_and_cite_a_source(tmp_path, name):
    p = PRESETS[name]
    assert p.source and p.name == name
    assert Profile.from_dict(p.asdict()) == p
    path = tmp_path / f"{name}.toml"
    path.write_text(p.to_toml())
    assert Profile.from_toml(path) == p


def test_float_converters_round_trip_through_toml(tmp_path):
    p = Profile(
        name="x", quantize=QuantizeStage(dac_bits=None), store=StoreStage(ber=0.0, pcm=(2, 1, 1))
    )
    (tmp_path / "x.toml").write_text(p.to_toml())
    assert Profile.from_toml(tmp_path / "x.toml") == p


# --------------------------------------------------------------------------- chain
def test_every_stage_off_equals_the_float_model_exactly(digits):
    model, tr, te = digits
    before = copy.deepcopy(model.state_dict())
    reference = acc(model, te)
    assert evaluate(model, te, Profile(), trials=3).final.accuracy == reference
    off = Profile(
        quantize=QuantizeStage(weight_bits=None, dac_bits=None, adc_bits=None),
        store=StoreStage("float32", ber=0.0),
        compute=ComputeStage(kind="nvm"),
    )
    res = evaluate(model, te, off, trials=3, calib_data=tr)
    assert [s.accuracy for s in res.stages] == [reference] * 4
    assert all(s.trials == 1 and s.low == s.high == s.accuracy for s in res.stages)
    for k, v in model.state_dict().items():  # the model passed in is never changed
        assert torch.equal(v, before[k])


def test_prune_stage_equals_prune(digits):
    from noisyhw.compress.prune import prune_

    model, _, te = digits
    stage = PruneStage("irregular", 0.6)
    prep = prepare(model, te, Profile(prune=stage))
    alone = copy.deepcopy(model)
    result = prune_(alone, stage.spec())
    for (n1, p1), (n2, p2) in zip(
        prep.model.named_parameters(), alone.named_parameters(), strict=True
    ):
        assert n1 == n2 and torch.equal(p1, p2)
    assert prep.accuracy["prune"] == acc(alone, te)
    assert prep.facts["sparsity"] == pytest.approx(result.sparsity)
    # stored bits: survivors at 32 bits + their index, the rest dense; below 32 at 60% sparsity
    assert 0 < prep.bits["prune"] < 32


def test_quantize_stage_equals_nvm_quantize(digits):
    from noisyhw.analog.nvm import calibrate, quantize

    model, tr, te = digits
    stage = QuantizeStage(weight_bits=3, dac_bits=4, adc_bits=4, prog_noise=0.1, calib_batches=2)
    res = evaluate(model, te, Profile(quantize=stage), trials=3, calib_data=tr, seed=7)
    values = []
    for t in res.trials:
        q = quantize(model, stage.spec(seed=trial_seeds(7, t["trial"])["quantize"]))
        calibrate(q, tr, max_batches=2)
        values.append(acc(q, te))
        assert values[-1] == t["acc_quantize"]
    assert len(set(values)) > 1  # the programming error is redrawn per trial
    assert res.stage("quantize").accuracy == pytest.approx(sum(values) / 3)
    assert res.stage("quantize").bits_per_param < 4  # 3-bit crossbar weights, float biases
    assert res.stage("quantize").energy_j > 0


def test_store_stage_equals_corrupt(digits):
    from noisyhw.storage import corrupt

    model, _, te = digits
    stage = StoreStage("fixed8", "nulling", ber=3e-2)
    res = evaluate(model, te, Profile(store=stage), trials=4, seed=3)
    for t in res.trials:
        alone = corrupt(model, 3e-2, "fixed8", "nulling", rng=t["seed_store"])
        assert acc(alone, te) == t["acc_store"]
        assert t["seed_store"] == trial_seeds(3, t["trial"])["store"]
    s = res.stage("store")
    assert s.trials == 4 and s.low < s.accuracy < s.high
    assert s.bits_per_param == pytest.approx(8, abs=0.05)  # 8 bits + per-tensor side information


def test_pcm_code_rate_sets_cells(digits):
    from noisyhw.codes.pcm import best_code

    model, _, te = digits
    res = evaluate(model, te, Profile(store=StoreStage("fixed8", ber=0.0, pcm=(2, 1, 1))), trials=1)
    s = res.stage("store")
    assert s.cells_per_param == pytest.approx(s.bits_per_param / best_code(2, 1, 1).rate)


def test_analog_compute_equals_inject_noise_and_vote(digits):
    from noisyhw.analog import NoiseSpec, inject_noise, noisy_accuracy

    model, _, te = digits
    spec = NoiseSpec(snr_db=3.0, mode="relative")
    for votes in (1, 5):
        stage = ComputeStage(kind="analog", snr_db=3.0, mode="relative", votes=votes)
        res = evaluate(model, te, Profile(compute=stage), trials=2, seed=1)
        for t in res.trials:
            noisy = inject_noise(copy.deepcopy(model), spec, seed=t["seed_compute"])
            expect = acc(noisy, te) if votes == 1 else noisy_accuracy(noisy, te, votes, seed=None)
            assert expect == t["acc_compute"]


def test_nvm_compute_votes_multiply_energy(digits):
    model, tr, te = digits
    base = Profile(
        quantize=QuantizeStage(calib_batches=2), compute=ComputeStage(kind="nvm", read_noise=0.1)
    )
    one = evaluate(model, te, base, trials=2, calib_data=tr)
    five = evaluate(
        model,
        te,
        base.with_(compute=ComputeStage(kind="nvm", read_noise=0.1, votes=5)),
        trials=2,
        calib_data=tr,
    )
    assert five.final.energy_j == pytest.approx(5 * one.final.energy_j)
    assert (
        one.stage("float").energy_j is None and "quantize stage" in one.stage("float").energy_note
    )


def test_resnet18_through_the_chain():
    torch.manual_seed(0)
    x = torch.rand(16, 3, 32, 32)
    ds = D.ArrayDataset(x, torch.arange(16) % 10, [str(i) for i in range(10)])
    model = M.create("torchvision:resnet18", (3, 32, 32), 10).eval()
    p = Profile(
        prune=PruneStage("filter", 0.3),
        quantize=QuantizeStage(calib_batches=1),
        store=StoreStage("fixed8", "nulling", ber=1e-4),
        compute=ComputeStage(kind="nvm", read_noise=0.05),
    )
    res = evaluate(model, ds, p, trials=2)
    assert [s.stage for s in res.stages] == ["float", "prune", "quantize", "store", "compute"]
    assert all(0 <= s.accuracy <= 1 and math.isfinite(s.bits_per_param) for s in res.stages)
    assert res.facts["crossbar_weights"] == 512 * 10  # the fc layer; convolutions stay digital


def test_mobilenet_v2_through_the_chain():
    """Depthwise convolutions, residual adds and ReLU6: filter pruning, float16 + range storage
    and analog compute with votes all apply to torchvision's MobileNetV2."""
    torch.manual_seed(0)
    x = torch.rand(8, 3, 32, 32)
    ds = D.ArrayDataset(x, torch.arange(8) % 10, [str(i) for i in range(10)])
    model = M.create("torchvision:mobilenet_v2", (3, 32, 32), 10).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    p = Profile(
        prune=PruneStage("filter", 0.3),
        store=StoreStage("float16", "range", ber=1e-4),
        compute=ComputeStage(snr_db=20.0, mode="fixed", votes=3),
    )
    res = evaluate(model, ds, p, trials=2)
    assert [s.stage for s in res.stages] == ["float", "prune", "store", "compute"]
    assert res.facts["sparsity"] == pytest.approx(0.3, abs=0.02)
    bits = [s.bits_per_param for s in res.stages]
    assert bits[0] == 32.0 and bits[1] < 32.0 and bits[2] < 16.0  # pruned zeros are not stored
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())  # untouched


@pytest.mark.parametrize("kind", ["nvm", "analog"])
def test_lstm_through_the_chain(kind):
    torch.manual_seed(0)
    ds = D.ArrayDataset(torch.randn(24, 6, 4), torch.arange(24) % 3, ["a", "b", "c"])
    model = M.create("lstm", (6, 4), 3).eval()
    if kind == "nvm":
        p = Profile(
            prune=PruneStage("irregular", 0.5),
            quantize=QuantizeStage(calib_batches=1, prog_noise=0.05),
            store=StoreStage("fixed8", ber=1e-3),
            compute=ComputeStage(kind="nvm", read_noise=0.05, votes=3),
        )
    else:
        p = Profile(
            store=StoreStage("bfloat16", ber=1e-3), compute=ComputeStage(snr_db=10.0, mode="fixed")
        )
    before = {k: v.clone() for k, v in model.state_dict().items()}
    types = [type(m) for m in model.modules()]
    res = evaluate(model, ds, p, trials=2)
    assert len(res.stages) == len(p.stages) + 1
    assert all(0 <= s.accuracy <= 1 for s in res.stages)
    assert [type(m) for m in model.modules()] == types  # no crossbar / noisy cell left behind
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())


# --------------------------------------------------------------------------- CLI and sweep
def _cli(capsys, *args):
    from noisyhw.cli import main

    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_cli_bad_input_exits_2_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    bad = tmp_path / "bad.toml"
    bad.write_text("[store]\nber = 2\nrepresentation = 'fixed8'\n")
    for args, text in [
        (["stack", "run", "--profile", "nope"], "--profile"),
        (["stack", "run", "--profile", str(bad)], "store.ber"),
        (["stack", "run", "--profile", "float", "--trials", "0"], "--trials"),
        (["stack", "run", "--profile", "float", "--trials", "1"], "--trials"),
        (["stack", "run", "--profile", "float", "--dataset", "nope"], "--dataset"),
        (["stack", "run", "--profile", "float", "--model-file", str(bad)], "--model-file"),
        (["stack", "sweep", "--profiles", "float,nope"], "--profiles"),
        (["stack", "sweep", "--profiles", "float,float"], "distinct"),
    ]:
        code, output = _cli(capsys, *args, "--out", str(out))
        assert code == 2, (args, output)
        assert text in output
        assert output.count("error:") == 1
        assert not out.exists()


def test_cli_presets_lists_sources(capsys):
    code, output = _cli(capsys, "stack", "presets", "--format", "csv")
    assert code == 0
    for name in PRESETS:
        assert name in output
    assert "2006.13977" in output


def test_interrupted_sweep_resumes_without_losing_trials(tmp_path, monkeypatch):
    import noisyhw.experiments.stack as E
    from noisyhw.stack.evaluate import stack_trial
    from noisyhw.sweep import TrialError

    kw = dict(
        profiles=("sram-8bit-lowvolt",),
        model="mlp",
        dataset="digits",
        epochs=2,
        n_train=400,
        n_test=120,
        trials=6,
    )
    calls = []

    def failing(params, ctx):
        if len(calls) == 4:
            raise RuntimeError("killed")
        calls.append(params)
        return stack_trial(params, ctx)

    monkeypatch.setattr(E, "stack_trial", failing)
    with pytest.raises((TrialError, RuntimeError)):
        E.run(E.StackStudy(out=str(tmp_path / "a"), **kw))
    assert len(calls) == 4
    done = list(calls)
    calls.clear()

    def counting(params, ctx):
        calls.append(params)
        return stack_trial(params, ctx)

    monkeypatch.setattr(E, "stack_trial", counting)
    _, resumed, _ = E.run(E.StackStudy(out=str(tmp_path / "a"), **kw))
    assert len(calls) == 2 and not any(c in done for c in calls)  # only what was missing
    _, fresh, _ = E.run(E.StackStudy(out=str(tmp_path / "b"), **kw))
    assert [r.rows() for r in resumed] == [r.rows() for r in fresh]


def test_number_fields_are_stored_as_their_type():
    """An int where a float is due (TOML ``ber = 0``) compares and serialises as the float."""
    assert StoreStage(ber=0) == StoreStage(ber=0.0)
    assert isinstance(StoreStage(ber=0).ber, float)
    assert ComputeStage(votes=2.0).votes == 2 and isinstance(ComputeStage(votes=2.0).votes, int)
