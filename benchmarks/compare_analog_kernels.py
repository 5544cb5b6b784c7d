"""``awgn_``'s kernel on this branch vs an older one (default: git ``766dfe4``, the 256-layer
ziggurat; ``b13f7c6`` is the one with SplitMix64 bits).

The old ``_gauss_kernels.py`` is read from git into a temporary module (needs the repository's
history). Both draw into the same buffers; timed in shuffled rounds in one process (CPU time),
reported as the median of per-round ratios (robust on a shared machine) and min/min:

* the kernel alone on a ResNet-20 stage-1 activation (2M float32);
* the noisy / clean ResNet-20 forward (batch 128, fixed and relative SNR), once with each
  kernel (everything else is this branch's code).

    PYTHONPATH=src python benchmarks/compare_analog_kernels.py [ROUNDS]

``ANALOG_OLD_KERNEL=<git ref>`` picks another baseline.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import torch
from _baseline import module_at  # benchmarks/ is on sys.path when run as a script
from _timing import paired_ratio, rounds

from noisyhw import channels
from noisyhw.analog import NoiseSpec, calibrate, inject_noise
from noisyhw.channels import _gauss_kernels as new
from noisyhw.models import create

OLD = os.environ.get("ANALOG_OLD_KERNEL", "766dfe4")


def _old_kernels():
    return module_at(
        OLD, "src/noisyhw/_gauss_kernels.py", "gold", ("cache=True", "cache=False"), "noisyhw"
    )


def _ratio(times: dict[str, list[float]], a: str, b: str) -> str:
    med, q1, q3 = paired_ratio(times, a, b)
    return (
        f"{a} / {b}: median {med:.3f} (quartiles {q1:.3f}-{q3:.3f}), "
        f"min/min {min(times[a]) / min(times[b]):.3f}"
    )


@torch.no_grad()
def main(n_rounds: int = 15) -> None:
    torch.set_num_threads(1)
    old = _old_kernels()
    n = 128 * 16 * 32 * 32
    buf = np.zeros(n, np.float32)
    sig = np.ones(1, np.float32)
    t = rounds(
        {
            "new": lambda: new.add_normal_serial(buf, sig, np.uint64(7), n, n, 1),
            "old": lambda: old.add_normal_serial(buf, sig, np.uint64(7), n, n, 1),
        },
        n_rounds,
    )
    print(
        f"kernel alone, 2M float32: new {min(t['new']) / n * 1e9:.2f} ns/element, "
        f"old {min(t['old']) / n * 1e9:.2f}; {_ratio(t, 'new', 'old')}"
    )

    torch.manual_seed(0)
    clean = create("resnet20", (3, 32, 32), 10).eval()
    x = torch.rand(128, 3, 32, 32)
    rel = inject_noise(clean, NoiseSpec(10.0), seed=0)
    fixed = inject_noise(clean, NoiseSpec(10.0, mode="fixed"), seed=0)
    calibrate(fixed, x)
    this = channels._add_normal

    def old_add(flat, key, s, group_size, inner, n_ch):
        old.add_normal_serial(flat, s, np.uint64(key), group_size, inner, n_ch)

    def with_old(model):
        def run():
            channels._add_normal = old_add
            try:
                model(x)
            finally:
                channels._add_normal = this

        return run

    t = rounds(
        {
            "clean": lambda: clean(x),
            "fixed new": lambda: fixed(x),
            "fixed old": with_old(fixed),
            "relative new": lambda: rel(x),
            "relative old": with_old(rel),
        },
        n_rounds,
    )
    print(f"ResNet-20 batch 128, clean forward {min(t['clean']) * 1e3:.1f} ms (min)")
    for k in ("fixed new", "fixed old", "relative new", "relative old"):
        print("  " + _ratio(t, k, "clean"))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
