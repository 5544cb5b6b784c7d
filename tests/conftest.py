"""Shared test settings: quiet progress bars, few threads (tests run 2-way parallel)."""

import os

os.environ.setdefault("NOISYHW_QUIET", "1")

import torch

torch.set_num_threads(1)
