"""fit() under torchrun: 2 gloo processes with the same global batch give the single-process
loss curve; the batch sharding covers each global batch exactly once."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from noisyhw import data
from noisyhw.train import fit, iterate_batches, rank_and_world

HERE = Path(__file__).parent
SRC = HERE.parent.parent / "src"


@pytest.mark.parametrize(("n", "batch", "world"), [(10, 4, 2), (37, 10, 3), (5, 8, 4), (9, 3, 3)])
def test_shards_partition_every_global_batch(n, batch, world):
    ds = data.ArrayDataset(torch.arange(n, dtype=torch.float32).view(n, 1), torch.arange(n), ["a"])
    full = [
        y.tolist()
        for _, y in iterate_batches(
            ds, batch, shuffle=True, generator=torch.Generator().manual_seed(1)
        )
    ]
    shards = [
        [
            y.tolist()
            for _, y in iterate_batches(
                ds,
                batch,
                shuffle=True,
                rank=r,
                world=world,
                generator=torch.Generator().manual_seed(1),
            )
        ]
        for r in range(world)
    ]
    assert all(len(s) == len(full) for s in shards)  # every rank steps on every global batch
    for b, expected in enumerate(full):
        got = [y for r in range(world) for y in shards[r][b]]
        assert sorted(got) == sorted(expected)
        sizes = [len(shards[r][b]) for r in range(world)]
        assert max(sizes) - min(sizes) <= 1


def test_single_process_reports_rank_zero_of_one():
    assert rank_and_world() == (0, 1)


def test_torchrun_two_processes_match_single_process(tmp_path):
    sys.path.insert(0, str(HERE))
    from ddp_train_script import CONFIG, make

    env = dict(os.environ, NOISYHW_QUIET="1", OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(SRC), str(HERE), env.get("PYTHONPATH")) if p
    )
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(k, None)
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        str(HERE / "ddp_train_script.py"),
        str(tmp_path),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (tmp_path / "world.txt").read_text() == "2"
    h0 = json.loads((tmp_path / "history-0.json").read_text())
    h1 = json.loads((tmp_path / "history-1.json").read_text())
    keys = ["train_loss", "train_acc", "val_loss", "val_acc"]
    assert [[h[k] for k in keys] for h in h0] == [[h[k] for k in keys] for h in h1]

    model, ds, val = make()
    assert len(ds) % CONFIG.batch_size != 0  # the uneven last batch is part of the check
    ref = fit(model, ds, val, CONFIG)
    for a, b in zip(ref, h0, strict=True):
        assert b["train_loss"] == pytest.approx(a["train_loss"], rel=1e-5)
        assert b["val_loss"] == pytest.approx(a["val_loss"], rel=1e-5)
        assert b["train_acc"] == pytest.approx(a["train_acc"], abs=2 / len(ds))
        assert b["val_acc"] == pytest.approx(a["val_acc"], abs=2 / len(val))
    weights = torch.load(tmp_path / "weights.pt", weights_only=True)
    for name, w in model.state_dict().items():
        torch.testing.assert_close(weights[name], w, rtol=1e-4, atol=1e-5)
    # rank 0 wrote a resumable checkpoint of the whole run
    ck = torch.load(tmp_path / "ck.pt", weights_only=True)
    assert ck["epoch"] == CONFIG.epochs
    for name, w in weights.items():
        torch.testing.assert_close(ck["model"][name], w)
