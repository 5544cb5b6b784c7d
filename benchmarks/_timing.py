"""Timing in shuffled rounds, for same-run comparisons on a shared, noisy machine.

Each round runs every function once, in a freshly shuffled order (seeded), timing CPU time
(or wall time).
A ratio ``a / b`` is the median over rounds of ``t_a / t_b`` measured in the same round, so a
slow spell of the machine hits both sides of a pair; its quartiles say how much it moved.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable


def rounds(
    fns: dict[str, Callable[[], object]],
    n: int,
    seed: int = 0,
    clock: Callable[[], float] = time.process_time,
) -> dict[str, list[float]]:
    """Seconds of each function in each of ``n`` shuffled rounds (after one warm-up call), by
    ``clock``: CPU time by default; ``time.perf_counter`` (wall) where several threads run, since
    CPU time also counts the threads' spin-waiting."""
    rng = random.Random(seed)
    for f in fns.values():
        f()
    times: dict[str, list[float]] = {k: [] for k in fns}
    keys = list(fns)
    for _ in range(n):
        rng.shuffle(keys)
        for k in keys:
            t0 = clock()
            fns[k]()
            times[k].append(clock() - t0)
    return times


def paired_ratio(times: dict[str, list[float]], a: str, b: str) -> tuple[float, float, float]:
    """Median and quartiles over rounds of ``times[a][i] / times[b][i]``."""
    r = [x / y for x, y in zip(times[a], times[b], strict=True)]
    if len(r) < 2:
        return r[0], r[0], r[0]
    q1, med, q3 = statistics.quantiles(r, n=4, method="inclusive")
    return med, q1, q3


def median(times: dict[str, list[float]], k: str) -> float:
    """Median CPU seconds of one function over the rounds."""
    return statistics.median(times[k])


def best_of(fn: Callable[[], object], repeat: int = 5) -> float:
    """Fastest wall time (seconds) of ``repeat`` calls: for absolute figures, not ratios."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best
