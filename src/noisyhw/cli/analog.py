"""``noisyhw noise train | sweep | attack``: noisy analog inference studies."""

from __future__ import annotations

from dataclasses import fields
from typing import Annotated, Any

import typer

from ..errors import ParameterError
from .common import (
    BatchSizeOpt,
    DeviceOpt,
    FormatOpt,
    LrOpt,
    ModelOpt,
    OutOpt,
    QuietOpt,
    SeedOpt,
    WorkersOpt,
    apply_quiet,
    finish,
    parse_floats,
    parse_ints,
    parse_strs,
    resolve_device,
    split_list,
    tracked,
)

app = typer.Typer(
    help="Noisy analog inference: noise-injected training, SNR sweeps with voting, black-box attacks.",
    no_args_is_help=True,
)

DatasetOpt = Annotated[
    str, typer.Option("--dataset", help="fashion-mnist, mnist, digits, cifar10 ...")
]
NTrainOpt = Annotated[
    int | None, typer.Option("--n-train", help="Random subset of the training set.")
]
NTestOpt = Annotated[int | None, typer.Option("--n-test", help="Random subset of the test set.")]
EpochsOpt = Annotated[int, typer.Option("--epochs", help="Epochs of clean training.")]
FinetuneOpt = Annotated[
    int, typer.Option("--finetune-epochs", help="Epochs of noise-injected fine-tuning.")
]
GranOpt = Annotated[
    str, typer.Option("--granularity", help="Signal power per layer, sample or output.")
]
TestSnrOpt = Annotated[
    str, typer.Option("--test-snrs", help="Test SNRs in dB: list or start:stop:step.")
]
VotesOpt = Annotated[str, typer.Option("--votes", help="Vote counts K, e.g. 1,15.")]
HiddenOpt = Annotated[
    int | None, typer.Option("--hidden", help="Hidden size of rnn/lstm/gru models.")
]


def _parse_train_snrs(text: str, option: str = "--train-snrs") -> list[Any]:
    """``"0,10"`` -> [0.0, 10.0]; ``"0:4:2"`` -> [0.0, 2.0, 4.0] (the list syntax of every
    option); ``"-2..4"`` -> one model trained at a random SNR in [-2, 4] per batch;
    ``"20>10>0"`` -> one model trained on a curriculum (each item checked by
    :func:`noisyhw.experiments.analog.parse_train_snr`)."""
    from ..experiments.analog import parse_train_snr

    out: list[Any] = []
    for item in split_list(text):
        if ".." in item or ">" in item:
            out.append(parse_train_snr(item, option))
        else:
            out.extend(parse_train_snr(str(v), option) for v in parse_floats(option, item))
    return out


def _classifier(options: dict[str, Any]) -> dict[str, Any]:
    """The options every ``noise`` command shares, one per :class:`ClassifierConfig` field
    (``--n-train`` -> ``n_train``); the device resolved."""
    from ..experiments.analog_runs import ClassifierConfig

    out = {f.name: options[f.name] for f in fields(ClassifierConfig)}
    return out | {"device": resolve_device(options["device"])}


