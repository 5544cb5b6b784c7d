"""Hill-climb syndrome columns for (1, beta, p) guarded syndrome blocks (coverage search).

With alpha = 1 a block of b cells (then beta - p guard cells) storing the r-bit syndrome H c is
zero-error iff every syndrome is H x for some change pattern x with <= p ones in every beta-window
(cut at the block edges). This script maximises the number of covered syndromes by changing one
column at a time (random restarts) and prints the columns when all 2^r are covered; the
SyndromeCode constructor re-certifies them. Rate r / (b + beta - p).
Run: PYTHONPATH=src python scripts/pcm_search_alpha1.py BETA P B R SECONDS [SEED]
"""

import sys
import time

import numpy as np

beta, p, b, r, secs = (int(v) for v in sys.argv[1:6])
seed = int(sys.argv[6]) if len(sys.argv) > 6 else 0
g = np.random.default_rng(seed)
pats = np.arange(2**b, dtype=np.int64)
bits = ((pats[:, None] >> np.arange(b)) & 1).astype(np.int8)
cs = np.concatenate([np.zeros((2**b, 1), np.int32), np.cumsum(bits, 1, dtype=np.int32)], 1)
w = min(beta, b)
ok = ((cs[:, w:] - cs[:, : b - w + 1]) <= p).all(1)
V = bits[ok].astype(bool)
del bits, cs
print(f"valid patterns {V.shape[0]} for 2^r = {2**r} syndromes", flush=True)


def syn_of(cols):
    s = np.zeros(V.shape[0], np.int64)
    for i in range(b):
        s ^= np.where(V[:, i], cols[i], 0)
    return s


def cover(cols):
    return np.unique(syn_of(cols)).size


t0 = time.time()
best = 0
while time.time() - t0 < secs:
    cols = g.integers(1, 2**r, size=b)
    s = cover(cols)
    stall = 0
    while stall < 4 * b and time.time() - t0 < secs:
        c2 = cols.copy()
        c2[g.integers(b)] = g.integers(1, 2**r)
        s2 = cover(c2)
        if s2 >= s:
            stall = 0 if s2 > s else stall + 1
            cols, s = c2, s2
        else:
            stall += 1
        if s == 2**r:
            print("FOUND", beta, p, b, r, cols.tolist(), flush=True)
            sys.exit(0)
    best = max(best, s)
    print(f"restart: covered {s} / {2**r}", flush=True)
print("none; best coverage", best)
sys.exit(1)
