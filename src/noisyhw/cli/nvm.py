"""``noisyhw nvm train|sweep|energy``: LSTMs on NVM crossbars (n-bit weights, DAC, ADC, noise)."""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import (
    BATCH_MAX,
    EPOCHS_MAX,
    ParameterError,
    check_choice,
    check_float,
    check_int,
    check_memory,
)
from .common import (
    COUNT_MAX,
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
    parse_strs,
    print_rows,
    resolve_device,
    tracked,
)

app = typer.Typer(
    help="NVM crossbar inference: quantized LSTM/GRU, QAT, device noise, energy.",
    no_args_is_help=True,
)

TaskOpt = Annotated[
    str,
    typer.Option(
        "--task", help="fmnist (row-sequential Fashion-MNIST LSTM) or charlm (character LSTM LM)."
    ),
]
#: the largest --hidden (a 4 x 65536^2 LSTM weight is already 64 GiB of float32)
HIDDEN_MAX = 65536
#: the longest charlm window and the most corpus characters
SEQ_LEN_MAX = 100_000
CHARS_MAX = 10**9
#: the most programmings per noise level, and the largest noise std (x range or LSB)
REPEATS_MAX = 1000
NOISE_MAX = 100.0


def _check_hidden(value: int) -> int:
    """``--hidden``, bounded by the memory of the LSTM it builds: 4 gates x hidden x hidden
    float32 weights, with gradients, Adam moments and a quantized copy (~64 h^2 bytes)."""
    check_int("--hidden", value, 1, HIDDEN_MAX)
    check_memory("--hidden", 64.0 * value * value, value, "the LSTM and its training state")
    return value


HiddenOpt = Annotated[
    int,
    typer.Option("--hidden", help="LSTM hidden size (memory-bounded).", callback=_check_hidden),
]
NTrainOpt = Annotated[int, typer.Option("--n-train", help="Training images (fmnist).")]
NTestOpt = Annotated[int, typer.Option("--n-test", help="Test images (fmnist).")]
CorpusOpt = Annotated[
    str | None,
    typer.Option("--corpus", help="charlm text: fortunes (default), licenses or a file path."),
]
EpochsOpt = Annotated[int, typer.Option("--epochs", help="Float training epochs.")]
QatEpochsOpt = Annotated[int, typer.Option("--qat-epochs", help="QAT fine-tuning epochs.")]
LrOpt = Annotated[float, typer.Option("--lr", help="Float training learning rate.")]
QatLrOpt = Annotated[float, typer.Option("--qat-lr", help="QAT learning rate.")]
BatchOpt = Annotated[int, typer.Option("--batch-size", help="Training batch size.")]
QatBatchesOpt = Annotated[
    int | None,
    typer.Option("--qat-batches", help="Cap on QAT batches per epoch (default: whole epoch)."),
]
SchedOpt = Annotated[
    str, typer.Option("--scheduler", help="Float training LR schedule: none, cosine or step.")
]
SeqLenOpt = Annotated[int, typer.Option("--seq-len", help="charlm characters per window.")]
TrainCharsOpt = Annotated[
    int, typer.Option("--train-chars", help="charlm: first N corpus characters for training.")
]
TestCharsOpt = Annotated[
    int, typer.Option("--test-chars", help="charlm: the next N characters for validation.")
]
GranOpt = Annotated[str, typer.Option("--weight-granularity", help="channel or layer.")]
OnOffOpt = Annotated[float, typer.Option("--on-off", help="Device on/off conductance ratio.")]
DacRangeOpt = Annotated[str, typer.Option("--dac-range", help="calibrated or learned.")]
AdcPctOpt = Annotated[
    float,
    typer.Option("--adc-percentile", help="ADC range: this percentile of calibration outputs."),
]
RootOpt = Annotated[Path | None, typer.Option("--root", help="Dataset folder.")]
# one bit width for weights, DAC and ADC, each overridable (train, energy)
BitsOpt = Annotated[
    int,
    typer.Option(
        "--bits",
        help="Weight = DAC = ADC bits, 1..16.",
        callback=lambda v: check_int("--bits", v, 1, 16),
    ),
]


def _bits_opt(name: str, what: str) -> Any:
    """``--weight-bits`` etc.: unset (None) means ``--bits``; else 1..16, checked while parsing."""
    return typer.Option(
        name,
        help=f"{what} bits, 1..16 (default: unset, i.e. --bits).",
        callback=lambda v: None if v is None else check_int(name, v, 1, 16),
    )


