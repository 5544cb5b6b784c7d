"""Pruning studies: accuracy vs sparsity per structure and method at equal epochs, per-layer
sparsity, compression in bits and the CPU latency of exported (physically smaller) models.

Trials run through the sweep pipeline (``Run.sweep``); :func:`prune_trial` is one
(structure, sparsity, method) point: build the model, run the method for ``epochs`` epochs via
:func:`noisyhw.compress.prune.prune`, evaluate, export when the structure allows it, time it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from torch import nn

from .. import data as D
from .. import models as M
from ..compress.prune import (
    HYPERPARAMETERS,
    METHODS,
    STRUCTURES,
    PruneSpec,
    count_params,
    export,
    prune_,
)
from ..data.datasets import ArrayDataset
from ..errors import ParameterError, check_choice, check_float, check_int
from ..sweep import Run, bar_plot
from ..train import TrainConfig, evaluate
from .config import Outcome, check_count, check_out
from .prune_report import (
    KNOBS,
    SUMMARY_COLUMNS,
    SWEEP_COLUMNS,
    paired_vs,
    point_key,
    report_paired,
    report_seeds,
    report_sweep,
    summarize_seeds,
)

__all__ = [
    "DEFAULT_LAM",
    "KNOBS",
    "PROXIMAL_LAM",
    "PruneStudy",
    "best_knobs",
    "demo_section",
    "final_trials",
    "measure_latency",
    "paired_vs",
    "prune_trial",
    "report_paired",
    "report_seeds",
    "report_sweep",
    "run",
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
        scores.setdefault(point_key(r), {}).setdefault(float(r[knob]), []).append(r["accuracy"])
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


# --------------------------------------------------------------------------- noisyhw prune sweep
#: models whose constructor takes ``width``
WIDTH_MODELS = ("small_cnn", "resnet20")
#: the grid field of each method with a tuned knob (see :data:`KNOBS`)
TUNE_FIELDS = {"reweighted": "tune_lam", "group_lasso": "tune_lam_group_lasso", "admm": "tune_rho"}


def _floats(name: str, values: Any) -> tuple[float, ...]:
    if isinstance(values, str) or not isinstance(values, Sequence) or not values:
        raise ParameterError(name, "must be a non-empty list of numbers", values)
    return tuple(check_float(name, v) for v in values)


def _names(name: str, values: Any, choices: Sequence[str]) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Sequence) or not values:
        raise ParameterError(name, f"must list one or more of {', '.join(choices)}", values)
    return tuple(check_choice(name, v, choices) for v in values)


@dataclass(frozen=True)
class PruneStudy:
    """``noisyhw prune sweep``: test accuracy vs sparsity for every structure x sparsity x method
    at equal epochs, over ``seeds`` seeds (``seed``, ``seed + 1``, ...), resumable.

    ``tune_lam`` / ``tune_lam_group_lasso`` / ``tune_rho``: grids of the reweighted /
    group-lasso ``lam`` and the ADMM ``rho``, each value tried on a validation split of
    ``n_val`` images held out from training (at the first seed) and the best kept for the test
    trials. ``lam`` None: :data:`DEFAULT_LAM` per structure (:data:`PROXIMAL_LAM` per method with
    ``update="proximal"``); ``lam_group_lasso`` None: ``lam``. ``width``: small_cnn/resnet20 only.
    Every field is checked on construction, every (structure, sparsity) too.
    """

    model: str = "small_cnn"
    dataset: str = "auto"
    structures: tuple[str, ...] = ("filter", "irregular")
    sparsities: tuple[float, ...] = (0.5, 0.75)
    methods: tuple[str, ...] = ("reweighted", "magnitude", "admm", "group_lasso")
    epochs: int = 4
    lr: float = 2e-3
    optimizer: str = "adam"
    momentum: float = 0.9
    scheduler: str | None = None
    batch_size: int = 128
    n_train: int | None = 4000
    n_test: int | None = 2000
    n_val: int = 0
    seeds: int = 1
    tune_lam: tuple[float, ...] | None = None
    tune_lam_group_lasso: tuple[float, ...] | None = None
    tune_rho: tuple[float, ...] | None = None
    lam: float | None = None
    lam_group_lasso: float | None = None
    update: str = "gradient"
    rho: float = 1e-2
    bits: int | None = None
    scope: str = "layer"
    width: int | None = None
    seed: int = 0
    workers: int = 1
    device: str = "cpu"
    out: str | None = None

    def __post_init__(self) -> None:
        from .classify import check_model, default_dataset

        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        put("structures", _names("structures", self.structures, STRUCTURES))
        put("methods", _names("methods", self.methods, METHODS))
        put("sparsities", _floats("sparsities", self.sparsities))
        TrainConfig(  # epochs, batch_size, lr, optimizer, momentum, scheduler
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            optimizer=self.optimizer,
            momentum=self.momentum,
            scheduler=self.scheduler,
            seed=self.seed,
        )
        check_choice("optimizer", self.optimizer, ("adam", "sgd"))
        check_count("n_train", self.n_train)
        check_count("n_test", self.n_test)
        check_float("rho", self.rho, 0.0, 1e6, lo_open=True)
        check_int("seeds", self.seeds, 1, 100)
        check_int("n_val", self.n_val, 0, 10**7)
        check_int("workers", self.workers, 1, 100_000)
        for method, name in TUNE_FIELDS.items():
            grid = getattr(self, name)
            if grid is None:
                continue
            # ADMM's rho must be > 0 (PruneSpec), checked here rather than inside a trial
            put(name, tuple(
                check_float(name, v, 0.0, 1e6, lo_open=method == "admm")
                for v in _floats(name, grid)
            ))  # fmt: skip
            if method not in self.methods:  # a grid for a method that does not run is ignored
                raise ParameterError(name, f"needs {method} in --methods", list(grid))
        if self.grids() and not self.n_val:
            raise ParameterError("n_val", "> 0 with --tune-* (knobs are picked on it)", self.n_val)
        check_model(self.model)
        for name in ("lam", "lam_group_lasso"):
            if getattr(self, name) is not None:  # nan used to fail only inside the trial
                check_float(name, getattr(self, name), 0.0, 1e6)
        fields = {"sparsity": "sparsities", "structure": "structures", "method": "methods"}
        for sp in self.sparsities:  # every combination, before any training
            for structure in self.structures:
                try:
                    PruneSpec(
                        structure, sp, self.methods[0], scope=self.scope, rho=self.rho,
                        bits=self.bits, lam=self.lam or 0.0, update=self.update,
                    )  # fmt: skip
                except ParameterError as exc:  # name this config's field
                    raise ParameterError(
                        fields.get(exc.name, exc.name), exc.allowed, exc.got
                    ) from None
        if self.width is not None:  # 0 was silently the default, <0 or mlp failed per trial
            check_int("width", self.width, 1, 1024)
            if self.model not in WIDTH_MODELS:
                raise ParameterError(
                    "width", f"applies to {' and '.join(WIDTH_MODELS)}", self.model
                )
        put("out", check_out(self.out))
        if self.dataset == "auto":
            put("dataset", default_dataset())

    def grids(self) -> dict[str, tuple[float, ...]]:
        """Method -> the grid of its tuned knob, for the methods given one."""
        return {m: getattr(self, f) for m, f in TUNE_FIELDS.items() if getattr(self, f) is not None}

    def context(self) -> dict[str, Any]:
        """The trials' shared context (:func:`trial_context`: loads the data)."""
        return trial_context(
            self.dataset,
            self.model,
            n_train=self.n_train,
            n_test=self.n_test,
            epochs=self.epochs,
            n_val=self.n_val,
            lr=self.lr,
            optimizer=self.optimizer,
            momentum=self.momentum,
            scheduler=self.scheduler,
            batch_size=self.batch_size,
            seed=self.seed,
            device=self.device,
            lam=self.lam,
            lam_group_lasso=self.lam_group_lasso,
            update=self.update,
            rho=self.rho,
            bits=self.bits,
            scope=self.scope,
            model_kwargs={"width": self.width} if self.width is not None else {},
        )


