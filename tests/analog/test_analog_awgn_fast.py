"""The compiled in-place Gaussian of ``noisyhw.channels.awgn_`` (ziggurat + Philox4x32-10 bits).

Statistical tests use fixed seeds (no flakiness); each bound is set so that a correct N(0, 1)
sampler would fail it with probability below about 1e-4 (5-sigma moment bounds, KS / chi-square
p-values above 1e-4), while a wrong layer table, a lost sign bit, a broken wedge or tail shifts
the statistics far beyond them at these sample sizes.
"""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from noisyhw.channels import _gauss_kernels as gk
from noisyhw.channels import awgn, awgn_
from noisyhw.errors import ParameterError

N = 1 << 20  # 1M draws


@pytest.fixture(scope="module")
def draws() -> np.ndarray:
    x = torch.zeros(N, dtype=torch.float64)
    awgn_(x, 1.0, torch.Generator().manual_seed(123))
    return x.numpy()


def test_moments_within_five_sigma(draws):
    n = draws.size
    assert abs(draws.mean()) < 5 / math.sqrt(n)
    assert abs(draws.var() - 1.0) < 5 * math.sqrt(2 / n)
    assert abs(stats.skew(draws)) < 5 * math.sqrt(6 / n)
    assert abs(stats.kurtosis(draws)) < 5 * math.sqrt(24 / n)


def test_ks_and_chi_square_against_normal(draws):
    assert stats.kstest(draws, "norm").pvalue > 1e-4
    # 256 equiprobable bins: the body and the wedges, ~4 ziggurat layers per bin (every bin and
    # tail to 6 sigma on 2^30 draws: benchmarks/validate_awgn.py)
    edges = stats.norm.ppf(np.linspace(0, 1, 257)[1:-1])
    counts = np.bincount(np.searchsorted(edges, draws), minlength=256)
    assert stats.chisquare(counts).pvalue > 1e-4


@pytest.mark.parametrize("t", [1.0, 2.5, gk.ZIG_X[1], 4.0, 4.5])
def test_tail_probabilities(draws, t):
    # t = ZIG_X[1] is where the base strip hands over to the exponential tail sampler
    p = 2 * stats.norm.sf(t)
    hits = int(np.sum(np.abs(draws) > t))
    assert abs(hits - N * p) < 5 * math.sqrt(N * p * (1 - p)) + 1


def test_signs_and_words_of_one_counter_independent(draws):
    n = draws.size
    assert abs(np.mean(draws > 0) - 0.5) < 5 * 0.5 / math.sqrt(n)
    # neighbours, and the four words of one Philox call (elements j + r * BLOCK/4 of a block)
    q = gk.BLOCK // 4
    blocks = draws.reshape(-1, 4, q)
    pairs = [(draws[:-1], draws[1:])] + [(blocks[:, 0], blocks[:, r]) for r in (1, 2, 3)]
    for a, b in pairs:
        r = np.corrcoef(a.ravel(), b.ravel())[0, 1]
        assert abs(r) < 5 / math.sqrt(a.size)
    # magnitudes too (a shared layer index would correlate them)
    for r in (1, 2, 3):
        c = np.corrcoef(np.abs(blocks[:, 0]).ravel(), np.abs(blocks[:, r]).ravel())[0, 1]
        assert abs(c) < 5 / math.sqrt(blocks[:, 0].size)


