"""Matched-stem study (issue 20): equal tensor shapes, exact pixel rearrangement, photo crops."""

import json

import numpy as np
import pytest
import torch

from noisyhw.cli import main
from noisyhw.compress import frequency as fq
from noisyhw.experiments import freq as E


@pytest.mark.parametrize("source", ["fashion", "photos"])
def test_variants_come_in_pairs_of_equal_shape(source):
    vs = E.matched_variants(source)
    comps, size = (1, 28) if source == "fashion" else (3, 64)
    x = torch.rand(2, comps, size, size)
    shapes = {}
    for v in vs:
        t = E.matched_input(x, v["kind"], v["block"], down=v["down"], channels=v["channels"])
        shapes.setdefault(t.shape, set()).add(v["kind"])
    assert all(kinds == {"pixels", "dct"} for kinds in shapes.values())
    assert len(shapes) == 3


def test_space_to_depth_is_an_exact_rearrangement():
    x = torch.arange(2 * 3 * 16 * 16, dtype=torch.float32).reshape(2, 3, 16, 16) / 1e4
    t = E.matched_input(x, "pixels", 8)
    assert t.shape == (2, 192, 2, 2)
    # channel c*64 + 8i + j at grid (a, b) is pixel (8a + i, 8b + j) of component c
    assert t[1, 64 + 8 * 3 + 5, 1, 0] == x[1, 1, 8 + 3, 5]
    assert torch.equal(torch.sort(t.flatten())[0], torch.sort(x.flatten())[0])


def test_dc_channel_is_the_downsampled_image_up_to_an_affine_map():
    # orthonormal b x b DCT: DC = b * (mean - 128/255) in [0, 1] units x 255
    x = torch.rand(3, 1, 28, 28)
    dc = E.matched_input(x, "dct", 4, channels=[0])
    pix = E.matched_input(x, "pixels", 4, down=4)
    assert torch.allclose(dc, 4 * (255 * pix - 128), atol=1e-3)


def test_photo_crops_are_labelled_by_the_region_of_their_centre():
    x, y, names = E.photo_crops(40, crop=64, regions=(2, 2), seed=3)
    assert x.shape == (40, 3, 64, 64) and x.dtype == torch.uint8 and len(names) == 8
    from sklearn.datasets import load_sample_images

    photos = load_sample_images().images
    for img, lab in zip(x[:10], y[:10], strict=True):
        src = photos[int(lab) // 4]
        patch = img.permute(1, 2, 0).numpy()
        # find the crop in its photo; its centre lies in the labelled cell (up to clamping)
        hits = np.argwhere((src[:-63, :-63] == patch[0, 0]).all(-1))
        found = [(r, c) for r, c in hits if np.array_equal(src[r : r + 64, c : c + 64], patch)]
        assert found
        r0, c0 = found[0]
        cell_r, cell_c = divmod(int(lab) % 4, 2)
        h, w = src.shape[:2]
        assert cell_r * h / 2 - 32 <= r0 + 32 <= (cell_r + 1) * h / 2 + 32
        assert cell_c * w / 2 - 32 <= c0 + 32 <= (cell_c + 1) * w / 2 + 32
    x2, y2, _ = E.photo_crops(40, crop=64, regions=(2, 2), seed=3)
    assert torch.equal(x, x2) and torch.equal(y, y2)


def test_matched_command_runs_resumes_and_reports_intervals(tmp_path):
    out = tmp_path / "run"
    args = [
        "freq", "matched", "--source", "fashion", "--n-train", "200", "--n-test", "100",
        "--epochs", "1", "--seeds", "2", "--out", str(out), "--quiet",
    ]  # fmt: skip
    assert main(args) == 0
    res = json.loads((out / "results.json").read_text())
    assert len(res["rows"]) == 6 and len(res["paired"]) == 3
    for p in res["paired"]:
        dct = next(r for r in res["rows"] if r["input"] == p["dct"])
        pix = next(r for r in res["rows"] if r["input"] == p["pixels"])
        assert dct["shape"] == pix["shape"] == p["shape"]
        assert p["diff"] == pytest.approx(dct["accuracy"] - pix["accuracy"])
    for r in res["rows"]:
        assert r["seeds"] == 2 and r["acc_lo"] <= r["accuracy"] <= r["acc_hi"]
    by = {r["input"]: r for r in res["rows"]}
    # the DC channel and the 4x-downsampled image differ by an affine map that the per-channel
    # normalisation removes: the same network sees the same numbers
    assert by["pixels /4 s2d 1ch"]["accuracy"] == pytest.approx(
        by["DCT 1x1 low 1ch"]["accuracy"], abs=0.02
    )
    assert main(args) == 0


@pytest.mark.parametrize(
    "extra", [["--source", "cifar"], ["--crop", "100"], ["--seeds", "0"], ["--crop", "448"]]
)
def test_matched_bad_input(extra, tmp_path, capsys):
    out = tmp_path / "x"
    assert main(["freq", "matched", "--source", "photos", *extra, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")
    assert not out.exists()


def test_matched_input_rejects_bad_kind_and_factor():
    x = torch.rand(1, 1, 16, 16)
    with pytest.raises(Exception, match="kind"):
        E.matched_input(x, "wavelet", 8)
    with pytest.raises(Exception, match="down"):
        E.matched_input(x, "pixels", 8, down=3)
    assert fq.dct_channels(x, block=8).shape == (1, 64, 2, 2)


def test_matched_sizes_checked_before_any_folder(tmp_path, capsys):
    """--epochs / --seeds had no upper bound; the photo crops were allocated after the folder."""
    for extra, option in (
        (["--epochs", "100000000"], "--epochs"),
        (["--seeds", "101"], "--seeds"),
        (["--source", "photos", "--crop", "416", "--n-train", "100000000"], "--n-train"),
    ):
        out = tmp_path / option.strip("-")
        assert main(["freq", "matched", *extra, "--out", str(out)]) == 2
        assert capsys.readouterr().err.startswith(f"error: {option}:")
        assert not out.exists()
