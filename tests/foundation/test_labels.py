"""One module owns the labels for people (noisyhw.labels): no second formatter elsewhere."""

import ast
import doctest
from pathlib import Path

import noisyhw.labels as L
from noisyhw import progress
from noisyhw.sweep import labels as sweep_labels

SRC = Path(__file__).resolve().parents[2] / "src" / "noisyhw"


def test_the_old_names_are_the_one_implementation():
    assert progress.label is L.point_label
    for name in sweep_labels.__all__:
        assert getattr(sweep_labels, name) is getattr(L, name)


def test_no_other_module_defines_a_label_formatter():
    names = {"label", "point_label", "legend_label", "cell", "header"}
    found = []
    for f in SRC.rglob("*.py"):
        for node in ast.parse(f.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name in names and f.name != "labels.py":
                found.append(f"{f.relative_to(SRC)}:{node.name}")
    assert not found


def test_point_and_legend_labels():
    assert L.point_label({"decoder": "cascl", "list_size": 8, "ebn0_db": 2.0}) == (
        "CA-SCL-8 @ 2.0 dB"
    )
    assert L.point_label({"snr_db": -1.5, "p": 0.05, "k": 4}) == "-1.5 dB, p = 0.05, k=4"
    assert L.label({"snr_db": -1.5, "qat": True}) == "SNR -1.5 dB, QAT"
    assert doctest.testmod(L).failed == 0
