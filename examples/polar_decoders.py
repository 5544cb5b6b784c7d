#!/usr/bin/env python
"""README, polar codes: the (1024, 512) 5G polar code under SC decoding matches the published
FER points (BPSK-AWGN, Eb/N0 over the k information bits):

    Eb/N0 (dB)      1.5     2.0     2.5      3.0
    published FER   0.370   0.102   0.0157   0.00154

and SCL-8 on the same code for comparison. Expected time on 2 idle cores: ~5 min; --quick
(a (128, 64) code, few frames): ~30 s.

Every finished point prints a live row (decoder, Eb/N0, FER, BER, frame errors, frames, Mb/s,
elapsed); the final table adds 95% Clopper-Pearson intervals, which should hold the published
values. The other reference codes ((128,64), (256,128), (2048,1024)) are checked by
benchmarks/validate_polar.py; the speed figures come from `make bench`. Seed 0; rerun with the
same --out to resume.
Usage: python examples/polar_decoders.py [--quick]
"""

import sys

from _run import run


def commands(quick: bool, out: str) -> list[tuple[str, list[str]]]:
    size = (["--n", "128", "--k", "64", "--ebn0", "2,3", "--min-errors", "10",
             "--max-frames", "2000"] if quick else
            ["--n", "1024", "--k", "512", "--ebn0", "1.5:3:0.5", "--min-errors", "300",
             "--max-frames", "60000"])  # fmt: skip
    cmd = ["polar", "simulate", *size, "--construction", "5g", "--compare", "sc,scl:8",
           "--frames-per-chunk", "2000", "--workers", "2", "--seed", "0"]  # fmt: skip
    return [("simulate", cmd)]


if __name__ == "__main__":
    sys.exit(run(__doc__, commands, "runs/examples/polar"))
