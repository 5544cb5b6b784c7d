"""``noisyhw noise train | sweep | attack``: noisy analog inference studies."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..errors import (
    EPOCHS_MAX,
    ParameterError,
    check_choice,
    check_float,
    check_int,
    check_memory,
)
from ..sweep import Run
from .common import (
    CLASSIFIERS,
    COUNT_MAX,
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
    check_counts,
    classifier_job,
    finish,
    parse_floats,
    parse_ints,
    parse_strs,
    split_list,
    tracked,
)

if TYPE_CHECKING:
    from ..experiments.classify import ClassifierJob

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


#: SNRs in dB are finite numbers in this range (inf, where allowed, means no noise)
SNR_DB_MIN, SNR_DB_MAX = -100.0, 300.0
#: the most votes (noisy forward passes per example)
VOTES_MAX = 1000
#: the most attack steps
STEPS_MAX = 10_000


def _snrs(name: str, text: str, *, allow_inf: bool = False) -> list[float]:
    """A list or range of SNRs in dB, each in [SNR_DB_MIN, SNR_DB_MAX] (``inf``: no noise)."""
    out = []
    for v in parse_floats(name, text):
        if not (allow_inf and v == math.inf):
            check_float(name, v, SNR_DB_MIN, SNR_DB_MAX)
        out.append(v)
    return out


def _votes(text: str) -> list[int]:
    vals = parse_ints("--votes", text, lo=1)
    for v in vals:
        check_int("--votes", v, 1, VOTES_MAX)
    return vals


def _job(dataset, model, n_train, n_test, epochs, batch_size, lr, seed, device, hidden):
    check_counts(("--hidden", hidden))
    if hidden is not None:  # 4 gates x hidden x hidden weights, with gradients and Adam moments
        check_memory("--hidden", 4 * 4 * 4.0 * hidden * hidden, hidden, "the recurrent weights")
    kw = {"hidden": hidden} if hidden is not None and model in ("rnn", "lstm", "gru") else {}
    return classifier_job(
        dataset,
        model,
        n_train,
        n_test,
        device,
        model_kwargs=kw,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
    )


def _run(
    command: str,
    job: ClassifierJob,
    settings: dict[str, Any],
    out: Path | None,
    seed: int,
    title: str,
) -> Run:
    """The run folder of ``noise <command>``; its config: what ``job`` trains, then ``settings``."""
    config = {
        "dataset": job.dataset,
        "model": job.model,
        "n_train": job.n_train,
        "n_test": job.n_test,
        "epochs": job.config.epochs,
        **settings,
    }
    return Run(
        f"noise {command}", config, out=out, seed=seed, title=f"noisyhw noise {command}: {title}"
    )


def _parse_train_snrs(text: str) -> list[Any]:
    """``"0,10"`` -> [0.0, 10.0]; ``"0:4:2"`` -> [0.0, 2.0, 4.0] (the list syntax of every
    option); ``"-2..4"`` -> one model trained at a random SNR in [-2, 4] per batch;
    ``"20>10>0"`` -> one model trained on a curriculum."""
    out: list[Any] = []
    for item in split_list(text):
        try:
            if ".." in item:
                lo, hi = (float(v) for v in item.split(".."))
                if hi < lo:
                    raise ValueError
                out.append((lo, hi))
            elif ">" in item:
                out.append([float(v) for v in item.split(">")])
            else:
                out.extend(parse_floats("--train-snrs", item))
        except (ValueError, ParameterError):
            raise ParameterError(
                "--train-snrs",
                "comma-separated dB values or start:stop:step ranges, per-batch random ranges "
                "lo..hi, or curricula a>b>c",
                text,
            ) from None
        if any(not SNR_DB_MIN <= v <= SNR_DB_MAX for v in _flat(out[-1])):
            raise ParameterError(
                "--train-snrs",
                f"dB values in [{SNR_DB_MIN:g}, {SNR_DB_MAX:g}] (the clean model is always "
                "included)",
                text,
            )
    if len(out) > 100:
        raise ParameterError("--train-snrs", "at most 100 training SNRs", text)
    if not out:
        raise ParameterError("--train-snrs", "needs at least one training SNR", text)
    return out


def _flat(v: Any) -> list[float]:
    return list(v) if isinstance(v, tuple | list) else [v]


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
    from ..analog.noise import GRANULARITIES, MODES
    from ..experiments.analog import NoiseJob, eval_trial, prepare_models, report_sweep, snr_label
    from ..sweep import grid

    apply_quiet(quiet)
    mode_list = parse_strs("--modes", modes, MODES)
    check_choice("--granularity", granularity, GRANULARITIES)
    if granularity == "sample" and "fixed" in mode_list:
        raise ParameterError("--granularity", "fixed mode needs layer or output power", granularity)
    trains = _parse_train_snrs(train_snrs)
    tests = _snrs("--test-snrs", test_snrs)  # finite: the clean accuracy is drawn as a line
    vote_list = _votes(votes)
    method_list = parse_strs("--methods", methods, ("mean", "majority"))
    check_int("--finetune-epochs", finetune_epochs, 1, EPOCHS_MAX)
    job = _job(dataset, model, n_train, n_test, epochs, batch_size, lr, seed, device, hidden)
    njob = NoiseJob(
        job,
        tuple(mode_list),
        tuple(tuple(t) if isinstance(t, tuple) else t for t in trains),
        granularity,
        finetune_epochs,
    )
    settings = {
        "finetune_epochs": finetune_epochs,
        "batch_size": batch_size,
        "lr": lr,
        "hidden": hidden,
        "modes": mode_list,
        "granularity": granularity,
        "train_snrs": [snr_label(t) for t in trains],
        "test_snrs": tests,
        "votes": vote_list,
        "methods": method_list,
        "device": device,
    }
    run = _run("sweep", job, settings, out, seed, f"{model} on {job.dataset}")
    ctx = prepare_models(njob, run.dir / "models")
    trials = grid(
        mode=mode_list,
        train=["clean", *[snr_label(t) for t in trains]],
        test_snr_db=tests,
        votes=vote_list,
        method=method_list,
    )
    rows = run.sweep(eval_trial, trials, context=ctx, workers=workers, description="noise sweep")
    _, eff = report_sweep(run, rows, ctx, f"{model} on {job.dataset}")
    finish(
        run,
        rows,
        ["mode", "train", "test_snr_db", "votes", "method", "accuracy", "eff_snr_db"],
        title=f"clean accuracy {ctx['clean_acc']:.4f}",
        clean_accuracy=ctx["clean_acc"],
        effective_snr=eff,
        histories=ctx["histories"],
    )


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
    from ..analog import NoiseSpec
    from ..analog.noise import GRANULARITIES, MODES
    from ..experiments.analog import NoiseJob, eval_trial, prepare_models, snr_label
    from ..io import save_checkpoint
    from ..sweep import line_plot

    apply_quiet(quiet)
    check_choice("--mode", mode, MODES)
    check_choice("--granularity", granularity, GRANULARITIES)
    NoiseSpec(0.0, mode=mode, granularity=granularity)  # e.g. fixed + sample is refused here
    parsed = _parse_train_snrs(snr)
    train_snr = parsed[0] if len(parsed) == 1 else None
    if train_snr is None:
        raise ParameterError(
            "--snr", "one SNR, range or curriculum (use `noise sweep` for several)", snr
        )
    check_int("--votes", votes, 1, VOTES_MAX)
    check_int("--finetune-epochs", finetune_epochs, 1, EPOCHS_MAX)
    tests = _snrs("--test-snrs", test_snrs)
    job = _job(dataset, model, n_train, n_test, epochs, batch_size, lr, seed, device, hidden)
    label = snr_label(train_snr)
    njob = NoiseJob(job, (mode,), (train_snr,), granularity, finetune_epochs)
    settings = {
        "finetune_epochs": finetune_epochs,
        "hidden": hidden,  # part of the model: a different --hidden is a different run
        "mode": mode,
        "granularity": granularity,
        "snr": label,
        "test_snrs": tests,
        "votes": votes,
        "device": device,
        "batch_size": batch_size,
        "lr": lr,
    }
    run = _run("train", job, settings, out, seed, f"{model} at {label}")
    ctx = prepare_models(njob, run.dir / "models")
    key = f"{mode}:{label}"
    save_checkpoint(
        run.dir / "noisy.pt",
        {
            "model_name": model,
            "model_kwargs": job.model_kwargs,
            "input_shape": ctx["meta"]["input_shape"],
            "num_classes": ctx["meta"]["num_classes"],
            "dataset": job.dataset,
            "sequence": job.sequence,
            "state_dict": ctx["states"][key],
            "noise": {
                "mode": mode,
                "granularity": granularity,
                "train_snr": label,
                "refs": ctx["refs"],
            },
        },
    )
    rows = []
    for t in ("clean", label):
        for s in tests:
            for k in sorted({1, votes}):
                p = {"mode": mode, "train": t, "test_snr_db": s, "votes": k, "method": "mean"}
                rows.append({**p, **eval_trial(p, ctx)})
    sec = run.section(f"{model} on {job.dataset}, noise-trained at {label} ({mode} SNR)")
    hist = ctx["histories"][key]
    if hist:
        sec.image(
            line_plot(
                hist,
                "epoch",
                "train_acc",
                run.plot_path("finetune.png"),
                title="noise-injected fine-tuning (noisy training accuracy)",
            )
        )
    sec.image(
        line_plot(
            rows,
            "test_snr_db",
            "accuracy",
            run.plot_path("accuracy_vs_snr.png"),
            hue=("train", "votes"),
            xlabel="test SNR (dB)",
            hlines={"clean": ctx["clean_acc"]},
            title=f"{mode} SNR",
        )
    )
    sec.table(rows, ["train", "test_snr_db", "votes", "accuracy", "eff_snr_db"])
    finish(
        run,
        rows,
        ["train", "test_snr_db", "votes", "accuracy", "eff_snr_db"],
        title=f"clean accuracy {ctx['clean_acc']:.4f}; model: {run.dir / 'noisy.pt'}",
        clean_accuracy=ctx["clean_acc"],
        histories=ctx["histories"],
    )


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
    from ..experiments.analog import AttackJob, attack_trial, prepare_attack
    from ..sweep import grid, line_plot

    apply_quiet(quiet)
    attack_list = parse_strs("--attacks", attacks, ("fgsm", "pgd"))
    eps_list = [check_float("--eps", e, 0.0, 1.0) for e in parse_floats("--eps", eps)]
    check_float("--adv-eps", adv_eps, 0.0, 1.0)
    check_int("--pool-size", pool_size, 10, COUNT_MAX)
    check_int("--pgd-steps", pgd_steps, 1, STEPS_MAX)
    check_int("--substitute-epochs", substitute_epochs, 1, EPOCHS_MAX)
    check_int("--finetune-epochs", finetune_epochs, 1, EPOCHS_MAX)
    if noise_train_snr is not None:
        check_float("--noise-train-snr", noise_train_snr, SNR_DB_MIN, SNR_DB_MAX)
    if substitute not in CLASSIFIERS:  # a classifier: it learns the target's labels
        raise ParameterError("--substitute", f"must be one of {', '.join(CLASSIFIERS)}", substitute)
    snrs = _snrs("--test-snrs", test_snrs, allow_inf=True)
    vote_list = _votes(votes)
    job = _job(dataset, model, n_train, n_test, epochs, batch_size, lr, seed, device, None)
    ajob = AttackJob(
        job,
        substitute,
        pool_size,
        substitute_epochs,
        adv_eps,
        "fgsm",
        tuple(attack_list),
        tuple(eps_list),
        pgd_steps,
        noise_train_snr,
        finetune_epochs,
    )
    settings = {
        "substitute": substitute,
        "pool_size": pool_size,
        "substitute_epochs": substitute_epochs,
        "attacks": attack_list,
        "eps": eps_list,
        "adv_eps": adv_eps,
        "pgd_steps": pgd_steps,
        **(
            {"noise_train_snr": noise_train_snr, "finetune_epochs": finetune_epochs}
            if noise_train_snr is not None
            else {}
        ),
        "test_snrs": [str(s) for s in snrs],
        "votes": vote_list,
        "device": device,
        "batch_size": batch_size,
        "lr": lr,
    }
    run = _run("attack", job, settings, out, seed, f"{model} on {job.dataset}")
    ctx = prepare_attack(ajob, run.dir / "models")
    trials = grid(
        target=ajob.targets,
        attack=attack_list,
        eps=eps_list,
        test_snr_db=[str(s) for s in snrs],
        votes=vote_list,
    )
    rows = run.sweep(attack_trial, trials, context=ctx, workers=workers, description="attack")
    for r in rows:
        r["snr_x"] = 40.0 if r["test_snr_db"] == "inf" else float(r["test_snr_db"])
    sec = run.section(f"Black-box transfer attack on {model} ({job.dataset})")
    sec.text(
        "Substitute trained on each target's labels for the attacker's pool; adversarial examples "
        "crafted on the substitute. Inference noise: relative SNR per layer; 'no noise' is drawn at 40 dB. "
        + (
            f"-nt: fine-tuned {finetune_epochs} epochs with relative noise at {noise_train_snr:g} dB "
            "(substitute trained on its noisy labels). "
            if noise_train_snr is not None
            else ""
        )
        + "; ".join(
            f"{k}: clean acc {v['clean_acc']:.4f}, substitute agreement "
            f"{v['substitute_agreement']:.3f}"
            for k, v in ctx["info"].items()
        )
    )
    for a in attack_list:
        sub = [r for r in rows if r["attack"] == a]
        sec.image(
            line_plot(
                sub,
                "snr_x",
                "adv_acc",
                run.plot_path(f"adv_acc_{a}.png"),
                hue=("target", "eps", "votes"),
                xlabel="inference SNR (dB; 40 = no noise)",
                ylabel="accuracy on transferred adversarial inputs",
                title=f"{a.upper()} transfer",
            ),
            f"{a}: target accuracy on adversarial inputs vs inference SNR",
        )
    for r in rows:
        r.pop("snr_x")
    finish(
        run,
        rows,
        ["target", "attack", "eps", "test_snr_db", "votes", "clean_acc", "adv_acc"],
        title="black-box transfer attack",
        targets=ctx["info"],
    )


__all__ = ["app"]
