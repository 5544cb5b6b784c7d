"""Time the non-decoder parts of a polar FER chunk: ``polar_transform`` and ``bpsk_awgn`` on
2,000 frames of n = 1024 (best of 7). Run it against two trees to compare them, e.g.
``PYTHONPATH=<old tree>/src python benchmarks/time_polar_chunk_parts.py`` then with ``src``."""

from __future__ import annotations

import timeit

import numpy as np

from noisyhw.channels import bpsk_awgn
from noisyhw.codes.polar import polar_transform

if __name__ == "__main__":
    u = np.random.default_rng(0).integers(0, 2, (2000, 1024), dtype=np.uint8)
    polar_transform(u), bpsk_awgn(u, 2.0, 0.5, 1)  # compile / load outside the timing
    for name, fn in (
        ("polar_transform", lambda: polar_transform(u)),
        ("bpsk_awgn", lambda: bpsk_awgn(u, 2.0, 0.5, 1)),
    ):
        best = min(timeit.repeat(fn, number=1, repeat=7))
        print(f"{name}: {best * 1e3:.1f} ms")
