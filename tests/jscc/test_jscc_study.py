"""The study pipeline: resumable, seeded, gain interpolation."""

from __future__ import annotations

import numpy as np
import pytest

from noisyhw.codes.text import ALPHABETS
from noisyhw.errors import ParameterError
from noisyhw.experiments.jscc import TextStudy, build_dictionary, fer_gain_db, normalize, run_study
from noisyhw.sweep import Run

TEXT = normalize("The cat sat on the mat; the dog -- sat on the log! " * 60)


def test_gain_interpolation():
    rows = [{"scheme": "a", "ebn0_db": x, "fer": 10**-x} for x in (1.0, 2.0, 3.0)]
    rows += [{"scheme": "b", "ebn0_db": x, "fer": 10 ** -(x - 0.5)} for x in (1.0, 2.0, 3.0)]
    assert fer_gain_db(rows, "a", "b", 1e-2) == pytest.approx(0.5)
    assert fer_gain_db(rows, "a", "b", 1e-6) is None


def test_study_seeded_and_resumable(tmp_path):
    trie = build_dictionary("in-domain", TEXT)
    bits = ALPHABETS["a27"].text_to_bits(TEXT)
    study = TextStudy(bits, trie, n=64, k=30, crc="crc6", list_size=4, streams=4, blocks=3)
    run = Run("t", {"x": 1}, out=tmp_path / "r", seed=0)
    rows, _ = run_study(run, study, ["cascl", "joint"], [0.0, 2.0], 1, title="t")
    run.finish(rows)
    assert len(rows) == 4 and all(r["frames"] == 12 for r in rows)
    assert (tmp_path / "r" / "jscc_fer.png").exists()
    run2 = Run("t", {"x": 1}, out=tmp_path / "r", seed=0)
    rows2, _ = run_study(
        run2,
        TextStudy(bits, trie, n=64, k=30, crc="crc6", list_size=4, streams=4, blocks=3),
        ["cascl", "joint"],
        [0.0, 2.0],
        1,
        title="t",
    )
    assert [r["frame_errors"] for r in rows] == [r["frame_errors"] for r in rows2]


def test_study_bad_input():
    trie = build_dictionary("in-domain", TEXT)
    bits = ALPHABETS["a27"].text_to_bits(TEXT)
    with pytest.raises(ParameterError):
        TextStudy(bits, trie, k=121)
    with pytest.raises(ParameterError):
        build_dictionary("in-domain", "")
    with pytest.raises(ParameterError):
        TextStudy(bits, trie, n=64, k=30).decoder("nope")
    assert np.all(bits < 2)


def test_rows_carry_fer_intervals(tmp_path):
    trie = build_dictionary("in-domain", TEXT)
    bits = ALPHABETS["a27"].text_to_bits(TEXT)
    study = TextStudy(bits, trie, n=64, k=30, crc="crc6", list_size=2, streams=4, blocks=3)
    rows, _ = run_study(
        Run("t", {}, out=tmp_path / "ci", seed=1), study, ["scl"], [0.0], 1, title="t"
    )
    (r,) = rows
    assert r["fer_ci_low"] <= r["fer"] <= r["fer_ci_high"]
    assert r["fer_ci_low"] >= 0 and r["fer_ci_high"] <= 1
