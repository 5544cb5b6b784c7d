"""Regenerate src/noisyhw/codes/pcm/_tables.py: best syndrome block codes found per (a, b, p).

For every constrained (alpha, beta, p) in 1..4, random-search syndrome columns for block
sizes b (cells) and syndrome lengths r, keeping the highest rate r / (b + g) whose safety
game is won (g = Constraint.guards guard cells). Each triple gets a time cap; the result is a
certificate that tests re-check. The alpha = 1 entries with b >= 16 come from the coverage
hill-climb in scripts/pcm_search_alpha1.py.
Run: PYTHONPATH=src python scripts/pcm_search_tables.py [seconds_per_triple] [a,b,p ...]
"""

import json
import sys
import time

from noisyhw.codes.pcm.game import MAX_GAME_BITS, search_block_code
from noisyhw.codes.pcm.params import constraint

cap = float(sys.argv[1]) if len(sys.argv) > 1 else 8.0
only = {tuple(int(v) for v in t.split(",")) for t in sys.argv[2:]}
out = {}
for a in range(1, 5):
    for bt in range(1, 5):
        for p in range(1, 5):
            if p >= a * bt or (only and (a, bt, p) not in only):
                continue
            t0 = time.time()
            best = None
            for b in range(1, MAX_GAME_BITS // a + 1):
                if time.time() - t0 > cap:
                    break
                g = constraint(a, bt, p).guards
                for r in range(b, 0, -1):  # highest r first; stop at first success
                    if best and r / (b + g) <= best[0]:
                        break
                    if time.time() - t0 > cap:
                        break
                    cols = search_block_code(
                        a, bt, p, b, r, tries=40 if b * a > 14 else 150, rng=b * 100 + r
                    )
                    if cols:
                        best = (r / (b + g), b, r, cols)
                        break
            out[f"{a},{bt},{p}"] = (
                None if best is None else {"b": best[1], "r": best[2], "columns": best[3]}
            )
            print(
                a,
                bt,
                p,
                best and round(best[0], 4),
                best and best[1:3],
                round(time.time() - t0, 1),
                flush=True,
            )
with open("/tmp/pcm_tables.json", "w") as fh:
    json.dump(out, fh)