WeightBitsOpt = Annotated[int | None, _bits_opt("--weight-bits", "Weight")]
DacBitsOpt = Annotated[int | None, _bits_opt("--dac-bits", "DAC")]
AdcBitsOpt = Annotated[int | None, _bits_opt("--adc-bits", "ADC")]


def _bits(
    bits: int, weight_bits: int | None, dac_bits: int | None, adc_bits: int | None
) -> tuple[int, int, int]:
    """(weight, DAC, ADC) bits: ``--bits`` unless ``--weight-bits`` etc. are given."""
    return (
        bits if weight_bits is None else weight_bits,
        bits if dac_bits is None else dac_bits,
        bits if adc_bits is None else adc_bits,
    )


def _corpus(task: str, corpus: str | None) -> str:
    """``--corpus``: for ``--task charlm`` only (refused when given with another task); its
    text is checked here, before any folder (default: fortunes)."""
    from ..data import load_corpus
    from ..data.text import CORPORA
    from ..errors import DataError

    if corpus is not None and task != "charlm":
        raise ParameterError("--corpus", "is for --task charlm", corpus)
    corpus = "fortunes" if corpus is None else corpus
    if task == "charlm":
        if corpus not in CORPORA and not (corpus.strip() and Path(corpus).exists()):
            raise ParameterError(
                "--corpus",
                f"must be {', '.join(CORPORA)} or an existing text file or folder",
                corpus,
            )
        try:
            load_corpus(corpus, max_chars=1)  # an empty folder or file: one clear error here
        except DataError as exc:
            raise DataError(f"--corpus: {exc}") from None
    return corpus


def _check_toml(option: str, path: Path | None) -> None:
    """A given parameter file must be readable TOML with at least one entry."""
    from ..analog.nvm.energy import _read_toml
    from ..errors import DataError

    if path is None:
        return
    try:
        data = _read_toml(path, "")
    except DataError as exc:
        raise DataError(f"{option}: {exc}") from None
    if not data:
        raise ParameterError(option, "holds no entries (an empty TOML file)", str(path))


def _task(
    task: str,
    hidden: int,
    n_train: int,
    n_test: int,
    corpus: str,
    root: Path | None,
    seq_len: int = 64,
    train_chars: int = 400_000,
    test_chars: int = 40_000,
):
    from ..experiments.nvm import NVMTask

    check_int("--n-train", n_train, 1, COUNT_MAX)
    check_int("--n-test", n_test, 1, COUNT_MAX)
    check_int("--seq-len", seq_len, 2, SEQ_LEN_MAX)
    check_int("--train-chars", train_chars, 2 * seq_len, CHARS_MAX)
    check_int("--test-chars", test_chars, 2 * seq_len, CHARS_MAX)
    corpus = _corpus(task, corpus)
    return NVMTask(
        task,
        n_train=n_train,
        n_test=n_test,
        hidden=hidden,
        corpus=corpus,
        root=str(root) if root else None,
        seq_len=seq_len,
        train_chars=train_chars,
        test_chars=test_chars,
    )


def _base_spec(granularity: str, on_off: float, dac_range: str, adc_pct: float, seed: int):
    from ..analog.nvm import QuantSpec

    return QuantSpec(
        weight_granularity=granularity,
        on_off_ratio=on_off,
        dac_range=dac_range,
        adc_percentile=adc_pct,
        seed=seed,
    )


def _configs(
    epochs, qat_epochs, lr, qat_lr, seed, device, batch_size=128, qat_batches=None, scheduler="none"
):
    from ..train import TrainConfig

    check_int("--batch-size", batch_size, 1, BATCH_MAX)
    check_int("--epochs", epochs, 1, EPOCHS_MAX)
    check_int("--qat-epochs", qat_epochs, 1, EPOCHS_MAX)
    check_float("--lr", lr, 0.0, 100.0, lo_open=True)
    check_float("--qat-lr", qat_lr, 0.0, 100.0, lo_open=True)
    if qat_batches is not None:
        check_int("--qat-batches", qat_batches, 1, COUNT_MAX)
    check_choice("--scheduler", scheduler, ("none", "cosine", "step"))
    sched = None if scheduler == "none" else scheduler
    f = TrainConfig(
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        device=device,
        grad_clip=1.0,
        scheduler=sched,
    )
    return f, replace(f, epochs=qat_epochs, lr=qat_lr, scheduler=None, max_batches=qat_batches)


