"""``noisyhw demo``: the main job. Each area adds one section; the whole run stays under
5 minutes on 2 CPU cores and writes one HTML report.

A section is a function ``demo_section(ctx: DemoContext) -> list[dict]`` that fills
``ctx.section`` (text, tables, PNG plots saved under ``ctx.run.dir``) and returns rows for the
summary table. Sections are trials of the demo's run: a finished section is not run again when
the demo is rerun with the same ``--out``.

Data: the demo runs on what is installed (``scripts/install-data``: Fashion-MNIST, fortunes,
wamerican). A section whose data is missing uses data that is always here and says so with
:meth:`DemoContext.fallback`: the note goes to the section's report text, the printed summary and
results.json. ``ctx.dataset`` is Fashion-MNIST when installed, else digits.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import textwrap
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..errors import NoisyhwError, ParameterError, check_choice, check_seed
from ..sweep import Run, Section
from .config import Outcome, check_out
from .findings import annotate

__all__ = [
    "DEMO_SECTIONS",
    "DemoContext",
    "DemoStudy",
    "data_status",
    "run",
    "run_demo",
    "summary_rows",
]

#: the data the demo prefers: (what, where, how to install it)
DEMO_DATA = [
    ("Fashion-MNIST", "/usr/share/datasets/fashion-mnist", "dataset-fashion-mnist"),
    ("fortunes", "/usr/share/games/fortunes", "fortunes"),
    ("wamerican", "/usr/share/dict/words", "wamerican"),
]

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
    "stack": "noisyhw.experiments.stack:demo_section",
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
    #: data fallback notes (see :meth:`fallback`)
    notes: list[str] = field(default_factory=list)

    def path(self, name: str) -> Path:
        """Where to save a plot or file of this section."""
        return self.run.plot_path(name)

    def subrun(self, name: str, config: dict[str, Any] | None = None) -> Run:
        """A run of its own in ``<demo dir>/<name>`` for a section that sweeps trials (the
        demo's own trial store holds one trial per section)."""
        return Run(f"demo {name}", config or {}, out=self.run.dir / name, seed=self.seed)

    @property
    def fashion(self) -> bool:
        """Whether the section runs on Fashion-MNIST (else on the bundled digits)."""
        return self.dataset == "fashion-mnist"

    def fallback(self, missing: str, instead: str, install: str) -> None:
        """Record that ``missing`` data is not here and ``instead`` is used; the note goes to
        the report (a paragraph at the top of the section) and the printed summary."""
        note = f"{missing} is not installed: this section uses {instead} instead ({install})."
        self.notes.append(note)
        self.section.blocks.insert(0, ("text", f"Data fallback: {note}"))

    def image_fallback(self) -> None:
        """The note for a section that trains on ``ctx.dataset`` when that is digits."""
        if not self.fashion:
            self.fallback(
                "Fashion-MNIST",
                "scikit-learn's 8x8 digits",
                "apt-get install dataset-fashion-mnist, or scripts/install-data as root",
            )


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
    t0, cpu0 = time.perf_counter(), _cpu_seconds()
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
        "cpu_s": round(_cpu_seconds() - cpu0, 2),
        "notes": ctx.notes,
        "rows": rows,
        "blocks": _serialise(section),
        "title": section.title,
    }


def _cpu_seconds() -> float:
    """CPU seconds of this process and its finished children: on a loaded machine a better
    guide than wall time to how long a section takes on idle cores."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


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
    status = data_status()
    run.section("Data").table(status, ["data", "present", "path", "package"]).text(
        "Missing data packages: each section that needs one uses data that is always here and "
        "says so at its top. Install them with scripts/install-data (as root) or apt-get."
        if any(not d["present"] for d in status)
        else "Every data package the demo uses is installed."
    )
    for r in rows:
        sec = run.section(r.get("title", r["section"]))
        _restore(sec, r["blocks"])
        annotate(sec, r["section"], r["status"], r["rows"])  # status and claims for the summary
    return run, rows


def data_status() -> list[dict[str, Any]]:
    """Which of the demo's data packages are installed (:data:`DEMO_DATA`)."""
    from ..data import locate
    from ..data.text import CORPORA

    out = []
    for what, default, package in DEMO_DATA:
        path = Path(default)
        if what == "Fashion-MNIST":
            with contextlib.suppress(NoisyhwError):
                path = locate("fashion-mnist")
        elif what == "fortunes":
            path = CORPORA["fortunes"]
        present = path.exists()
        out.append({"data": what, "present": present, "path": str(path), "package": package})
    return out


def summary_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per section for the printed summary and results.json: failed sections first
    (in run order), then the others; a section's data fallback notes in ``note``."""
    out = [
        {
            "section": r["section"],
            "status": r["status"],
            "elapsed_s": r["elapsed_s"],
            "cpu_s": r.get("cpu_s"),
            "note": " ".join(r.get("notes") or []),
        }
        for r in rows
    ]
    return sorted(out, key=lambda r: r["status"] == "ok")


@dataclass(frozen=True)
class DemoStudy:
    """``noisyhw demo``: the sections ``only`` (None: all of :data:`DEMO_SECTIONS`) on
    ``dataset`` (``auto``: Fashion-MNIST when installed, else digits); ``fast``: smaller sizes
    everywhere (a smoke test)."""

    only: tuple[str, ...] | None = None
    dataset: str = "auto"
    fast: bool = False
    seed: int = 0
    device: str = "cpu"
    out: str | None = None

    def __post_init__(self) -> None:
        from ..data import DATASETS

        if self.only is not None:  # an empty list is a mistake, not "everything" (None)
            names = tuple(self.only) if not isinstance(self.only, str) else (self.only,)
            if not names:
                allowed = f"must list one or more of {', '.join(DEMO_SECTIONS)}"
                raise ParameterError("only", allowed, self.only)
            for n in names:
                check_choice("only", n, tuple(DEMO_SECTIONS))
            object.__setattr__(self, "only", names)
        images = [n for n, i in DATASETS.items() if i.kind == "images" and n != "imagefolder"]
        check_choice("dataset", self.dataset, ("auto", *images))
        check_seed("seed", self.seed)
        object.__setattr__(self, "out", check_out(self.out))


def run(cfg: DemoStudy) -> Outcome:
    """Every section of ``cfg`` into one report (:func:`run_demo`); the outcome's rows are the
    sections' summary (failed first), its tables the first columns of each section's rows."""
    run, rows = run_demo(
        only=list(cfg.only) if cfg.only else None,
        out=cfg.out,
        dataset=cfg.dataset,
        device=cfg.device,
        seed=cfg.seed,
        fast=cfg.fast,
    )
    flat = [{"section": r["section"], **x} for r in rows for x in r["rows"]]
    summary = summary_rows(rows)
    path = run.finish(flat, sections=summary)
    # one readable table per section: the first seven columns of its first row
    tables = [(r["section"], r["rows"], list(r["rows"][0])[:7]) for r in rows if r["rows"]]
    notes = [
        textwrap.fill(
            f"note ({s['section']}): {s['note']}", 80, subsequent_indent="  ",
            break_on_hyphens=False,
        )
        for s in summary
        if s["note"]
    ]  # fmt: skip
    failed = [s for s in summary if s["status"] != "ok"]
    total = sum(s["cpu_s"] or 0.0 for s in summary)
    from ..sweep.labels import cell

    notes.append(f"{len(summary) - len(failed)}/{len(summary)} sections ok; {cell(total)} CPU s")
    shown = [{k: v for k, v in s.items() if k != "note"} for s in summary]
    return Outcome(run, path, shown, title="demo sections", tables=tables, notes=notes)
