#!/usr/bin/env python
"""README, NVM crossbar: 4-bit NVM weights + 4-bit DAC/ADC after QAT cost the row-LSTM on
Fashion-MNIST under a point of accuracy (0.8827 float -> 0.8804 at 4/4/4 bits); the character
LSTM language model on fortunes goes from perplexity 8.20 (float) to 8.69 at 4 bits (+6.0%).

Expected time on 2 idle cores: ~15 min per part (fmnist, charlm); --quick: ~1 min.

Read the float row and the 4-bit "qat" row of each printed table. Single seed; device-noise
columns and the other bit widths are in docs/nvm.md. Needs dataset-fashion-mnist (fmnist) and
fortunes (charlm; without it the licence texts are used and the numbers differ).
Usage: python examples/nvm_4bit_lstm.py [--only fmnist,charlm] [--quick]
"""

import sys

from _run import run


def commands(quick: bool, out: str) -> list[tuple[str, list[str]]]:
    common = ["--scheduler", "cosine", "--lr", "3e-3", "--qat-epochs", "1", "--qat-lr", "5e-4",
              "--qat", "ptq,qat", "--seed", "0"]  # fmt: skip
    if quick:
        fmnist = ["nvm", "sweep", "--task", "fmnist", "--hidden", "16", "--n-train", "500",
                  "--n-test", "200", "--epochs", "1", "--qat-batches", "5", "--bits", "4",
                  *common]  # fmt: skip
        charlm = ["nvm", "sweep", "--task", "charlm", "--corpus", "fortunes", "--hidden", "16",
                  "--seq-len", "32", "--train-chars", "20000", "--test-chars", "5000",
                  "--epochs", "1", "--qat-batches", "5", "--bits", "4", *common]  # fmt: skip
    else:
        fmnist = ["nvm", "sweep", "--task", "fmnist", "--hidden", "128", "--n-train", "60000",
                  "--n-test", "10000", "--epochs", "5", "--qat-batches", "200",
                  "--bits", "2,3,4,5,6,8", "--repeats", "2", *common]  # fmt: skip
        charlm = ["nvm", "sweep", "--task", "charlm", "--corpus", "fortunes", "--hidden", "128",
                  "--seq-len", "64", "--train-chars", "1000000", "--test-chars", "60000",
                  "--epochs", "8", "--qat-batches", "60", "--bits", "2,3,4,5,6,8",
                  "--repeats", "2", *common]  # fmt: skip
    return [("fmnist", fmnist), ("charlm", charlm)]


if __name__ == "__main__":
    sys.exit(run(__doc__, commands, "runs/examples/nvm"))
