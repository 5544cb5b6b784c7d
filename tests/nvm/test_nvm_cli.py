"""``noisyhw nvm`` commands: energy end to end, a tiny sweep on digits, bad input."""

import json

import pytest

from noisyhw.cli import main


def test_energy_command_writes_table_and_plots(tmp_path):
    out = tmp_path / "e"
    assert (
        main(
            ["nvm", "energy", "--hidden", "32", "--sweep-bits", "2,4", "--out", str(out), "--quiet"]
        )
        == 0
    )
    res = json.loads((out / "results.json").read_text())
    kinds = {r["kind"] for r in res["rows"]}
    assert {"NVM", "GPU", "FPGA", "ASIC"} <= kinds
    assert [r["bits"] for r in res["bits_sweep"]] == [2, 4]
    assert {r["scope"] for r in res["like_for_like"]} == {"core", "with periphery"}
    assert res["bits_sweep"][0]["ops_per_j"] > res["bits_sweep"][1]["ops_per_j"]
    assert (out / "ops_per_j_vs_bits.png").is_file() and (out / "report.html").is_file()


def test_energy_with_custom_parameter_file(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text("[array]\nrows = 64\ncols = 64\n")
    out = tmp_path / "e"
    assert (
        main(
            [
                "nvm",
                "energy",
                "--params",
                str(p),
                "--hidden",
                "16",
                "--sweep-bits",
                "4",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    layers = json.loads((out / "results.json").read_text())["layers"]
    assert all(lyr["arrays"] >= 1 for lyr in layers)


def test_tiny_sweep_on_digits_runs_and_resumes(tmp_path, monkeypatch):
    # digits (8 steps of 8): float, 2/4-bit PTQ + 4-bit QAT and one noise level, in seconds
    import noisyhw.data as D
    from noisyhw.errors import DataError

    def no_fashion(name, root=None):
        raise DataError("absent")

    monkeypatch.setattr(D, "locate", no_fashion)
    out = tmp_path / "s"
    args = [
        "nvm",
        "sweep",
        "--bits",
        "2,4",
        "--hidden",
        "16",
        "--n-train",
        "1000",
        "--n-test",
        "200",
        "--epochs",
        "6",
        "--batch-size",
        "32",
        "--lr",
        "1e-2",
        "--qat-epochs",
        "1",
        "--prog-noise",
        "0,0.2",
        "--read-noise",
        "",
        "--adc-noise",
        "1",
        "--repeats",
        "2",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(args) == 0
    rows = json.loads((out / "results.json").read_text())["rows"]
    stages = [r["stage"] for r in rows]
    # 2/4-bit PTQ, 2/4-bit QAT, and the float model fine-tuned with the QAT budget (bits None)
    assert stages.count("float") == 1 and stages.count("bits") == 5 and stages.count("noise") == 6
    flt = next(r for r in rows if r["stage"] == "float")["accuracy"]
    assert flt > 0.5  # the float LSTM learned digits
    control = [r for r in rows if r["stage"] == "bits" and r["bits"] is None]
    assert len(control) == 1 and control[0]["qat"] and control[0]["accuracy"] > 0.5
    ptq4 = next(r for r in rows if r["stage"] == "bits" and r["bits"] == 4 and not r["qat"])
    assert ptq4["vs_float"] == pytest.approx(ptq4["accuracy"] - flt)
    assert (out / "accuracy_vs_bits.png").is_file() and (
        out / "accuracy_vs_prog_noise.png"
    ).is_file()
    assert main(args) == 0  # resume: nothing left to run, same rows
    assert json.loads((out / "results.json").read_text())["rows"] == rows


@pytest.mark.parametrize(
    "args",
    [
        ["nvm", "energy", "--bits", "0"],
        ["nvm", "energy", "--params", "/nonexistent.toml"],
        ["nvm", "sweep", "--bits", "a,b"],
        ["nvm", "sweep", "--prog-noise", "-0.1"],
        ["nvm", "sweep", "--task", "speech"],
        ["nvm", "sweep", "--qat", "maybe"],
        ["nvm", "train", "--on-off", "0.5"],
        # each of these used to start minutes of float training (or, for energy, run and
        # exit 0 / crash) before failing: they must fail at once, before anything is written
        ["nvm", "sweep", "--adc-noise", "0,inf"],
        ["nvm", "sweep", "--prog-noise", "inf"],
        ["nvm", "sweep", "--workers", "0"],
        ["nvm", "energy", "--task", "speech"],
        ["nvm", "energy", "--params", "."],
    ],
)
def test_bad_input_is_one_line_exit_2_before_any_work(args, tmp_path, capsys):
    out = tmp_path / "x"
    assert main([*args, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")
    assert not out.exists()


def test_study_config_rejects_non_finite_noise_levels():
    from noisyhw.errors import ParameterError
    from noisyhw.experiments.nvm import StudyConfig

    for bad in (float("inf"), float("nan")):
        with pytest.raises(ParameterError, match="finite"):
            StudyConfig(noise={"adc": (0.0, bad)})


@pytest.mark.parametrize("cmd", ["energy", "train", "sweep"])
@pytest.mark.parametrize("hidden", ["10000000000000", "65537", "0"])
def test_hidden_is_bounded_while_parsing(cmd, hidden, tmp_path, capsys):
    # a huge --hidden used to end in a torch allocation traceback (exit 1)
    out = tmp_path / "x"
    assert main(["nvm", cmd, "--hidden", hidden, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --hidden:") and "65536" in err[0]
    assert not out.exists()


@pytest.mark.parametrize("opt", ["--weight-bits", "--dac-bits", "--adc-bits"])
@pytest.mark.parametrize("value", ["0", "-1", "17"])
@pytest.mark.parametrize("cmd", ["energy", "train"])
def test_per_quantity_bits_are_checked_while_parsing(cmd, opt, value, tmp_path, capsys):
    # 0 used to mean "use --bits" silently (energy ran and exited 0); unset is the default now
    # (--task bogus: were the option not checked while parsing, the task error would come first)
    out = tmp_path / "x"
    args = ["nvm", cmd, opt, value, "--hidden", "16", "--out", str(out), "--quiet"]
    assert main([*args, *(["--task", "bogus"] if cmd == "train" else [])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {opt}:") and "[1, 16]" in err[0]
    assert not out.exists()


def test_per_quantity_bits_default_to_bits(tmp_path):
    out = tmp_path / "e"
    args = ["nvm", "energy", "--bits", "6", "--dac-bits", "3", "--hidden", "16"]
    assert main([*args, "--sweep-bits", "4", "--out", str(out), "--quiet"]) == 0
    assert json.loads((out / "results.json").read_text())["config"]["bits"] == [6, 3, 6]


@pytest.mark.parametrize("bits", ["bogus", "0", ""])
def test_energy_sweep_bits_fail_before_the_run_folder(bits, tmp_path, capsys):
    # used to exit 2 only after the run folder was made (an empty folder was left behind)
    out = tmp_path / "x"
    args = ["nvm", "energy", "--hidden", "16", "--sweep-bits", bits, "--out", str(out)]
    assert main([*args, "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --sweep-bits:")
    assert not out.exists()
