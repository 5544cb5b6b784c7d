"""The whole-stack study: one model through one or more hardware profiles, one report.

``StackStudy`` is the validated configuration (what ``noisyhw stack run`` / ``sweep`` build);
``run(cfg)`` trains (or loads) the model, prepares every profile (:func:`noisyhw.stack.prepare`),
runs ``trials`` draws per profile through the sweep pipeline (one trial = profile x trial seed;
resumable, ``--workers``, ``--executor ray``) and writes the report: accuracy per stage with
95% intervals (a waterfall), the Pareto front of accuracy vs stored bits per parameter vs energy
per inference across profiles, and each profile as a table. ``demo_section`` is the demo's part.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ParameterError, check_choice, check_int
from ..stack import PRESETS, Profile, StackResult, preset
from ..stack.evaluate import ALL_STAGES, TRIALS_MAX, prepare, stack_trial, summarize
from ..sweep import Run, Section, line_plot

__all__ = ["StackStudy", "demo_section", "load_profiles", "pareto", "report", "run"]

#: config field -> the CLI option that sets it (error messages name what the user typed)
OPTIONS = {"profiles": "--profile", "model_file": "--model-file", "n_train": "--n-train"}


def load_profiles(spec: str | list[str] | tuple[str, ...]) -> list[Profile]:
    """Profiles from preset names and/or TOML files: a comma list, a list, or a folder of
    ``*.toml`` files. Names must be distinct."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    items = [s.strip() for s in items if s and s.strip()]
    if not items:
        raise ParameterError("profiles", "must name one or more presets or TOML files", spec)
    out: list[Profile] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            files = sorted(path.glob("*.toml"))
            if not files:
                raise ParameterError("profiles", "a folder must hold *.toml profiles", item)
            out += [Profile.from_toml(f) for f in files]
        elif item.endswith(".toml") or path.is_file():
            out.append(Profile.from_toml(path))
        else:
            out.append(preset(item))
    names = [p.name for p in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ParameterError("profiles", "must have distinct names", ", ".join(dup))
    return out


@dataclass(frozen=True)
class StackStudy:
    """One study: ``profiles`` (preset names / TOML paths, resolved and checked here) applied to
    a model loaded from ``model_file`` or trained here (``model`` on ``dataset`` for
    ``epochs``), ``trials`` draws per profile. Runtime keys (device, workers, executor,
    address, out) are not part of the run's identity."""

    profiles: tuple[str, ...] = ("float",)
    model_file: str | None = None
    model: str = "mlp"
    dataset: str = "digits"
    epochs: int = 15
    n_train: int | None = None
    n_test: int | None = None
    trials: int = 20
    seed: int = 0
    device: str = "cpu"
    workers: int = 1
    executor: str = "local"
    address: str | None = None
    out: str | None = None
    resolved: tuple[Profile, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "resolved", tuple(load_profiles(list(self.profiles))))
        check_int("trials", self.trials, 2, TRIALS_MAX)  # an interval needs two
        check_int("epochs", self.epochs, 1, 10_000)
        check_int("seed", self.seed, 0)
        for name in ("n_train", "n_test"):
            if getattr(self, name) is not None:
                check_int(name, getattr(self, name), 1)
        check_choice("executor", self.executor, ("local", "ray"))
        check_int("workers", self.workers, 1, 100_000)
        if self.model_file is not None and not Path(self.model_file).is_file():
            raise ParameterError(
                "model_file", "must be a model.pt from `noisyhw train`", self.model_file
            )
        from ..data.registry import DATASETS

        check_choice("dataset", self.dataset, DATASETS)
        if DATASETS[self.dataset].kind == "text":
            raise ParameterError(
                "dataset", "must be an image dataset (not a text corpus)", self.dataset
            )

    def identity(self) -> dict[str, Any]:
        """The run's identity: the profiles' content (not their file names) and the model."""
        d = {k: v for k, v in asdict(self).items() if k not in ("resolved", "profiles")}
        d["profiles"] = [p.asdict() for p in self.resolved]
        return d


def pareto(results: list[StackResult]) -> list[bool]:
    """Which profiles are on the Pareto front of (final accuracy: higher, stored bits per
    parameter: lower, energy per inference: lower). Profile A dominates B when it is no worse
    in each and better in one; energies compare only when both are known (otherwise the two
    are compared on accuracy and bits alone)."""
    pts = [(r.final.accuracy, r.final.bits_per_param, r.final.energy_j) for r in results]

    def dominates(a: tuple, b: tuple) -> bool:
        keys = [(a[0], b[0], 1), (a[1], b[1], -1)]
        if a[2] is not None and b[2] is not None:
            keys.append((a[2], b[2], -1))
        no_worse = all((x - y) * s >= 0 for x, y, s in keys)
        better = any((x - y) * s > 0 for x, y, s in keys)
        return no_worse and better

    return [not any(dominates(q, p) for q in pts if q is not p) for p in pts]


def _load_model(cfg: StackStudy, folder: Path | None) -> tuple[Any, Any, Any, dict[str, Any]]:
    """(model, test set, calibration set, facts)."""
    from .. import data as D
    from .storage import Study, prepare_model

    study = Study(
        cfg.dataset, cfg.model, cfg.epochs, lr=2e-3, n_train=cfg.n_train, n_test=cfg.n_test
    )
    model, test, facts = prepare_model(
        study,
        folder,
        seed=cfg.seed,
        device=cfg.device,
        model_file=Path(cfg.model_file) if cfg.model_file else None,
    )
    calib = D.load(cfg.dataset, "train").subset(cfg.n_train, seed=cfg.seed)
    return model, test, calib, facts


def run(
    cfg: StackStudy, argv: list[str] | None = None
) -> tuple[Run, list[StackResult], dict[str, Any]]:
    """Train/load, prepare each profile, run the trials (resumable), write the report; returns
    the run (call ``finish`` on it), one :class:`StackResult` per profile and the model facts."""
    from ..sweep import make_executor

    title = "Whole stack: " + ", ".join(p.name for p in cfg.resolved)
    run_ = Run(
        "stack sweep" if len(cfg.resolved) > 1 else "stack run",
        cfg.identity() | {"device": cfg.device, "workers": cfg.workers, "executor": cfg.executor},
        out=cfg.out,
        seed=cfg.seed,
        argv=argv,
        title=title,
        options=OPTIONS,
    )
    model, test, calib, facts = _load_model(cfg, run_.dir)
    prepared = {
        p.name: prepare(
            model, test, p, calib_data=calib, train_data=calib, seed=cfg.seed, device=cfg.device
        )
        for p in cfg.resolved
    }
    trials = [
        {"profile": name, "trial": t}
        for name, prep in prepared.items()
        if prep.start is not None
        for t in range(cfg.trials)
    ]
    rows: list[dict[str, Any]] = []
    if trials:
        executor = make_executor(cfg.executor, workers=cfg.workers, address=cfg.address)
        rows = run_.sweep(
            stack_trial,
            trials,
            context={"prepared": prepared, "test": test, "seed": cfg.seed},
            executor=executor,
            description="stack",
        )
    results = [
        summarize(prep, [r for r in rows if r["profile"] == name])
        for name, prep in prepared.items()
    ]
    sec = run_.section("One model through the imperfect-hardware stack")
    report(sec, run_.dir, results, facts, cfg.trials)
    return run_, results, facts


def pareto_plot(
    final: list[dict[str, Any]], x: str, path: Path, *, title: str, logx: bool = False
) -> Path:
    """One marker per profile at its true ``x`` with its 95% accuracy interval, labelled with
    its energy per inference; the profiles on the Pareto front joined by a dashed line."""
    from ..sweep.labels import header
    from ..sweep.plots import _pyplot, _save, series_style

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8.0, 5.0))
    for i, r in enumerate(final):
        style = series_style(i)
        lo, hi = r["accuracy_low"], r["accuracy_high"]
        ax.errorbar(
            [r[x]],
            [r["accuracy"]],
            yerr=[[r["accuracy"] - lo], [hi - r["accuracy"]]],
            color=style["color"],
            marker=style["marker"],
            ms=6,
            capsize=3,
            ls="none",
            label=r["profile"] + (" (front)" if r["pareto"] else ""),
        )
        energy = "no energy model" if r["energy_j"] is None else f"{r['energy_j'] * 1e9:.3g} nJ"
        ax.annotate(
            energy, (r[x], r["accuracy"]), textcoords="offset points", xytext=(6, 4), fontsize=8
        )
    front = sorted((r for r in final if r["pareto"]), key=lambda r: r[x])
    if len(front) > 1:
        ax.plot([r[x] for r in front], [r["accuracy"] for r in front], "k--", lw=0.8, alpha=0.6)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(header(x))
    ax.set_ylabel("accuracy (95% interval over trials)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return _save(fig, path)


def result_rows(results: list[StackResult]) -> list[dict[str, Any]]:
    """Every stage of every profile, one row each: profile by profile, stages in stack order."""
    return [r for res in results for r in res.rows()]


def report(
    sec: Section,
    folder: Path,
    results: list[StackResult],
    facts: dict[str, Any],
    trials: int,
    prefix: str = "",
) -> Section:
    """The waterfall, the Pareto front and the profile tables into ``sec`` (plots in ``folder``)."""
    sec.text(
        f"Model: {facts.get('model')} on {facts.get('dataset')} ({facts.get('params', 0):,} "
        f"parameters, {facts.get('source', '')}); clean accuracy {facts.get('clean_accuracy', math.nan):.4f} "
        f"on {facts.get('n_test')} test images. Each stochastic stage (programming error, stored-bit "
        f"flips, compute noise) is redrawn in each of {trials} trials with per-trial seeds shared by "
        "all profiles; accuracy is the mean with its 95% Student-t interval over trials (a stage "
        "with nothing random is measured once). Stored bits per parameter: the stage's weight "
        "memory divided by the float model's parameter count; energy per inference: the NVM "
        "crossbar model (crossbar layers only), times votes."
    )
    rows = result_rows(results)
    png = line_plot(  # stages in stack order: the categorical axis follows first appearance
        sorted(rows, key=lambda r: ALL_STAGES.index(r["stage"])),
        "stage",
        "accuracy",
        Path(folder) / (f"{prefix}stack_waterfall.png"),
        hue="profile",
        band=("accuracy_low", "accuracy_high"),
        title="Accuracy after each stage (95% interval over trials)",
        xlabel="stage (cumulative)",
    )
    sec.image(png, "waterfall: accuracy after each stage")
    front = pareto(results)
    final = [
        {
            "profile": r.profile.name,
            "accuracy": r.final.accuracy,
            "accuracy_low": r.final.low,
            "accuracy_high": r.final.high,
            "bits_per_param": r.final.bits_per_param,
            "cells_per_param": r.final.cells_per_param,
            "energy_j": r.final.energy_j,
            "pareto": on,
        }
        for r, on in zip(results, front, strict=True)
    ]
    png = pareto_plot(
        final,
        "bits_per_param",
        Path(folder) / f"{prefix}stack_pareto_bits.png",
        title="Deployed accuracy vs stored bits per parameter (labels: energy per inference)",
    )
    sec.image(png, "accuracy vs stored bits per parameter; the Pareto front is joined")
    with_energy = [r for r in final if r["energy_j"] is not None]
    if with_energy:
        png = pareto_plot(
            with_energy,
            "energy_j",
            Path(folder) / f"{prefix}stack_pareto_energy.png",
            title="Deployed accuracy vs energy per inference (crossbar profiles)",
            logx=True,
        )
        sec.image(png, "accuracy vs energy per inference")
    sec.table(
        final,
        [
            "profile",
            "accuracy",
            "accuracy_low",
            "accuracy_high",
            "bits_per_param",
            "cells_per_param",
            "energy_j",
            "pareto",
        ],
        title="Pareto front (accuracy up, bits and energy down; energy compared where both known)",
    )
    sec.table(rows, [c for c in rows[0] if c != "energy_note"], title="Every stage")
    for res in results:
        table = [{"setting": "source", "value": res.profile.source}] + [
            {"setting": f"{stage}.{k}", "value": v}
            for stage, values in res.profile.asdict().items()
            if isinstance(values, dict)
            for k, v in values.items()
        ]
        sec.table(table, ["setting", "value"], title=f"Profile {res.profile.name}")
    notes = sorted({r["energy_note"] for r in rows if r["energy_note"]})
    if notes:
        sec.text("Energy notes: " + "; ".join(notes) + ".")
    return sec


# --------------------------------------------------------------------------- demo
def demo_section(ctx: Any) -> list[dict[str, Any]]:
    """MLP on digits through three presets, a few trials each (a few seconds)."""
    from .. import data as D
    from ..stack import evaluate
    from .storage import STUDIES, prepare_model

    study = STUDIES["mlp-digits"]
    model, test, facts = prepare_model(study, None, seed=ctx.seed, device=ctx.device)
    calib = D.load(study.dataset, "train")
    trials = 3 if ctx.fast else 5
    names = ["float", "reram-4bit-worn-tlc", "sram-8bit-lowvolt"]
    results = [
        evaluate(
            model,
            test,
            PRESETS[n],
            trials=trials,
            calib_data=calib,
            seed=ctx.seed,
            device=ctx.device,
        )
        for n in names
    ]
    ctx.section.title = "One model through the whole stack (MLP on digits, three presets)"
    report(ctx.section, Path(ctx.run.dir), results, facts, trials, prefix="stack_demo_")
    return [
        {
            "profile": r.profile.name,
            "accuracy": round(r.final.accuracy, 4),
            "ci95": f"[{r.final.low:.3f}, {r.final.high:.3f}]",
            "bits_per_param": round(r.final.bits_per_param, 2),
            "energy_nj": None if r.final.energy_j is None else round(r.final.energy_j * 1e9, 3),
        }
        for r in results
    ]
