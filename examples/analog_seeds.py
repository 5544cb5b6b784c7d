"""Repeat a ``noisyhw noise ...`` command over seeds; report mean and 95% interval per point.

    PYTHONPATH=src python examples/analog_seeds.py --seeds 0,1,2 --out runs/analog-seeds/mlp \\
        -- noise sweep --dataset digits --model mlp --epochs 15 ...

runs ``noisyhw <command> --seed S --out <out>/seedS --quiet`` for every seed (resumable: a
finished seed is read back from its run folder), then groups the rows of the seeds'
``results.json`` by everything but the measured values and prints, for each measured value
(``accuracy``, ``eff_snr_db``, ``clean_acc``, ``adv_acc`` ...), the mean over seeds with its
Student-t 95% interval (:func:`noisyhw.stats.mean_ci`). Also the clean accuracy of ``noise
sweep`` and the per-target facts of ``noise attack``. Writes ``<out>/summary.json``.
``--no-run`` only aggregates the folders that exist.

Expected time on 2 idle cores: ~1 min per seed for the digits-MLP sweep of docs/analog.md,
10-20 min per seed for its Fashion-MNIST LSTM and CNN studies; --quick runs seed 0 of a 1-epoch
digits-MLP sweep (~15 s) when no command is given.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from noisyhw.cli import main as noisyhw_main
from noisyhw.stats import mean_ci

#: the measured columns of noise sweep / train / attack rows (everything else is a grid key)
METRICS = ("accuracy", "eff_snr_db", "eff_snr_min_db", "clean_acc", "adv_acc")
QUICK = ["noise", "sweep", "--dataset", "digits", "--model", "mlp", "--epochs", "1",
         "--finetune-epochs", "1", "--train-snrs", "0", "--test-snrs", "0", "--votes", "1,3"]  # fmt: skip


def _ci(values: list[float]) -> dict[str, Any]:
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) != len(values):  # e.g. an effective SNR of inf (no noise)
        return {"mean": math.inf if not finite else None, "n": len(values)}
    m, lo, hi = mean_ci(finite)
    return {"mean": m, "lo": lo, "hi": hi, "n": len(values), "values": finite}


def _fmt(c: dict[str, Any], digits: int) -> str:
    if c.get("lo") is None:
        return str(c["mean"])
    return f"{c['mean']:.{digits}f} [{c['lo']:.{digits}f}, {c['hi']:.{digits}f}]"


def aggregate(folders: list[Path]) -> dict[str, Any]:
    """Mean and 95% interval over the run folders of every grid point and measured value."""
    groups: dict[tuple, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    extras: dict[str, list[float]] = defaultdict(list)
    for folder in folders:
        res = json.loads((folder / "results.json").read_text())
        for row in res["rows"]:
            key = tuple(sorted((k, v) for k, v in row.items() if k not in METRICS))
            for m in METRICS:
                if m in row:
                    groups[key][m].append(float(row[m]))
        if "clean_accuracy" in res:
            extras["clean_accuracy"].append(float(res["clean_accuracy"]))
        for target, facts in res.get("targets", {}).items():
            for name, v in facts.items():
                extras[f"{target}.{name}"].append(float(v))
    points = [{**dict(key), **{m: _ci(v) for m, v in vals.items()}} for key, vals in groups.items()]
    return {
        "seeds": len(folders),
        "points": points,
        "extras": {k: _ci(v) for k, v in extras.items()},
    }


def show(summary: dict[str, Any]) -> None:
    print(f"mean [95% interval] over {summary['seeds']} seeds")
    for name, c in summary["extras"].items():
        print(f"  {name}: {_fmt(c, 4)}")
    for p in summary["points"]:
        keys = "  ".join(f"{k}={v}" for k, v in p.items() if not isinstance(v, dict))
        vals = "  ".join(
            f"{k} {_fmt(v, 2 if 'snr' in k else 4)}" for k, v in p.items() if isinstance(v, dict)
        )
        print(f"  {keys}:  {vals}")


def run() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Expected time on 2 idle cores: ~1 min per seed (digits MLP); --quick: ~15 s.",
    )
    ap.add_argument("--seeds", default="0,1,2", help="comma-separated seeds")
    ap.add_argument("--out", required=True, type=Path, help="folder of the seed runs")
    ap.add_argument("--quick", action="store_true", help="seed 0 of a 1-epoch digits-MLP sweep")
    ap.add_argument("--no-run", action="store_true", help="only aggregate existing runs")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="-- noise sweep|train|attack ...")
    args = ap.parse_args()
    command = [a for a in args.command if a != "--"]
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.quick:
        seeds = [0]
        command = command or QUICK
    folders = []
    for s in seeds:
        folder = args.out / f"seed{s}"
        if not args.no_run:
            code = noisyhw_main([*command, "--seed", str(s), "--out", str(folder), "--quiet"])
            if code:
                raise SystemExit(code)
        if (folder / "results.json").is_file():
            folders.append(folder)
    summary = aggregate(folders)
    summary["command"] = command
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    show(summary)


if __name__ == "__main__":
    run()
