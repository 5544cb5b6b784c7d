"""Pruning studies: accuracy vs sparsity per structure and method at equal epochs, per-layer
sparsity, compression in bits and the CPU latency of exported (physically smaller) models.

Trials run through the sweep pipeline (``Run.sweep``); :func:`prune_trial` is one
(structure, sparsity, method) point: build the model, run the method for ``epochs`` epochs via
:func:`noisyhw.compress.prune.prune`, evaluate, export when the structure allows it, time it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import torch
from torch import nn

from .. import data as D
from .. import models as M
from ..compress.prune import HYPERPARAMETERS, PruneSpec, count_params, export, prune_
from ..data.datasets import ArrayDataset
from ..errors import ParameterError, check_int
from ..stats import mean_ci
from ..sweep import Run, Section, bar_plot, line_plot
from ..train import TrainConfig, evaluate

__all__ = [
    "DEFAULT_LAM",
    "KNOBS",
    "PROXIMAL_LAM",
    "best_knobs",
    "demo_section",
    "final_trials",
    "measure_latency",
    "paired_vs",
    "prune_trial",
    "report_paired",
    "report_seeds",
    "report_sweep",
    "summarize_seeds",
    "trial_context",
    "tuning_trials",
]

#: the reweighted / group-lasso penalty per structure used by default (one lambda per run)
DEFAULT_LAM = {
    "irregular": 1e-6,
    "filter": 1e-3,
    "channel": 1e-3,
    "column": 1e-4,
    "kernel": 1e-4,
    "pattern": 1e-4,
    "block": 1e-4,
}


#: proximal updates (``update="proximal"``): lam per method, measured on filter sparsity with
#: Adam lr 2e-3 (other structures use the same values untuned)
PROXIMAL_LAM = {"reweighted": 4.0, "group_lasso": 0.05}


#: the one knob tuned per method on the validation split (magnitude and agp have none)
KNOBS = {"reweighted": "lam", "group_lasso": "lam", "admm": "rho"}

#: columns of a pruning sweep's table, in display order
SWEEP_COLUMNS = [
    "structure",
    "method",
    "sparsity",
    "achieved_sparsity",
    "accuracy",
    "pruned_energy",
    "hyperparameters",
    "compression",
    "speedup",
]


def measure_latency(
    model: nn.Module, input_shape: Sequence[int], batch: int = 64, repeats: int = 20
) -> float:
    """Median CPU wall time (ms) of one eval-mode forward pass on a (batch, *input_shape) input."""
    model = model.eval()
    x = torch.randn(batch, *input_shape)
    times = []
    with torch.inference_mode():
        for _ in range(3):
            model(x)
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
    times.sort()
    return 1e3 * times[len(times) // 2]


def trial_context(
    dataset: str,
    model: str,
    *,
    n_train: int | None,
    n_test: int | None,
    epochs: int,
    n_val: int = 0,
    lr: float = 2e-3,
    optimizer: str = "adam",
    momentum: float = 0.9,
    scheduler: str | None = None,
    batch_size: int = 128,
    seed: int = 0,
    device: str = "cpu",
    lam: float | None = None,
    lam_group_lasso: float | None = None,
    update: str = "gradient",
    rho: float = 1e-2,
    bits: int | None = None,
    scope: str = "layer",
    model_kwargs: dict[str, Any] | None = None,
    latency: bool = True,
) -> dict[str, Any]:
    """Everything the trials share (datasets loaded once, passed to workers as context).

    ``n_val`` > 0 holds out that many further training images as the validation split that
    tuning trials (``stage="tune"``) are scored on; they never train on it, and test images are
    never used for choosing a knob. The data subsets depend on ``seed`` only, not on the
    per-trial seeds.
    """
    check_int("n_val", n_val, 0)
    full = D.load(dataset, "train")
    if n_val:
        pool = full.subset(None if n_train is None else n_train + n_val, seed=seed)
        if n_val >= len(pool):
            raise ParameterError("--n-val", f"below the {len(pool)} training images", n_val)
        name = pool.name
        train = ArrayDataset(pool.x[n_val:], pool.y[n_val:], pool.classes, f"{name}:train")
        val = ArrayDataset(pool.x[:n_val], pool.y[:n_val], pool.classes, f"{name}:val")
    else:
        train, val = full.subset(n_train, seed=seed), None
    test = D.load(dataset, "test").subset(n_test, seed=seed + 1)
    return {
        "train": train,
        "val": val,
        "test": test,
        "model": model,
        "model_kwargs": dict(model_kwargs or {}),
        "config": TrainConfig(
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            optimizer=optimizer,
            momentum=momentum,
            scheduler=scheduler,
            seed=seed,
            device=device,
        ),
        "lam": lam,
        "lam_group_lasso": lam_group_lasso,
        "update": update,
        "rho": rho,
        "bits": bits,
        "scope": scope,
        "latency": latency,
    }


def prune_trial(params: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
    """One point: ``params`` has structure, sparsity, method and optionally ``seed`` (model
    initialisation and batch order; default the context's), ``lam`` / ``rho`` (override the
    context's) and ``stage`` (``"tune"``: scored on the validation split, else on the test set).
    Returns accuracy and sizes."""
    torch.set_num_threads(1)
    from ..progress import set_quiet

    set_quiet(True)
    cfg: TrainConfig = ctx["config"]
    if "seed" in params:
        cfg = replace(cfg, seed=int(params["seed"]))
    train = ctx["train"]
    test = ctx["val"] if params.get("stage") == "tune" else ctx["test"]
    if test is None:
        raise ParameterError("--n-val", "> 0 for tuning trials (they score on a validation split)")
    torch.manual_seed(cfg.seed)
    model = M.create(ctx["model"], train.input_shape, train.num_classes, **ctx["model_kwargs"])
    structure, method = params["structure"], params["method"]
    update = ctx.get("update", "gradient")
    lam = ctx["lam"]
    if method == "group_lasso" and ctx.get("lam_group_lasso") is not None:
        lam = ctx["lam_group_lasso"]
    if lam is None:
        lam = PROXIMAL_LAM.get(method, 0.0) if update == "proximal" else DEFAULT_LAM[structure]
    lam = float(params.get("lam", lam))
    spec = PruneSpec(
        structure,
        float(params["sparsity"]),
        method,
        scope=ctx["scope"],
        lam=lam,
        rho=float(params.get("rho", ctx["rho"])),
        bits=ctx["bits"],
        update=update,
    )
    t0 = time.perf_counter()
    res = prune_(model, spec, train, None, cfg, description=f"{method} {structure}")
    train_s = time.perf_counter() - t0
    ev = evaluate(model, test, cfg.device)
    row: dict[str, Any] = {
        "accuracy": ev["accuracy"],
        "achieved_sparsity": res.sparsity,
        "pruned_energy": res.callback.pruned_energy if res.callback else None,
        "compression": res.compression["ratio"],
        "total_bits": res.compression["total_bits"],
        "hyperparameters": len(HYPERPARAMETERS[method]),
        "train_s": train_s,
        "layers": [r["layer"] for r in res.layers],
        "layer_sparsity": [r["sparsity"] for r in res.layers],
    }
    if structure in ("filter", "channel") and ctx["latency"]:
        model.cpu()
        small = export(model)
        shape = train.input_shape
        row["params_dense"] = count_params(model)
        row["params_exported"] = count_params(small)
        row["latency_dense_ms"] = measure_latency(model, shape)
        row["latency_exported_ms"] = measure_latency(small, shape)
        row["speedup"] = row["latency_dense_ms"] / row["latency_exported_ms"]
    return row


def _cell(r: Mapping[str, Any]) -> tuple[str, float, str]:
    return (r["structure"], float(r["sparsity"]), r["method"])


def tuning_trials(
    structures: Sequence[str],
    sparsities: Sequence[float],
    methods: Sequence[str],
    grids: Mapping[str, Sequence[float]],
    seed: int,
) -> list[dict[str, Any]]:
    """One validation-split trial per (structure, sparsity, method, grid value) for every method
    with a grid in ``grids`` (method -> values of its :data:`KNOBS` knob), at ``seed``."""
    out = []
    for structure in structures:
        for sparsity in sparsities:
            for method in methods:
                for value in grids.get(method, ()):
                    out.append(
                        {
                            "structure": structure,
                            "sparsity": sparsity,
                            "method": method,
                            KNOBS[method]: float(value),
                            "seed": seed,
                            "stage": "tune",
                        }
                    )
    return out


def best_knobs(rows: Sequence[Mapping[str, Any]]) -> dict[tuple[str, float, str], dict[str, float]]:
    """The knob value with the highest validation accuracy per (structure, sparsity, method)
    (mean over the tuning seeds; a tie goes to the smaller value)."""
    scores: dict[tuple[str, float, str], dict[float, list[float]]] = {}
    for r in rows:
        knob = KNOBS[r["method"]]
        scores.setdefault(_cell(r), {}).setdefault(float(r[knob]), []).append(r["accuracy"])
    best = {}
    for cell, by_value in scores.items():
        value = max(sorted(by_value), key=lambda v: sum(by_value[v]) / len(by_value[v]))
        best[cell] = {KNOBS[cell[2]]: value}
    return best


def final_trials(
    structures: Sequence[str],
    sparsities: Sequence[float],
    methods: Sequence[str],
    seeds: Sequence[int],
    knobs: Mapping[tuple[str, float, str], Mapping[str, float]] | None = None,
) -> list[dict[str, Any]]:
    """Test-set trials: every (structure, sparsity, method) at every seed, with the tuned knob
    from ``knobs`` where there is one."""
    knobs = knobs or {}
    out = []
    for structure in structures:
        for sparsity in sparsities:
            for method in methods:
                tuned = dict(knobs.get((structure, float(sparsity), method), {}))
                for seed in seeds:
                    out.append(
                        {
                            "structure": structure,
                            "sparsity": sparsity,
                            "method": method,
                            **tuned,
                            "seed": seed,
                            "stage": "test",
                        }
                    )
    return out


def summarize_seeds(
    rows: Sequence[Mapping[str, Any]], confidence: float = 0.95
) -> list[dict[str, Any]]:
    """Per (structure, sparsity, method): the seeds, mean test accuracy with its Student-t
    ``confidence`` interval (``acc_lo`` / ``acc_hi``), mean pruned energy and the tuned knob."""
    groups: dict[tuple[str, float, str], list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault(_cell(r), []).append(r)
    out = []
    for (structure, sparsity, method), grp in groups.items():
        mean, lo, hi = mean_ci([g["accuracy"] for g in grp], confidence)
        energy = [g["pruned_energy"] for g in grp if g.get("pruned_energy") is not None]
        knob = KNOBS.get(method)
        out.append(
            {
                "structure": structure,
                "sparsity": sparsity,
                "method": method,
                "seeds": len(grp),
                "accuracy": mean,
                "acc_lo": lo,
                "acc_hi": hi,
                "pruned_energy": sum(energy) / len(energy) if energy else None,
                "knob": f"{knob}={grp[0][knob]:g}" if knob and knob in grp[0] else "",
            }
        )
    return out


def paired_vs(
    rows: Sequence[Mapping[str, Any]], baseline: str = "magnitude", confidence: float = 0.95
) -> list[dict[str, Any]]:
    """Per (structure, sparsity, method other than ``baseline``): test accuracy minus the
    baseline's at the same seed (same initialisation, batch order and data), as mean and
    Student-t ``confidence`` interval over the seeds both have."""
    acc = {(*_cell(r), r.get("seed")): r["accuracy"] for r in rows}
    out = []
    for structure, sparsity, method in dict.fromkeys(_cell(r) for r in rows):
        if method == baseline:
            continue
        seeds = [
            s
            for (st, sp, m, s) in acc
            if (st, sp, m) == (structure, sparsity, method)
            and (structure, sparsity, baseline, s) in acc
        ]
        if not seeds:
            continue
        diffs = [
            acc[(structure, sparsity, method, s)] - acc[(structure, sparsity, baseline, s)]
            for s in seeds
        ]
        mean, lo, hi = mean_ci(diffs, confidence)
        out.append(
            {
                "structure": structure,
                "sparsity": sparsity,
                "method": method,
                "baseline": baseline,
                "seeds": len(seeds),
                "diff": mean,
                "diff_lo": lo,
                "diff_hi": hi,
            }
        )
    return out


#: columns of the seed-summary table
SUMMARY_COLUMNS = [
    "structure",
    "sparsity",
    "method",
    "knob",
    "seeds",
    "accuracy",
    "acc_lo",
    "acc_hi",
    "pruned_energy",
]


def report_seeds(
    run: Run, section: Section, summary: list[dict[str, Any]], prefix: str = "prune_"
) -> None:
    """Mean test accuracy vs sparsity with its interval band, one curve per method, and the
    summary table."""
    for structure in dict.fromkeys(r["structure"] for r in summary):
        sub = [r for r in summary if r["structure"] == structure]
        png = line_plot(
            sub,
            "sparsity",
            "accuracy",
            run.plot_path(f"{prefix}acc_{structure}.png"),
            hue="method",
            band=("acc_lo", "acc_hi"),
            title=f"{structure} sparsity: mean test accuracy over seeds (95% interval)",
            xlabel="designated sparsity",
            ylabel="test accuracy",
        )
        section.image(png, f"accuracy vs {structure} sparsity, mean over seeds with 95% band")
    section.table([{c: r.get(c) for c in SUMMARY_COLUMNS} for r in summary], SUMMARY_COLUMNS)


def report_paired(section: Section, paired: list[dict[str, Any]]) -> None:
    """The paired differences of :func:`paired_vs` as a table."""
    cols = ["structure", "sparsity", "method", "baseline", "seeds", "diff", "diff_lo", "diff_hi"]
    section.table(
        paired, cols, title="accuracy minus the baseline's at the same seed (95% interval)"
    )


def report_sweep(
    run: Run, section: Section, rows: list[dict[str, Any]], prefix: str = "prune_"
) -> None:
    """Accuracy vs sparsity per structure (one curve per method), per-layer sparsity bars of
    the sparsest reweighted trial, and the results table."""
    for structure in dict.fromkeys(r["structure"] for r in rows):
        sub = [r for r in rows if r["structure"] == structure]
        png = line_plot(
            sub,
            "sparsity",
            "accuracy",
            run.plot_path(f"{prefix}acc_{structure}.png"),
            hue="method",
            title=f"{structure} sparsity: test accuracy after equal epochs",
            xlabel="designated sparsity",
            ylabel="test accuracy",
        )
        section.image(png, f"accuracy vs {structure} sparsity, one curve per method")
    # the layers' share differs only under a global budget; otherwise show the sparsest trial
    pick = max(rows, key=lambda r: (r["method"] == "reweighted", r["sparsity"]))
    labels = [f"{n.removesuffix('.weight')}" for n in pick["layers"]]
    png = bar_plot(
        labels,
        pick["layer_sparsity"],
        run.plot_path(f"{prefix}layers.png"),
        title=f"per-layer sparsity: {pick['method']} {pick['structure']} {pick['sparsity']}",
        ylabel="fraction of zero weights",
    )
    section.image(png, "achieved sparsity per layer (counted from the weights)")
    cols = SWEEP_COLUMNS
    section.table([{c: r.get(c) for c in cols} for r in rows], cols)


def demo_section(ctx: Any) -> list[dict[str, Any]]:
    """~30 s: filter pruning at 50% with reweighted / magnitude / ADMM / group lasso at equal
    epochs, 90% irregular reweighted vs magnitude, and the exported model's CPU latency."""
    fashion = ctx.dataset in ("fashion-mnist", "mnist")
    n_train = (800 if ctx.fast else 1500) if fashion else None
    epochs = 2 if ctx.fast else 3
    tc = trial_context(
        ctx.dataset,
        "small_cnn",
        n_train=n_train,
        n_test=1000 if fashion else None,
        epochs=epochs,
        seed=ctx.seed,
        device=ctx.device,
        model_kwargs={"width": 16},
    )
    trials = [
        {"structure": "filter", "sparsity": 0.5, "method": m}
        for m in ("reweighted", "magnitude", "admm", "group_lasso")
    ]
    trials += [
        {"structure": "irregular", "sparsity": 0.9, "method": m}
        for m in ("reweighted", "magnitude")
    ]
    rows = []
    for i, t in enumerate(trials):
        tc["latency"] = i == 0  # time the exported model once
        rows.append({**t, **prune_trial(t, tc)})
    sec = ctx.section
    sec.title = f"Pruning: small CNN on {ctx.dataset}"
    if hasattr(ctx, "image_fallback"):
        ctx.image_fallback()
    filt = [r for r in rows if r["structure"] == "filter"]
    best = max(filt, key=lambda r: r["accuracy"])
    sp = filt[0]
    sec.text(
        f"Every method ran {epochs} epochs on {len(tc['train'])} images (half shaping the weights, "
        f"half masked retraining after the hard prune). 50% filter sparsity: best "
        f"{best['method']} at {best['accuracy']:.3f}; hyperparameters each needed: "
        + ", ".join(f"{r['method']} {r['hyperparameters']}" for r in filt)
        + f". The exported filter-pruned model has {sp['params_exported']} instead of "
        f"{sp['params_dense']} parameters and runs a batch of 64 in "
        f"{sp['latency_exported_ms']:.2f} ms vs {sp['latency_dense_ms']:.2f} ms dense "
        f"({sp['speedup']:.2f}x)."
    )
    cols = SWEEP_COLUMNS
    sec.table([{c: r.get(c) for c in cols} for r in rows], cols)
    png = bar_plot(
        [f"{r['method']}\n{r['structure']}" for r in rows],
        [r["accuracy"] for r in rows],
        ctx.path("prune_methods.png"),
        title="test accuracy at equal epochs",
        ylabel="test accuracy",
    )
    sec.image(png, "filter 50% (4 methods) and irregular 90% (2 methods)")
    pick = rows[0]
    png = bar_plot(
        [n.removesuffix(".weight") for n in pick["layers"]],
        pick["layer_sparsity"],
        ctx.path("prune_layers.png"),
        title="per-layer sparsity, reweighted filter 50%",
        ylabel="fraction of zero weights",
    )
    sec.image(png, "achieved sparsity per pruned layer")
    return [{c: r.get(c) for c in cols} for r in rows]
