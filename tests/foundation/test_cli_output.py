"""Printed output for people and logs: 80-column tables, --format, live rows, plain progress,
human labels, one list syntax (issue 18)."""

import csv
import io
import json
import re
import sys

import pytest

from noisyhw import progress
from noisyhw.cli import main
from noisyhw.cli.common import parse_floats, parse_ints, render_table
from noisyhw.errors import ParameterError
from noisyhw.sweep.labels import cell


def _polar_row(i):
    return {
        "decoder": "scl-8",
        "ebn0_db": 1.5 + i / 2,
        "frames": 12000,
        "frame_errors": 105,
        "bit_errors": 1234,
        "fer": 0.00875123 / (i + 1),
        "ber": 2.0567e-5,
        "fer_ci_low": 0.0071,
        "fer_ci_high": 0.0105,
        "info_throughput_mbps": 2.91234,
        "n": 1024,
        "k": 512,
        "crc": "none",
        "construction": "5g",
        "penalty": None,
        "schemes": ["scl", "cascl"],
    }


def test_wide_table_fits_80_columns_and_cuts_nothing():
    rows = [_polar_row(i) for i in range(3)]
    text = render_table(rows, title="polar", width=80)
    assert max(map(len, text.splitlines())) <= 80
    assert "…" not in text and "..." not in text
    for key in rows[0]:
        assert key in text  # every column is shown, folded into further blocks
    assert text.count("scl-8") == 3 * 3  # the key column repeats in each block
    assert "0.008751" in text and "2.057e-05" in text  # 4 significant figures


@pytest.mark.parametrize(
    "value,text",
    [
        (0.0487654321, "0.04877"),
        (1.23456e-5, "1.235e-05"),
        (2.5, "2.5"),
        (123456.0, "1.235e+05"),
        (12, "12"),
        (None, "–"),
        (True, "yes"),
        (float("nan"), "n/a"),
        ([1, 2], "1, 2"),
    ],
)
def test_cell(value, text):
    assert cell(value) == text


def _bpsk(tmp_path, *extra):
    return ["sweep", "bpsk", "--ebn0", "0:4:2", "--k", "4", "--chunk-size", "2000",
            "--out", str(tmp_path / "run"), "--quiet", *extra]  # fmt: skip


def test_format_csv_tsv_json_print_the_table_only(tmp_path, capsys):
    assert main(_bpsk(tmp_path, "--format", "csv")) == 0
    out, err = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [float(r["ebn0_db"]) for r in rows] == [0.0, 2.0, 4.0]
    assert float(rows[0]["error_rate"]) > float(rows[2]["error_rate"])
    assert "results:" in err and "results:" not in out
    ref = json.loads((tmp_path / "run" / "results.json").read_text())["rows"]
    assert float(rows[0]["ci_low"]) == ref[0]["ci_low"]  # full precision
    assert main(_bpsk(tmp_path, "--format", "json")) == 0
    assert json.loads(capsys.readouterr().out)[1]["ebn0_db"] == 2.0
    assert main(_bpsk(tmp_path, "--format", "tsv")) == 0
    assert capsys.readouterr().out.splitlines()[0].split("\t")[0] == "ebn0_db"


