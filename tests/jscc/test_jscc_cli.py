"""``noisyhw polar text`` end to end on a small corpus file, and its bad-input errors."""

from __future__ import annotations

import json

from noisyhw.cli import main

PROSE = (
    "It was the best of times, it was the worst of times; it was the age of wisdom, it was "
    "the age of foolishness. We had everything before us, we had nothing before us. "
) * 40


def test_polar_text_cli(tmp_path):
    corpus = tmp_path / "prose.txt"
    corpus.write_text(PROSE)
    words = tmp_path / "words.txt"
    words.write_text(
        "\n".join(
            sorted(set(PROSE.lower().replace(",", " ").replace(";", " ").replace(".", " ").split()))
        )
    )
    out = tmp_path / "run"
    args = [
        "polar",
        "text",
        "--corpus",
        str(corpus),
        "--dictionary",
        str(words),
        "--ebn0",
        "0,3",
        "--list",
        "4",
        "--n",
        "64",
        "--k",
        "30",
        "--crc",
        "crc6",
        "--schemes",
        "cascl,joint,adaptive",
        "--streams",
        "4",
        "--blocks",
        "3",
        "--chunks",
        "1",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(args) == 0
    res = json.loads((out / "results.json").read_text())
    assert {r["scheme"] for r in res["rows"]} == {"cascl", "joint", "adaptive"}
    assert all(r["frames"] == 12 for r in res["rows"])
    assert (out / "jscc_fer.png").exists() and (out / "jscc_wer.png").exists()
    assert (out / "jscc_list.png").exists() and "gains" in res
    assert main(args) == 0  # resumes from the trial store
    # penalty chosen on the validation split, recorded in results.json
    tuned = tmp_path / "tuned"
    targs = [*args[: args.index("--out")], "--tune-penalty", "2,8", "--out", str(tuned), "--quiet"]
    assert main(targs) == 0
    res = json.loads((tuned / "results.json").read_text())
    assert res["penalty"] in (2.0, 8.0) and len(res["tuning"]) == 2
    assert (tuned / "tune" / "results.json").exists()
    assert "wer_ci_low" in res["rows"][0]


def test_polar_text_cli_bad_input(tmp_path):
    corpus = tmp_path / "prose.txt"
    corpus.write_text(PROSE)
    base = ["polar", "text", "--corpus", str(corpus), "--n", "64", "--k", "30", "--quiet"]
    for extra in (
        ["--k", "31"],
        ["--schemes", "nope"],
        ["--list", "0"],
        ["--dictionary", str(tmp_path / "missing.txt")],
        ["--ebn0", "x"],
    ):
        assert main([*base, *extra, "--out", str(tmp_path / "o")]) == 2, extra


def test_polar_text_negative_ebn0_runs(tmp_path):
    """Eb/N0 below 0 dB is a valid point: its trial's noise seed used to be a negative
    SeedSequence word (ValueError inside the trial). Points >= 0 keep their documented seeds."""
    from noisyhw.experiments.jscc import _noise_key

    assert _noise_key(0, 3, 1.5) == [0, 3, 150]  # the key of every documented run
    assert _noise_key(0, 3, -1.5) != _noise_key(0, 3, 1.5)
    corpus = tmp_path / "prose.txt"
    corpus.write_text(PROSE)
    out = tmp_path / "neg"
    args = ["polar", "text", "--corpus", str(corpus), "--n", "64", "--k", "30", "--crc", "crc6"]
    args += ["--ebn0", "-1,0.5", "--schemes", "scl,joint", "--list", "2", "--streams", "2"]
    args += ["--blocks", "2", "--chunks", "1", "--out", str(out), "--quiet"]
    assert main(args) == 0
    rows = json.loads((out / "results.json").read_text())["rows"]
    assert sorted({r["ebn0_db"] for r in rows}) == [-1.0, 0.5]


def test_polar_text_chunks_per_point(tmp_path):
    """More chunks where the FER is low: one count per Eb/N0 point."""
    corpus = tmp_path / "prose.txt"
    corpus.write_text(PROSE)
    out = tmp_path / "pp"
    args = ["polar", "text", "--corpus", str(corpus), "--n", "64", "--k", "30", "--crc", "crc6"]
    args += ["--ebn0", "0,3", "--schemes", "cascl,joint", "--list", "2", "--streams", "2"]
    args += ["--blocks", "2", "--chunks", "1,3", "--out", str(out), "--quiet"]
    assert main(args) == 0
    res = json.loads((out / "results.json").read_text())
    assert {(r["ebn0_db"], r["frames"]) for r in res["rows"]} == {(0.0, 4), (3.0, 12)}
    assert all(r["fer_ci_low"] <= r["fer"] <= r["fer_ci_high"] for r in res["rows"])
    assert "joint_vs_cascl_db@fer=0.001" in res["gains"]


def test_polar_text_cli_bad_input_before_any_trial(tmp_path, capsys):
    """Each bad option is one error line naming it, before any trial runs or a run folder
    exists (a bad CRC, k + CRC > n or a NaN penalty used to fail inside the trials)."""
    corpus = tmp_path / "prose.txt"
    corpus.write_text(PROSE)
    base = ["polar", "text", "--corpus", str(corpus), "--n", "64", "--k", "30", "--quiet"]
    base += ["--streams", "2", "--blocks", "2", "--chunks", "1"]
    for extra, name in (
        (["--schemes", "scl,cascl", "--crc", "crc99"], "--crc"),
        (["--schemes", "scl,cascl", "--k", "60", "--crc", "crc8"], "--k"),
        (["--penalty", "nan"], "--penalty"),
        (["--target-fer", "2"], "--target-fer"),
        (["--schemes", ","], "--schemes"),
        (["--seed", "-1"], "--seed"),
        (["--ebn0", "inf"], "--ebn0"),
        (["--chunks", "1,2,3"], "--chunks"),  # 4 points by default: one count or four
        (["--chunks", "0"], "--chunks"),
    ):
        out = tmp_path / "o"
        assert main([*base, *extra, "--out", str(out)]) == 2, extra
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"error: {name}:"), (extra, err)
        assert not out.exists(), extra


