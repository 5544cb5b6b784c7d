"""``noisyhw prune ...``: pruning sweeps (structure x sparsity x method) with plots."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import BATCH_MAX, EPOCHS_MAX, ParameterError, check_float, check_int
from .common import (
    BatchSizeOpt,
    DeviceOpt,
    LrOpt,
    OutOpt,
    QuietOpt,
    SeedOpt,
    WorkersOpt,
    apply_quiet,
    check_counts,
    check_model,
    dataset_name,
    finish,
    parse_floats,
    parse_strs,
    resolve_device,
)

#: models whose constructor takes ``width`` (--width)
WIDTH_MODELS = ("small_cnn", "resnet20")

app = typer.Typer(help="Reweighted / magnitude / ADMM / group-lasso pruning of any structure.")


@app.command("sweep")
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
    batch_size: BatchSizeOpt = 128,
    n_train: Annotated[int | None, typer.Option("--n-train", help="Training subset size.")] = 4000,
    n_test: Annotated[int | None, typer.Option("--n-test", help="Test subset size.")] = 2000,
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
    quiet: QuietOpt = False,
) -> None:
    """Accuracy vs sparsity for every structure x method at equal epochs (resumable)."""
    from ..compress.prune import METHODS, STRUCTURES, PruneSpec
    from ..experiments.prune import SWEEP_COLUMNS, prune_trial, report_sweep, trial_context
    from ..sweep import Run, grid

    apply_quiet(quiet)
    st = parse_strs("--structures", structures, STRUCTURES)
    ms = parse_strs("--methods", methods, METHODS)
    sp = parse_floats("--sparsities", sparsities)
    check_int("--epochs", epochs, 1, EPOCHS_MAX)
    check_int("--batch-size", batch_size, 1, BATCH_MAX)
    check_float("--lr", lr, 0.0, 100.0, lo_open=True)
    check_counts(("--n-train", n_train), ("--n-test", n_test))
    check_float("--rho", rho, 0.0, 1e6, lo_open=True)
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
    ctx = trial_context(
        ds,
        model,
        n_train=n_train,
        n_test=n_test,
        epochs=epochs,
        lr=lr,
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
        "batch_size": batch_size,
        "n_train": n_train,
        "n_test": n_test,
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
    trials = grid(structure=st, sparsity=sp, method=ms)
    rows = run.sweep(prune_trial, trials, context=ctx, workers=workers, description="prune trials")
    sec = run.section(f"{model} on {ds}: {epochs} epochs per trial")
    sec.text(
        f"{len(ctx['train'])} training / {len(ctx['test'])} test images; every method gets the "
        "same epochs (first half: penalty or ramp, then hard prune and masked retraining)."
    )
    report_sweep(run, sec, rows)
    cols = SWEEP_COLUMNS
    finish(
        run,
        [{c: r.get(c) for c in cols} | {k: v for k, v in r.items() if k not in cols} for r in rows],
        cols,
    )
