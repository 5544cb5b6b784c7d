#!/usr/bin/env python
"""README, whole stack: one Fashion-MNIST CNN through the hardware presets (float, 4-bit ReRAM
crossbar with fresh or worn-TLC weight storage, 8-bit low-voltage SRAM with and without range
detection, analog 0 dB with 15 votes) and through a profile written here as TOML (filter
pruning 50%, 4-bit crossbar, HWO-8 weights with nulling in worn TLC NAND behind a PCM
(2, 1, 1) code, read noise, 3 votes): accuracy after each stage with 95% intervals over 20
trials, stored bits and cells per parameter, energy per inference.

Expected time on 2 idle cores: ~12 min; --quick (MLP on digits, 2 trials): ~1 min.

Each command prints the per-stage table and writes report.html with the waterfall, the
Pareto front (accuracy vs bits vs energy) and every profile as a table.
Usage: python examples/stack.py [--quick]
"""

import os
import sys

from _run import run

PRESETS = "float,reram-4bit-analog,reram-4bit-worn-tlc,sram-8bit-lowvolt,sram-8bit-lowvolt-range,analog-0db-votes"

PROFILE = """\
name = "pruned-reram-hwo8-pcm"
source = "example: filter pruning + the reram-4bit-worn-tlc hardware, HWO-8 storage behind a PCM code"

[prune]
structure = "filter"
sparsity = 0.5
method = "magnitude"

[quantize]
weight_bits = 4
dac_bits = 4
adc_bits = 4
prog_noise = 0.05

[store]
representation = "hwo8"
protection = "nulling"
media = "worn-tlc-nand"
pcm = [2, 1, 1]

[compute]
kind = "nvm"
read_noise = 0.05
votes = 3
"""


def commands(quick: bool, out: str) -> list[tuple[str, list[str]]]:
    os.makedirs(out, exist_ok=True)
    profile = os.path.join(out, "pruned-reram-hwo8-pcm.toml")
    with open(profile, "w") as f:
        f.write(PROFILE)
    if quick:
        train = ["train", "--model", "mlp", "--dataset", "digits", "--epochs", "3"]
        size = ["--trials", "2"]
    else:
        train = ["train", "--model", "small_cnn", "--dataset", "fashion-mnist", "--epochs", "3"]
        train += ["--n-train", "20000"]
        size = ["--trials", "20", "--n-test", "1000", "--n-train", "2000"]
    model = ["--model-file", os.path.join(out, "train", "model.pt")]
    return [
        ("train", train),
        ("presets", ["stack", "sweep", "--profiles", PRESETS, *model, *size]),
        ("custom", ["stack", "run", "--profile", profile, *model, *size]),
    ]


if __name__ == "__main__":
    sys.exit(run(__doc__, commands, "runs/examples/stack"))