def test_philox_known_answer():
    # Random123's published known-answer vectors for Philox4x32-10 (kat_vectors)
    kat = [
        ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
        (
            (0xFFFFFFFF,) * 4,
            (0xFFFFFFFF, 0xFFFFFFFF),
            (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD),
        ),
        (
            (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
            (0xA4093822, 0x299F31D0),
            (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
        ),
    ]
    for ctr, key, expected in kat:
        got = gk.philox4x32(*(np.uint32(v) for v in ctr + key))
        assert tuple(int(v) for v in got) == expected


def test_ziggurat_tables_are_consistent():
    x, f = gk.ZIG_X, gk.ZIG_F
    areas = x[1:-1] * (f[2:] - f[1:-1])  # layers 1..LAYERS-1
    base = x[1] * f[1] + math.sqrt(math.pi / 2) * math.erfc(x[1] / math.sqrt(2))
    assert np.allclose(areas, base, rtol=1e-9)
    assert x[-1] == 0.0 and np.all(np.diff(x) < 0)
    # "accepted at once" must imply "under the curve": u < T[k] / 2^P => u X[k] < X[k+1]
    scale = 2.0**gk.POSITION_BITS
    assert np.all(gk.ZIG_T / scale * x[:-1] <= x[1:])
    assert np.all((gk.ZIG_T + 1) / scale * x[:-1] > x[1:])  # and T[k] is the largest such


def test_reproducible_and_thread_count_independent():
    a = awgn_(torch.zeros(300_001), 0.5, torch.Generator().manual_seed(5))
    b = awgn_(torch.zeros(300_001), 0.5, torch.Generator().manual_seed(5))
    c = awgn_(torch.zeros(300_001), 0.5, torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)
    flat = np.zeros(300_001)
    gk.add_normal_serial(flat, np.ones(1), np.uint64(99), flat.size, flat.size, 1)
    par = np.zeros(300_001)
    gk.add_normal_parallel(par, np.ones(1), np.uint64(99), par.size, par.size, 1)
    assert np.array_equal(flat, par)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        d = awgn_(torch.zeros(300_001), 0.5, torch.Generator().manual_seed(5))
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(a, d)


@pytest.mark.parametrize(
    "shape, std_shape",
    [
        ((4, 6, 5, 3), (1,)),  # per layer
        ((4, 6, 5, 3), (4, 1, 1, 1)),  # per sample / per replica
        ((4, 6, 5, 3), (1, 6, 1, 1)),  # per conv channel
        ((4, 6, 5, 3), (4, 6, 1, 1)),  # per replica and channel
        ((8, 7), (7,)),  # per linear output (channels last)
        ((2, 4, 7), (2, 1, 7)),  # per replica and linear output
        ((4, 6, 5, 3), (1, 6, 1, 3)),  # not a prefix + one run: drawn into a temporary
    ],
)
def test_sigma_layouts_scale_the_same_normals(shape, std_shape):
    std = torch.rand(std_shape, dtype=torch.float64) + 0.5
    unit = awgn_(torch.zeros(shape, dtype=torch.float64), 1.0, torch.Generator().manual_seed(1))
    scaled = awgn_(torch.zeros(shape, dtype=torch.float64), std, torch.Generator().manual_seed(1))
    assert torch.allclose(scaled, unit * std, rtol=1e-12, atol=0)


def test_out_of_place_awgn_draws_the_same_noise_and_keeps_gradients():
    x = torch.randn(64, 33, requires_grad=True)
    y = awgn(x, 0.3, torch.Generator().manual_seed(2))
    with torch.no_grad():
        z = awgn_(x.detach().clone(), 0.3, torch.Generator().manual_seed(2))
    assert torch.allclose(y, z, atol=1e-6)
    y.sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))


def test_float32_noncontiguous_and_numpy_paths():
    x = torch.zeros(50, 40).t()  # not contiguous: drawn into a temporary, added in place
    out = awgn_(x, 2.0, torch.Generator().manual_seed(0))
    assert out is x and 1.5 < float(x.std()) < 2.5
    a = awgn_(np.zeros(10_000, np.float32), 1.0, 3)
    assert a.dtype == np.float32 and np.array_equal(a, awgn_(np.zeros(10_000, np.float32), 1.0, 3))
    with pytest.raises(ParameterError, match="x"):
        awgn_(np.zeros(10, np.int64), 1.0, 0)
    with pytest.raises(ParameterError, match="x"):
        awgn_(np.zeros((4, 4))[:, ::2], 1.0, 0)


@pytest.mark.parametrize(
    "groups, n_ch, inner",
    [
        (1, 1, 3 * gk.BLOCK + 5),  # one sigma: every block takes the fused first-try + add
        (7, 1, 1000),  # per sample: blocks straddle sigma boundaries (the stretch path)
        (2, 3, 2 * gk.BLOCK),  # per replica and channel, stretches of whole blocks
        (3, 5, 1),  # per channel, channels last (sigma per element)
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kernel_layouts_scale_the_same_normals(groups, n_ch, inner, dtype):
    n = groups * n_ch * inner if inner > 1 else groups * n_ch * 4000
    group_size = n // groups
    rng = np.random.default_rng(0)
    sig = (rng.random(groups * n_ch) + 0.5).astype(dtype)
    base = rng.standard_normal(n).astype(dtype)
    unit = np.zeros(n, dtype)
    gk.add_normal_serial(unit, np.ones(1, dtype), 42, n, n, 1)
    out = base.copy()
    gk.add_normal_serial(out, sig, 42, group_size, inner, n_ch)
    e = np.arange(n)
    expected = base + sig[(e // group_size) * n_ch + (e // inner) % n_ch] * unit
    tol = 1e-12 if dtype == np.float64 else 1e-6
    assert np.allclose(out, expected, rtol=tol, atol=tol)
    par = base.copy()
    gk.add_normal_parallel(par, sig, 42, group_size, inner, n_ch)
    assert np.array_equal(out, par)
