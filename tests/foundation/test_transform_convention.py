"""The one transform convention (noisyhw.transform): ``verb_`` in place, ``verb`` a copy, frozen
specs, ``filter_fn(module, fqn)``, one ``calibrate(model, data, max_batches=...)``."""

from __future__ import annotations

import copy
import dataclasses

import pytest
import torch
from torch import nn

import noisyhw
from noisyhw.analog import NoiseSpec, get_noise, inject_noise, inject_noise_
from noisyhw.analog import calibrate as noise_calibrate
from noisyhw.analog.nvm import CrossbarLinear, QuantSpec, crossbars, quantize, quantize_
from noisyhw.analog.nvm import calibrate as nvm_calibrate
from noisyhw.compress.prune import PruneResult, PruneSpec, prune, prune_
from noisyhw.errors import ParameterError
from noisyhw.storage import corrupt, corrupt_, store
from noisyhw.transform import select_modules


def _mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))


def _cnn() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 5))


def _snapshot(model: nn.Module) -> tuple[dict, list, int]:
    """State dict (cloned), module types by name, and the number of forward hooks."""
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    types = [(n, type(m)) for n, m in model.named_modules()]
    hooks = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())
    return state, types, hooks


def _same(a: tuple, b: tuple) -> bool:
    (sa, ta, ha), (sb, tb, hb) = a, b
    return (
        sa.keys() == sb.keys()
        and all(torch.equal(sa[k], sb[k]) for k in sa)
        and ta == tb
        and ha == hb
    )


X = torch.randn(32, 8, generator=torch.Generator().manual_seed(1))


# --------------------------------------------------------------------------- inject_noise
def test_inject_noise_in_place_and_copy():
    m = _mlp()
    before = _snapshot(m)
    spec = NoiseSpec(5.0)
    noisy = inject_noise(m, spec, seed=3)
    assert noisy is not m and _same(before, _snapshot(m)) and get_noise(m) is None
    ref = copy.deepcopy(m)
    out = inject_noise_(ref, spec, seed=3)
    assert out is ref and get_noise(ref) is not None
    with torch.no_grad():
        a, b, clean = noisy(X), ref(X), m(X)
    assert torch.equal(a, b)  # the copy is what verb_ gives on a copy, same seed
    assert not torch.equal(a, clean)  # and it is noisy


def test_inject_noise_filter_fn_excludes_a_layer():
    m = inject_noise_(_mlp(), NoiseSpec(5.0), filter_fn=lambda mod, fqn: fqn != "0", seed=0)
    assert not m[0]._forward_hooks and not m[0]._forward_pre_hooks
    assert m[2]._forward_hooks
    assert set(get_noise(m).points) == {"2"}
    with pytest.raises(ParameterError) as err:  # the layers are chosen once
        inject_noise_(m, NoiseSpec(3.0), filter_fn=lambda mod, fqn: True)
    assert err.value.name == "filter_fn"
    # the excluded layer's output is exact: its noise would show before the ReLU
    seen = {}
    m[0].register_forward_hook(lambda mod, args, out: seen.update(z=out))
    with torch.no_grad():
        m(X)
    assert torch.equal(seen["z"], nn.functional.linear(X, m[0].weight, m[0].bias))


def test_inject_noise_filter_fn_on_recurrent():
    torch.manual_seed(0)
    m = nn.Sequential()
    m.add_module("a", nn.LSTM(3, 4))
    m.add_module("b", nn.GRU(3, 4))
    inject_noise_(m, NoiseSpec(5.0), filter_fn=lambda mod, fqn: fqn != "b")
    assert type(m.b) is nn.GRU and type(m.a) is not nn.LSTM
    assert all(p.startswith("a.") for p in get_noise(m).points)


# --------------------------------------------------------------------------- quantize
def test_quantize_in_place_and_copy():
    m = _mlp()
    before = _snapshot(m)
    spec = QuantSpec(weight_bits=4, dac_bits=None, adc_bits=None, prog_noise=0.05, seed=2)
    q = quantize(m, spec)
    assert q is not m and _same(before, _snapshot(m))
    assert all(type(x) is nn.Linear for x in (m[0], m[2]))
    ref = copy.deepcopy(m)
    assert quantize_(ref, spec) is ref
    assert isinstance(ref[0], CrossbarLinear) and isinstance(ref[2], CrossbarLinear)
    q.eval(), ref.eval()
    with torch.no_grad():
        assert torch.equal(q(X), ref(X))  # same seed in the spec: same programming error
        assert not torch.equal(q(X), m(X))


