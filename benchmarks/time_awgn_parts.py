"""Where ``channels.awgn_``'s time goes: the kernel's stages, and its share of a noisy forward.

1. Stages of the compiled ziggurat on one L1-resident block (2048 float32 elements, repeated
   inside one compiled loop, so no call overhead): Philox4x32-10 bits, the scalar table-read
   loop, the vectorised first try + add, the scan for flagged elements, their finish.
2. A noisy ResNet-20 forward (batch 128, fixed SNR, 1 thread) against the clean one, with the
   kernel's own time summed per forward: how much of what the noise adds is the kernel.

    PYTHONPATH=src python benchmarks/time_awgn_parts.py

Timings are minima over repeats (stages) or medians over rounds (forwards); this VM's speed
drifts, so compare the numbers of one run with each other.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch
from numba import njit

from noisyhw.analog import NoiseSpec, calibrate, inject_noise
from noisyhw.channels import _gauss_kernels as gk
from noisyhw.models import create

B = gk.BLOCK
REPS = 4000


@njit
def _words(bits, key):  # pragma: no cover - compiled
    for b in range(REPS):
        gk._block_words(bits, key, b)


@njit
def _lookup(bits, sc):  # pragma: no cover - compiled
    for _ in range(REPS):
        gk._lookup(bits, gk.LUT_PACKED, sc)


@njit
def _try_add(out, bits, sc, flag):  # pragma: no cover - compiled
    for _ in range(REPS):
        gk._try_add(out, np.float32(0.1), bits, sc, flag)


@njit
def _scan(flag, idx):  # pragma: no cover - compiled (the gather loop of _add_chunk)
    total = 0
    for _ in range(REPS):
        words = flag.view(np.uint64)
        cnt = 0
        for q in range(words.size):
            if words[q] != 0:
                for i in range(8 * q, 8 * q + 8):
                    idx[cnt] = i
                    cnt += flag[i]
        total += cnt
    return total


@njit
def _finish(buf, bits, idx, cnt, key):  # pragma: no cover - compiled
    for b in range(REPS):
        gk._finish_block(buf, bits, idx, cnt, key, np.uint64(b * B))


def _best(fn, *args, repeat: int = 5) -> float:
    fn(*args)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best / (REPS * B) * 1e9  # ns per element


def stages() -> dict[str, float]:
    key = np.uint64(7)
    bits = np.empty(B, np.uint32)
    sc = np.empty(B, np.uint64)
    out = np.zeros(B, np.float32)
    flag = np.zeros(B, np.uint8)
    idx = np.zeros(B, np.int64)
    buf = np.zeros(B, np.float32)
    _words(bits, key)  # leaves block REPS-1's words in ``bits``
    _lookup(bits, sc)
    _try_add(out, bits, sc, flag)
    cnt = int(flag.sum())
    idx[:cnt] = np.nonzero(flag)[0]
    return {
        "Philox4x32-10 bits": _best(_words, bits, key),
        "table reads (scalar)": _best(_lookup, bits, sc),
        "first try + add (vector)": _best(_try_add, out, bits, sc, flag),
        "scan for flagged": _best(_scan, flag, idx),
        f"finish flagged ({cnt} of {B})": _best(_finish, buf, bits, idx, cnt, key),
    }


@torch.no_grad()
def forward_share(rounds: int = 10) -> dict[str, float]:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    clean = create("resnet20", (3, 32, 32), 10).eval()
    x = torch.rand(128, 3, 32, 32)
    noisy = inject_noise(clean, NoiseSpec(10.0, mode="fixed"), seed=0)
    calibrate(noisy, x)
    kernel = gk.add_normal_serial
    spent = [0.0]

    def timed(*args):
        t0 = time.perf_counter()
        kernel(*args)
        spent[0] += time.perf_counter() - t0

    tc, tn, tk = [], [], []
    for _ in range(2):
        clean(x), noisy(x)
    gk.add_normal_serial = timed  # channels._add_normal looks it up on the module per call
    try:
        for _ in range(rounds):
            t0 = time.perf_counter()
            clean(x)
            tc.append(time.perf_counter() - t0)
            spent[0] = 0.0
            t0 = time.perf_counter()
            noisy(x)
            tn.append(time.perf_counter() - t0)
            tk.append(spent[0])
    finally:
        gk.add_normal_serial = kernel
    m = statistics.median
    return {"clean ms": m(tc) * 1e3, "noisy ms": m(tn) * 1e3, "kernel ms": m(tk) * 1e3}


if __name__ == "__main__":
    for name, ns in stages().items():
        print(f"{name}: {ns:.3f} ns per element")
    f = forward_share()
    added = f["noisy ms"] - f["clean ms"]
    print(
        f"ResNet-20 batch 128, 1 thread: clean {f['clean ms']:.1f} ms, noisy {f['noisy ms']:.1f} ms "
        f"(ratio {f['noisy ms'] / f['clean ms']:.3f}); the kernel {f['kernel ms']:.1f} ms of the "
        f"{added:.1f} ms added"
    )