def test_polar_text_tuning_without_out(tmp_path, monkeypatch):
    """Without --out the validation run went to one fixed folder (runs/polar_text_tune): a
    second tuning with another grid failed as 'a run with a different grid'. It now lives in
    the run's own (timestamped) folder."""
    import time

    corpus = tmp_path / "prose.txt"
    corpus.write_text(PROSE)
    monkeypatch.chdir(tmp_path)
    base = ["polar", "text", "--corpus", str(corpus), "--n", "64", "--k", "30", "--crc", "crc6"]
    base += ["--ebn0", "1", "--schemes", "joint", "--list", "2", "--streams", "2", "--blocks"]
    base += ["2", "--chunks", "1", "--quiet"]
    assert main([*base, "--tune-penalty", "2,8"]) == 0
    time.sleep(1.1)  # default folders are stamped to the second
    assert main([*base, "--tune-penalty", "4,12"]) == 0
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 2 and all((r / "tune" / "results.json").exists() for r in runs)


def test_polar_text_crc_any_case(tmp_path):
    """--crc CRC6 is crc6 (it was refused as not one of the CRC names)."""
    corpus = tmp_path / "prose.txt"
    corpus.write_text(PROSE)
    out = tmp_path / "crc"
    args = ["polar", "text", "--corpus", str(corpus), "--n", "64", "--k", "30", "--crc", "CRC6"]
    args += ["--ebn0", "2", "--schemes", "cascl", "--list", "2", "--streams", "2", "--blocks"]
    args += ["2", "--chunks", "1", "--out", str(out), "--quiet"]
    assert main(args) == 0
    assert json.loads((out / "results.json").read_text())["config"]["crc"] == "crc6"