def test_bad_format_is_one_error_line(tmp_path, capsys):
    assert main(_bpsk(tmp_path, "--format", "cvs")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "did you mean 'csv'" in err[0]
    assert not (tmp_path / "run").exists()


def test_live_row_per_point_like_aff3ct(tmp_path, capsys):
    assert main(_bpsk(tmp_path)) == 0
    out = capsys.readouterr().out.splitlines()
    head = next(i for i, line in enumerate(out) if line.startswith("decoder"))
    assert out[head].split() == [
        "decoder",
        "Eb/N0",
        "FER",
        "BER",
        "FE",
        "frames",
        "Mb/s",
        "elapsed",
    ]
    live = out[head + 2 : head + 5]
    assert [line.split()[:2] for line in live] == [["uncoded", f"{x:.2f}"] for x in (0, 2, 4)]
    assert all(re.search(r"\d:\d\d:\d\d$", line) for line in live)
    assert max(len(line) for line in out if not line.startswith(("results:", "report:"))) <= 80


def test_polar_simulate_live_rows_and_labels(tmp_path, capsys):
    argv = ["polar", "simulate", "--n", "64", "--k", "32", "--decoder", "scl", "--list", "4",
            "--ebn0", "2:3:1", "--min-errors", "5", "--max-frames", "400",
            "--frames-per-chunk", "200", "--out", str(tmp_path / "p"), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    live = [line for line in out.splitlines() if line.startswith("SCL-4 ")]
    assert len(live) == 2 and "{" not in out
    assert live[0].split()[1] == "2.00" and float(live[0].split()[6]) > 0  # Mb/s


@pytest.mark.parametrize(
    "params,text",
    [
        ({"decoder": "scl", "list_size": 8, "ebn0_db": 2.5}, "SCL-8 @ 2.5 dB"),
        ({"decoder": "cascl", "list_size": 8, "ebn0_db": 2.0}, "CA-SCL-8 @ 2.0 dB"),
        ({"decoder": "sc", "list_size": 1, "p": 0.05}, "SC @ p = 0.05"),
        ({"ebn0_db": 3.0, "k": 1}, "3.0 dB, k=1"),
    ],
)
def test_human_labels(params, text):
    assert progress.label(params) == text


def test_plain_progress_lines_when_not_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr(progress, "_QUIET", False)
    monkeypatch.setenv("NOISYHW_PROGRESS_INTERVAL", "0.1")
    import time

    with progress.progress_bar("training", 4) as advance:
        advance(1, info="loss 0.5")
        time.sleep(0.35)  # a long step: the heartbeat keeps printing
        advance(3)
    err = capsys.readouterr().err.splitlines()
    assert len(err) >= 3
    assert re.fullmatch(r"\d\d:\d\d:\d\d  training  1/4 \(25%\)  loss 0\.5  elapsed .*", err[0])
    assert err[-1].split("  ")[2] == "4/4 (100%)"
    assert not sys.stderr.isatty()


def test_quiet_prints_no_progress(monkeypatch, capsys):
    monkeypatch.setattr(progress, "_QUIET", True)
    with progress.progress_bar("x", 2) as advance:
        advance(2)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize(
    "text,values",
    [
        ("-5:20:5", [-5.0, 0.0, 5.0, 10.0, 15.0, 20.0]),
        ("0,2:4:1", [0.0, 2.0, 3.0, 4.0]),
        ("1.5, inf", [1.5, float("inf")]),
        ("0:1:0.35", [0.0, 0.35, 0.7]),
    ],
)
def test_one_list_syntax(text, values):
    assert parse_floats("--x", text) == values


@pytest.mark.parametrize("text", ["1:0:1", "a", "1:2", "1:2:0", "nan", "0:1e9:1e-3", ""])
def test_list_syntax_refuses(text):
    with pytest.raises(ParameterError, match="start:stop:step"):
        parse_floats("--x", text)


def test_int_lists_take_ranges_too():
    assert parse_ints("--votes", "1,5:15:5") == [1, 5, 10, 15]
    with pytest.raises(ParameterError):
        parse_ints("--votes", "1.5")


def test_noise_sweep_train_snrs_take_the_same_range_syntax():
    from noisyhw.cli.analog import _parse_train_snrs

    assert _parse_train_snrs("0:4:2") == [0.0, 2.0, 4.0]
    assert _parse_train_snrs("0:4:2,-2..4,20>10") == [0.0, 2.0, 4.0, (-2.0, 4.0), [20.0, 10.0]]


def test_long_text_cells_wrap_within_80_columns_and_keep_every_character():
    path = "/usr/share/datasets/" + "/".join(["a-very-long-folder-name"] * 6)
    rows = [{"name": "fashion-mnist", "location": path, "size": 70000}]
    text = render_table(rows, width=80)
    assert max(map(len, text.splitlines())) <= 80
    assert path in "".join(line[15:].strip() for line in text.splitlines())


def test_point_label_of_the_sc_variants_has_no_list_size():
    from noisyhw.progress import label

    assert label({"decoder": "sc-int8", "list_size": 1, "ebn0_db": 2.0}) == "sc-int8 @ 2.0 dB"
    assert label({"decoder": "scl", "list_size": 8, "ebn0_db": 2.5}) == "SCL-8 @ 2.5 dB"