@app.command()
@tracked
def sweep(
    dataset: DatasetOpt = "auto",
    model: ModelOpt = "small_cnn",
    n_train: NTrainOpt = None,
    n_test: NTestOpt = None,
    epochs: EpochsOpt = 3,
    finetune_epochs: FinetuneOpt = 2,
    batch_size: BatchSizeOpt = 128,
    lr: LrOpt = 1e-3,
    hidden: HiddenOpt = None,
    modes: Annotated[
        str, typer.Option("--modes", help="relative, fixed, fullscale (comma list).")
    ] = "fixed,relative",
    granularity: GranOpt = "layer",
    train_snrs: Annotated[
        str,
        typer.Option(
            "--train-snrs",
            help="Training SNRs, one model each: 0,10 or 0:10:5; -2..4 trains one model at a "
            "random SNR in [-2, 4] per batch; 20>10>0 one on a curriculum.",
        ),
    ] = "0",
    test_snrs: TestSnrOpt = "-5:20:5",
    votes: VotesOpt = "1,15",
    methods: Annotated[
        str, typer.Option("--methods", help="mean, majority (comma list).")
    ] = "mean",
    seed: SeedOpt = 0,
    device: DeviceOpt = "cpu",
    workers: WorkersOpt = 1,
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Train clean + noise-injected models, then sweep test SNR x votes x mode (resumable)."""
    from ..analog.noise import MODES
    from ..experiments.analog import snr_label
    from ..experiments.analog_runs import SWEEP_COLUMNS, NoiseSweepConfig
    from ..experiments.analog_runs import sweep as run_sweep

    apply_quiet(quiet)
    cfg = NoiseSweepConfig(
        **_classifier(locals()),
        finetune_epochs=finetune_epochs,
        hidden=hidden,
        modes=tuple(parse_strs("--modes", modes, MODES)),
        granularity=granularity,
        train_snrs=tuple(snr_label(t) for t in _parse_train_snrs(train_snrs)),
        test_snrs=tuple(parse_floats("--test-snrs", test_snrs)),
        votes=tuple(parse_ints("--votes", votes, lo=1)),
        methods=tuple(parse_strs("--methods", methods, ("mean", "majority"))),
        workers=workers,
    )
    run, rows, extra = run_sweep(cfg, out=out)
    title = f"clean accuracy {extra['clean_accuracy']:.4f}"
    finish(run, rows, SWEEP_COLUMNS, title=title, **extra)


@app.command()
@tracked
def train(
    dataset: DatasetOpt = "auto",
    model: ModelOpt = "small_cnn",
    n_train: NTrainOpt = None,
    n_test: NTestOpt = None,
    epochs: EpochsOpt = 3,
    finetune_epochs: FinetuneOpt = 2,
    batch_size: BatchSizeOpt = 128,
    lr: LrOpt = 1e-3,
    hidden: HiddenOpt = None,
    mode: Annotated[str, typer.Option("--mode", help="relative, fixed or fullscale.")] = "fixed",
    granularity: GranOpt = "layer",
    snr: Annotated[
        str,
        typer.Option(
            "--snr", help="Training SNR in dB, a range lo..hi (per batch) or a curriculum a>b>c."
        ),
    ] = "0",
    test_snrs: TestSnrOpt = "-5:20:5",
    votes: Annotated[int, typer.Option("--votes", help="Votes for the voted curve.")] = 15,
    seed: SeedOpt = 0,
    device: DeviceOpt = "cpu",
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Train clean, then fine-tune with noise at one SNR, a range or a curriculum; writes
    noisy.pt (weights + fixed-mode references), learning curves and accuracy vs test SNR."""
    from ..experiments.analog import snr_label
    from ..experiments.analog_runs import TRAIN_COLUMNS, NoiseTrainConfig
    from ..experiments.analog_runs import train as run_train

    apply_quiet(quiet)
    parsed = _parse_train_snrs(snr, "--snr")
    if len(parsed) != 1:
        raise ParameterError(
            "--snr", "one SNR, range or curriculum (use `noise sweep` for several)", snr
        )
    cfg = NoiseTrainConfig(
        **_classifier(locals()),
        finetune_epochs=finetune_epochs,
        hidden=hidden,
        mode=mode,
        granularity=granularity,
        snr=snr_label(parsed[0]),
        test_snrs=tuple(parse_floats("--test-snrs", test_snrs)),
        votes=votes,
    )
    run, rows, extra = run_train(cfg, out=out)
    title = f"clean accuracy {extra['clean_accuracy']:.4f}; model: {run.dir / 'noisy.pt'}"
    finish(run, rows, TRAIN_COLUMNS, title=title, **extra)


@app.command()
@tracked
def attack(
    dataset: DatasetOpt = "auto",
    model: ModelOpt = "small_cnn",
    n_train: NTrainOpt = None,
    n_test: NTestOpt = None,
    epochs: EpochsOpt = 3,
    batch_size: BatchSizeOpt = 128,
    lr: LrOpt = 1e-3,
    substitute: Annotated[str, typer.Option("--substitute", help="Substitute model name.")] = "mlp",
    pool_size: Annotated[
        int, typer.Option("--pool-size", help="Attacker inputs (taken from the test split).")
    ] = 2000,
    substitute_epochs: Annotated[int, typer.Option("--substitute-epochs")] = 5,
    attacks: Annotated[str, typer.Option("--attacks", help="fgsm, pgd (comma list).")] = "fgsm,pgd",
    eps: Annotated[str, typer.Option("--eps", help="L-inf budgets on [0,1] inputs.")] = "0.1",
    adv_eps: Annotated[
        float, typer.Option("--adv-eps", help="FGSM budget of adversarial training.")
    ] = 0.1,
    pgd_steps: Annotated[int, typer.Option("--pgd-steps")] = 10,
    noise_train_snr: Annotated[
        float | None,
        typer.Option(
            "--noise-train-snr",
            help="Also attack both targets fine-tuned with relative noise at this SNR (dB).",
        ),
    ] = None,
    finetune_epochs: Annotated[
        int, typer.Option("--finetune-epochs", help="Epochs of that noise fine-tuning.")
    ] = 2,
    test_snrs: Annotated[
        str, typer.Option("--test-snrs", help="Inference SNRs (dB; inf = no noise).")
    ] = "inf,20,10,5",
    votes: VotesOpt = "1,9",
    seed: SeedOpt = 0,
    device: DeviceOpt = "cpu",
    workers: WorkersOpt = 1,
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Black-box transfer attack (substitute trained on the target's labels; FGSM/PGD) against a
    standard and an adversarially trained target, with and without inference noise."""
    from ..experiments.analog_runs import ATTACK_COLUMNS, NoiseAttackConfig
    from ..experiments.analog_runs import attack as run_attack

    apply_quiet(quiet)
    cfg = NoiseAttackConfig(
        **_classifier(locals()),
        substitute=substitute,
        pool_size=pool_size,
        substitute_epochs=substitute_epochs,
        attacks=tuple(parse_strs("--attacks", attacks, ("fgsm", "pgd"))),
        eps=tuple(parse_floats("--eps", eps)),
        adv_eps=adv_eps,
        pgd_steps=pgd_steps,
        noise_train_snr=noise_train_snr,
        finetune_epochs=finetune_epochs,
        test_snrs=tuple(parse_floats("--test-snrs", test_snrs)),
        votes=tuple(parse_ints("--votes", votes, lo=1)),
        workers=workers,
    )
    run, rows, extra = run_attack(cfg, out=out)
    finish(run, rows, ATTACK_COLUMNS, title="black-box transfer attack", **extra)


__all__ = ["app"]
