"""``noisyhw demo``: the main job. Each area adds one section; the whole run stays under
5 minutes on 2 CPU cores and writes one HTML report.

A section is a function ``demo_section(ctx: DemoContext) -> list[dict]`` that fills
``ctx.section`` (text, tables, PNG plots saved under ``ctx.run.dir``) and returns rows for the
summary table. Sections are trials of the demo's run: a finished section is not run again when
the demo is rerun with the same ``--out``.
"""

from __future__ import annotations

import importlib
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..errors import NoisyhwError, ParameterError
from ..sweep import Run, Section
from .findings import annotate

__all__ = ["DEMO_SECTIONS", "DemoContext", "run_demo"]

#: name -> "module:function"; add one line per area.
DEMO_SECTIONS: dict[str, str] = {
    "classifier": "noisyhw.experiments.demo_classifier:demo_section",
    "pcm": "noisyhw.experiments.pcm:demo_section",
    "prune": "noisyhw.experiments.prune:demo_section",
    "storage": "noisyhw.experiments.storage:demo_section",
    "scale": "noisyhw.experiments.scale:demo_section",
    "polar": "noisyhw.experiments.polar:demo_section",
    "analog": "noisyhw.experiments.analog:demo_section",
    "freq": "noisyhw.experiments.freq:demo_section",
    "jscc": "noisyhw.experiments.jscc:demo_section",
    "nvm": "noisyhw.experiments.nvm:demo_section",
}


@dataclass
class DemoContext:
    """What a demo section gets."""

    run: Run
    section: Section
    dataset: str
    device: str
    seed: int
    fast: bool

    def path(self, name: str) -> Path:
        """Where to save a plot or file of this section."""
        return self.run.plot_path(name)

    def subrun(self, name: str, config: dict[str, Any] | None = None) -> Run:
        """A run of its own in ``<demo dir>/<name>`` for a section that sweeps trials (the
        demo's own trial store holds one trial per section)."""
        return Run(f"demo {name}", config or {}, out=self.run.dir / name, seed=self.seed)


def _serialise(section: Section) -> list[list[Any]]:
    out = []
    for kind, payload in section.blocks:
        if kind == "image":
            payload = [str(payload[0]), payload[1]]
        out.append([kind, payload])
    return out


def _restore(section: Section, blocks: list[list[Any]]) -> None:
    for kind, payload in blocks:
        if kind == "image":
            payload = (Path(payload[0]), payload[1])
        elif kind == "table":
            payload = tuple(payload)
        section.blocks.append((kind, payload))


def _section_trial(params: dict[str, Any], ctx_fields: dict[str, Any]) -> dict[str, Any]:
    run: Run = ctx_fields["run"]
    name = params["section"]
    module, func = DEMO_SECTIONS[name].split(":")
    section = Section(name)
    ctx = DemoContext(
        run,
        section,
        ctx_fields["dataset"],
        ctx_fields["device"],
        ctx_fields["seed"],
        ctx_fields["fast"],
    )
    t0 = time.perf_counter()
    threads = torch.get_num_threads()  # a section may pin threads; the next one gets them back
    try:
        rows = getattr(importlib.import_module(module), func)(ctx) or []
        status = "ok"
    except Exception as exc:  # a broken section must not hide the others
        if isinstance(exc, NoisyhwError):
            section.text(f"Section failed: {exc}")
        else:
            section.code(traceback.format_exc())
        rows, status = [], f"failed: {exc.__class__.__name__}: {exc}"
    finally:
        torch.set_num_threads(threads)
    return {
        "status": status,
        "elapsed_s": round(time.perf_counter() - t0, 2),
        "rows": rows,
        "blocks": _serialise(section),
        "title": section.title,
    }


def run_demo(
    *,
    only: list[str] | None = None,
    out: str | Path | None = None,
    dataset: str = "auto",
    device: str = "cpu",
    seed: int = 0,
    fast: bool = False,
) -> tuple[Run, list[dict[str, Any]]]:
    """Run the demo sections (all, or ``only``) into one report; returns the run and summary."""
    from .classify import default_dataset

    names = only if only else list(DEMO_SECTIONS)
    for n in names:
        if n not in DEMO_SECTIONS:
            raise ParameterError("--only", f"sections are {', '.join(DEMO_SECTIONS)}", n)
    ds = default_dataset() if dataset == "auto" else dataset
    config = {"sections": names, "dataset": ds, "fast": fast, "device": device}
    run = Run("demo", config, out=out, seed=seed, title="noisyhw demo")
    for row in run.store.rows():  # a rerun retries the sections that failed, keeps the others
        if row["status"] != "ok":
            run.store.discard({"section": row["section"]})
    fields = {"run": run, "dataset": ds, "device": device, "seed": seed, "fast": fast}
    rows = run.sweep(
        _section_trial, [{"section": n} for n in names], context=fields, description="demo sections"
    )
    summary = []
    for r in rows:
        sec = run.section(r.get("title", r["section"]))
        _restore(sec, r["blocks"])
        annotate(sec, r["section"], r["status"], r["rows"])  # status and claims for the summary
        summary.append(
            {
                "section": r["section"],
                "status": r["status"],
                "elapsed_s": r["elapsed_s"],
                "results": len(r["rows"]),
            }
        )
    return run, rows
