"""noisyhw.stats against scipy.stats."""

import math

import numpy as np
import pytest
from scipy import stats

from noisyhw.errors import ParameterError
from noisyhw.stats import bootstrap_ci, mean_ci


@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
@pytest.mark.parametrize("n", [2, 3, 10])
def test_mean_ci_equals_scipy_t_interval(n, confidence):
    x = np.random.default_rng(n).normal(0.7, 0.05, n)
    m, lo, hi = mean_ci(x, confidence)
    elo, ehi = stats.t.interval(confidence, n - 1, loc=x.mean(), scale=stats.sem(x))
    assert m == pytest.approx(x.mean(), abs=1e-15)
    assert (lo, hi) == pytest.approx((elo, ehi), abs=1e-12)


def test_mean_ci_coverage_is_nominal():
    # 2000 normal samples of 3: the 95% interval covers the true mean 95% of the time
    rng = np.random.default_rng(0)
    hits = sum(
        lo <= 1.0 <= hi for _, lo, hi in (mean_ci(rng.normal(1.0, 2.0, 3)) for _ in range(2000))
    )
    assert abs(hits / 2000 - 0.95) < 4 * math.sqrt(0.95 * 0.05 / 2000)


def test_single_value_has_no_interval():
    assert mean_ci([0.5])[0] == 0.5 and math.isnan(mean_ci([0.5])[1])
    est, lo, hi = bootstrap_ci([0.5], np.mean)
    assert est == 0.5 and math.isnan(lo) and math.isnan(hi)


@pytest.mark.parametrize("statistic", [np.mean, np.median])
def test_bootstrap_ci_agrees_with_scipy_percentile_bootstrap(statistic):
    x = np.random.default_rng(1).exponential(1.0, 60)
    est, lo, hi = bootstrap_ci(x, statistic, n_boot=4000, seed=3)
    ref = stats.bootstrap(
        (x,),
        statistic,
        n_resamples=4000,
        method="percentile",
        random_state=np.random.default_rng(4),
    ).confidence_interval
    assert est == pytest.approx(statistic(x))
    width = ref.high - ref.low
    assert abs(lo - ref.low) < 0.1 * width and abs(hi - ref.high) < 0.1 * width


def test_bootstrap_ci_is_seeded():
    x = [0.1, 0.4, 0.35, 0.8, 0.2]
    assert bootstrap_ci(x, np.mean, seed=1) == bootstrap_ci(x, np.mean, seed=1)
    assert bootstrap_ci(x, np.mean, seed=1) != bootstrap_ci(x, np.mean, seed=2)


@pytest.mark.parametrize(
    "call",
    [
        lambda: mean_ci([]),
        lambda: mean_ci([1.0, float("nan")]),
        lambda: mean_ci([1.0, 2.0], confidence=1.0),
        lambda: bootstrap_ci([1.0, 2.0], np.mean, n_boot=0),
        lambda: bootstrap_ci([1.0, 2.0], "mean"),
    ],
)
def test_bad_input(call):
    with pytest.raises(ParameterError):
        call()
