#!/usr/bin/env python
"""README, weights in noisy storage: ECC or detection at equal storage. A (1024, k) polar code
with SC decoding over fewer value bits against weight nulling, range detection and the
Hamming-weight-ordered code at 8, 12 and 16 stored bits per parameter (digits MLP, raw BER
1e-6 .. 1e-1, adaptive trials): at 12 and 16 bits the code tolerates ~5x the raw BER of the
best detection, at 8 bits they tie (docs/storage.md, "ECC or detection at equal storage").

Expected time on 2 idle cores: ~10 min; --quick (one budget, two BERs, one trial): ~30 s.

The printed table has per budget the tolerable BER of the best ECC and the best detection
configuration and their ratio with its 95% bootstrap interval.
Usage: python examples/storage_ecc.py [--quick]
"""

import sys

from _run import run


def commands(quick: bool, out: str) -> list[tuple[str, list[str]]]:
    if quick:
        tiny = ["--epochs", "3", "--budgets", "8", "--bers", "1e-3,0.05", "--trials", "1"]
        return [("ecc", ["storage", "ecc", *tiny, "--min-failures", "0", "--n", "256"])]
    return [("ecc", ["storage", "ecc", "--study", "mlp-digits"])]


if __name__ == "__main__":
    sys.exit(run(__doc__, commands, "runs/examples/storage_ecc"))
