"""The study configs the CLI builds (one frozen dataclass per study, in experiments/): a bad
field is one ParameterError naming that field (the CLI shows it as the option), a config
survives ``asdict`` -> JSON -> constructor, and a run's stored config is ``asdict`` of it."""

import dataclasses
import json

import pytest

from noisyhw.cli import main
from noisyhw.errors import ParameterError, option_name
from noisyhw.experiments import classify, demo, freq_study, prune

#: one valid config per study (no data loads at construction)
VALID = [
    classify.TrainStudy(dataset="digits", model="mlp", epochs=1, n_train=100),
    classify.EvaluateStudy(checkpoint="runs/x/model.pt"),
    prune.PruneStudy(
        dataset="digits", methods=("reweighted", "magnitude"), tune_lam=(1e-3, 1e-2), n_val=50
    ),
    freq_study.FreqStats(dataset="digits", upscale=2, n=300),
    freq_study.FreqTrain(epochs=1, n_train=256),
    freq_study.FreqMatched(source="photos", crop=64, n_train=100, n_test=50),
    freq_study.FreqSelect(preset=24),
    freq_study.FreqSelect(heat="runs/x/heat.json", k=4),
    demo.DemoStudy(only=("pcm",), dataset="digits", fast=True),
]

#: (config class, base fields, the bad field, its bad value, the field the error must name)
BAD = [
    (classify.TrainStudy, {}, "model", "no_such_net", "model"),
    (classify.TrainStudy, {}, "epochs", 0, "epochs"),
    (classify.TrainStudy, {}, "n_train", 0, "n_train"),
    (classify.TrainStudy, {}, "scheduler", "linear", "scheduler"),
    (classify.TrainStudy, {}, "optimizer", "rmsprop", "optimizer"),
    (classify.TrainStudy, {}, "batch_size", 0, "batch_size"),
    (classify.EvaluateStudy, {"checkpoint": "m.pt"}, "split", "val", "split"),
    (classify.EvaluateStudy, {}, "checkpoint", "", "checkpoint"),
    (prune.PruneStudy, {}, "structures", ("filter", "nope"), "structures"),
    (prune.PruneStudy, {}, "methods", (), "methods"),
    (prune.PruneStudy, {}, "sparsities", (0.5, 1.5), "sparsities"),
    (prune.PruneStudy, {}, "optimizer", "adamw", "optimizer"),
    (prune.PruneStudy, {}, "seeds", 0, "seeds"),
    (prune.PruneStudy, {"n_val": 10}, "tune_rho", (0.0, 0.1), "tune_rho"),
    (prune.PruneStudy, {"n_val": 10, "methods": ("magnitude",)}, "tune_lam", (1e-3,), "tune_lam"),
    (prune.PruneStudy, {"n_val": 0}, "tune_lam", (1e-3,), "n_val"),
    (prune.PruneStudy, {"model": "mlp"}, "width", 8, "width"),
    (prune.PruneStudy, {}, "lam", float("nan"), "lam"),
    (freq_study.FreqStats, {}, "chroma", "422", "chroma"),
    (freq_study.FreqStats, {}, "upscale", 0, "upscale"),
    (freq_study.FreqStats, {}, "dataset", "fortunes", "dataset"),
    (freq_study.FreqStats, {}, "size", 4, "size"),
    (freq_study.FreqTrain, {}, "channels", 7, "channels"),
    (freq_study.FreqTrain, {}, "size", 12, "size"),
    (freq_study.FreqTrain, {}, "dataset", "digits", "dataset"),
    (freq_study.FreqTrain, {}, "root", "/tmp", "root"),
    (freq_study.FreqTrain, {}, "top_k", 0, "top_k"),
    (freq_study.FreqMatched, {}, "source", "video", "source"),
    (freq_study.FreqMatched, {}, "crop", 48, "crop"),
    (freq_study.FreqMatched, {}, "seeds", 0, "seeds"),
    (freq_study.FreqSelect, {"preset": 24}, "k", 3, "k"),
    (freq_study.FreqSelect, {}, "preset", 20, "preset"),
    (freq_study.FreqSelect, {"heat": "h.json"}, "k", 0, "k"),
    (freq_study.FreqSelect, {}, "heat", None, "heat"),
    (demo.DemoStudy, {}, "only", (), "only"),
    (demo.DemoStudy, {}, "only", ("pcm", "nope"), "only"),
    (demo.DemoStudy, {}, "dataset", "fortunes", "dataset"),
]


@pytest.mark.parametrize(("cls", "base", "field", "value", "named"), BAD)
def test_a_bad_field_names_the_field(cls, base, field, value, named):
    assert named in {f.name for f in dataclasses.fields(cls)}
    with pytest.raises(ParameterError) as info:
        cls(**{**base, field: value})
    assert info.value.name == named
    assert option_name(info.value.name).startswith("--")  # the CLI shows it as an option


@pytest.mark.parametrize("cfg", VALID, ids=lambda c: type(c).__name__)
def test_asdict_json_round_trip(cfg):
    data = json.loads(json.dumps(dataclasses.asdict(cfg)))  # as results.json stores it
    again = type(cfg)(**data)
    assert again == cfg
    assert dataclasses.asdict(again) == dataclasses.asdict(cfg)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.out = "elsewhere"


def test_auto_dataset_is_resolved_once():
    cfg = classify.TrainStudy(dataset="auto", model="mlp")
    assert cfg.dataset in ("fashion-mnist", "digits")
    assert classify.TrainStudy(**dataclasses.asdict(cfg)) == cfg


def test_the_run_config_is_asdict_of_the_config_the_cli_builds(tmp_path):
    out = tmp_path / "sel"
    assert main(["freq", "select", "--preset", "32", "--out", str(out)]) == 0
    stored = json.loads((out / "results.json").read_text())["config"]
    expected = dataclasses.asdict(freq_study.FreqSelect(preset=32, out=str(out)))
    assert stored == json.loads(json.dumps(expected))
    # and running the config directly writes the same
    out2 = tmp_path / "sel2"
    outcome = freq_study.run(freq_study.FreqSelect(preset=32, out=str(out2)))
    direct = json.loads(outcome.results.read_text())
    assert direct["config"] == {**stored, "out": str(out2)}
    assert direct["rows"] == json.loads((out / "results.json").read_text())["rows"]


def test_prune_cli_options_map_to_fields(tmp_path, capsys):
    # a bad value inside the config comes back naming the option typed, and nothing is written
    out = tmp_path / "p"
    argv = ["prune", "sweep", "--dataset", "digits", "--sparsities", "0.5,1.5", "--out", str(out)]
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("error: --sparsities:")
    assert not out.exists()
    assert main(["freq", "select", "--preset", "20", "--out", str(out)]) == 2
    assert capsys.readouterr().err.startswith("error: --preset:")
    assert not out.exists()