def run(cfg: PruneStudy) -> Outcome:
    """The sweep of ``cfg`` into its run folder (knobs tuned first in ``<out>/tune`` when a grid
    is given): plots, summary over seeds, paired differences against magnitude, results.json."""
    ctx = cfg.context()  # the data load before any folder exists
    config = asdict(cfg)
    run = Run(
        "prune sweep",
        config,
        out=cfg.out,
        seed=cfg.seed,
        title=f"noisyhw prune: {cfg.model} on {cfg.dataset}",
    )
    st, sp, ms, grids = cfg.structures, cfg.sparsities, cfg.methods, cfg.grids()
    knobs = {}
    tune_rows: list[dict[str, Any]] = []
    if grids:  # the knobs are picked on the validation split, at the first seed
        tune_run = Run("prune tune", config, out=run.dir / "tune", seed=cfg.seed)
        tune_rows = tune_run.sweep(
            prune_trial,
            tuning_trials(st, sp, ms, grids, cfg.seed),
            context=ctx,
            workers=cfg.workers,
            description="tuning trials",
        )
        tune_run.store.close()
        knobs = best_knobs(tune_rows)
    seeds = list(range(cfg.seed, cfg.seed + cfg.seeds))
    trials = final_trials(st, sp, ms, seeds, knobs)
    rows = run.sweep(
        prune_trial, trials, context=ctx, workers=cfg.workers, description="prune trials"
    )
    split = f"{len(ctx['train'])} training"
    if ctx["val"] is not None:
        split += f" (+ {len(ctx['val'])} validation)"
    sec = run.section(f"{cfg.model} on {cfg.dataset}: {cfg.epochs} epochs per trial")
    tuned = ", ".join(f"{m} {KNOBS[m]} in {list(v)}" for m, v in grids.items())
    sec.text(
        f"{split} / {len(ctx['test'])} test images; {cfg.optimizer} lr {cfg.lr:g}; every method "
        "gets the same epochs (first half: penalty or ramp, then hard prune and masked "
        "retraining)."
        + (f" Tuned on the validation split (seed {cfg.seed}): {tuned}" if grids else "")
    )
    summary = summarize_seeds(rows)
    paired = paired_vs(rows) if "magnitude" in ms else []
    if cfg.seeds > 1:
        report_seeds(run, sec, summary)
        if paired:
            report_paired(sec, paired)
    else:
        report_sweep(run, sec, rows)
    cols = SWEEP_COLUMNS
    full = [
        {c: r.get(c) for c in cols} | {k: v for k, v in r.items() if k not in cols} for r in rows
    ]
    path = run.finish(full, summary=summary, tuning=tune_rows, paired=paired)
    if cfg.seeds > 1:
        return Outcome(run, path, summary, SUMMARY_COLUMNS, "mean over seeds, 95% interval")
    return Outcome(run, path, full, cols)
