"""``noisyhw nvm train|sweep|energy``: LSTMs on NVM crossbars (n-bit weights, DAC, ADC, noise)."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import check_int
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
HiddenOpt = Annotated[int, typer.Option("--hidden", help="LSTM hidden size (memory-bounded).")]
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


def _bits(bits: int, *each: int | None) -> tuple[int, int, int]:
    """(weight, DAC, ADC) bits: ``--bits`` unless ``--weight-bits`` etc. are given."""
    return tuple(bits if b is None else b for b in each)  # type: ignore[return-value]


def _model_fields(options: dict[str, Any]) -> dict[str, Any]:
    """The options of ``train`` and ``sweep`` that set :class:`NVMModelConfig` fields: each
    option has its field's name (``--qat-epochs`` -> ``qat_epochs``), ``device`` aside."""
    from ..experiments.nvm_runs import NVMModelConfig

    out = {f.name: options[f.name] for f in fields(NVMModelConfig) if f.name != "device"}
    out["root"] = None if options["root"] is None else str(options["root"])
    return out


def _noise(option: str, text: str) -> tuple[float, ...]:
    """``--prog-noise`` etc.: a list of stds; empty text: no trials of that kind."""
    return tuple(parse_floats(option, text)) if text.strip() else ()


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
    from ..experiments.nvm_runs import NVMTrainConfig
    from ..experiments.nvm_runs import train as run_train

    apply_quiet(quiet)
    cfg = NVMTrainConfig(
        bits=_bits(bits, weight_bits, dac_bits, adc_bits),
        **_model_fields(locals()),
        device=resolve_device(device),
    )
    run, rows = run_train(cfg, out=out)
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
    from ..experiments.nvm_runs import NVMSweepConfig
    from ..experiments.nvm_runs import sweep as run_sweep

    apply_quiet(quiet)
    cfg = NVMSweepConfig(
        bits=tuple(parse_ints("--bits", bits, 1)),
        vary=vary,
        fixed_bits=fixed_bits,
        qat=tuple(parse_strs("--qat", qat, ("ptq", "qat"))),
        base_bits=base_bits,
        prog_noise=_noise("--prog-noise", prog_noise),
        read_noise=_noise("--read-noise", read_noise),
        adc_noise=_noise("--adc-noise", adc_noise),
        repeats=repeats,
        float_control=float_control,
        workers=workers,
        **_model_fields(locals()),
        device=resolve_device(device),
    )
    run, rows = run_sweep(cfg, out=out)
    metric = cfg.nvm_task().metric
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
    from ..experiments.nvm_runs import LIKE_FOR_LIKE_COLUMNS, NVMEnergyConfig
    from ..experiments.nvm_runs import energy as run_energy

    apply_quiet(quiet)
    cfg = NVMEnergyConfig(
        task=task,
        bits=_bits(bits, weight_bits, dac_bits, adc_bits),
        hidden=hidden,
        corpus=corpus,
        seq_len=seq_len,
        params=None if params is None else str(params),
        references=None if references is None else str(references),
        sweep_bits=tuple(parse_ints("--sweep-bits", sweep_bits)),
        seed=seed,
    )
    run, refs, tables = run_energy(cfg, out=out)
    print_rows(
        tables["like_for_like"],
        LIKE_FOR_LIKE_COLUMNS,
        title="like for like (same layers, scope and bits on a digital twin)",
        fmt="table",
    )
    finish(
        run,
        refs,
        ["name", "kind", "ops_per_j", "ops_per_s_per_mm2", "nvm_energy_gain", "nvm_area_gain"],
        title="nvm energy",
        **tables,
    )
