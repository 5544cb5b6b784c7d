"""The frozen study configs behind `nvm`, `noise` and `storage`: a bad field is one
ParameterError naming that field at construction; asdict(cfg) (the run's config, also after a
JSON round trip through results.json) rebuilds the same config; the CLI names the option; the
thin CLI modules import no plotting or report code."""

from __future__ import annotations

import ast
import dataclasses
import json
import math
from pathlib import Path

import pytest

from noisyhw.cli import main
from noisyhw.errors import ParameterError
from noisyhw.experiments import analog_runs as A
from noisyhw.experiments import nvm_runs as N
from noisyhw.experiments import storage as S
from noisyhw.sweep.grid import identity

DIGITS = {"dataset": "digits", "model": "mlp"}

# (config class, valid base fields, bad fields, the field the error must name)
BAD = [
    (N.NVMTrainConfig, {}, {"hidden": 0}, "hidden"),
    (N.NVMTrainConfig, {}, {"bits": (4, 4)}, "bits"),
    (N.NVMTrainConfig, {}, {"bits": (4, 4, 17)}, "bits"),
    (N.NVMTrainConfig, {}, {"qat_epochs": 0}, "qat_epochs"),
    (N.NVMTrainConfig, {}, {"qat_lr": 0.0}, "qat_lr"),
    (N.NVMTrainConfig, {}, {"scheduler": "linear"}, "scheduler"),
    (N.NVMTrainConfig, {}, {"on_off": 0.5}, "on_off"),
    (N.NVMTrainConfig, {}, {"adc_percentile": 20.0}, "adc_percentile"),
    (N.NVMTrainConfig, {}, {"corpus": "licenses"}, "corpus"),  # charlm only
    (N.NVMTrainConfig, {}, {"train_chars": 100, "seq_len": 64}, "train_chars"),
    (N.NVMSweepConfig, {}, {"fixed_bits": 3}, "fixed_bits"),  # with vary=all
    (N.NVMSweepConfig, {}, {"prog_noise": (0.0, math.inf)}, "prog_noise"),
    (N.NVMSweepConfig, {}, {"adc_noise": (math.nan,)}, "adc_noise"),
    (N.NVMSweepConfig, {}, {"qat": ()}, "qat"),
    (N.NVMSweepConfig, {}, {"qat": ("maybe",)}, "qat"),
    (N.NVMSweepConfig, {}, {"bits": (2, 3)}, "base_bits"),  # QAT noise trials need base bits
    (N.NVMSweepConfig, {}, {"repeats": 0}, "repeats"),
    (N.NVMSweepConfig, {}, {"workers": 0}, "workers"),
    (N.NVMEnergyConfig, {}, {"task": "speech"}, "task"),
    (N.NVMEnergyConfig, {}, {"sweep_bits": ()}, "sweep_bits"),
    (N.NVMEnergyConfig, {}, {"sweep_bits": (4, 0)}, "sweep_bits"),
    (N.NVMEnergyConfig, {}, {"hidden": N.HIDDEN_MAX + 1}, "hidden"),
    (A.NoiseSweepConfig, DIGITS, {"modes": ("absolute",)}, "modes"),
    (A.NoiseSweepConfig, DIGITS, {"granularity": "sample"}, "granularity"),  # with fixed
    (A.NoiseSweepConfig, DIGITS, {"train_snrs": ("400dB",)}, "train_snrs"),
    (A.NoiseSweepConfig, DIGITS, {"train_snrs": ("4..1",)}, "train_snrs"),
    (A.NoiseSweepConfig, DIGITS, {"train_snrs": ()}, "train_snrs"),
    (A.NoiseSweepConfig, DIGITS, {"test_snrs": (math.inf,)}, "test_snrs"),
    (A.NoiseSweepConfig, DIGITS, {"votes": (1, 0)}, "votes"),
    (A.NoiseSweepConfig, DIGITS, {"methods": ("median",)}, "methods"),
    (A.NoiseSweepConfig, DIGITS, {"hidden": 0}, "hidden"),
    (A.NoiseSweepConfig, DIGITS, {"model": "transformer"}, "model"),
    (A.NoiseSweepConfig, DIGITS, {"n_train": 0}, "n_train"),
    (A.NoiseSweepConfig, DIGITS, {"epochs": 0}, "epochs"),
    (A.NoiseSweepConfig, {"model": "mlp"}, {"dataset": "fortunes"}, "dataset"),
    (A.NoiseTrainConfig, DIGITS, {"snr": "20>x"}, "snr"),
    (A.NoiseTrainConfig, DIGITS, {"mode": "absolute"}, "mode"),
    (A.NoiseTrainConfig, DIGITS, {"votes": 0}, "votes"),
    (A.NoiseTrainConfig, DIGITS, {"finetune_epochs": 0}, "finetune_epochs"),
    (A.NoiseAttackConfig, DIGITS, {"substitute": "char_lstm"}, "substitute"),
    (A.NoiseAttackConfig, DIGITS, {"eps": (0.1, 2.0)}, "eps"),
    (A.NoiseAttackConfig, DIGITS, {"attacks": ("cw",)}, "attacks"),
    (A.NoiseAttackConfig, DIGITS, {"noise_train_snr": math.nan}, "noise_train_snr"),
    (A.NoiseAttackConfig, DIGITS, {"test_snrs": (math.nan,)}, "test_snrs"),
    (A.NoiseAttackConfig, DIGITS, {"pool_size": 9}, "pool_size"),
    (S.CampaignConfig, {}, {"study": "nope"}, "study"),
    (S.CampaignConfig, {}, {"trials": 0}, "trials"),
    (S.CampaignConfig, {}, {"trials": 5, "min_failures": 6}, "min_failures"),
    (S.CampaignConfig, {}, {"bers": (1e-3, 2.0)}, "bers"),
    (S.CampaignConfig, {}, {"configs": (("float32",),)}, "configs"),
    # a bad name inside a (representation, protection) pair names its part
    (S.CampaignConfig, {}, {"configs": (("float32", "bogus"),)}, "protection"),
    (S.CampaignConfig, {}, {"configs": (("int8", "none"),)}, "representation"),
    (S.CampaignConfig, {}, {"dataset": "fortunes"}, "dataset"),
    (S.CampaignConfig, {}, {"model": "bogus"}, "model"),
    (S.CampaignConfig, {}, {"margin": -1.0}, "margin"),
    (S.CampaignConfig, {}, {"model_file": "/missing/model.pt"}, "model_file"),
    (S.DistortionConfig, {}, {"n": (2, 30)}, "n"),
]


