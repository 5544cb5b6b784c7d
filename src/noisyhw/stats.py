"""Intervals for figures repeated over seeds: a Student-t interval of the mean, a bootstrap.

>>> mean_ci([0.70, 0.72, 0.74])  # doctest: +ELLIPSIS
(0.72..., 0.670..., 0.769...)

Both return ``(estimate, low, high)``. With one value the interval is undefined and both ends
are NaN (a single run has no spread to estimate).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from .errors import ParameterError, check_float, check_int, check_seed

__all__ = ["bootstrap_ci", "mean_ci"]


def _values(values: Sequence[float] | np.ndarray) -> np.ndarray:
    x = np.asarray(values, dtype=np.float64).reshape(-1)
    if x.size == 0:
        raise ParameterError("values", "at least one value", "none")
    if not np.isfinite(x).all():
        raise ParameterError("values", "finite numbers", "NaN or inf")
    return x


def mean_ci(
    values: Sequence[float] | np.ndarray, confidence: float = 0.95
) -> tuple[float, float, float]:
    """Mean of ``values`` and its two-sided Student-t ``confidence`` interval.

    ``mean +- t_{(1+confidence)/2, n-1} * s / sqrt(n)`` with ``s`` the sample standard deviation
    (``ddof=1``): exact for independent normal values, e.g. accuracies of runs with different
    seeds. ``(mean, nan, nan)`` for a single value.
    """
    from scipy import stats

    confidence = check_float("confidence", confidence, 0.0, 1.0, lo_open=True, hi_open=True)
    x = _values(values)
    m = float(x.mean())
    if x.size < 2:
        return m, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, x.size - 1)) * float(x.std(ddof=1))
    half /= math.sqrt(x.size)
    return m, m - half, m + half


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    statistic: Callable[[np.ndarray], float],
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """``statistic(values)`` and its percentile-bootstrap ``confidence`` interval.

    ``n_boot`` resamples of ``values`` (with replacement, same size) drawn from
    ``numpy.random.default_rng(seed)``; the interval is the ``(1-confidence)/2`` and
    ``(1+confidence)/2`` quantiles of ``statistic`` over them. For statistics with no
    closed-form interval (a median, a ratio of means written as a function of one array).
    ``(estimate, nan, nan)`` for a single value.
    """
    confidence = check_float("confidence", confidence, 0.0, 1.0, lo_open=True, hi_open=True)
    n_boot = check_int("n_boot", n_boot, 1)
    seed = check_seed("seed", seed)
    if not callable(statistic):
        raise ParameterError("statistic", "a function of a 1-D array", type(statistic).__name__)
    x = _values(values)
    est = float(statistic(x))
    if x.size < 2:
        return est, math.nan, math.nan
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    boot = np.array([float(statistic(x[i])) for i in idx])
    a = (1.0 - confidence) / 2
    lo, hi = np.quantile(boot, [a, 1.0 - a])
    return est, float(lo), float(hi)
