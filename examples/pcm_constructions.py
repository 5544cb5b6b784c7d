#!/usr/bin/env python
"""README, phase-change memory codes: zero-error constructions reach 0.39-0.86 of the capacity
upper bound over all 47 constrained triples with alpha, beta, p <= 4, and the staggered linear
WOM groups beat the round robin's 1/alpha on (alpha, 1, 1): 0.3421 at alpha = 3, 0.2737 at
alpha = 4.

Expected time on 2 idle cores: ~2 min; --quick (alpha, beta, p <= 2): ~10 s.

The printed table has rate, lower and upper bound per triple; rate / upper is the fraction.
Deterministic (no random draws).
Usage: python examples/pcm_constructions.py [--quick]
"""

import sys

from _run import run


def commands(quick: bool, out: str) -> list[tuple[str, list[str]]]:
    # bounds at the default --depth 24: the same table on every machine
    return [("table", ["pcm", "table", "--max", "2" if quick else "4"])]


if __name__ == "__main__":
    sys.exit(run(__doc__, commands, "runs/examples/pcm"))
