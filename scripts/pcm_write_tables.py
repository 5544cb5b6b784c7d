"""Turn /tmp/pcm_tables.json (from pcm_search_tables.py) into src/noisyhw/codes/pcm/_tables.py."""

import json

with open("/tmp/pcm_tables.json") as fh:
    data = json.load(fh)
lines = [
    '"""Syndrome block codes found by scripts/pcm_search_tables.py (random search per triple).',
    "",
    "(alpha, beta, p) -> (b cells, r syndrome bits, columns). Each entry is only a candidate: the",
    "safety game is solved again whenever a SyndromeCode is built, and tests rebuild every entry.",
    '"""',
    "",
    "BLOCK_CODES: dict[tuple[int, int, int], tuple[int, int, list[int]]] = {",
]
for key, v in data.items():
    if v is None:
        continue
    a, b, p = (int(t) for t in key.split(","))
    lines.append(f"    ({a}, {b}, {p}): ({v['b']}, {v['r']}, {v['columns']}),")
lines.append("}")
with open("src/noisyhw/codes/pcm/_tables.py", "w") as fh:
    fh.write("\n".join(lines) + "\n")
