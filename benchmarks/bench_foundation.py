"""Foundation speed: the in-memory batch iterator vs torch's DataLoader; sweep overhead per trial."""

from __future__ import annotations

import tempfile
import time

import torch
from _timing import best_of  # benchmarks/ is on sys.path (run_all)
from torch.utils.data import DataLoader

from noisyhw import data
from noisyhw.sweep import Run
from noisyhw.train import iterate_batches


def _noop(params, context):
    return {"y": params["i"]}


def run() -> dict:
    ds = data.load("digits", "train")
    big = data.ArrayDataset(ds.x.repeat(40, 1, 1, 1), ds.y.repeat(40), ds.classes)
    g = torch.Generator().manual_seed(0)
    ours = best_of(lambda: sum(1 for _ in iterate_batches(big, 128, shuffle=True, generator=g)), 3)
    loader = DataLoader(big, batch_size=128, shuffle=True)
    theirs = best_of(lambda: sum(1 for _ in loader), repeat=1)
    n = 200
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        Run("bench", {}, out=d).sweep(_noop, [{"i": i} for i in range(n)])
        per_trial = (time.perf_counter() - t0) / n
    return {
        "figures": [
            {
                "name": "batch iteration, 57k examples",
                "value": len(big) / ours,
                "unit": "examples/s",
                "baseline": len(big) / theirs,
                "ratio": theirs / ours,
                "note": "vs torch DataLoader(shuffle=True)",
            },
            {
                "name": "sweep overhead per trial (SQLite commit)",
                "value": per_trial * 1e3,
                "unit": "ms",
                "note": "in-process executor, trivial trial",
            },
        ]
    }


if __name__ == "__main__":
    for f in run()["figures"]:
        print(f)