@app.command()
@tracked
def train(
    task: TaskOpt = "fmnist",
    bits: BitsOpt = 4,
    weight_bits: WeightBitsOpt = None,
    dac_bits: DacBitsOpt = None,
    adc_bits: AdcBitsOpt = None,
    hidden: HiddenOpt = 128,
    n_train: NTrainOpt = 12000,
    n_test: NTestOpt = 2000,
    corpus: CorpusOpt = None,
    epochs: EpochsOpt = 3,
    qat_epochs: QatEpochsOpt = 1,
    lr: LrOpt = 3e-3,
    qat_lr: QatLrOpt = 1e-3,
    batch_size: BatchOpt = 128,
    qat_batches: QatBatchesOpt = None,
    scheduler: SchedOpt = "none",
    seq_len: SeqLenOpt = 64,
    train_chars: TrainCharsOpt = 400_000,
    test_chars: TestCharsOpt = 40_000,
    weight_granularity: GranOpt = "channel",
    on_off: OnOffOpt = 100.0,
    dac_range: DacRangeOpt = "calibrated",
    adc_percentile: AdcPctOpt = 99.9,
    root: RootOpt = None,
    seed: SeedOpt = 0,
    device: DeviceOpt = "cpu",
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Train the float LSTM, then PTQ and QAT at the given bits; saves float.pt and qat.pt."""
    from ..analog.nvm import calibrate, quantize
    from ..experiments.nvm import (
        build_model,
        calib_inputs,
        load_task,
        metrics,
        train_float,
        train_qat,
    )
    from ..io import save_checkpoint
    from ..sweep import Run, line_plot

    apply_quiet(quiet)
    dev = resolve_device(device)
    t = _task(task, hidden, n_train, n_test, corpus, root, seq_len, train_chars, test_chars)
    base = _base_spec(weight_granularity, on_off, dac_range, adc_percentile, seed)
    wb, db, ab = _bits(bits, weight_bits, dac_bits, adc_bits)
    spec = base.with_(weight_bits=wb, dac_bits=db, adc_bits=ab)
    fcfg, qcfg = _configs(
        epochs, qat_epochs, lr, qat_lr, seed, dev, batch_size, qat_batches, scheduler
    )
    config = {
        "task": asdict(t),
        "spec": spec.to_dict(),
        "float": asdict(fcfg),
        "qat": asdict(qcfg),
        "device": dev,
    }
    run = Run("nvm train", config, out=out, seed=seed)
    train_ds, test, info = load_task(t, seed)
    fm, fh = train_float(t, fcfg, run.dir / "float_ckpt.pt")
    save_checkpoint(run.dir / "float.pt", {"state_dict": fm.state_dict(), "task": asdict(t)})
    ptq = quantize(fm, spec)
    calibrate(ptq, calib_inputs(train_ds, t.calib_samples))
    q, qh = train_qat(fm, spec, t, qcfg)
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
                **metrics(m, test, dev),
            }
        )
    sec = run.section(
        f"NVM {t.task}: float vs {spec.weight_bits}/{spec.dac_bits}/"
        f"{spec.adc_bits}-bit weights/DAC/ADC"
    )
    sec.text(
        f"Data: {info['dataset']}; hidden {t.hidden}; {epochs} float epochs, "
        f"{qat_epochs} QAT epoch(s)."
    )
    key = "val_perplexity" if t.task == "charlm" else "val_acc"
    p = line_plot(fh, "epoch", key, run.plot_path("float_curve.png"), title="float training")
    sec.image(p, "float training")
    sec.table(rows)
    del build_model, qh
    finish(run, rows, title="nvm train")


@app.command()
@tracked
def sweep(
    task: TaskOpt = "fmnist",
    bits: Annotated[str, typer.Option("--bits", help="Bit widths to sweep.")] = "2,3,4,5,6,8",
    vary: Annotated[
        str,
        typer.Option(
            "--vary",
            help="all (weight = DAC = ADC), weight, dac or adc (the others stay at --fixed-bits).",
        ),
    ] = "all",
    fixed_bits: Annotated[
        int | None,
        typer.Option("--fixed-bits", help="Bits of the converters not swept (default: float)."),
    ] = None,
    qat: Annotated[str, typer.Option("--qat", help="Which of ptq,qat to run.")] = "ptq,qat",
    base_bits: Annotated[int, typer.Option("--base-bits", help="Bits of the noise sweep.")] = 4,
    prog_noise: Annotated[
        str,
        typer.Option(
            "--prog-noise", help="Programming noise std, x conductance range ('' = none)."
        ),
    ] = "0,0.02,0.05,0.1",
    read_noise: Annotated[
        str, typer.Option("--read-noise", help="Read noise std, x G.")
    ] = "0,0.02,0.05,0.1",
    adc_noise: Annotated[
        str, typer.Option("--adc-noise", help="ADC noise std in LSB.")
    ] = "0,0.5,1,2",
    repeats: Annotated[int, typer.Option("--repeats", help="Programmings per noise level.")] = 3,
    float_control: Annotated[
        bool,
        typer.Option(
            "--float-control/--no-float-control",
            help="Also fine-tune the float model with the QAT budget (separates QAT's gain "
            "from extra training).",
        ),
    ] = True,
    hidden: HiddenOpt = 128,
    n_train: NTrainOpt = 12000,
    n_test: NTestOpt = 2000,
    corpus: CorpusOpt = None,
    epochs: EpochsOpt = 3,
    qat_epochs: QatEpochsOpt = 1,
    lr: LrOpt = 3e-3,
    qat_lr: QatLrOpt = 1e-3,
    batch_size: BatchOpt = 128,
    qat_batches: QatBatchesOpt = None,
    scheduler: SchedOpt = "none",
    seq_len: SeqLenOpt = 64,
    train_chars: TrainCharsOpt = 400_000,
    test_chars: TestCharsOpt = 40_000,
    weight_granularity: GranOpt = "channel",
    on_off: OnOffOpt = 100.0,
    dac_range: DacRangeOpt = "calibrated",
    adc_percentile: AdcPctOpt = 99.9,
    root: RootOpt = None,
    seed: SeedOpt = 0,
    device: DeviceOpt = "cpu",
    workers: WorkersOpt = 1,
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Metric vs bits (PTQ / QAT) and metric vs device/ADC noise; plots + report (resumable)."""
    from ..experiments.nvm import StudyConfig, run_study
    from ..sweep import Run

    apply_quiet(quiet)
    dev = resolve_device(device)
    t = _task(task, hidden, n_train, n_test, corpus, root, seq_len, train_chars, test_chars)
    modes = parse_strs("--qat", qat, ("ptq", "qat"))
    bit_list = [check_int("--bits", b, 1, 16) for b in parse_ints("--bits", bits, 1)]
    check_choice("--vary", vary, ("all", "weight", "dac", "adc"))
    check_int("--base-bits", base_bits, 1, 16)
    if fixed_bits is not None:  # given: checked, and refused where unused
        check_int("--fixed-bits", fixed_bits, 1, 16)
        if vary == "all":
            raise ParameterError(
                "--fixed-bits", "is for --vary weight, dac or adc (with all, every part varies)"
            )
    check_int("--repeats", repeats, 1, REPEATS_MAX)
    noise = {}
    for kind, text in (("prog", prog_noise), ("read", read_noise), ("adc", adc_noise)):
        if text.strip():
            noise[kind] = tuple(parse_floats(f"--{kind}-noise", text))
            for v in noise[kind]:
                check_float(f"--{kind}-noise", v, 0.0, NOISE_MAX)
    fcfg, qcfg = _configs(
        epochs, qat_epochs, lr, qat_lr, seed, dev, batch_size, qat_batches, scheduler
    )
    cfg = StudyConfig(
        bits=tuple(bit_list),
        qat=tuple(m == "qat" for m in modes),
        vary=vary,
        fixed_bits=fixed_bits,
        base_bits=base_bits,
        noise=noise,
        noise_models=tuple(modes),
        repeats=repeats,
        float_control=float_control,
        float_config=fcfg,
        qat_config=qcfg,
        base_spec=_base_spec(weight_granularity, on_off, dac_range, adc_percentile, seed),
    )
    config = {
        "task": asdict(t),
        "bits": list(cfg.bits),
        "vary": vary,
        "fixed_bits": fixed_bits,
        "qat": modes,
        "base_bits": base_bits,
        "noise": {k: list(v) for k, v in noise.items()},
        "repeats": repeats,
        "float_control": float_control,
        "float": asdict(fcfg),
        "qat_config": asdict(qcfg),
        "spec": cfg.base_spec.to_dict(),
        "device": dev,
        "workers": workers,
    }
    run = Run("nvm sweep", config, out=out, seed=seed)
    sec = run.section(f"NVM crossbar study: {t.task}")
    rows = run_study(run, t, cfg, sec, device=dev, workers=workers, prefix="")
    metric = t.metric
    cols = ["stage", "bits", "qat", "kind", "level", "model", metric, "vs_float"]
    finish(run, rows, cols, title=f"nvm sweep ({metric})")


@app.command()
@tracked
def energy(
    task: TaskOpt = "fmnist",
    bits: BitsOpt = 4,
    weight_bits: WeightBitsOpt = None,
    dac_bits: DacBitsOpt = None,
    adc_bits: AdcBitsOpt = None,
    hidden: HiddenOpt = 128,
    corpus: CorpusOpt = None,
    seq_len: Annotated[
        int, typer.Option("--seq-len", help="charlm characters per inference.")
    ] = 64,
    params: Annotated[
        Path | None,
        typer.Option("--params", help="Accelerator TOML (default: packaged nvm_energy.toml)."),
    ] = None,
    references: Annotated[
        Path | None,
        typer.Option("--references", help="Reference TOML (default: nvm_reference.toml)."),
    ] = None,
    sweep_bits: Annotated[
        str, typer.Option("--sweep-bits", help="Also tabulate these bits.")
    ] = "2,3,4,5,6,8",
    seed: SeedOpt = 0,
    out: OutOpt = None,
    output_format: FormatOpt = "table",
    quiet: QuietOpt = False,
) -> None:
    """Energy (ops/J), area efficiency (ops/s/mm^2) and utilisation of the study model on NVM
    crossbars next to reference GPU/FPGA/ASIC figures."""
    import torch

    from ..analog.nvm.energy import EnergyParams
    from ..experiments.nvm import NVMTask, build_model, efficiency_rows, like_for_like_rows
    from ..sweep import Run, bar_plot, line_plot

    apply_quiet(quiet)
    check_choice("--task", task, ("fmnist", "charlm"))
    corpus = _corpus(task, corpus)
    check_int("--seq-len", seq_len, 2, SEQ_LEN_MAX)
    bits_list = [
        check_int("--sweep-bits", b, 1, 16) for b in parse_ints("--sweep-bits", sweep_bits)
    ]
    for opt, path in (("--params", params), ("--references", references)):
        _check_toml(opt, path)
    p = EnergyParams.from_toml(params)
    if task == "fmnist":
        t = NVMTask("fmnist", hidden=hidden)
        info = {"input_shape": (28, 28), "num_classes": 10}
        example = torch.zeros(2, 28, 28)
    else:
        t = NVMTask("charlm", hidden=hidden, seq_len=seq_len, corpus=corpus)
        info = {"input_shape": (seq_len,), "num_classes": 96}
        example = torch.zeros(2, seq_len, dtype=torch.long)
    model = build_model(t, info, seed)
    wb, db, ab = _bits(bits, weight_bits, dac_bits, adc_bits)
    layers, refs, summ = efficiency_rows(
        model, example, (wb, db, ab), p, references, name=f"{task} LSTM-{hidden}"
    )
    config = {
        "task": task,
        "hidden": hidden,
        "bits": [wb, db, ab],
        "seq_len": seq_len,
        "params": str(params) if params else "nvm_energy.toml",
        "references": str(references) if references else "nvm_reference.toml",
    }
    run = Run("nvm energy", config, out=out, seed=seed)
    sec = run.section(f"Efficiency of the {task} LSTM (hidden {hidden}) at {wb}/{db}/{ab} bits")
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
    same_scope = like_for_like_rows(model, example, (wb, db, ab), p)
    sec.table(
        same_scope,
        ["scope", "nvm_ops_per_j", "digital_ops_per_j", "nvm_gain"],
        title="like for like: the same layers on a digital twin (SRAM weights, same periphery)",
    )
    sweep_rows = []
    for b in bits_list:
        _, _, s = efficiency_rows(model, example, b, p, references)
        sweep_rows.append({"bits": b, **s})
    if sweep_rows:
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
    print_rows(
        same_scope,
        ["scope", "nvm_ops_per_j", "digital_ops_per_j", "nvm_gain"],
        title="like for like (same layers, scope and bits on a digital twin)",
        fmt="table",
    )
    named = [r for r in refs if r["ops_per_j"]]
    pth = bar_plot(
        [r["name"] for r in named],
        [r["ops_per_j"] for r in named],
        run.plot_path("ops_per_j.png"),
        title="ops/J",
        ylabel="ops/J",
    )
    sec.image(pth, "energy efficiency vs references")
    finish(
        run,
        refs,
        ["name", "kind", "ops_per_j", "ops_per_s_per_mm2", "nvm_energy_gain", "nvm_area_gain"],
        title="nvm energy",
        layers=layers,
        summary=summ,
        bits_sweep=sweep_rows,
        like_for_like=same_scope,
    )
