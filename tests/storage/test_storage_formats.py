"""Representations, the enumerative code, protections and the model round trip."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from noisyhw import storage as S
from noisyhw.errors import ParameterError

REPS = ["float32", "float16", "bfloat16", "fixed8", "fixed5", "hwo8", "hwo4", "hwo12"]
PROTS = ["none", "nulling", "range", "nulling+range", "nulling-extra", "nulling-extra+range"]


def _weights(n=2000, seed=0):
    return (np.random.default_rng(seed).standard_normal(n) * 0.2).astype(np.float32)


# --------------------------------------------------------------------------- enumerative code
@pytest.mark.parametrize("n", range(1, 17))
def test_hwo_code_is_a_weight_ordered_bijection(n):
    idx = np.arange(2**n)
    words = S.hwo_encode(idx, n)
    assert np.unique(words).size == 2**n and int(words.max()) < 2**n  # bijection on n bits
    weights = np.bitwise_count(words)
    assert np.all(np.diff(weights.astype(int)) >= 0)  # ordered by Hamming weight
    assert np.array_equal(S.hwo_decode(words, n), idx)
    # class sizes are the binomial coefficients
    assert np.array_equal(
        np.bincount(weights, minlength=n + 1), [math.comb(n, w) for w in range(n + 1)]
    )


@pytest.mark.parametrize("n", range(2, 13))
def test_one_flip_distortion_bound_exhaustive(n):
    hwo = S.one_flip_distortion(n, "hwo")
    binary = S.one_flip_distortion(n, "binary")
    assert hwo["worst"] <= S.hwo_flip_bound(n)
    # independent brute force of the worst case
    idx = np.arange(2**n)
    words = S.hwo_encode(idx, n)
    brute = max(
        int(np.abs(S.hwo_decode(words ^ np.uint64(1 << k), n) - idx).max()) for k in range(n)
    )
    assert brute == hwo["worst"]
    # binary: flipping bit k moves the index by exactly 2**k (closed forms)
    assert binary["worst"] == 2 ** (n - 1)
    assert binary["mean"] == pytest.approx((2**n - 1) / n)
    if n >= 4:
        assert hwo["worst"] < binary["worst"]


def test_hwo_worst_case_shrinks_like_inverse_sqrt_n():
    norms = [S.one_flip_distortion(n, "hwo")["worst_norm"] for n in (4, 8, 16)]
    assert norms[0] > norms[1] > norms[2]
    for n, v in zip((4, 8, 16), norms, strict=True):
        assert v <= (S.hwo_flip_bound(n)) / (2**n - 1) <= 2.0 * math.sqrt(2 / (math.pi * n)) + 0.1


# --------------------------------------------------------------------------- representations
def test_float_formats_round_trip_exactly():
    w = _weights()
    for name, np_dt in (("float32", np.float32), ("float16", np.float16)):
        rep = S.representation(name)
        assert np.array_equal(rep.roundtrip(w), w.astype(np_dt).astype(np.float32))
        st = rep.encode(w)
        assert st.words.dtype == rep.container and rep.width == 8 * np.dtype(np_dt).itemsize
    bf = S.representation("bfloat16")
    t = torch.from_numpy(w).to(torch.bfloat16).float().numpy()  # independent rounding reference
    assert np.array_equal(bf.roundtrip(w), t)
    # values already in the format survive a second pass bit-exactly
    for name in ("float16", "bfloat16"):
        rep = S.representation(name)
        once = rep.roundtrip(w)
        assert np.array_equal(rep.encode(once).words, rep.encode(w).words)


@pytest.mark.parametrize("n", [2, 3, 5, 8, 12, 16])
def test_fixed_point_within_step(n):
    w = _weights(seed=n)
    rep = S.FixedPoint(n)
    step = np.abs(w).max() / (2 ** (n - 1) - 1)
    assert np.abs(rep.roundtrip(w) - w).max() <= step / 2 + 1e-7
    again = rep.roundtrip(w)
    assert np.array_equal(rep.encode(again).words, rep.encode(w).words)  # exact on its levels


@pytest.mark.parametrize("n", [2, 4, 8, 12])
def test_hwo_within_step(n):
    w = _weights(seed=n)
    rep = S.HammingOrdered(n)
    step = (w.max() - w.min()) / (2**n - 1)
    out = rep.roundtrip(w)
    assert np.abs(out - w).max() <= step / 2 + 1e-6
    assert out.min() == pytest.approx(w.min()) and out.max() == pytest.approx(w.max())


def test_one_flip_in_hwo_moves_value_within_bound():
    n = 8
    w = _weights()
    rep = S.HammingOrdered(n)
    st = rep.encode(w)
    step = (w.max() - w.min()) / (2**n - 1)
    clean = rep.decode(st)
    for k in range(n):
        st2 = S.StoredTensor(st.words ^ np.uint8(1 << k), st.width, st.meta)
        assert np.abs(rep.decode(st2) - clean).max() <= S.hwo_flip_bound(n) * step * (1 + 1e-6)


def test_parser_and_bad_input():
    assert S.representation("FIXED8").name == "fixed8"
    assert S.representation("hwo16").width == 16
    for bad in ("fixed1", "hwo0", "hwo33", "int8", "float64", 3):
        with pytest.raises(ParameterError, match="representation"):
            S.representation(bad)
    with pytest.raises(ParameterError, match="n"):
        S.FixedPoint(1)
    with pytest.raises(ParameterError, match="n"):
        S.HammingOrdered(1)
    for bad in ("parity", "none+range", "nulling+nulling-extra", "range+range"):
        with pytest.raises(ParameterError, match="protection"):
            S.protection(bad)
    assert S.protection("range+nulling-extra").name == "nulling-extra+range"
    with pytest.raises(ParameterError, match="n"):
        S.encode_tensor(_weights(), S.FixedPoint(2), S.protection("nulling"))


# --------------------------------------------------------------------------- protections
@pytest.mark.parametrize("rep", REPS)
@pytest.mark.parametrize("prot", PROTS)
def test_clean_round_trip_with_every_protection(rep, prot):
    r, p = S.representation(rep), S.protection(prot)
    w = _weights()
    st = S.encode_tensor(w, r, p)
    extra = int(p.nulling and p.parity == "extra")
    assert st.width == r.width + extra == p.width(r)
    assert int(st.words.max()) < 2**st.width
    v, nulled, ranged = S.decode_tensor(st, r, p)
    assert nulled == 0 and ranged == 0
    expected = (r.reduced() if p.nulling and not extra else r).roundtrip(w)
    assert np.array_equal(v, expected)


def test_nulling_parity_costs_bit_zero():
    w = _weights()
    st = S.encode_tensor(w, S.Float32(), S.protection("nulling"))
    assert np.all(np.bitwise_count(st.words) % 2 == 0)  # even parity over all 32 bits
    reduced = S.FloatBits("float32", 1).roundtrip(w)  # 22-bit mantissa
    assert np.array_equal(st.words >> np.uint32(1), S.FloatBits("float32", 1).encode(w).words)
    assert np.abs(reduced - w).max() <= np.abs(w).max() * 2.0**-23


@pytest.mark.parametrize("rep", ["float32", "bfloat16", "fixed8", "hwo6"])
@pytest.mark.parametrize("prot", ["nulling", "nulling-extra"])
def test_nulling_zeroes_exactly_the_values_whose_parity_fails(rep, prot):
    r, p = S.representation(rep), S.protection(prot)
    w = _weights()
    st = S.encode_tensor(w, r, p)
    clean, _, _ = S.decode_tensor(st, r, p)
    g = np.random.default_rng(1)
    noisy = st.copy()
    hit = g.integers(0, 2**st.width, w.size).astype(st.words.dtype) * (g.random(w.size) < 0.3)
    noisy.words ^= hit.astype(st.words.dtype)
    v, nulled, _ = S.decode_tensor(noisy, r, p)
    odd = np.bitwise_count(noisy.words ^ st.words) % 2 == 1
    assert nulled == odd.sum() > 0
    if p.parity == "extra":  # full precision kept
        assert np.array_equal(clean, r.roundtrip(w))
    assert np.all(v[odd] == 0)
    even = ~odd & (noisy.words == st.words)
    assert np.array_equal(v[even], clean[even])


def test_range_detection_zeroes_out_of_range_values():
    w = _weights()
    r, p = S.Float32(), S.Protection(range_check=True, margin=0.1)
    st = S.encode_tensor(w, r, p)
    noisy = st.copy()
    noisy.words[:10] ^= np.uint32(1 << 30)  # top exponent bit: |w| becomes huge
    noisy.words[10:20] ^= np.uint32(1 << 2)  # mantissa LSBs: stays in range
    v, _, ranged = S.decode_tensor(noisy, r, p)
    assert ranged == 10 and np.all(v[:10] == 0)
    assert np.allclose(v[10:20], w[10:20], rtol=1e-5)
    nan = st.copy()
    nan.words[0] = np.uint32(0x7FC00000)
    assert S.decode_tensor(nan, r, p)[0][0] == 0


# --------------------------------------------------------------------------- models
def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(12, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))


@pytest.mark.parametrize("rep", ["float32", "bfloat16", "fixed8", "hwo8"])
def test_store_load_round_trip(rep):
    m = _model()
    ref = {k: v.clone() for k, v in m.state_dict().items()}
    image = S.store(m, rep, "nulling+range", buffers=True)
    assert image.num_values == sum(p.numel() for p in m.parameters()) + 32
    target = _model()
    with torch.no_grad():
        for p in target.parameters():
            p.zero_()
    stats = S.load_stored(target, image)
    assert stats == {"nulled": 0, "range_zeroed": 0}
    r = S.representation(rep).reduced()
    for name, t in target.state_dict().items():
        if name.endswith("num_batches_tracked"):
            continue
        expected = r.roundtrip(ref[name].numpy())
        assert np.array_equal(t.numpy(), expected), name
    assert image.bits_per_param == pytest.approx(
        S.representation(rep).width
        + sum(s.side_bits for s in image.tensors.values()) / image.num_values
    )


def test_corrupt_copies_and_is_seeded():
    m = _model()
    before = [p.clone() for p in m.parameters()]
    a = S.corrupt(m, 0.01, "float32", "none", rng=3)
    b = S.corrupt(m, 0.01, "float32", "none", rng=3)
    for p0, p in zip(before, m.parameters(), strict=True):
        assert torch.equal(p0, p)
    diffs = [not torch.equal(pa, p0) for pa, p0 in zip(a.parameters(), before, strict=True)]
    assert any(diffs)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa.nan_to_num(), pb.nan_to_num())
    same = S.corrupt(m, 0.0, "float32", "none", rng=0)
    for p0, p in zip(before, same.parameters(), strict=True):
        assert torch.equal(p0, p)


def test_corrupted_image_flip_count_and_mask():
    m = _model()
    image = S.store(m, "fixed8")
    noisy, flips = image.corrupted(0.05, 0)
    diff = sum(
        int(np.bitwise_count(noisy.tensors[k].words ^ t.words).sum())
        for k, t in image.tensors.items()
    )
    assert diff == flips > 0
    only_msb, _ = image.corrupted(1.0, 0, bit_mask=[7])
    for k, t in image.tensors.items():
        assert np.all((only_msb.tensors[k].words ^ t.words) == 0x80)
    with pytest.raises(ParameterError, match="bit_mask"):
        image.corrupted(0.1, 0, bit_mask=[8])
    # non-integer positions are rejected as in channels.bsc (the storage copy truncated 6.7 to bit 6)
    with pytest.raises(ParameterError, match="bit_mask"):
        image.corrupted(1.0, 0, bit_mask=[6.7])


def test_nulling_protects_against_a_top_exponent_flip():
    m = _model()
    image = S.store(m, "float32", "nulling")
    hit = image.tensors["0.weight"]
    hit.words[0, 0] ^= np.uint32(1 << 30)
    stats = S.load_stored(m, image)
    assert stats["nulled"] == 1 and m[0].weight[0, 0].item() == 0.0
