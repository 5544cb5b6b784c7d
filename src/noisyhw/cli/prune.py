"""``noisyhw prune ...``: pruning sweeps (structure x sparsity x method) with plots."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import BATCH_MAX, EPOCHS_MAX, ParameterError, check_choice, check_float, check_int
from .common import (
    BatchSizeOpt,
    DeviceOpt,
    FormatOpt,
    LrOpt,
    OutOpt,
    QuietOpt,
    SeedOpt,
    WorkersOpt,
    apply_quiet,
    check_counts,
    check_model,
    dataset_name,
    echo_paths,
    parse_floats,
    parse_strs,
    print_rows,
    resolve_device,
    tracked,
)

#: models whose constructor takes ``width`` (--width)
WIDTH_MODELS = ("small_cnn", "resnet20")

app = typer.Typer(help="Reweighted / magnitude / ADMM / group-lasso pruning of any structure.")


@app.command("sweep")
@tracked
def sweep(
    model: Annotated[
        str, typer.Option("--model", help="small_cnn, resnet20, lenet5, mlp, ...")
    ] = "small_cnn",
    dataset: Annotated[
        str, typer.Option("--dataset", help="fashion-mnist, mnist, digits, cifar10.")
    ] = "auto",
    structures: Annotated[
        str,
        typer.Option(
            "--structures", help="Comma list: irregular,filter,channel,column,kernel,pattern,block."
        ),
    ] = "filter,irregular",
    sparsities: Annotated[
        str, typer.Option("--sparsities", help="Comma list in [0, 1).")
    ] = "0.5,0.75",
    methods: Annotated[
        str,
        typer.Option("--methods", help="Comma list: reweighted,magnitude,agp,group_lasso,admm."),
    ] = "reweighted,magnitude,admm,group_lasso",
    epochs: Annotated[
        int, typer.Option("--epochs", help="Epochs per trial (all methods alike).")
    ] = 4,
    lr: LrOpt = 2e-3,
    optimizer: Annotated[
        str, typer.Option("--optimizer", help="adam or sgd (with --momentum, as the paper).")
    ] = "adam",
    momentum: Annotated[float, typer.Option("--momentum", help="SGD momentum.")] = 0.9,
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="cosine or step (default: constant lr).")
    ] = None,
    batch_size: BatchSizeOpt = 128,
    n_train: Annotated[int | None, typer.Option("--n-train", help="Training subset size.")] = 4000,
    n_test: Annotated[int | None, typer.Option("--n-test", help="Test subset size.")] = 2000,
    n_val: Annotated[
        int,
        typer.Option(
            "--n-val", help="Validation images held out from training (needed by --tune-*)."
        ),
    ] = 0,
    seeds: Annotated[
        int, typer.Option("--seeds", help="Seeds per point (--seed, --seed+1, ...): mean, 95% CI.")
    ] = 1,
    tune_lam: Annotated[
        str | None,
        typer.Option("--tune-lam", help="Reweighted lam grid, picked on the validation split."),
    ] = None,
    tune_lam_group_lasso: Annotated[
        str | None,
        typer.Option("--tune-lam-group-lasso", help="Group-lasso lam grid (validation split)."),
    ] = None,
    tune_rho: Annotated[
        str | None, typer.Option("--tune-rho", help="ADMM rho grid (validation split).")
    ] = None,
    lam: Annotated[
        float | None,
        typer.Option("--lam", help="Penalty of reweighted/group lasso (default per structure)."),
    ] = None,
    lam_group_lasso: Annotated[
        float | None,
        typer.Option("--lam-group-lasso", help="Group-lasso penalty (default: --lam)."),
    ] = None,
    update: Annotated[
        str,
        typer.Option("--update", help="gradient (penalty in the loss) or proximal (decoupled)."),
    ] = "gradient",
    rho: Annotated[float, typer.Option("--rho", help="ADMM rho.")] = 1e-2,
    bits: Annotated[
        int | None, typer.Option("--bits", help="QAT of survivors at this many bits.")
    ] = None,
    scope: Annotated[str, typer.Option("--scope", help="layer or global.")] = "layer",
    width: Annotated[
        int | None, typer.Option("--width", help="Model width (small_cnn/resnet20).")
    ] = None,
    seed: SeedOpt = 0,
    workers: WorkersOpt = 1,
    device: DeviceOpt = "cpu",
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Accuracy vs sparsity for every structure x method at equal epochs (resumable)."""
    from ..compress.prune import METHODS, STRUCTURES, PruneSpec
    from ..experiments import prune as P
    from ..sweep import Run

    apply_quiet(quiet)
    st = parse_strs("--structures", structures, STRUCTURES)
    ms = parse_strs("--methods", methods, METHODS)
    sp = parse_floats("--sparsities", sparsities)
    check_int("--epochs", epochs, 1, EPOCHS_MAX)
    check_int("--batch-size", batch_size, 1, BATCH_MAX)
    check_float("--lr", lr, 0.0, 100.0, lo_open=True)
    check_counts(("--n-train", n_train), ("--n-test", n_test))
    check_float("--rho", rho, 0.0, 1e6, lo_open=True)
    check_int("--seeds", seeds, 1, 100)
    check_int("--n-val", n_val, 0, 10**7)
    check_choice("--optimizer", optimizer, ("adam", "sgd"))
    check_choice("--scheduler", scheduler, (None, "cosine", "step"))
    check_float("--momentum", momentum, 0.0, 1.0, hi_open=True)
    options = {
        "reweighted": "--tune-lam",
        "group_lasso": "--tune-lam-group-lasso",
        "admm": "--tune-rho",
    }
    texts = {"reweighted": tune_lam, "group_lasso": tune_lam_group_lasso, "admm": tune_rho}
    grids = {
        method: [
            # ADMM's rho must be > 0 (PruneSpec), checked here rather than inside a trial
            check_float(options[method], v, 0.0, 1e6, lo_open=method == "admm")
            for v in parse_floats(options[method], text)
        ]
        for method, text in texts.items()
        if text is not None
    }
    for method in grids:
        if method not in ms:  # a grid for a method that does not run would be ignored
            raise ParameterError(options[method], f"needs {method} in --methods", texts[method])
    if grids and not n_val:
        raise ParameterError("--n-val", "> 0 with --tune-* (knobs are picked on it)", n_val)
    check_model(model)
    for name, value in (("--lam", lam), ("--lam-group-lasso", lam_group_lasso)):
        if value is not None:  # --lam-group-lasso nan used to fail only inside the trial
            check_float(name, value, 0.0, 1e6)
    for s in sp:  # validate every combination before any training
        for structure in st:
            PruneSpec(
                structure, s, ms[0], scope=scope, rho=rho, bits=bits, lam=lam or 0.0, update=update
            )
    ds = dataset_name(dataset)
    if width is not None:  # 0 was silently the default width, <0 or --model mlp failed per trial
        check_int("--width", width, 1, 1024)
        if model not in WIDTH_MODELS:
            raise ParameterError("--width", f"applies to {' and '.join(WIDTH_MODELS)}", model)
    kw = {"width": width} if width is not None else {}
    ctx = P.trial_context(
        ds,
        model,
        n_train=n_train,
        n_test=n_test,
        epochs=epochs,
        n_val=n_val,
        lr=lr,
        optimizer=optimizer,
        momentum=momentum,
        scheduler=scheduler,
        batch_size=batch_size,
        seed=seed,
        device=resolve_device(device),
        lam=lam,
        lam_group_lasso=lam_group_lasso,
        update=update,
        rho=rho,
        bits=bits,
        scope=scope,
        model_kwargs=kw,
    )
    config = {
        "model": model,
        "dataset": ds,
        "structures": st,
        "sparsities": sp,
        "methods": ms,
        "epochs": epochs,
        "lr": lr,
        "optimizer": optimizer,
        "momentum": momentum,
        "scheduler": scheduler,
        "batch_size": batch_size,
        "n_train": n_train,
        "n_test": n_test,
        "n_val": n_val,
        "seeds": seeds,
        "tune": {m: list(v) for m, v in grids.items()},
        "lam": lam,
        "lam_group_lasso": lam_group_lasso,
        "update": update,
        "rho": rho,
        "bits": bits,
        "scope": scope,
        "width": width,
        "workers": workers,
        "device": device,
    }
    run = Run("prune sweep", config, out=out, seed=seed, title=f"noisyhw prune: {model} on {ds}")
    seed_list = list(range(seed, seed + seeds))
    knobs = {}
    tune_rows: list[dict] = []
    if grids:  # the knobs are picked on the validation split, at the first seed
        tune_run = Run("prune tune", config, out=run.dir / "tune", seed=seed)
        tune_rows = tune_run.sweep(
            P.prune_trial,
            P.tuning_trials(st, sp, ms, grids, seed),
            context=ctx,
            workers=workers,
            description="tuning trials",
        )
        tune_run.store.close()
        knobs = P.best_knobs(tune_rows)
    trials = P.final_trials(st, sp, ms, seed_list, knobs)
    rows = run.sweep(
        P.prune_trial, trials, context=ctx, workers=workers, description="prune trials"
    )
    split = f"{len(ctx['train'])} training"
    if ctx["val"] is not None:
        split += f" (+ {len(ctx['val'])} validation)"
    sec = run.section(f"{model} on {ds}: {epochs} epochs per trial")
    sec.text(
        f"{split} / {len(ctx['test'])} test images; {optimizer} lr {lr:g}; every method gets the "
        "same epochs (first half: penalty or ramp, then hard prune and masked retraining)."
        + (
            " Tuned on the validation split (seed "
            f"{seed}): " + ", ".join(f"{m} {P.KNOBS[m]} in {list(v)}" for m, v in grids.items())
            if grids
            else ""
        )
    )
    summary = P.summarize_seeds(rows)
    paired = P.paired_vs(rows) if "magnitude" in ms else []
    if seeds > 1:
        P.report_seeds(run, sec, summary)
        if paired:
            P.report_paired(sec, paired)
    else:
        P.report_sweep(run, sec, rows)
    cols = P.SWEEP_COLUMNS
    full = [
        {c: r.get(c) for c in cols} | {k: v for k, v in r.items() if k not in cols} for r in rows
    ]
    path = run.finish(full, summary=summary, tuning=tune_rows, paired=paired)
    if seeds > 1:
        print_rows(summary, P.SUMMARY_COLUMNS, title="mean over seeds, 95% interval")
    else:
        print_rows(full, cols)
    echo_paths(run, path)
