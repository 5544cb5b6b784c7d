"""Exhaustive search for small linear t-write WOM codes (the groups of StaggeredWOMCode).

A code is a multiset of g nonzero columns in GF(2)^d; it wins the t-write game when every one of
t consecutive writes can move the syndrome by ANY vector of GF(2)^d flipping only cells not
flipped before (noisyhw.codes.pcm.game.wom_winning). The game is invariant under GL(d, 2) and
cell order, and a winning multiset spans GF(2)^d, so WLOG it contains the unit vectors
e_1..e_d: the search enumerates the other g - d columns with repetition, which makes every
"none" below a proof (no linear code of that size exists), not a time-out.

For every (t, d) it reports the smallest g with a winning code (the best sum-rate S_t = t d / g
for g <= G_MAX) and then the best staggered rate S_t / (t + alpha - 1) per alpha vs 1/alpha.
Run: nice -n 10 env PYTHONPATH=src python scripts/pcm_search_wom.py [G_MAX] [T_MAX] [D_MAX]
One (t, d) only, g from G_MIN to G_MAX (exhaustive, stops at the first winner):
     nice -n 10 env PYTHONPATH=src python scripts/pcm_search_wom.py --focus T D G_MIN G_MAX
"""

import itertools
import json
import sys
import time
from math import comb

from noisyhw.codes.pcm.game import disjoint_pairs, wom_winning

if sys.argv[1:2] == ["--focus"]:
    t, d, g_min, g_max = (int(v) for v in sys.argv[2:6])
    for g in range(max(g_min, d), g_max + 1):
        t0, tried, found = time.time(), 0, None
        pr = disjoint_pairs(g)
        for extra in itertools.combinations_with_replacement(range(1, 2**d), g - d):
            tried += 1
            cols = [1 << k for k in range(d)] + list(extra)
            if wom_winning(cols, d, t, pr)[0][0]:
                found = cols
                break
        print(
            f"t={t} d={d} g={g} S={t * d / g:.4f}: {tried} multisets in "
            f"{time.time() - t0:.0f} s -> {found or 'none (proof: no linear code)'}",
            flush=True,
        )
        if found:
            break
    sys.exit(0)

G_MAX = int(sys.argv[1]) if len(sys.argv) > 1 else 10
T_MAX = int(sys.argv[2]) if len(sys.argv) > 2 else 4
D_MAX = int(sys.argv[3]) if len(sys.argv) > 3 else 4

pairs = {g: disjoint_pairs(g) for g in range(1, G_MAX + 1)}
best: dict[tuple[int, int], dict] = {}
for t in range(1, T_MAX + 1):
    for d in range(1, D_MAX + 1):
        t0 = time.time()
        found = None
        tried = 0
        for g in range(d, G_MAX + 1):
            unit = [1 << k for k in range(d)]
            for extra in itertools.combinations_with_replacement(range(1, 2**d), g - d):
                tried += 1
                cols = unit + list(extra)
                if wom_winning(cols, d, t, pairs[g])[0][0]:
                    found = {"g": g, "columns": cols}
                    break
            if found:
                break
        row = {
            "t": t,
            "d": d,
            "g": found["g"] if found else None,
            "columns": found["columns"] if found else None,
            "sum_rate": t * d / found["g"] if found else None,
            "codes_tried": tried,
            "seconds": round(time.time() - t0, 1),
            "proof": f"no code with g < {found['g'] if found else G_MAX + 1}",
        }
        best[(t, d)] = row
        print(json.dumps(row), flush=True)

print("\nbest staggered rate per alpha (S_t / (t + alpha - 1)) vs the round robin 1/alpha")
for alpha in range(2, 9):
    cands = [
        (r["sum_rate"] / (r["t"] + alpha - 1), r["t"], r["d"], r["g"])
        for r in best.values()
        if r["g"]
    ]
    rate, t, d, g = max(cands)
    print(
        f"alpha={alpha}: {rate:.4f} (t={t}, d={d}, g={g}) vs 1/alpha={1 / alpha:.4f} "
        f"{'BEATS' if rate > 1 / alpha + 1e-12 else 'no gain'}"
    )
print(
    "multisets per (g, d) WLOG:",
    {(g, d): comb(2**d - 1 + g - d - 1, g - d) for g, d in [(10, 4), (8, 4)]},
)
