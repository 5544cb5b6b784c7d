"""Run every benchmarks/bench_<area>.py, save benchmarks/results/<area>.json, write BENCHMARKS.md.

Each module exposes ``run() -> dict`` returning ``{"figures": [{"name", "value", "unit",
"baseline", "ratio", "target", "note"}, ...], ...}``: figures are ratios against a baseline
measured in the same run (these machines are noisy), plus absolute numbers.

    python benchmarks/run_all.py            # all
    python benchmarks/run_all.py polar pcm  # some
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(HERE) not in sys.path:  # the bench modules import the shared helpers (_timing, _baseline)
    sys.path.insert(0, str(HERE))


def machine() -> dict[str, str]:
    import torch

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "date": dt.datetime.now().isoformat(timespec="seconds"),
    }


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return "" if v is None else str(v)


def main(argv: list[str]) -> int:
    os.environ.setdefault("NOISYHW_QUIET", "1")
    files = sorted(HERE.glob("bench_*.py"))
    if argv:
        files = [f for f in files if f.stem.removeprefix("bench_") in argv]
    (HERE / "results").mkdir(exist_ok=True)
    info = machine()
    failed = 0
    for f in files:
        area = f.stem.removeprefix("bench_")
        print(f"== {area}", flush=True)
        t0 = time.perf_counter()
        load0 = os.getloadavg()[0]
        try:
            result = load(f).run()
            result["status"] = "ok"
        except Exception:
            traceback.print_exc()
            result = {"status": "failed", "figures": []}
            failed += 1
        result["elapsed_s"] = round(time.perf_counter() - t0, 1)
        result["load_avg"] = [round(load0, 1), round(os.getloadavg()[0], 1)]  # start, end
        result["machine"] = info
        (HERE / "results" / f"{area}.json").write_text(json.dumps(result, indent=2, default=str))
        for fig in _figures(result):
            print(
                f"  {fig.get('name')}: {fmt(fig.get('value'))} {fig.get('unit', '')}"
                + (
                    f", baseline {fmt(fig['baseline'])}, ratio {fmt(fig.get('ratio'))}"
                    if fig.get("baseline") is not None
                    else ""
                )
            )
    write_table()
    return 1 if failed else 0


def _figures(res: dict) -> list[dict]:
    """A benchmark's figures: its ``figures`` list, or its flat scalar entries."""
    if res.get("figures"):
        return res["figures"]
    skip = {"status", "elapsed_s", "machine", "load_avg"}
    return [
        {"name": k, "value": v}
        for k, v in res.items()
        if k not in skip and isinstance(v, int | float)
    ]


def write_table() -> None:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`benchmarks/run_all.py`). Each figure is measured against a baseline",
        "in the same run; absolute numbers depend on the machine named per area.",
        "",
    ]
    for path in sorted((HERE / "results").glob("*.json")):
        res = json.loads(path.read_text())
        m = res.get("machine", {})
        lines += [
            f"## {path.stem}",
            "",
            f"{m.get('cpu', '?')}, {m.get('cores', '?')} cores, torch "
            f"{m.get('torch', '?')}, {m.get('date', '?')} — status {res.get('status')}, {res.get('elapsed_s')} s"
            + (
                ", load average {} at start, {} at end".format(*res["load_avg"])
                if "load_avg" in res
                else ""
            ),
            "",
        ]
        lines += [
            "| figure | value | unit | baseline | ratio | target | note |",
            "|---|---|---|---|---|---|---|",
        ]
        for fig in _figures(res):
            lines.append(
                "| "
                + " | ".join(
                    fmt(fig.get(k))
                    for k in ("name", "value", "unit", "baseline", "ratio", "target", "note")
                )
                + " |"
            )
        lines.append("")
    (ROOT / "BENCHMARKS.md").write_text("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