@pytest.mark.parametrize(
    ("cls", "base", "bad", "field"), BAD, ids=[f"{c.__name__}-{f}" for c, _, _, f in BAD]
)
def test_a_bad_field_is_one_parameter_error_naming_it(cls, base, bad, field):
    with pytest.raises(ParameterError) as err:
        cls(**{**base, **bad})
    assert err.value.name == field


VALID = [
    N.NVMTrainConfig(bits=(6, 3, 6), hidden=16, epochs=2, device="cpu"),
    N.NVMSweepConfig(bits=[2, 4], read_noise=(), qat=["ptq", "qat"], workers=2),
    N.NVMEnergyConfig(bits=(4, 4, 8), hidden=8, sweep_bits=[2, 4]),
    A.NoiseSweepConfig(**DIGITS, train_snrs=["0", "-2..4dB", "20>10"], test_snrs=[0, 10]),
    A.NoiseTrainConfig(**DIGITS, snr="20>0dB", votes=3),
    A.NoiseAttackConfig(**DIGITS, test_snrs=(math.inf, 5.0), noise_train_snr=5.0),
    S.CampaignConfig(configs=[["float32", "none"], ["hwo8", "nulling"]], bers=[1e-4, 1e-2]),
    S.DistortionConfig(n=[2, 4]),
]


@pytest.mark.parametrize("cfg", VALID, ids=[type(c).__name__ for c in VALID])
def test_asdict_rebuilds_the_config_also_through_json(cfg):
    d = dataclasses.asdict(cfg)
    assert type(cfg)(**d) == cfg
    # results.json holds the config as JSON: lists for tuples, yet the same config comes back
    again = type(cfg)(**json.loads(json.dumps(d)))
    assert again == cfg and dataclasses.asdict(again) == d
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.seed = 1  # type: ignore[misc]
    # the run's identity leaves out the runtime fields
    assert not {"device", "workers"} & set(identity(d))


