"""Pruning + n-bit QAT of the survivors, and the compressed size in bits."""

import pytest
import torch
from torch import nn

from noisyhw import data as D
from noisyhw import models as M
from noisyhw.compress.prune import PruneSpec, compression_report, prune_
from noisyhw.compress.prune.export import export
from noisyhw.train import TrainConfig


def test_qat_survivors_use_few_levels_and_keep_zeros():
    tr = D.load("digits", "train").subset(192, seed=0)
    torch.manual_seed(0)
    model = M.create("small_cnn", (1, 8, 8), 10, width=8)
    res = prune_(
        model,
        PruneSpec("irregular", 0.7, "reweighted", lam=1e-5, bits=3),
        tr,
        None,
        TrainConfig(epochs=2, batch_size=64),
    )
    baked = export(model)  # bakes the quantizer in
    for t in res.targets:
        name = t.key.rsplit(".", 1)[0]
        w = dict(baked.named_modules())[name].weight.detach()
        assert abs(float((w == 0).float().mean()) - 0.7) < 0.01
        for row in w.reshape(w.shape[0], -1):
            assert len(torch.unique(row)) <= 2**3 - 1  # symmetric 3-bit: 7 levels incl. 0
    assert res.compression["weight_bits"] == 3


def test_compression_report_closed_form():
    lin = nn.Sequential(nn.Linear(8, 4, bias=False), nn.ReLU(), nn.Linear(4, 2, bias=False))
    with torch.no_grad():
        lin[0].weight.copy_(torch.arange(1.0, 33.0).reshape(4, 8))
    res = prune_(lin, PruneSpec("filter", 0.5, "magnitude", layers=["0"]))
    rep = compression_report(lin, res.targets, bits=4)
    # 16 survivors x 4 bits, index: 4 groups (bitmap 4 bits vs 2 x 2 bits -> 4), 4 scales x 32
    assert rep["value_bits"] == 16 * 4
    assert rep["index_bits"] == 4
    assert rep["scale_bits"] == 4 * 32
    assert rep["other_bits"] == 8 * 32
    assert rep["dense_bits"] == (32 + 8) * 32
    assert rep["ratio"] == pytest.approx(40 * 32 / (64 + 4 + 128 + 256))