def test_quantize_filter_fn_excludes_a_layer():
    q = quantize(_mlp(), QuantSpec(weight_bits=4), filter_fn=lambda mod, fqn: fqn != "2")
    assert isinstance(q[0], CrossbarLinear) and type(q[2]) is nn.Linear
    assert crossbars(q) and all(n.startswith("0.") for n, _ in crossbars(q))
    with pytest.raises(ParameterError, match="filter_fn"):
        quantize(_mlp(), QuantSpec(), filter_fn=lambda mod, fqn: False)


# --------------------------------------------------------------------------- prune
def test_prune_in_place_and_copy():
    m = _mlp()
    before = _snapshot(m)
    spec = PruneSpec("irregular", 0.5, "magnitude", layers="all")
    pruned = prune(m, spec)
    assert pruned is not m and _same(before, _snapshot(m))
    assert not any(b.endswith("_mask") for b, _ in m.named_buffers())
    ref = copy.deepcopy(m)
    res = prune_(ref, spec)
    assert isinstance(res, PruneResult) and isinstance(pruned.prune_result, PruneResult)
    assert res.sparsity == pytest.approx(pruned.prune_result.sparsity)
    assert _same(_snapshot(ref), _snapshot(pruned))
    assert ref[0].weight_mask.sum() == 64  # half of 8 x 16 kept, exactly


def test_prune_filter_fn_excludes_a_layer():
    m = _mlp()
    w0 = m[0].weight.detach().clone()
    res = prune_(
        m,
        PruneSpec("irregular", 0.5, "magnitude", layers="all"),
        filter_fn=lambda mod, fqn: fqn != "0",
    )
    assert not hasattr(m[0], "weight_mask") and torch.equal(m[0].weight, w0)
    assert hasattr(m[2], "weight_mask") and float((m[2].weight == 0).float().mean()) == 0.5
    assert [t.name for t in res.targets] == ["2"]


# --------------------------------------------------------------------------- storage
def test_corrupt_in_place_and_copy():
    m = _mlp()
    before = _snapshot(m)
    noisy = corrupt(m, 0.05, "float32", "range", rng=4)
    assert noisy is not m and _same(before, _snapshot(m))
    ref = copy.deepcopy(m)
    assert corrupt_(ref, 0.05, representation="float32", protection="range", rng=4) is ref
    assert _same(_snapshot(ref), _snapshot(noisy))
    assert not torch.equal(ref[0].weight, m[0].weight)


def test_storage_filter_fn_excludes_a_layer():
    m = _mlp()
    image = store(m, "fixed8", filter_fn=lambda mod, fqn: fqn != "0")
    assert set(image.tensors) == {"2.weight", "2.bias"}
    noisy = corrupt(m, 0.3, "float32", rng=0, filter_fn=lambda mod, fqn: fqn != "0")
    assert torch.equal(noisy[0].weight, m[0].weight) and torch.equal(noisy[0].bias, m[0].bias)
    assert not torch.equal(noisy[2].weight, m[2].weight)


# --------------------------------------------------------------------------- specs, filters
@pytest.mark.parametrize(
    ("spec", "field", "bad"),
    [
        (NoiseSpec(3.0), "mode", "loud"),
        (QuantSpec(weight_bits=4), "weight_bits", 0),
        (PruneSpec("filter", 0.5), "sparsity", 1.5),
    ],
)
def test_specs_are_frozen_and_replace_validates(spec, field, bad):
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(spec, field, bad)
    with pytest.raises(ParameterError) as err:
        spec.replace(**{field: bad})
    assert err.value.name == field
    assert spec.with_(**{field: getattr(spec, field)}) == spec


def test_prune_spec_layers_is_a_tuple():
    spec = PruneSpec("filter", 0.5, layers=["a", "b"])
    assert spec.layers == ("a", "b")
    assert hash(spec) == hash(PruneSpec("filter", 0.5, layers=("a", "b")))