def test_fields_are_normalised_at_construction():
    cfg = A.NoiseSweepConfig(**DIGITS, train_snrs=["0", "-2..4", "20>10"])
    assert cfg.train_snrs == ("0dB", "-2..4dB", "20>10dB")
    assert [A.parse_train_snr(t) for t in cfg.train_snrs] == [0.0, (-2.0, 4.0), [20.0, 10.0]]
    assert A.NoiseSweepConfig(model="mlp").dataset in ("fashion-mnist", "digits")  # auto
    s = N.NVMSweepConfig(read_noise=(), adc_noise=(1.0,)).study()
    assert s.noise == {"prog": (0.0, 0.02, 0.05, 0.1), "adc": (1.0,)}
    assert s.qat == (False, True) and s.noise_models == ("ptq", "qat")
    fcfg, qcfg = N.NVMTrainConfig(qat_epochs=2, qat_lr=0.5, qat_batches=7).train_configs()
    assert (qcfg.epochs, qcfg.lr, qcfg.max_batches, qcfg.scheduler) == (2, 0.5, 7, None)
    assert fcfg.max_batches is None


def _json(cfg) -> dict:
    return json.loads(json.dumps(dataclasses.asdict(cfg)))


def test_the_run_config_is_asdict_of_the_study_config(tmp_path):
    out = tmp_path / "d"
    assert main(["storage", "distortion", "--n", "2,3", "--out", str(out), "--quiet"]) == 0
    res = json.loads((out / "results.json").read_text())
    assert res["config"] == _json(S.DistortionConfig(n=(2, 3)))
    out = tmp_path / "e"
    args = ["nvm", "energy", "--hidden", "8", "--dac-bits", "3", "--sweep-bits", "4"]
    assert main([*args, "--out", str(out), "--quiet"]) == 0
    res = json.loads((out / "results.json").read_text())
    assert res["config"] == _json(N.NVMEnergyConfig(hidden=8, bits=(4, 3, 4), sweep_bits=(4,)))


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["nvm", "sweep", "--fixed-bits", "3"], "--fixed-bits"),
        (["nvm", "sweep", "--bits", "2,3"], "--base-bits"),
        (["nvm", "sweep", "--qat-batches", "0"], "--qat-batches"),
        (["nvm", "train", "--on-off", "0.5"], "--on-off"),
        (["nvm", "train", "--adc-percentile", "20"], "--adc-percentile"),
        (["nvm", "energy", "--sweep-bits", "17"], "--sweep-bits"),
        (["nvm", "energy", "--seq-len", "1"], "--seq-len"),
        (["noise", "train", "--snr", "4..1"], "--snr"),
        (["noise", "sweep", "--train-snrs", "0,400"], "--train-snrs"),
        (["noise", "sweep", "--hidden", "0"], "--hidden"),
        (["noise", "attack", "--pool-size", "5"], "--pool-size"),
        (["noise", "attack", "--substitute", "char_lstm"], "--substitute"),
        (["storage", "campaign", "-p", "bogus"], "--protections"),
        (["storage", "campaign", "-r", "int8"], "--representations"),
        (["storage", "campaign", "--configs", "int8/none"], "--configs"),
        (["storage", "campaign", "--chunk", "0"], "--chunk"),
        (["storage", "distortion", "--n", "2,30"], "--n"),
    ],
)
def test_the_cli_error_names_the_option(args, option, tmp_path, capsys):
    out = tmp_path / "x"
    extra = ["--dataset", "digits", "--model", "mlp"] if args[0] == "noise" else []
    assert main([*args, *extra, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {option}:")
    assert not out.exists()


SRC = Path(__file__).resolve().parents[2] / "src" / "noisyhw"
THIN = [
    "cli/nvm.py",
    "cli/analog.py",
    "cli/storage.py",
    *(str(p.relative_to(SRC)) for p in sorted((SRC / "storage").glob("*.py"))),
]
PLOTTING = ("matplotlib", "noisyhw.sweep.report", "noisyhw.sweep.plots")
PLOT_NAMES = {"line_plot", "bar_plot", "heatmap", "Section", "Report"}


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """(modules, names) a source file imports (relative imports resolved)."""
    parts = ["noisyhw", *path.relative_to(SRC).with_suffix("").parts]
    modules, names = set(), set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = parts[: len(parts) - node.level] if node.level else []
            mod = ".".join([*base, *([node.module] if node.module else [])])
            modules.add(mod)
            modules |= {f"{mod}.{a.name}" for a in node.names}
            names |= {a.name for a in node.names}
    return modules, names


@pytest.mark.parametrize("rel", THIN)
def test_thin_modules_import_no_plotting_or_report(rel):
    modules, names = _imports(SRC / rel)
    assert not [m for m in modules if m.startswith(PLOTTING)], rel
    assert not names & PLOT_NAMES, rel
