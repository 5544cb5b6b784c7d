"""The ``noisyhw noise sweep | train | attack`` studies: one frozen config each, every check at
construction (before any file is written), and the function that runs it into a run folder.

>>> cfg = NoiseSweepConfig(dataset="digits", model="mlp", train_snrs=("0dB", "-2..4dB"))  # doctest: +SKIP
>>> run, rows, extra = sweep(cfg, out="runs/noise")                                     # doctest: +SKIP

The run's config is ``dataclasses.asdict(cfg)``; the CLI only maps options to fields (they share
names: ``--finetune-epochs`` sets ``finetune_epochs``). The pipeline itself (training, noise
calibration, trials, report sections) lives in :mod:`noisyhw.experiments.analog`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..analog import NoiseSpec
from ..analog.noise import GRANULARITIES, MODES
from ..errors import (
    COUNT_MAX,
    EPOCHS_MAX,
    ParameterError,
    check_choice,
    check_float,
    check_int,
    check_memory,
    check_seed,
)
from ..io import save_checkpoint
from ..sweep import Run, grid, line_plot
from ..train import TrainConfig
from .analog import (
    SNR_DB_MAX,
    SNR_DB_MIN,
    AttackJob,
    NoiseJob,
    attack_trial,
    eval_trial,
    parse_train_snr,
    prepare_attack,
    prepare_models,
    report_sweep,
    snr_label,
)
from .classify import ClassifierJob, check_model, default_dataset
from .config import WORKERS_MAX, check_choices, check_floats, check_ints, set_field

__all__ = [
    "ClassifierConfig",
    "NoiseAttackConfig",
    "NoiseSweepConfig",
    "NoiseTrainConfig",
    "attack",
    "sweep",
    "train",
]

#: the most votes (noisy forward passes per example), attack steps and training SNRs of a sweep
VOTES_MAX = 1000
STEPS_MAX = 10_000
TRAIN_SNRS_MAX = 100
RECURRENT = ("rnn", "lstm", "gru")


def _check_snrs(name: str, values: Any, *, allow_inf: bool = False) -> tuple[float, ...]:
    """Test SNRs in dB, each in [SNR_DB_MIN, SNR_DB_MAX] (``inf``: no noise, where allowed)."""
    return tuple(
        v if allow_inf and v == math.inf else check_float(name, v, SNR_DB_MIN, SNR_DB_MAX)
        for v in check_floats(name, values, allow_inf=allow_inf)
    )


@dataclass(frozen=True)
class ClassifierConfig:
    """The classifier every ``noise`` study trains first: ``dataset`` (``auto``: Fashion-MNIST
    when installed, else digits; resolved at construction), ``model``, random subsets of
    ``n_train`` / ``n_test`` examples (None: all), and its training."""

    dataset: str = "auto"
    model: str = "small_cnn"
    n_train: int | None = None
    n_test: int | None = None
    epochs: int = 3
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        check_model(self.model)
        for name in ("n_train", "n_test"):
            if getattr(self, name) is not None:
                check_int(name, getattr(self, name), 1, COUNT_MAX)
        check_seed("seed", self.seed)
        self.train_config()  # epochs, batch_size, lr
        if self.dataset == "auto":
            set_field(self, "dataset", default_dataset())
        self.job().datasets()  # a bad or non-image dataset fails here, on loading

    def train_config(self) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            seed=self.seed,
            device=self.device,
        )

    def job(self, hidden: int | None = None) -> ClassifierJob:
        """What is trained (``hidden``: the size of a recurrent model, else ignored)."""
        kw = {"hidden": hidden} if hidden is not None and self.model in RECURRENT else {}
        return ClassifierJob(
            self.dataset, self.model, self.n_train, self.n_test, None, kw, self.train_config()
        )


def _check_hidden(hidden: int | None) -> None:
    if hidden is not None:  # 4 gates x hidden x hidden weights, with gradients and Adam moments
        check_int("hidden", hidden, 1, COUNT_MAX)
        check_memory("hidden", 4 * 4 * 4.0 * hidden * hidden, hidden, "the recurrent weights")


@dataclass(frozen=True)
class NoiseSweepConfig(ClassifierConfig):
    """``noise sweep``: the clean model and one noise-trained copy per mode and training SNR
    (labels: ``0dB``, ``-2..4dB`` drawn per batch, ``20>10>0dB`` a curriculum; kept to 6
    significant digits), then every (mode, training SNR, test SNR, votes, method) point."""

    finetune_epochs: int = 2
    hidden: int | None = None
    modes: tuple[str, ...] = ("fixed", "relative")
    granularity: str = "layer"
    train_snrs: tuple[str, ...] = ("0dB",)
    test_snrs: tuple[float, ...] = (-5.0, 0.0, 5.0, 10.0, 15.0, 20.0)
    votes: tuple[int, ...] = (1, 15)
    methods: tuple[str, ...] = ("mean",)
    workers: int = 1

    def __post_init__(self) -> None:
        set_field(self, "modes", check_choices("modes", self.modes, MODES))
        check_choice("granularity", self.granularity, GRANULARITIES)
        if self.granularity == "sample" and "fixed" in self.modes:
            raise ParameterError(
                "granularity", "fixed mode needs layer or output power", self.granularity
            )
        labels = tuple(snr_label(parse_train_snr(t)) for t in self.train_snrs)
        if not labels or len(labels) > TRAIN_SNRS_MAX:
            raise ParameterError(
                "train_snrs", f"must list 1 to {TRAIN_SNRS_MAX} training SNRs", self.train_snrs
            )
        set_field(self, "train_snrs", labels)
        set_field(self, "test_snrs", _check_snrs("test_snrs", self.test_snrs))
        set_field(self, "votes", check_ints("votes", self.votes, 1, VOTES_MAX))
        set_field(self, "methods", check_choices("methods", self.methods, ("mean", "majority")))
        check_int("finetune_epochs", self.finetune_epochs, 1, EPOCHS_MAX)
        check_int("workers", self.workers, 1, WORKERS_MAX)
        _check_hidden(self.hidden)
        super().__post_init__()

    def noise_job(self) -> NoiseJob:
        trains = tuple(parse_train_snr(t) for t in self.train_snrs)
        return NoiseJob(
            self.job(self.hidden), self.modes, trains, self.granularity, self.finetune_epochs
        )


@dataclass(frozen=True)
class NoiseTrainConfig(ClassifierConfig):
    """``noise train``: the clean model fine-tuned with noise in one ``mode`` at one training
    SNR ``snr`` (a label as in :class:`NoiseSweepConfig`), evaluated at ``test_snrs`` with 1
    and ``votes`` votes."""

    finetune_epochs: int = 2
    hidden: int | None = None
    mode: str = "fixed"
    granularity: str = "layer"
    snr: str = "0dB"
    test_snrs: tuple[float, ...] = (-5.0, 0.0, 5.0, 10.0, 15.0, 20.0)
    votes: int = 15

    def __post_init__(self) -> None:
        check_choice("mode", self.mode, MODES)
        check_choice("granularity", self.granularity, GRANULARITIES)
        NoiseSpec(0.0, mode=self.mode, granularity=self.granularity)  # e.g. fixed + sample
        set_field(self, "snr", snr_label(parse_train_snr(self.snr, "snr")))
        check_int("votes", self.votes, 1, VOTES_MAX)
        check_int("finetune_epochs", self.finetune_epochs, 1, EPOCHS_MAX)
        set_field(self, "test_snrs", _check_snrs("test_snrs", self.test_snrs))
        _check_hidden(self.hidden)
        super().__post_init__()

    def noise_job(self) -> NoiseJob:
        snr = parse_train_snr(self.snr, "snr")
        return NoiseJob(
            self.job(self.hidden), (self.mode,), (snr,), self.granularity, self.finetune_epochs
        )


@dataclass(frozen=True)
class NoiseAttackConfig(ClassifierConfig):
    """``noise attack``: black-box transfer attacks (a ``substitute`` classifier trained on the
    target's labels for ``pool_size`` test inputs; ``attacks`` at each L-inf budget ``eps``)
    on a standard and an FGSM-``adv_eps`` adversarially trained target, with inference noise
    at ``test_snrs`` (``inf``: none) and ``votes``. ``noise_train_snr``: also both targets
    fine-tuned ``finetune_epochs`` epochs with relative noise at that SNR."""

    substitute: str = "mlp"
    pool_size: int = 2000
    substitute_epochs: int = 5
    attacks: tuple[str, ...] = ("fgsm", "pgd")
    eps: tuple[float, ...] = (0.1,)
    adv_eps: float = 0.1
    pgd_steps: int = 10
    noise_train_snr: float | None = None
    finetune_epochs: int = 2
    test_snrs: tuple[float, ...] = (math.inf, 20.0, 10.0, 5.0)
    votes: tuple[int, ...] = (1, 9)
    workers: int = 1

    def __post_init__(self) -> None:
        set_field(self, "attacks", check_choices("attacks", self.attacks, ("fgsm", "pgd")))
        set_field(self, "eps", check_floats("eps", self.eps, 0.0, 1.0))
        check_float("adv_eps", self.adv_eps, 0.0, 1.0)
        check_int("pool_size", self.pool_size, 10, COUNT_MAX)
        check_int("pgd_steps", self.pgd_steps, 1, STEPS_MAX)
        check_int("substitute_epochs", self.substitute_epochs, 1, EPOCHS_MAX)
        check_int("finetune_epochs", self.finetune_epochs, 1, EPOCHS_MAX)
        if self.noise_train_snr is not None:
            check_float("noise_train_snr", self.noise_train_snr, SNR_DB_MIN, SNR_DB_MAX)
        check_model(self.substitute, "substitute")  # it learns the target's labels
        set_field(self, "test_snrs", _check_snrs("test_snrs", self.test_snrs, allow_inf=True))
        set_field(self, "votes", check_ints("votes", self.votes, 1, VOTES_MAX))
        check_int("workers", self.workers, 1, WORKERS_MAX)
        super().__post_init__()

    def attack_job(self) -> AttackJob:
        return AttackJob(
            self.job(),
            self.substitute,
            self.pool_size,
            self.substitute_epochs,
            self.adv_eps,
            "fgsm",
            self.attacks,
            self.eps,
            self.pgd_steps,
            self.noise_train_snr,
            self.finetune_epochs,
        )


def _run(command: str, cfg: ClassifierConfig, out: str | Path | None, title: str) -> Run:
    return Run(
        f"noise {command}",
        asdict(cfg),
        out=out,
        seed=cfg.seed,
        title=f"noisyhw noise {command}: {title}",
    )


# --------------------------------------------------------------------------- runs
SWEEP_COLUMNS = ["mode", "train", "test_snr_db", "votes", "method", "accuracy", "eff_snr_db"]
TRAIN_COLUMNS = ["train", "test_snr_db", "votes", "accuracy", "eff_snr_db"]
ATTACK_COLUMNS = ["target", "attack", "eps", "test_snr_db", "votes", "clean_acc", "adv_acc"]


def sweep(
    cfg: NoiseSweepConfig, *, out: str | Path | None = None
) -> tuple[Run, list[dict[str, Any]], dict[str, Any]]:
    """Train (or load) the clean and noise-trained models, then every sweep point (resumable);
    plots and the effective-SNR table. Returns the run, its rows and, for results.json,
    ``clean_accuracy``, ``effective_snr`` and the training ``histories``."""
    name = f"{cfg.model} on {cfg.dataset}"
    run = _run("sweep", cfg, out, name)
    ctx = prepare_models(cfg.noise_job(), run.dir / "models")
    trials = grid(
        mode=list(cfg.modes),
        train=["clean", *cfg.train_snrs],
        test_snr_db=list(cfg.test_snrs),
        votes=list(cfg.votes),
        method=list(cfg.methods),
    )
    rows = run.sweep(
        eval_trial, trials, context=ctx, workers=cfg.workers, description="noise sweep"
    )
    _, eff = report_sweep(run, rows, ctx, name)
    extra = {
        "clean_accuracy": ctx["clean_acc"],
        "effective_snr": eff,
        "histories": ctx["histories"],
    }
    return run, rows, extra


def train(
    cfg: NoiseTrainConfig, *, out: str | Path | None = None
) -> tuple[Run, list[dict[str, Any]], dict[str, Any]]:
    """Train clean, fine-tune with noise; write ``noisy.pt`` (weights + fixed-mode references),
    the fine-tuning curve and accuracy vs test SNR. Returns the run, its rows and
    ``clean_accuracy`` and ``histories``."""
    job = cfg.noise_job()
    run = _run("train", cfg, out, f"{cfg.model} at {cfg.snr}")
    ctx = prepare_models(job, run.dir / "models")
    key = f"{cfg.mode}:{cfg.snr}"
    save_checkpoint(
        run.dir / "noisy.pt",
        {
            "model_name": cfg.model,
            "model_kwargs": job.base.model_kwargs,
            "input_shape": ctx["meta"]["input_shape"],
            "num_classes": ctx["meta"]["num_classes"],
            "dataset": cfg.dataset,
            "sequence": job.base.sequence,
            "state_dict": ctx["states"][key],
            "noise": {
                "mode": cfg.mode,
                "granularity": cfg.granularity,
                "train_snr": cfg.snr,
                "refs": ctx["refs"],
            },
        },
    )
    rows = []
    for t in ("clean", cfg.snr):
        for s in cfg.test_snrs:
            for k in sorted({1, cfg.votes}):
                p = {"mode": cfg.mode, "train": t, "test_snr_db": s, "votes": k, "method": "mean"}
                rows.append({**p, **eval_trial(p, ctx)})
    sec = run.section(f"{cfg.model} on {cfg.dataset}, noise-trained at {cfg.snr} ({cfg.mode} SNR)")
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
            title=f"{cfg.mode} SNR",
        )
    )
    sec.table(rows, TRAIN_COLUMNS)
    return run, rows, {"clean_accuracy": ctx["clean_acc"], "histories": ctx["histories"]}


def attack(
    cfg: NoiseAttackConfig, *, out: str | Path | None = None
) -> tuple[Run, list[dict[str, Any]], dict[str, Any]]:
    """Train targets and substitutes (cached), craft the transferred examples, evaluate every
    (target, attack, eps, SNR, votes) point; one plot per attack. Returns the run, its rows
    and ``targets`` (clean accuracy and substitute agreement per target)."""
    ajob = cfg.attack_job()
    run = _run("attack", cfg, out, f"{cfg.model} on {cfg.dataset}")
    ctx = prepare_attack(ajob, run.dir / "models")
    trials = grid(
        target=ajob.targets,
        attack=list(cfg.attacks),
        eps=list(cfg.eps),
        test_snr_db=[str(s) for s in cfg.test_snrs],
        votes=list(cfg.votes),
    )
    rows = run.sweep(attack_trial, trials, context=ctx, workers=cfg.workers, description="attack")
    sec = run.section(f"Black-box transfer attack on {cfg.model} ({cfg.dataset})")
    nt = cfg.noise_train_snr
    sec.text(
        "Substitute trained on each target's labels for the attacker's pool; adversarial examples "
        "crafted on the substitute. Inference noise: relative SNR per layer; 'no noise' is drawn at 40 dB. "
        + (
            f"-nt: fine-tuned {cfg.finetune_epochs} epochs with relative noise at {nt:g} dB "
            "(substitute trained on its noisy labels). "
            if nt is not None
            else ""
        )
        + "; ".join(
            f"{k}: clean acc {v['clean_acc']:.4f}, substitute agreement "
            f"{v['substitute_agreement']:.3f}"
            for k, v in ctx["info"].items()
        )
    )
    for a in cfg.attacks:
        sub = [
            dict(r, snr_x=40.0 if r["test_snr_db"] == "inf" else float(r["test_snr_db"]))
            for r in rows
            if r["attack"] == a
        ]
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
    return run, rows, {"targets": ctx["info"]}
