"""noisyhw.channels.bsc: binomial flip counts, uniform positions, asymmetric and masked flips.

Statistical tests use fixed seeds and reject at significance 1e-3 (99.9% confidence): a correct
implementation passes with probability 0.999 for a random seed, and with these seeds it passes
deterministically; a wrong law (fixed counts, biased positions, wrong rate) fails by far.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from noisyhw import channels
from noisyhw.errors import ParameterError

ALPHA = 1e-3


def _popcount(a: np.ndarray) -> int:
    return int(np.bitwise_count(a.view(np.uint8)).sum())


def _chi2_binomial(counts: np.ndarray, n: int, p: float) -> float:
    """p-value of a chi-square goodness of fit of ``counts`` to Binomial(n, p), bins with an
    expected count below 5 pooled into the tails."""
    T = counts.size
    lo, hi = int(stats.binom.ppf(1e-3, n, p)), int(stats.binom.isf(1e-3, n, p))
    edges = np.arange(lo, hi + 1)
    obs = np.array([(counts < lo).sum()] + [(counts == k).sum() for k in edges] + [(counts > hi).sum()])
    exp = T * np.concatenate(
        [[stats.binom.cdf(lo - 1, n, p)], stats.binom.pmf(edges, n, p), [stats.binom.sf(hi, n, p)]]
    )
    # pool neighbouring bins until each expects >= 5
    o2, e2, acc_o, acc_e = [], [], 0.0, 0.0
    for o, e in zip(obs, exp, strict=True):
        acc_o, acc_e = acc_o + o, acc_e + e
        if acc_e >= 5:
            o2.append(acc_o)
            e2.append(acc_e)
            acc_o = acc_e = 0.0
    o2[-1] += acc_o
    e2[-1] += acc_e
    return stats.chisquare(o2, e2).pvalue


@pytest.mark.parametrize(
    ("dtype", "p", "mask"),
    [(np.uint32, 0.01, None), (np.float16, 0.003, None), (np.uint8, 0.8, None), (np.float32, 0.05, [0, 31])],
)
def test_flip_count_is_binomial(dtype, p, mask):
    x = np.zeros(64, dtype=dtype)
    exposed = x.size * (len(mask) if mask else 8 * x.itemsize)
    g = np.random.default_rng(123)
    counts = np.array([_popcount(channels.bsc(x, p, g, bit_mask=mask)) for _ in range(3000)])
    assert _chi2_binomial(counts, exposed, p) > ALPHA
    # a fixed count (the expected value) must be rejected by the same test
    assert _chi2_binomial(np.full(3000, round(exposed * p)), exposed, p) < ALPHA


def test_inplace_count_matches_flipped_bits():
    x = np.random.default_rng(0).integers(0, 2**32, 500, dtype=np.uint32)
    y = x.copy()
    n = channels.bsc_inplace(y, 0.02, 5)
    assert n == _popcount(x ^ y) and n > 0


def test_positions_are_uniform():
    x = np.zeros(256, dtype=np.uint32)  # 8192 bits
    g = np.random.default_rng(7)
    hits = np.zeros(x.size * 32)
    for _ in range(300):
        y = channels.bsc(x, 0.01, g)
        hits += np.unpackbits(y.view(np.uint8), bitorder="little")
    assert hits.sum() > 20_000
    # per bit position (32 bins) and per element (256 bins)
    per_bit = hits.reshape(x.size, 32).sum(0)
    per_elem = hits.reshape(x.size, 32).sum(1)
    assert stats.chisquare(per_bit).pvalue > ALPHA
    assert stats.chisquare(per_elem).pvalue > ALPHA
    # a sampler that never hits the last element would be caught
    biased = per_elem.copy()
    biased[-1] = 0
    assert stats.chisquare(biased).pvalue < ALPHA


def test_dense_rate_path_is_exact_complement():
    x = np.zeros(50_000, dtype=np.uint8)
    y = channels.bsc(x, 0.9, 3)
    rate = _popcount(y) / (x.size * 8)
    assert abs(rate - 0.9) < 4 * np.sqrt(0.9 * 0.1 / (x.size * 8))


def test_asymmetric_flips_hit_only_their_direction():
    g = np.random.default_rng(11)
    x = g.integers(0, 2**16, 20_000, dtype=np.uint16)
    ones = _popcount(x)
    zeros = x.size * 16 - ones
    y = channels.bsc(x, rng=1, p01=0.05)
    assert _popcount(y & ~x) > 0 and _popcount(x & ~y) == 0  # no 1 -> 0
    up = _popcount(y & ~x)
    assert stats.binomtest(up, zeros, 0.05).pvalue > ALPHA
    y = channels.bsc(x, rng=2, p10=0.02, p01=0.0)
    assert _popcount(y & ~x) == 0
    down = _popcount(x & ~y)
    assert stats.binomtest(down, ones, 0.02).pvalue > ALPHA
    y = channels.bsc(x, rng=3, p01=0.01, p10=0.04)
    assert stats.binomtest(_popcount(y & ~x), zeros, 0.01).pvalue > ALPHA
    assert stats.binomtest(_popcount(x & ~y), ones, 0.04).pvalue > ALPHA


def test_masked_flips_hit_only_exposed_bits():
    x = np.random.default_rng(0).standard_normal(10_000).astype(np.float32)
    y = channels.bsc(x, 0.3, 0, bit_mask=[5])
    diff = x.view(np.uint32) ^ y.view(np.uint32)
    assert np.all((diff & ~np.uint32(1 << 5)) == 0) and diff.any()
    keep_sign_exp = np.ones(32, bool)
    keep_sign_exp[23:] = False  # protect sign and exponent
    y = channels.bsc(x, 0.5, 1, bit_mask=keep_sign_exp)
    diff = x.view(np.uint32) ^ y.view(np.uint32)
    assert np.all(diff >> np.uint32(23) == 0) and diff.any()
    assert np.all(np.sign(y) == np.sign(x))
    full = channels.bsc(x, 1.0, 2, bit_mask=[0, 31])
    assert np.all((x.view(np.uint32) ^ full.view(np.uint32)) == np.uint32(0x80000001))


def test_seeded_and_input_untouched():
    x = np.linspace(-1, 1, 1000, dtype=np.float64)
    keep = x.copy()
    a, b = channels.bsc(x, 1e-2, 9), channels.bsc(x, 1e-2, 9)
    assert np.array_equal(a.view(np.uint64), b.view(np.uint64))
    assert np.array_equal(x, keep) and a.shape == x.shape and a.dtype == x.dtype
    assert channels.bsc(x.reshape(10, 100), 0.0, 0).shape == (10, 100)


@pytest.mark.parametrize(
    ("args", "kw", "name"),
    [
        ((np.zeros(4, np.float32), 1.5), {}, "p"),
        ((np.zeros(4, np.float32), -0.1), {}, "p"),
        ((np.zeros(4, np.float32),), {}, "p"),
        ((np.zeros(4, np.float32), 0.1), {"p01": 0.1}, "p"),
        ((np.zeros(4, np.float32),), {"p01": 2.0}, "p01"),
        ((np.zeros(4, np.complex64), 0.1), {}, "data"),
        ((np.array(["a"]), 0.1), {}, "data"),
        ((np.zeros(4, np.float32), 0.1), {"bit_mask": [32]}, "bit_mask"),
        ((np.zeros(4, np.float32), 0.1), {"bit_mask": np.ones(8, bool)}, "bit_mask"),
    ],
)
def test_bad_input(args, kw, name):
    with pytest.raises(ParameterError, match=name):
        channels.bsc(*args, **kw)
