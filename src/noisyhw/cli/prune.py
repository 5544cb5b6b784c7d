"""``noisyhw prune ...``: pruning sweeps (structure x sparsity x method) with plots."""

from __future__ import annotations

from typing import Annotated

import typer

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
    parse_floats,
    resolve_device,
    show,
    split_list,
    tracked,
)

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
    from ..experiments import prune as P

    apply_quiet(quiet)
    grids = {
        name: None if text is None else tuple(parse_floats("--" + name.replace("_", "-"), text))
        for name, text in (
            ("tune_lam", tune_lam),
            ("tune_lam_group_lasso", tune_lam_group_lasso),
            ("tune_rho", tune_rho),
        )
    }
    cfg = P.PruneStudy(
        model=model,
        dataset=dataset,
        structures=tuple(split_list(structures)),
        sparsities=tuple(parse_floats("--sparsities", sparsities)),
        methods=tuple(split_list(methods)),
        epochs=epochs,
        lr=lr,
        optimizer=optimizer,
        momentum=momentum,
        scheduler=scheduler,
        batch_size=batch_size,
        n_train=n_train,
        n_test=n_test,
        n_val=n_val,
        seeds=seeds,
        **grids,
        lam=lam,
        lam_group_lasso=lam_group_lasso,
        update=update,
        rho=rho,
        bits=bits,
        scope=scope,
        width=width,
        seed=seed,
        workers=workers,
        device=resolve_device(device),
        out=out,
    )
    show(P.run(cfg))
