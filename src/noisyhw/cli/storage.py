"""``noisyhw storage``: fault campaigns on stored weights, one-flip distortion of the codes,
ECC or detection at equal storage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import ParameterError, check_float, check_int, renamed
from ..experiments.config import TRIALS_MAX
from .common import (
    DeviceOpt,
    FormatOpt,
    OutOpt,
    QuietOpt,
    SeedOpt,
    WorkersOpt,
    apply_quiet,
    finish,
    parse_floats,
    parse_ints,
    resolve_device,
    split_list,
    tracked,
)

app = typer.Typer(
    help="Weights in noisy storage: representations, nulling, range detection, polar ECC.",
    no_args_is_help=True,
)


@app.command("campaign")
@tracked
def campaign_cmd(
    study: Annotated[
        str, typer.Option("--study", help="mlp-digits, cnn-fashion or resnet18-fashion.")
    ] = "mlp-digits",
    model: Annotated[
        str | None, typer.Option("--model", help="Override the study's model (e.g. lenet5).")
    ] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", help="Override the dataset.")] = None,
    epochs: Annotated[int | None, typer.Option("--epochs")] = None,
    n_train: Annotated[int | None, typer.Option("--n-train")] = None,
    n_test: Annotated[int | None, typer.Option("--n-test")] = None,
    model_file: Annotated[
        Path | None, typer.Option("--model-file", help="A model.pt from `noisyhw train`.")
    ] = None,
    representations: Annotated[
        str,
        typer.Option(
            "--representations",
            "-r",
            help="Comma list: float32, float16, bfloat16, fixed<n>, hwo<n>.",
        ),
    ] = "float32,float16,bfloat16,fixed8,hwo8",
    protections: Annotated[
        str,
        typer.Option(
            "--protections",
            "-p",
            help="Comma list: none, nulling, nulling-extra, range, nulling+range.",
        ),
    ] = "none,nulling,range",
    configs: Annotated[
        str | None,
        typer.Option(
            "--configs",
            help="Explicit rep/prot pairs, e.g. float32/none,hwo8/nulling "
            "(instead of the -r x -p product).",
        ),
    ] = None,
    ber_min: Annotated[float, typer.Option("--ber-min")] = 1e-9,
    ber_max: Annotated[float, typer.Option("--ber-max")] = 1e-1,
    per_decade: Annotated[int, typer.Option("--per-decade")] = 1,
    bers: Annotated[
        str | None, typer.Option("--bers", help="Explicit BER list (overrides the log grid).")
    ] = None,
    trials: Annotated[
        int,
        typer.Option(
            "--trials",
            "-t",
            help=f"Most trials per BER and configuration (1..{TRIALS_MAX}).",
            callback=lambda v: check_int("--trials", v, 1, TRIALS_MAX),  # before --bers
        ),
    ] = 10,
    min_failures: Annotated[
        int,
        typer.Option(
            "--min-failures",
            help="Stop a point at this many failed trials (accuracy more than --tolerance below "
            "clean float32); 0: always --trials.",
        ),
    ] = 0,
    chunk: Annotated[
        int, typer.Option("--chunk", help="Trials per chunk (the unit of the stopping rule).")
    ] = 50,
    margin: Annotated[float, typer.Option("--margin", help="Range check slack x max|w|.")] = 0.1,
    tolerance: Annotated[
        float, typer.Option("--tolerance", help="Accuracy drop allowed for the tolerable BER.")
    ] = 0.01,
    buffers: Annotated[
        bool, typer.Option("--buffers", help="Also store BatchNorm statistics in noisy memory.")
    ] = False,
    seed: SeedOpt = 0,
    workers: WorkersOpt = 1,
    device: DeviceOpt = "cpu",
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Accuracy vs BER per representation/protection, tolerable BER and its gain (resumable)."""
    from ..experiments import storage as E

    apply_quiet(quiet)
    if configs is not None:  # given empty: a mistake, not "the -r x -p product"
        pairs = []
        for item in split_list(configs):
            if item.count("/") != 1:
                raise ParameterError("--configs", "items must be representation/protection", item)
            pairs.append(tuple(item.split("/")))
    else:
        reps, prots = split_list(representations), split_list(protections)
        for name, items, text in (
            ("--representations", reps, representations),
            ("--protections", prots, protections),
        ):
            if not items:
                raise ParameterError(name, "must list one or more names", text)
        pairs = [(r, p) for r in reps for p in prots]
    log_grid = E.ber_grid(ber_min, ber_max, per_decade)  # checked even when --bers replaces it
    grid = parse_floats("--bers", bers) if bers is not None else log_grid
    try:
        cfg = E.CampaignConfig(
            study=study,
            model=model,
            dataset=dataset,
            epochs=epochs,
            n_train=n_train,
            n_test=n_test,
            model_file=None if model_file is None else str(model_file),
            configs=tuple(pairs),
            bers=tuple(grid),
            trials=trials,
            min_failures=min_failures,
            chunk=chunk,
            margin=margin,
            tolerance=tolerance,
            buffers=buffers,
            seed=seed,
            device=resolve_device(device),
            workers=workers,
        )
    except ParameterError as exc:  # name the option the names came from
        src = "--configs" if configs is not None else None
        names = {"representation": src or "--representations", "protection": src or "--protections"}
        raise renamed(exc, names) from None
    run, tol, facts = E.campaign(cfg, out=out)
    finish(
        run,
        tol,
        ["config", "bits_per_param", "clean_accuracy", "tolerable_ber_interp", "gain"],
        title="tolerable BER",
        model=facts,
    )


