"""Simulator: published reference points, determinism, resume, the CLI."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest

from noisyhw.cli import main
from noisyhw.codes.polar.simulate import SimulationConfig, clopper_pearson, simulate
from noisyhw.errors import ParameterError
from noisyhw.sweep import Run


def test_clopper_pearson_known_values() -> None:
    lo, hi = clopper_pearson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / 10))
    lo, hi = clopper_pearson(5, 10)
    assert lo == pytest.approx(0.18709, abs=1e-4) and hi == pytest.approx(0.81291, abs=1e-4)


def test_sc_1024_512_matches_published_points() -> None:
    """(1024, 512) 5G construction, SC, BPSK-AWGN: FER 0.102 @ 2.0 dB, 0.0157 @ 2.5 dB.
    The published values must lie in our 99.9% Clopper-Pearson intervals."""
    cfg = SimulationConfig(n=1024, k=512, frames_per_chunk=1500, seed=11)
    ref = {2.0: 0.102, 2.5: 0.0157}
    rows = simulate(cfg, [("sc", 1)], list(ref), min_errors=80, max_frames=6000)
    for r in rows:
        lo, hi = clopper_pearson(r["frame_errors"], r["frames"], 0.999)
        assert lo <= ref[r["ebn0_db"]] <= hi, r
        assert r["fer_ci_low"] <= r["fer"] <= r["fer_ci_high"]
        assert 0 < r["ber"] < r["fer"]


def test_deterministic_and_resumable(tmp_path) -> None:
    cfg = SimulationConfig(n=64, k=32, crc="crc6", frames_per_chunk=200, seed=3)
    specs = [("sc", 1), ("cascl", 4)]
    kw = {"min_errors": 30, "max_frames": 1000}
    a = simulate(cfg, specs, [1.0, 2.0], **kw)
    run = Run("polar simulate", {"t": 1}, out=tmp_path / "r", seed=3)
    b = simulate(cfg, specs, [1.0, 2.0], run=run, **kw)
    n_trials = len(run.store.rows())
    run.store.close()
    run2 = Run("polar simulate", {"t": 1}, out=tmp_path / "r", seed=3)  # resume: nothing new
    c = simulate(cfg, specs, [1.0, 2.0], run=run2, **kw)
    assert len(run2.store.rows()) == n_trials
    keys = ("decoder", "ebn0_db", "frames", "frame_errors", "bit_errors")
    for x, y, z in zip(a, b, c, strict=True):
        assert [x[k] for k in keys] == [y[k] for k in keys] == [z[k] for k in keys]
    # paired frames: CA-SCL-4 never has more errors than SC here
    assert a[2]["frame_errors"] * a[0]["frames"] <= a[0]["frame_errors"] * a[2]["frames"]
    # stopping rule: min_errors reached or max_frames spent
    for r in a:
        assert r["frame_errors"] >= 30 or r["frames"] >= 1000


def test_bsc_and_bec_channels() -> None:
    for channel, p in (("bsc", 0.02), ("bec", 0.2)):
        cfg = SimulationConfig(n=128, k=40, channel=channel, frames_per_chunk=300)
        rows = simulate(cfg, [("sc", 1), ("scl", 4)], [p], min_errors=1000, max_frames=300)
        assert rows[0]["p"] == p and rows[0]["frames"] == 300
        assert rows[1]["frame_errors"] <= rows[0]["frame_errors"]
    cfg = SimulationConfig(n=64, k=32, channel="bec")
    assert simulate(cfg, [("sc", 1)], [0.0], min_errors=1, max_frames=500)[0]["frame_errors"] == 0


def test_bad_specs() -> None:
    from noisyhw.experiments.polar import PolarSimulateConfig, parse_decoders

    with pytest.raises(ParameterError, match=r"^decoders:"):
        parse_decoders("sc,bp")
    with pytest.raises(ParameterError, match=r"^decoders:"):
        parse_decoders("scl:x")
    with pytest.raises(ParameterError, match=r"^list_size:"):
        PolarSimulateConfig(n=64, k=32, decoders=parse_decoders("scl:0"))
    with pytest.raises(ParameterError, match=r"^crc:"):  # make_decoder: CA-SCL needs a CRC
        PolarSimulateConfig(n=64, k=32, decoders=(("cascl", 4),))
    with pytest.raises(ParameterError, match=r"^decoder:"):  # make_decoder's own check
        simulate(SimulationConfig(64, 32), [("bp", 1)], [1.0])


def _q(x: float) -> float:
    """Gaussian tail Q(x) (scipy-free closed form through erfc)."""
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def _closed_form_fer(n: int, k: int, ebn0_db: float) -> float:
    """SC frame error rate of the two polar codes whose FER has a closed form, BPSK-AWGN with
    Eb/N0 per information bit (Es/N0 = k/n Eb/N0): k = 1 is the repetition code (the one
    information bit sits on the last, all-ones row) and SC is ML on it, FER = Q(sqrt(2 n Es/N0));
    k = n is rate 1, where SC decides every bit by its own sign: FER = 1 - (1 - Q(.))^n."""
    es = (k / n) * 10.0 ** (ebn0_db / 10.0)
    if k == 1:
        return _q(math.sqrt(2.0 * n * es))
    assert k == n
    return 1.0 - (1.0 - _q(math.sqrt(2.0 * es))) ** n


@pytest.mark.parametrize(("n", "k"), [(16, 1), (8, 8)])
def test_cli_simulate_matches_closed_forms(tmp_path, capsys, n, k) -> None:
    """`polar simulate` end to end against closed forms: each point's 99.9% Clopper-Pearson
    interval holds the exact SC FER (wrong Eb/N0 scaling, a wrong rate or a mislabelled point
    moves it by far more), the FER falls with Eb/N0, the counts obey the stopping rule, BER
    and the intervals are the ones of the counts, and results.json holds the printed table."""
    out = tmp_path / "cli"
    args = ["polar", "simulate", "--n", str(n), "--k", str(k), "--compare", "sc,scl:2"]
    args += ["--ebn0", "0,1.5,3", "--min-errors", "100", "--max-frames", "30000"]
    args += ["--frames-per-chunk", "2000", "--out", str(out), "--format", "csv", "--quiet"]
    assert main(args) == 0
    printed = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    res = json.loads((out / "results.json").read_text())
    rows = res["rows"]
    assert [(r["decoder"], r["ebn0_db"]) for r in rows] == [
        (d, x) for d in ("sc", "scl-2") for x in (0.0, 1.5, 3.0)
    ]
    assert res["config"]["decoders"] == [["sc", 1], ["scl", 2]]
    assert len(printed) == len(rows)
    for r, shown in zip(rows, printed, strict=True):
        for key in ("decoder", "frames", "frame_errors", "fer", "ber", "fer_ci_low"):
            assert shown[key] == str(r[key]), key
        fr, fe = r["frames"], r["frame_errors"]
        assert fe >= 100 or fr == 30000
        assert fr % 2000 == 0 or fr == 30000
        assert r["fer"] == fe / fr and r["ber"] == r["bit_errors"] / (fr * k)
        assert (r["fer_ci_low"], r["fer_ci_high"]) == pytest.approx(clopper_pearson(fe, fr))
        lo, hi = clopper_pearson(fe, fr, 0.999)
        assert lo <= _closed_form_fer(n, k, r["ebn0_db"]) <= hi, r
        if k == 1:
            assert r["bit_errors"] == fe  # one bit per frame
    for d in ("sc", "scl-2"):
        fers = [r["fer"] for r in rows if r["decoder"] == d]
        assert fers[0] > fers[1] > fers[2], fers
    # SC is ML on both codes, and SCL sees the same frames: the very same errors
    assert [r["frame_errors"] for r in rows[:3]] == [r["frame_errors"] for r in rows[3:]]
    assert (out / "polar_fer.png").exists() and (out / "report.html").exists()


def test_cli_simulate_and_bad_input(tmp_path, capsys) -> None:
    bad = [
        ["--n", "100"],
        ["--k", "2000"],
        ["--construction", "magic"],
        ["--decoder", "bp"],
        ["--list", "0", "--decoder", "scl"],
        ["--decoder", "cascl"],  # no CRC
        ["--k", "60", "--crc", "crc8", "--n", "64"],
        ["--ebn0", "x"],
    ]
    for extra in bad:
        args = [
            "polar",
            "simulate",
            "--n",
            "64",
            "--k",
            "32",
            "--out",
            str(tmp_path / "bad"),
            "--quiet",
            *extra,
        ]
        # later options override earlier ones in click
        assert main(args) == 2, extra
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "name"),
    [
        (["--channel", "bsc", "--p", "0.7"], "--p"),
        (["--channel", "bec", "--p", "1.5"], "--p"),
        (["--channel", "bec", "--p", "-0.1"], "--p"),
        (["--ebn0", "inf"], "--ebn0"),
        (["--ebn0", "1e6"], "--ebn0"),
        (["--decoder", "scl", "--list", "2000"], "--list"),
        (["--compare", "sc,scl:2000"], "--list"),
        (["--min-errors", "0"], "--min-errors"),
        (["--max-frames", "-1"], "--max-frames"),
        (["--seed", "-1"], "--seed"),
    ],
)
def test_cli_bad_points_fail_before_the_run(tmp_path, capsys, extra, name) -> None:
    """A bad point, list size or count is one error line naming the option, before any
    trial runs and before a run folder exists (it used to fail inside the first trial)."""
    out = tmp_path / "bad"
    args = ["polar", "simulate", "--n", "64", "--k", "32", "--out", str(out), "--quiet"]
    assert main([*args, *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {name}:"), err
    assert "trial" not in err[0] and not out.exists()


def test_cli_out_is_a_file(tmp_path, capsys) -> None:
    """--out naming an existing file: one error line, exit 2, the file untouched."""
    out = tmp_path / "afile"
    out.write_text("keep")
    args = ["polar", "simulate", "--n", "16", "--k", "8", "--ebn0", "2", "--quiet"]
    assert main([*args, "--max-frames", "10", "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip().startswith("error: --out:")
    assert out.read_text() == "keep"


@pytest.mark.parametrize(
    ("channel", "point"),
    [("awgn", float("inf")), ("awgn", float("nan")), ("bsc", 0.7), ("bec", 1.5)],
)
def test_simulate_rejects_bad_points_before_any_chunk(channel, point) -> None:
    """The library checks every point up front (a bad one failed inside a worker's chunk as
    a TrialError carrying the whole trial dict)."""
    cfg = SimulationConfig(64, 32, channel=channel)
    with pytest.raises(ParameterError, match=f"^{'ebn0_db' if channel == 'awgn' else 'p'}:"):
        simulate(
            cfg,
            [("sc", 1)],
            [1.0 if channel == "awgn" else 0.1, point],
            min_errors=10,
            max_frames=100,
        )


def test_chunk_memory_uses_the_largest_compared_list(tmp_path, capsys):
    """The estimate used --list (8) while --compare scl:1024 decodes 128x as many paths."""
    out = tmp_path / "run"
    args = ["polar", "simulate", "--n", "4096", "--k", "2048", "--compare", "sc,scl:1024",
            "--frames-per-chunk", "1000", "--ebn0", "2", "--out", str(out)]  # fmt: skip
    assert main(args) == 2
    assert capsys.readouterr().err.startswith("error: --frames-per-chunk: needs about")
    assert not out.exists()


def test_fixed_point_options_named_in_the_error():
    from noisyhw.codes.polar import PolarCode
    from noisyhw.codes.polar.decoders import SCDecoder

    with pytest.raises(ParameterError, match=r"^llr_scale:"):
        SCDecoder(PolarCode(64, 32), llr_scale=2.0)


def test_cli_crc_any_case(tmp_path):
    """--crc CRC6 is the run of crc6 (its config and rows said CRC6: another run identity)."""
    out = tmp_path / "crc"
    args = ["polar", "simulate", "--n", "16", "--k", "4", "--crc", "CRC6", "--decoder", "cascl"]
    args += ["--list", "2", "--ebn0", "2", "--max-frames", "200", "--out", str(out), "--quiet"]
    assert main(args) == 0
    res = json.loads((out / "results.json").read_text())
    assert res["config"]["crc"] == "crc6" and res["rows"][0]["crc"] == "crc6"
