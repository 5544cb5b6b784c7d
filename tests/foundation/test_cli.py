import json
import subprocess
import sys

import pytest

from noisyhw.cli import main


def test_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for cmd in ("train", "evaluate", "demo", "data"):
        assert cmd in out


def test_data_list_and_info(capsys):
    assert main(["data", "list"]) == 0
    assert "digits" in capsys.readouterr().out
    assert main(["data", "info", "digits"]) == 0
    assert "1437" in capsys.readouterr().out


def test_train_then_evaluate_and_resume(tmp_path, capsys):
    out = tmp_path / "run"
    args = [
        "train",
        "--dataset",
        "digits",
        "--model",
        "mlp",
        "--epochs",
        "2",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(args) == 0
    res = json.loads((out / "results.json").read_text())
    assert res["command"] == "train" and len(res["rows"]) == 2
    for f in ("report.html", "learning_curve.png", "confusion.png", "model.pt", "checkpoint.pt"):
        assert (out / f).is_file(), f
    assert main(args) == 0  # rerun resumes from the finished checkpoint
    ev_out = tmp_path / "ev"
    assert (
        main(["evaluate", "--checkpoint", str(out / "model.pt"), "--out", str(ev_out), "--quiet"])
        == 0
    )
    acc = json.loads((ev_out / "results.json").read_text())["rows"][0]["accuracy"]
    assert acc == pytest.approx(res["evaluation"]["accuracy"])


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["train", "--epochs", "-1", "--dataset", "digits"], "epochs"),
        (["train", "--dataset", "imagenet"], "dataset"),
        (["train", "--model", "vgg99", "--dataset", "digits"], "--model"),
        (["train", "--lr", "nan", "--dataset", "digits"], "lr"),
        (["train", "--device", "tpu", "--dataset", "digits"], "--device"),
        (["data", "info", "nope"], "dataset"),
        (["demo", "--only", "nothing"], "--only"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, needle, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path / "x")] if argv[0] in ("train",) else argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and needle in err[0]
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    "argv,line",
    [
        (["--batch-size", "0"], "error: --batch-size: must be an integer in [1, 1048576] (got 0)"),
        (["--weight-decay", "-1"], "error: --weight-decay: must be in [0, 100] (got -1.0)"),
        (["--scheduler", "linear"], "error: --scheduler: must be one of none, cosine, step"),
    ],
)
def test_train_errors_name_the_option_as_typed(argv, line, tmp_path, capsys):
    out = tmp_path / "x"
    assert main(["train", "--dataset", "digits", *argv, "--out", str(out), "--quiet"]) == 2
    assert capsys.readouterr().err.strip().startswith(line)
    assert not out.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--dataset", "digits", "--seed", str(2**64)],
        ["sweep", "bpsk", "--ebn0", "0", "--seed", "-1"],
        ["demo", "--only", "classifier", "--fast", "--seed", "-1"],
    ],
)
def test_bad_seed_exits_2_and_writes_nothing(argv, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path / "x"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --seed:")
    assert not (tmp_path / "x").exists()  # a rerun with a good seed is not refused


@pytest.mark.parametrize("argv", [["sweep", "bpsk", "--ebn0", "0"], ["demo", "--only", "pcm"]])
def test_out_that_is_a_file_exits_2_and_keeps_the_file(argv, tmp_path, capsys):
    f = tmp_path / "results.txt"
    f.write_text("precious")
    assert main([*argv, "--out", str(f), "--quiet"]) == 2
    assert capsys.readouterr().err.startswith("error: --out: must be a folder")
    assert f.read_text() == "precious"


def test_evaluate_rejects_a_file_that_is_not_a_model(tmp_path, capsys):
    bogus = tmp_path / "model.pt"
    bogus.write_bytes(b"not a checkpoint")
    assert main(["evaluate", "--checkpoint", str(bogus)]) == 2
    assert "not a readable" in capsys.readouterr().err


def test_real_entry_point_exit_code(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "noisyhw", "train", "--epochs", "0", "--dataset", "digits"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "epochs" in proc.stderr
    assert not (tmp_path / "runs").exists()


def test_demo_fast_classifier_section(tmp_path):
    assert (
        main(
            [
                "demo",
                "--only",
                "classifier",
                "--fast",
                "--dataset",
                "digits",
                "--out",
                str(tmp_path),
                "--quiet",
            ]
        )
        == 0
    )
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["rows"][0]["test_accuracy"] > 0.5
    assert "Small CNN" in (tmp_path / "report.html").read_text()


def test_help_does_not_import_torch():
    """`noisyhw --help` stays fast: no sub-command imports torch (or the library) at import."""
    import subprocess
    import sys

    code = (
        "import sys; from noisyhw.cli import _register_once; _register_once(); "
        "print(sorted(m for m in ('torch', 'matplotlib', 'numba') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_model_names_match_the_builders():
    from noisyhw.models import MODELS
    from noisyhw.models._registry import BUILDERS

    assert list(MODELS) == list(BUILDERS)


def test_exit_codes_of_a_failed_section_and_of_ctrl_c(tmp_path, monkeypatch, capsys):
    """typer returns (not raises) Exit codes outside standalone mode: main must pass them on."""
    import noisyhw.experiments.demo as demo_mod
    from noisyhw.sweep import Run

    def failed_section(**kw):
        run = Run("demo", {}, out=tmp_path / "d")
        return run, [{"section": "x", "status": "error: boom", "elapsed_s": 0.0, "rows": []}]

    monkeypatch.setattr(demo_mod, "run_demo", failed_section)
    assert main(["demo", "--quiet"]) == 1

    def interrupted(**kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(demo_mod, "run_demo", interrupted)
    capsys.readouterr()
    assert main(["demo", "--quiet"]) == 130
    assert "interrupted" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["train", "--epochs", "abc"], "'--epochs'"),
        (["train", "--no-such-option", "1"], "--no-such-option"),
        (["pcm", "bound"], "'--alpha'"),
        (["no-such-command"], "no-such-command"),
    ],
)
def test_usage_errors_are_one_line_exit_2_no_traceback(argv, needle, capsys):
    """typer >= 0.20 bundles its own click: its usage errors must not escape as tracebacks."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and needle in err[0], err


@pytest.mark.parametrize(
    "argv",
    [
        ["prune", "sweep", "--seed", "-1"],
        ["freq", "stats", "--seed", "-1"],
        ["nvm", "energy", "--seed", str(2**64)],
        ["storage", "campaign", "--seed", str(2**64)],
    ],
)
def test_every_seed_option_is_checked_while_parsing(argv, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path / "x"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: --seed: must be an integer in [0, {2**64 - 1}] (got {argv[-1]})"]
    assert not (tmp_path / "x").exists()


def test_demo_rerun_retries_failed_sections_only(tmp_path, monkeypatch):
    import noisyhw.experiments.demo as demo_mod

    module_name, func = demo_mod.DEMO_SECTIONS["pcm"].split(":")
    module = __import__(module_name, fromlist=[func])
    calls = []

    def flaky(ctx):
        calls.append(1)
        if len(calls) == 1:
            raise MemoryError("transient")
        ctx.section.text("fine now")
        return [{"x": 1}]

    monkeypatch.setattr(module, func, flaky)
    _, rows = demo_mod.run_demo(only=["pcm"], out=tmp_path, fast=True)
    assert rows[0]["status"].startswith("failed: MemoryError")
    _, rows = demo_mod.run_demo(only=["pcm"], out=tmp_path, fast=True)
    assert rows[0]["status"] == "ok" and rows[0]["rows"] == [{"x": 1}] and len(calls) == 2
    _, rows = demo_mod.run_demo(only=["pcm"], out=tmp_path, fast=True)
    assert len(calls) == 2  # a finished section is not run again


@pytest.mark.parametrize("model", ["char_lstm", "torchvision:no_such_net"])
def test_train_rejects_a_model_that_cannot_classify_before_any_folder(model, tmp_path, capsys):
    out = tmp_path / "x"
    assert main(["train", "--dataset", "digits", "--model", model, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: --model:") and model in err[0]
    assert not out.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["noise", "sweep", "--dataset", "digits", "--workers", "0"],
        ["prune", "sweep", "--workers", "-1"],
        ["polar", "simulate", "--workers", "0"],
    ],
)
def test_every_workers_option_is_checked_while_parsing(argv, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path / "x"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: --workers: must be an integer in [1, 100000] (got {argv[-1]})"]
    assert not (tmp_path / "x").exists()
