"""Training script run by the torchrun test: `torchrun --nproc_per_node N ddp_train_script.py OUT`.

Every rank trains the same model with the shared loop; rank 0 writes the history and weights,
every rank writes its own view of the history (they must agree).
"""

import json
import sys
from pathlib import Path

import torch

from noisyhw import data, models
from noisyhw.train import TrainConfig, fit, rank_and_world

CONFIG = TrainConfig(epochs=3, batch_size=100, lr=3e-3, optimizer="adam", seed=2)


def make():
    ds, val = data.load("digits", "train"), data.load("digits", "test")
    torch.manual_seed(0)
    model = models.create("mlp", ds.input_shape, ds.num_classes, hidden=(32,))
    return model, ds, val


def main(out: Path) -> None:
    torch.set_num_threads(1)
    model, ds, val = make()
    hist = fit(model, ds, val, CONFIG, checkpoint=out / "ck.pt")
    rank, world = rank_and_world()
    (out / f"history-{rank}.json").write_text(json.dumps(hist))
    if rank == 0:
        torch.save(model.state_dict(), out / "weights.pt")
        (out / "world.txt").write_text(str(world))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
