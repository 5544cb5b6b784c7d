"""The ``noisyhw nvm train | sweep | energy`` studies: one frozen config each, every check at
construction (before any file is written), and the function that runs it into a run folder.

>>> cfg = NVMTrainConfig(bits=(4, 4, 4), hidden=64, epochs=1)   # doctest: +SKIP
>>> run, rows = train(cfg, out="runs/nvm")                        # doctest: +SKIP

The run's config is ``dataclasses.asdict(cfg)``; the CLI only maps options to fields (they share
names: ``--qat-epochs`` sets ``qat_epochs``) and prints the rows. The studies themselves (tasks,
trials, the bits and noise sweep, efficiency tables) live in :mod:`noisyhw.experiments.nvm`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import torch

from ..analog.nvm import QuantSpec, calibrate, quantize
from ..analog.nvm.energy import EnergyParams, _read_toml
from ..data import load_corpus
from ..data.text import CORPORA
from ..errors import (
    BATCH_MAX,
    COUNT_MAX,
    EPOCHS_MAX,
    DataError,
    ParameterError,
    check_choice,
    check_float,
    check_int,
    check_memory,
    check_seed,
    option_name,
)
from ..io import save_checkpoint
from ..sweep import Run, bar_plot, line_plot
from ..train import TrainConfig
from .config import WORKERS_MAX, check_choices, check_floats, check_ints, set_field
from .nvm import (
    NVMTask,
    StudyConfig,
    build_model,
    calib_inputs,
    efficiency_rows,
    like_for_like_rows,
    load_task,
    metrics,
    run_study,
    train_float,
    train_qat,
)

__all__ = [
    "NVMEnergyConfig",
    "NVMModelConfig",
    "NVMSweepConfig",
    "NVMTrainConfig",
    "energy",
    "sweep",
    "train",
]

TASKS = ("fmnist", "charlm")
#: the largest ``hidden`` (a 4 x 65536^2 LSTM weight is already 64 GiB of float32)
HIDDEN_MAX = 65536
#: the longest charlm window and the most corpus characters
SEQ_LEN_MAX = 100_000
CHARS_MAX = 10**9
#: the most programmings per noise level, and the largest noise std (x range or LSB)
REPEATS_MAX = 1000
NOISE_MAX = 100.0
SCHEDULERS = ("none", "cosine", "step")
VARY = ("all", "weight", "dac", "adc")


def check_hidden(value: int, name: str = "hidden") -> int:
    """``hidden``, bounded by the memory of the LSTM it builds: 4 gates x hidden x hidden
    float32 weights, with gradients, Adam moments and a quantized copy (~64 h^2 bytes)."""
    check_int(name, value, 1, HIDDEN_MAX)
    check_memory(name, 64.0 * value * value, value, "the LSTM and its training state")
    return value


def check_corpus(task: str, corpus: str | None) -> str:
    """The charlm text (None: fortunes), refused with another task; its text is read here (one
    character), so a missing or empty corpus fails before any folder."""
    if corpus is not None and task != "charlm":
        raise ParameterError("corpus", "is for --task charlm", corpus)
    corpus = "fortunes" if corpus is None else corpus
    if task == "charlm":
        if corpus not in CORPORA and not (corpus.strip() and Path(corpus).exists()):
            raise ParameterError(
                "corpus", f"must be {', '.join(CORPORA)} or an existing text file or folder", corpus
            )
        try:
            load_corpus(corpus, max_chars=1)  # an empty folder or file: one clear error here
        except DataError as exc:
            raise DataError(f"{option_name('corpus')}: {exc}") from None
    return corpus


def check_bits3(name: str, bits: Any) -> tuple[int, int, int]:
    """(weight, DAC, ADC) bits, each 1..16."""
    vals = check_ints(name, bits, 1, 16)
    if len(vals) != 3:
        raise ParameterError(name, "must be three bit widths: weight, DAC, ADC", bits)
    return vals  # type: ignore[return-value]


def _check_toml(name: str, path: str | None) -> None:
    """A given parameter file must be readable TOML with at least one entry."""
    if path is None:
        return
    try:
        data = _read_toml(path, "")
    except DataError as exc:
        raise DataError(f"{option_name(name)}: {exc}") from None
    if not data:
        raise ParameterError(name, "holds no entries (an empty TOML file)", str(path))


# --------------------------------------------------------------------------- configs
@dataclass(frozen=True)
class NVMModelConfig:
    """What ``nvm train`` and ``nvm sweep`` share: the task and its data (see
    :class:`~noisyhw.experiments.nvm.NVMTask`), the float and QAT training, and the fixed
    device/converter settings of every crossbar (``on_off``: device on/off conductance ratio;
    ``adc_percentile``: the ADC range as a percentile of calibration outputs)."""

    task: str = "fmnist"
    hidden: int = 128
    n_train: int = 12000
    n_test: int = 2000
    corpus: str | None = None
    seq_len: int = 64
    train_chars: int = 400_000
    test_chars: int = 40_000
    root: str | None = None
    epochs: int = 3
    qat_epochs: int = 1
    lr: float = 3e-3
    qat_lr: float = 1e-3
    batch_size: int = 128
    qat_batches: int | None = None
    scheduler: str = "none"
    weight_granularity: str = "channel"
    on_off: float = 100.0
    dac_range: str = "calibrated"
    adc_percentile: float = 99.9
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        check_choice("task", self.task, TASKS)
        check_hidden(self.hidden)
        check_int("n_train", self.n_train, 1, COUNT_MAX)
        check_int("n_test", self.n_test, 1, COUNT_MAX)
        check_int("seq_len", self.seq_len, 2, SEQ_LEN_MAX)
        check_int("train_chars", self.train_chars, 2 * self.seq_len, CHARS_MAX)
        check_int("test_chars", self.test_chars, 2 * self.seq_len, CHARS_MAX)
        check_corpus(self.task, self.corpus)
        check_seed("seed", self.seed)
        check_float("on_off", self.on_off, 1.0, lo_open=True, allow_inf=True)
        self.base_spec()  # QuantSpec's own checks of the other crossbar fields (same names)
        check_int("batch_size", self.batch_size, 1, BATCH_MAX)
        check_int("epochs", self.epochs, 1, EPOCHS_MAX)
        check_int("qat_epochs", self.qat_epochs, 1, EPOCHS_MAX)
        check_float("lr", self.lr, 0.0, 100.0, lo_open=True)
        check_float("qat_lr", self.qat_lr, 0.0, 100.0, lo_open=True)
        if self.qat_batches is not None:
            check_int("qat_batches", self.qat_batches, 1, COUNT_MAX)
        check_choice("scheduler", self.scheduler, SCHEDULERS)

    def nvm_task(self) -> NVMTask:
        """The study task these fields describe."""
        return NVMTask(
            self.task,
            n_train=self.n_train,
            n_test=self.n_test,
            hidden=self.hidden,
            corpus=self.corpus or "fortunes",
            root=self.root,
            seq_len=self.seq_len,
            train_chars=self.train_chars,
            test_chars=self.test_chars,
        )

    def base_spec(self) -> QuantSpec:
        """The crossbar settings every point shares (bits set per point)."""
        return QuantSpec(
            weight_granularity=self.weight_granularity,
            on_off_ratio=self.on_off,
            dac_range=self.dac_range,
            adc_percentile=self.adc_percentile,
            seed=self.seed,
        )

    def train_configs(self) -> tuple[TrainConfig, TrainConfig]:
        """(float training, QAT fine-tuning): QAT has its own epochs, lr and batch cap, no
        LR schedule."""
        f = TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            seed=self.seed,
            device=self.device,
            grad_clip=1.0,
            scheduler=None if self.scheduler == "none" else self.scheduler,
        )
        q = replace(f, epochs=self.qat_epochs, lr=self.qat_lr, scheduler=None)
        return f, replace(q, max_batches=self.qat_batches)


@dataclass(frozen=True)
class NVMTrainConfig(NVMModelConfig):
    """``nvm train``: the float LSTM, then PTQ and QAT at ``bits`` = (weight, DAC, ADC)."""

    bits: tuple[int, int, int] = (4, 4, 4)

    def __post_init__(self) -> None:
        set_field(self, "bits", check_bits3("bits", self.bits))
        super().__post_init__()

    def spec(self) -> QuantSpec:
        wb, db, ab = self.bits
        return self.base_spec().with_(weight_bits=wb, dac_bits=db, adc_bits=ab)


@dataclass(frozen=True)
class NVMSweepConfig(NVMModelConfig):
    """``nvm sweep``: the metric vs ``bits`` (PTQ and/or QAT, per ``qat``; ``vary`` names the
    converters swept, the others stay at ``fixed_bits``, None = float) and vs device/ADC noise
    at ``base_bits`` (``prog_noise`` x conductance range, ``read_noise`` x G, ``adc_noise`` in
    LSB; an empty list skips that kind), ``repeats`` programmings per level. ``float_control``
    also fine-tunes the float model with the QAT budget."""

    bits: tuple[int, ...] = (2, 3, 4, 5, 6, 8)
    vary: str = "all"
    fixed_bits: int | None = None
    qat: tuple[str, ...] = ("ptq", "qat")
    base_bits: int = 4
    prog_noise: tuple[float, ...] = (0.0, 0.02, 0.05, 0.1)
    read_noise: tuple[float, ...] = (0.0, 0.02, 0.05, 0.1)
    adc_noise: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)
    repeats: int = 3
    float_control: bool = True
    workers: int = 1

    def __post_init__(self) -> None:
        super().__post_init__()
        set_field(self, "qat", check_choices("qat", self.qat, ("ptq", "qat")))
        set_field(self, "bits", check_ints("bits", self.bits, 1, 16))
        check_choice("vary", self.vary, VARY)
        check_int("base_bits", self.base_bits, 1, 16)
        if self.fixed_bits is not None:  # given: checked, and refused where unused
            check_int("fixed_bits", self.fixed_bits, 1, 16)
            if self.vary == "all":
                raise ParameterError(
                    "fixed_bits", "is for --vary weight, dac or adc (with all, every part varies)"
                )
        check_int("repeats", self.repeats, 1, REPEATS_MAX)
        for kind in ("prog_noise", "read_noise", "adc_noise"):
            vals = check_floats(kind, getattr(self, kind), 0.0, NOISE_MAX, allow_empty=True)
            set_field(self, kind, vals)
        noisy = any((self.prog_noise, self.read_noise, self.adc_noise))
        if noisy and "qat" in self.qat and self.base_bits not in self.bits:
            raise ParameterError(
                "base_bits",
                f"must be one of --bits {list(self.bits)} (the QAT noise trials use its model)",
                self.base_bits,
            )
        check_int("workers", self.workers, 1, WORKERS_MAX)
        self.study()  # StudyConfig's own checks

    def study(self) -> StudyConfig:
        """The :class:`~noisyhw.experiments.nvm.StudyConfig` of :func:`run_study`."""
        fcfg, qcfg = self.train_configs()
        noise = {
            k: v
            for k, v in (
                ("prog", self.prog_noise),
                ("read", self.read_noise),
                ("adc", self.adc_noise),
            )
            if v
        }
        return StudyConfig(
            bits=self.bits,
            qat=tuple(m == "qat" for m in self.qat),
            vary=self.vary,
            fixed_bits=self.fixed_bits,
            base_bits=self.base_bits,
            noise=noise,
            noise_models=self.qat,
            repeats=self.repeats,
            float_control=self.float_control,
            float_config=fcfg,
            qat_config=qcfg,
            base_spec=self.base_spec(),
        )


@dataclass(frozen=True)
class NVMEnergyConfig:
    """``nvm energy``: energy (ops/J), area efficiency and utilisation of the study LSTM on NVM
    crossbars at ``bits`` = (weight, DAC, ADC), next to reference GPU/FPGA/ASIC figures, and
    tabulated at each of ``sweep_bits`` (weight = DAC = ADC). ``params`` / ``references``:
    TOML files (None: the packaged ``nvm_energy.toml`` / ``nvm_reference.toml``)."""

    task: str = "fmnist"
    bits: tuple[int, int, int] = (4, 4, 4)
    hidden: int = 128
    corpus: str | None = None
    seq_len: int = 64
    params: str | None = None
    references: str | None = None
    sweep_bits: tuple[int, ...] = (2, 3, 4, 5, 6, 8)
    seed: int = 0

    def __post_init__(self) -> None:
        check_choice("task", self.task, TASKS)
        check_corpus(self.task, self.corpus)
        check_int("seq_len", self.seq_len, 2, SEQ_LEN_MAX)
        set_field(self, "sweep_bits", check_ints("sweep_bits", self.sweep_bits, 1, 16))
        set_field(self, "bits", check_bits3("bits", self.bits))
        check_hidden(self.hidden)
        check_seed("seed", self.seed)
        for name in ("params", "references"):
            _check_toml(name, getattr(self, name))
        self.energy_params()  # its fields are checked too

    def energy_params(self) -> EnergyParams:
        return EnergyParams.from_toml(self.params)


# --------------------------------------------------------------------------- runs
def train(
    cfg: NVMTrainConfig, *, out: str | Path | None = None
) -> tuple[Run, list[dict[str, Any]]]:
    """Train the float LSTM, then PTQ and QAT at ``cfg.bits``; saves ``float.pt`` and
    ``qat.pt`` in the run folder; a report section with the float learning curve. Returns the
    run (to finish) and one row per model (float, ptq, qat)."""
    t, spec = cfg.nvm_task(), cfg.spec()
    fcfg, qcfg = cfg.train_configs()
    run = Run("nvm train", asdict(cfg), out=out, seed=cfg.seed)
    train_ds, test, info = load_task(t, cfg.seed)
    fm, fh = train_float(t, fcfg, run.dir / "float_ckpt.pt")
    save_checkpoint(run.dir / "float.pt", {"state_dict": fm.state_dict(), "task": asdict(t)})
    ptq = quantize(fm, spec)
    calibrate(ptq, calib_inputs(train_ds, t.calib_samples))
    q, _ = train_qat(fm, spec, t, qcfg)
    save_checkpoint(
        run.dir / "qat.pt",
        {"state_dict": q.state_dict(), "task": asdict(t), "spec": spec.to_dict()},
    )
    rows = []
    for name, m in (("float", fm), ("ptq", ptq), ("qat", q)):
        rows.append(
            {
                "model": name,
                "weight_bits": None if name == "float" else spec.weight_bits,
                "dac_bits": None if name == "float" else spec.dac_bits,
                "adc_bits": None if name == "float" else spec.adc_bits,
                **metrics(m, test, cfg.device),
            }
        )
    sec = run.section(
        f"NVM {t.task}: float vs {spec.weight_bits}/{spec.dac_bits}/"
        f"{spec.adc_bits}-bit weights/DAC/ADC"
    )
    sec.text(
        f"Data: {info['dataset']}; hidden {t.hidden}; {cfg.epochs} float epochs, "
        f"{cfg.qat_epochs} QAT epoch(s)."
    )
    key = "val_perplexity" if t.task == "charlm" else "val_acc"
    p = line_plot(fh, "epoch", key, run.plot_path("float_curve.png"), title="float training")
    sec.image(p, "float training")
    sec.table(rows)
    return run, rows


def sweep(
    cfg: NVMSweepConfig, *, out: str | Path | None = None
) -> tuple[Run, list[dict[str, Any]]]:
    """Metric vs bits (PTQ / QAT) and vs device/ADC noise, with plots and report (resumable:
    :func:`noisyhw.experiments.nvm.run_study`). Returns the run and its rows."""
    t = cfg.nvm_task()
    run = Run("nvm sweep", asdict(cfg), out=out, seed=cfg.seed)
    sec = run.section(f"NVM crossbar study: {t.task}")
    rows = run_study(run, t, cfg.study(), sec, device=cfg.device, workers=cfg.workers, prefix="")
    return run, rows


#: the columns of the like-for-like table (the CLI prints it beside the main one)
LIKE_FOR_LIKE_COLUMNS = ["scope", "nvm_ops_per_j", "digital_ops_per_j", "nvm_gain"]


def energy(
    cfg: NVMEnergyConfig, *, out: str | Path | None = None
) -> tuple[Run, list[dict[str, Any]], dict[str, Any]]:
    """Per-layer costs, the summary, the reference table, the like-for-like comparison with a
    digital twin and the bits sweep, with plots. Returns the run, the reference rows and the
    other tables (``layers``, ``summary``, ``bits_sweep``, ``like_for_like``) for results.json."""
    p = cfg.energy_params()
    if cfg.task == "fmnist":
        t = NVMTask("fmnist", hidden=cfg.hidden)
        info = {"input_shape": (28, 28), "num_classes": 10}
        example = torch.zeros(2, 28, 28)
    else:
        corpus = cfg.corpus or "fortunes"
        t = NVMTask("charlm", hidden=cfg.hidden, seq_len=cfg.seq_len, corpus=corpus)
        info = {"input_shape": (cfg.seq_len,), "num_classes": 96}
        example = torch.zeros(2, cfg.seq_len, dtype=torch.long)
    model = build_model(t, info, cfg.seed)
    wb, db, ab = cfg.bits
    layers, refs, summ = efficiency_rows(
        model, example, cfg.bits, p, cfg.references, name=f"{cfg.task} LSTM-{cfg.hidden}"
    )
    run = Run("nvm energy", asdict(cfg), out=out, seed=cfg.seed)
    sec = run.section(
        f"Efficiency of the {cfg.task} LSTM (hidden {cfg.hidden}) at {wb}/{db}/{ab} bits"
    )
    sec.table(layers, title="per crossbar layer (per MVM)")
    sec.table([summ], title="per inference")
    sec.table(
        refs,
        [
            "name",
            "kind",
            "precision",
            "ops_per_j",
            "ops_per_s_per_mm2",
            "nvm_energy_gain",
            "nvm_area_gain",
            "source",
        ],
        title="vs references",
    )
    same_scope = like_for_like_rows(model, example, cfg.bits, p)
    sec.table(
        same_scope,
        LIKE_FOR_LIKE_COLUMNS,
        title="like for like: the same layers on a digital twin (SRAM weights, same periphery)",
    )
    sweep_rows = []
    for b in cfg.sweep_bits:
        _, _, s = efficiency_rows(model, example, b, p, cfg.references)
        sweep_rows.append({"bits": b, **s})
    pth = line_plot(
        sweep_rows,
        "bits",
        "ops_per_j",
        run.plot_path("ops_per_j_vs_bits.png"),
        logy=True,
        title="energy efficiency vs bits (weight = DAC = ADC)",
    )
    sec.image(pth, "ops/J vs bits")
    sec.table(sweep_rows, title="vs bits")
    named = [r for r in refs if r["ops_per_j"]]
    pth = bar_plot(
        [r["name"] for r in named],
        [r["ops_per_j"] for r in named],
        run.plot_path("ops_per_j.png"),
        title="ops/J",
        ylabel="ops/J",
    )
    sec.image(pth, "energy efficiency vs references")
    extra = {
        "layers": layers,
        "summary": summ,
        "bits_sweep": sweep_rows,
        "like_for_like": same_scope,
    }
    return run, refs, extra
