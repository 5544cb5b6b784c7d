"""Polar code constructions: which bit channels carry information.

Every function returns a *reliability order*: the ``n`` bit-channel indices sorted from least to
most reliable (ties broken by index), for ``x = u F^{(x)m}`` in natural order. The information
set of a code with ``K`` (information + CRC) bits is the last ``K`` entries.

* ``nr5g``: the nested 5G NR sequence (3GPP TS 38.212 Table 5.3.1.2-1), any ``n <= 1024``.
* ``gaussian_approximation``: density evolution with Chung's Gaussian approximation of the LLR
  mean on BPSK-AWGN at a design Eb/N0, any ``n = 2^m``.
* ``bhattacharyya``: the Bhattacharyya-parameter recursion (exact erasure probabilities on a BEC,
  an upper bound on AWGN), any ``n = 2^m``.
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources

import numpy as np

from ...channels import db_to_linear
from ...errors import ParameterError

__all__ = ["bhattacharyya", "gaussian_approximation", "nr5g", "nr5g_sequence"]


@lru_cache(maxsize=1)
def nr5g_sequence() -> np.ndarray:
    """Q_0..Q_1023 of TS 38.212 Table 5.3.1.2-1 (ascending reliability), int64 (1024,)."""
    path = resources.files("noisyhw") / "resources" / "nr_polar_reliability_sequence.txt"
    text = path.read_text()
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    seq = np.array([int(ln) for ln in lines], dtype=np.int64)
    if seq.shape != (1024,) or not np.array_equal(np.sort(seq), np.arange(1024)):
        raise RuntimeError("corrupt 5G reliability sequence resource")
    return seq


def nr5g(n: int) -> np.ndarray:
    """Reliability order of length ``n <= 1024`` from the 5G NR sequence."""
    if n > 1024:
        raise ParameterError("n", "the 5G construction is defined for n <= 1024", n)
    seq = nr5g_sequence()
    return seq[seq < n].copy()


def _phi(x: np.ndarray) -> np.ndarray:
    """Chung's approximation of phi(x) = 1 - E[tanh(l/2)], l ~ N(x, 2x); phi(0) = 1."""
    x = np.asarray(x, dtype=np.float64)
    out = np.ones_like(x)
    small = (x > 0) & (x < 10)
    big = x >= 10
    out[small] = np.exp(-0.4527 * x[small] ** 0.86 + 0.0218)
    xb = x[big]
    out[big] = np.sqrt(np.pi / xb) * np.exp(-xb / 4) * (1 - 10 / (7 * xb))
    return out


def _log_phi(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    small = (x > 0) & (x < 10)
    big = x >= 10
    out[small] = -0.4527 * x[small] ** 0.86 + 0.0218
    xb = x[big]
    out[big] = 0.5 * np.log(np.pi / xb) - xb / 4 + np.log1p(-10 / (7 * xb))
    return out


def _check_node_mean(m: np.ndarray) -> np.ndarray:
    """phi^{-1}(1 - (1 - phi(m))^2), solved by bisection on log phi (monotone decreasing)."""
    lp = _log_phi(m)
    # target log(1 - (1 - phi)^2) = log(phi) + log(2 - phi)
    target = lp + np.log(2.0 - np.exp(lp))
    lo = np.zeros_like(m)
    hi = np.maximum(m, 1e-12)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        too_reliable = _log_phi(mid) < target  # phi(mid) smaller than target: mid too large
        hi = np.where(too_reliable, mid, hi)
        lo = np.where(too_reliable, lo, mid)
    return 0.5 * (lo + hi)


def _order(metric: np.ndarray, larger_is_better: bool) -> np.ndarray:
    key = metric if larger_is_better else -metric
    return np.lexsort((np.arange(metric.size), key)).astype(np.int64)


def _polarize(x0: float, m: int, bad, good) -> np.ndarray:
    z = np.array([x0], dtype=np.float64)
    for _ in range(m):
        nz = np.empty(2 * z.size)
        nz[0::2] = bad(z)
        nz[1::2] = good(z)
        z = nz
    return z


def gaussian_approximation(n: int, design_snr_db: float, rate: float) -> np.ndarray:
    """Reliability order by GA density evolution at Eb/N0 = ``design_snr_db`` (code rate
    ``rate`` converts it to Es/N0 = rate * Eb/N0; channel LLR mean 4 Es/N0)."""
    m = int(math.log2(n))
    mean0 = 4.0 * rate * db_to_linear(design_snr_db)
    mean = _polarize(mean0, m, _check_node_mean, lambda z: 2.0 * z)
    return _order(mean, larger_is_better=True)


def bhattacharyya(n: int, design_snr_db: float, rate: float) -> np.ndarray:
    """Reliability order by the Bhattacharyya recursion ``z- = 2z - z^2``, ``z+ = z^2`` from
    ``z0 = exp(-Es/N0)`` (BPSK-AWGN at Eb/N0 = ``design_snr_db``), computed in the log domain."""
    m = int(math.log2(n))
    logz0 = -rate * db_to_linear(design_snr_db)
    logz = _polarize(logz0, m, lambda lz: lz + np.log(2.0 - np.exp(lz)), lambda lz: 2.0 * lz)
    return _order(logz, larger_is_better=False)