@pytest.mark.parametrize(
    "call",
    [
        lambda f: inject_noise_(_mlp(), NoiseSpec(3.0), filter_fn=f),
        lambda f: inject_noise(_mlp(), NoiseSpec(3.0), filter_fn=f),
        lambda f: quantize_(_mlp(), QuantSpec(), filter_fn=f),
        lambda f: quantize(_mlp(), QuantSpec(), filter_fn=f),
        lambda f: prune_(_mlp(), PruneSpec("irregular", 0.5, "magnitude"), filter_fn=f),
        lambda f: prune(_mlp(), PruneSpec("irregular", 0.5, "magnitude"), filter_fn=f),
        lambda f: corrupt_(_mlp(), 0.1, filter_fn=f),
        lambda f: corrupt(_mlp(), 0.1, filter_fn=f),
        lambda f: store(_mlp(), filter_fn=f),
    ],
)
def test_non_callable_filter_fn_is_one_parameter_error(call):
    with pytest.raises(ParameterError) as err:
        call("0")
    assert err.value.name == "filter_fn"


def test_select_modules_exact_and_nested():
    m = nn.Sequential(nn.Linear(2, 2), nn.MultiheadAttention(4, 2))
    assert [n for n, _ in select_modules(m, nn.Linear)] == ["0", "1.out_proj"]
    assert [n for n, _ in select_modules(m, nn.Linear, exact=True)] == ["0"]
    assert [n for n, _ in select_modules(m, nn.Module)] == [""]  # the root covers the rest


# --------------------------------------------------------------------------- calibrate
def _counting(model: nn.Module) -> list[int]:
    calls: list[int] = []
    model.register_forward_pre_hook(lambda mod, args: calls.append(args[0].shape[0]))
    return calls


def test_analog_calibrate_max_batches():
    m = inject_noise_(_mlp(), NoiseSpec(0.0, mode="fixed"), seed=0)
    calls = _counting(m)
    refs = noise_calibrate(m, X, max_batches=2, batch_size=10)
    assert calls == [10, 10]
    with torch.no_grad():  # P_ref = mean z^2 over the 20 rows seen, not all 32
        z = nn.functional.linear(X[:20], m[0].weight, m[0].bias)
    assert refs["0.out"].item() == pytest.approx(float((z**2).mean()), rel=1e-5)


def test_nvm_calibrate_max_batches():
    q = quantize(_mlp(), QuantSpec(weight_bits=4, dac_bits=4, adc_bits=4))
    calls = _counting(q)
    nvm_calibrate(q, X, max_batches=2, batch_size=10)
    assert calls == [10, 10, 10, 10]  # DAC pass, then ADC pass
    assert all(bool(xb.dac.calibrated) and bool(xb.adc.calibrated) for _, xb in crossbars(q))
    with pytest.raises(ParameterError) as err:
        nvm_calibrate(q, X, max_batches=0)
    assert err.value.name == "max_batches"


def test_top_level_calibrate_on_a_chained_model():
    x = torch.rand(40, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    m = _cnn()
    prune_(m, PruneSpec("irregular", 0.5, "magnitude", layers="all"))
    quantize_(m, QuantSpec(weight_bits=4, dac_bits=4, adc_bits=4))
    corrupt_(m, 1e-3, "fixed8", "nulling", rng=0, filter_fn=lambda mod, fqn: fqn == "0")
    inject_noise_(m, NoiseSpec(10.0, mode="fixed"), seed=0)  # the conv: Linear is a crossbar now
    assert set(get_noise(m).points) == {"0"} and isinstance(m[3], CrossbarLinear)
    with pytest.raises(ParameterError):  # fixed-mode noise needs its references first
        m(x)
    assert noisyhw.calibrate(m, x, max_batches=2, batch_size=10) is m
    with torch.no_grad():
        z = m[0]._conv_forward(x[:20], m[0].weight, m[0].bias)
    ref = get_noise(m).points["0"].ref["out"]
    assert ref.item() == pytest.approx(float((z**2).mean()), rel=1e-5)
    assert all(bool(xb.adc.calibrated) for _, xb in crossbars(m))
    assert m(x).shape == (40, 5)
    with pytest.raises(ParameterError) as err:
        noisyhw.calibrate(_mlp(), X)
    assert err.value.name == "model"
