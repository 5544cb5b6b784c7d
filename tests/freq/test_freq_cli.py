"""``noisyhw freq stats | train | select`` end to end on small data, and the studies' pieces."""

import json

import numpy as np
import pytest
import torch

from noisyhw.cli import main
from noisyhw.compress import frequency as fq
from noisyhw.data import locate
from noisyhw.errors import DataError
from noisyhw.experiments import freq as study


def _has_fashion() -> bool:
    try:
        locate("fashion-mnist")
    except DataError:
        return False
    return True


def test_stats_command_writes_reusable_stats(tmp_path):
    out = tmp_path / "stats"
    assert (
        main(
            [
                "freq",
                "stats",
                "--dataset",
                "digits",
                "--upscale",
                "2",
                "--n",
                "300",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    st = fq.ChannelStats.load(out / "stats.json")
    assert st.channels == 64 and st.count == 300 * 2 * 2  # 16x16 images -> 2x2 blocks each
    assert (out / "mean_Y.png").is_file() and (out / "log10_std_Y.png").is_file()
    # independent check of one channel: DC of the top-left block over the images
    from noisyhw.data import load

    ds = load("digits", "train").subset(300, seed=0)
    up = torch.nn.functional.interpolate(
        ds.x, scale_factor=2, mode="bilinear", align_corners=False
    ).clamp(0, 1)
    dc = (up[:, 0, :8, :8] * 255 - 128).sum(dim=(1, 2)) / 8  # orthonormal DC = 8 x mean
    all_dc = np.concatenate(
        [
            dc.numpy(),
            *[
                ((up[:, 0, i : i + 8, j : j + 8] * 255 - 128).sum(dim=(1, 2)) / 8).numpy()
                for i, j in [(0, 8), (8, 0), (8, 8)]
            ],
        ]
    )
    assert abs(st.mean[0] - all_dc.mean()) < 1e-3 and abs(st.std[0] - all_dc.std()) < 1e-3


def test_select_preset_and_heat(tmp_path):
    out = tmp_path / "sel"
    assert main(["freq", "select", "--preset", "24", "--out", str(out)]) == 0
    sub = json.loads((out / "subset.json").read_text())
    assert sub["channels"] == fq.preset_channels(24)
    heat = np.linspace(0, 1, 64)[::-1].copy()
    heat[40] = 2.0
    (tmp_path / "heat.json").write_text(json.dumps({"heat": heat.tolist()}))
    out2 = tmp_path / "sel2"
    assert (
        main(
            [
                "freq",
                "select",
                "--heat",
                str(tmp_path / "heat.json"),
                "--k",
                "3",
                "--out",
                str(out2),
            ]
        )
        == 0
    )
    assert json.loads((out2 / "subset.json").read_text())["channels"] == [0, 1, 40]
    assert (out2 / "heat_Y.png").is_file()


@pytest.mark.parametrize(
    "argv",
    [
        ["freq", "stats", "--dataset", "digits", "--upscale", "0"],
        ["freq", "stats", "--dataset", "digits", "--chroma", "422"],
        ["freq", "stats", "--dataset", "digits", "--chroma", "420"],  # grey: no chroma
        ["freq", "train", "--dataset", "imagefolder"],
        ["freq", "train", "--dataset", "digits"],
        ["freq", "select"],
        ["freq", "select", "--preset", "20"],
        ["freq", "select", "--preset", "24", "--k", "0"],  # --k was silently ignored here
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path / "x")]) == 2
    assert capsys.readouterr().err.startswith("error:")
    assert not (tmp_path / "x").exists()


def test_colour_pipeline_on_sample_photo_folder(tmp_path):
    folder = study.make_sample_folder(tmp_path / "photos", per_class=4, crop=128)
    assert sorted(p.name for p in folder.iterdir()) == ["china", "flower"]
    out = tmp_path / "run"
    argv = [
        "freq",
        "train",
        "--dataset",
        "imagefolder",
        "--root",
        str(folder),
        "--size",
        "32",
        "--epochs",
        "1",
    ]
    assert main([*argv, "--out", str(out)]) == 0
    row = json.loads((out / "results.json").read_text())["rows"][0]
    assert row["images"] == 8 and row["channels"] == 24 and 0 <= row["test_accuracy"] <= 1
    assert fq.ChannelStats.load(out / "freq_colour_stats.json").channels == 192


@pytest.mark.skipif(not _has_fashion(), reason="Fashion-MNIST files not installed")
def test_equal_size_study_runs_resumes_and_exports_heat(tmp_path):
    out = tmp_path / "study"
    argv = ["freq", "train", "--n-train", "256", "--n-test", "128", "--epochs", "1", "--top-k", "4"]
    assert main([*argv, "--out", str(out)]) == 0
    res = json.loads((out / "results.json").read_text())
    names = [r["name"] for r in res["rows"]]
    assert len(names) == 9 and "DCT gate top-4" in names
    sizes = {r["name"]: r["input_values"] for r in res["rows"]}
    assert sizes["DCT DC only"] == sizes["spatial 7x7"] == 49
    assert sizes["DCT 2x2 low"] == sizes["spatial 14x14"] == 196
    assert sizes["DCT all 64"] == 64 * 49 and sizes["DCT gate top-4"] == 4 * 49
    heat = json.loads((out / "heat.json").read_text())["heat"]
    assert len(heat) == 64 and all(0 <= h <= 1 for h in heat)
    assert (out / "freq_gate_heat_Y.png").is_file()
    first = (out / "trials.sqlite").stat().st_mtime_ns
    assert main([*argv, "--out", str(out)]) == 0  # resume: nothing retrained
    assert len(json.loads((out / "results.json").read_text())["rows"]) == 9
    assert (out / "trials.sqlite").stat().st_mtime_ns >= first


def test_square_subset_and_fashion_inputs_are_consistent():
    assert study.square_subset(2) == [0, 1, 8, 9]
    assert study.square_subset(1, component=1) == [64]


@pytest.mark.parametrize(
    ("opt", "value"), [("--size", "-1"), ("--size", "12"), ("--channels", "0"), ("--channels", "7")]
)
def test_train_checks_size_and_channels_for_every_dataset(opt, value, tmp_path, capsys):
    # they used to be checked for imagefolder only: `--size -1` trained the study as if unset
    # (digits: were they not checked first, the --dataset error would come instead)
    out = tmp_path / "x"
    assert main(["freq", "train", "--dataset", "digits", opt, value, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {opt}:")
    assert not out.exists()


@pytest.mark.parametrize(
    ("opt", "value"), [("--n-train", "0"), ("--n-train", "-1"), ("--n-test", "0")]
)
def test_train_checks_subset_sizes_before_the_run_folder(opt, value, tmp_path, capsys):
    # used to fail (exit 2) only after the run folder was made, leaving it empty
    out = tmp_path / "x"
    assert main(["freq", "train", opt, value, "--epochs", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {opt}:")
    assert not out.exists()