@app.command("distortion")
@tracked
def distortion_cmd(
    n: Annotated[str, typer.Option("--n", help="Bits per value, e.g. 2,4,8,12,16.")] = (
        "2,3,4,5,6,7,8,10,12,14,16,18"
    ),
    seed: SeedOpt = 0,
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Exhaustive one-flip distortion of the Hamming-weight-ordered code vs binary, per n."""
    from ..experiments import storage as E

    apply_quiet(quiet)
    cfg = E.DistortionConfig(n=tuple(parse_ints("--n", n, 2)), seed=seed)
    run, rows = E.distortion(cfg, out=out)
    finish(run, rows, ["n", "code", "worst", "worst_norm", "bound_norm", "mean_norm", "rms_norm"])


@app.command("ecc")
@tracked
def ecc_cmd(
    study: Annotated[
        str, typer.Option("--study", help="mlp-digits, cnn-fashion or resnet18-fashion.")
    ] = "mlp-digits",
    epochs: Annotated[int | None, typer.Option("--epochs", help="Override the study's.")] = None,
    budgets: Annotated[
        str, typer.Option("--budgets", help="Stored bits per parameter: a list of 8, 12, 16.")
    ] = "8,12,16",
    ber_min: Annotated[float, typer.Option("--ber-min")] = 1e-6,
    ber_max: Annotated[float, typer.Option("--ber-max")] = 1e-1,
    per_decade: Annotated[int, typer.Option("--per-decade")] = 2,
    fine_from: Annotated[
        float, typer.Option("--fine-from", help="Refine the grid from this BER up.")
    ] = 1e-2,
    fine_per_decade: Annotated[
        int, typer.Option("--fine-per-decade", help="Points per decade there (0: none).")
    ] = 8,
    bers: Annotated[
        str | None, typer.Option("--bers", help="Explicit BER list (overrides the log grid).")
    ] = None,
    trials: Annotated[
        int,
        typer.Option(
            "--trials", "-t", help=f"Most trials per BER and configuration (1..{TRIALS_MAX})."
        ),
    ] = 200,
    min_failures: Annotated[
        int,
        typer.Option(
            "--min-failures",
            help="Stop a point at this many failed trials (accuracy more than --tolerance below "
            "clean float32); 0: always --trials.",
        ),
    ] = 20,
    chunk: Annotated[
        int, typer.Option("--chunk", help="Trials per chunk (the unit of the stopping rule).")
    ] = 20,
    decoder: Annotated[
        str, typer.Option("--decoder", help="Polar decoder: sc or scl<L> (e.g. scl8).")
    ] = "sc",
    n: Annotated[int, typer.Option("--n", help="Polar codeword bits (power of two, 8..1024).")] = (
        1024
    ),
    margin: Annotated[float, typer.Option("--margin", help="Range check slack x max|w|.")] = 0.1,
    tolerance: Annotated[
        float, typer.Option("--tolerance", help="Accuracy drop allowed for the tolerable BER.")
    ] = 0.01,
    seed: SeedOpt = 0,
    workers: WorkersOpt = 1,
    device: DeviceOpt = "cpu",
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """ECC or detection at equal storage: polar-coded weights vs nulling / range / HWO."""
    from ..errors import renamed
    from ..experiments import ecc as X

    apply_quiet(quiet)
    try:
        check_float("--fine-from", fine_from, 0.0, 1.0, lo_open=True)
        log_grid = X.ber_axis(ber_min, ber_max, per_decade, fine_from, fine_per_decade)
        grid = parse_floats("--bers", bers) if bers is not None else log_grid
        cfg = X.EccStudyConfig(
            study=study,
            epochs=epochs,
            budgets=tuple(parse_ints("--budgets", budgets)),
            bers=tuple(sorted(grid)),
            trials=trials,
            min_failures=min_failures or None,
            chunk=chunk,
            tolerance=tolerance,
            margin=margin,
            decoder=decoder,
            n=n,
            seed=seed,
            device=resolve_device(device),
            workers=workers,
        )
    except ParameterError as exc:
        raise renamed(exc, X.OPTIONS) from None
    run, verdict, facts = X.run(cfg, out=out)
    finish(
        run,
        verdict,
        [
            "budget",
            "ecc",
            "ecc_tolerable_ber",
            "detection",
            "detection_tolerable_ber",
            "ratio",
            "ratio_lo",
            "ratio_hi",
            "winner",
        ],
        title="ECC vs detection at equal storage (tolerable BER, ratio ECC / detection)",
        model=facts,
    )
