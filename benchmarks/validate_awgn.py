"""Validate ``channels.awgn_``'s compiled Gaussian on a large sample (2^30 draws by default).

The unit tests check 1M draws; this script checks three orders of magnitude more, against the
standard normal's closed forms: mean and variance (5-sigma bounds), a chi-square over
equiprobable bins of the CDF, and the tail probabilities from 3 sigma to 6 sigma (including the
ziggurat's base/tail hand-over ``r = ZIG_X[1]``) as z-scores of the hit counts (meaningful where
the expected count is >= ~10; Poisson below). ~80 s per 2^30 draws on one core:

    PYTHONPATH=src python benchmarks/validate_awgn.py [LOG2_DRAWS]
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np
from scipy import special, stats

from noisyhw.channels import _gauss_kernels as gk

CHUNK = 1 << 24
BINS = 4096


def main(log2_draws: int = 30) -> None:
    chunks = max(1, (1 << log2_draws) // CHUNK)
    counts = np.zeros(BINS, np.int64)
    tails = dict.fromkeys((3.0, 4.0, float(gk.ZIG_X[1]), 4.5, 5.0, 5.5, 6.0), 0)
    s1 = s2 = 0.0
    x = np.zeros(CHUNK, np.float32)
    one = np.ones(1, np.float32)
    t0 = time.perf_counter()
    for c in range(chunks):
        x[:] = 0.0
        gk.add_normal_serial(x, one, 1000 + c, CHUNK, CHUNK, 1)  # a fresh key per chunk
        x64 = x.astype(np.float64)
        u = special.ndtr(x64)
        counts += np.bincount(np.minimum((u * BINS).astype(np.int64), BINS - 1), minlength=BINS)
        a = np.abs(x)
        for t in tails:
            tails[t] += int(np.count_nonzero(a > t))
        s1 += float(x64.sum())
        s2 += float(x64 @ x64)
    n = chunks * CHUNK
    print(f"{n} draws (float32) in {time.perf_counter() - t0:.0f} s")
    print(f"mean {s1 / n:.2e} (5-sigma bound {5 / math.sqrt(n):.1e})")
    print(f"variance - 1 {s2 / n - 1:.2e} (5-sigma bound {5 * math.sqrt(2 / n):.1e})")
    print(f"chi-square, {BINS} equiprobable bins: p = {stats.chisquare(counts).pvalue:.3g}")
    for t, hits in tails.items():
        expected = n * 2 * stats.norm.sf(t)
        z = (hits - expected) / math.sqrt(expected)
        print(f"P(|x| > {t:.3f}): {hits} hits, expected {expected:.1f}, z = {z:+.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
