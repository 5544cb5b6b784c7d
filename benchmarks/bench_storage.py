"""Storage speed: bit flips in a 25M-parameter float32 image vs a plain copy, flips/s, the naive
per-bit Bernoulli mask, the previous np.unique + bitwise_xor.at version, enumerative coding.

    PYTHONPATH=src python benchmarks/bench_storage.py
"""

from __future__ import annotations

import numpy as np
import torch
from _timing import best_of  # benchmarks/ is on sys.path (run_all)

from noisyhw import channels
from noisyhw.storage import hwo_decode, hwo_encode

N_PARAMS = 25_000_000
N_NAIVE = 2_000_000  # the naive mask needs 8 bytes per bit: measure on fewer parameters


def _naive(w: np.ndarray, p: float, g: np.random.Generator) -> np.ndarray:
    """Per-bit Bernoulli mask (what most fault injectors do), packed and XORed."""
    bits = g.random(w.size * 32) < p
    mask = np.packbits(bits, bitorder="little").view(np.uint32)
    return (w.view(np.uint32) ^ mask).view(np.float32)


def _previous(w: np.ndarray, p: float, g: np.random.Generator) -> np.ndarray:
    """The first version of channels.bsc: binomial count, np.unique positions, bitwise_xor.at."""
    out = w.copy()
    words = out.view(np.uint32)
    n = words.size * 32
    count = int(g.binomial(n, p))
    pos = np.unique(g.integers(0, n, size=count, dtype=np.int64))
    np.bitwise_xor.at(words, pos // 32, (np.uint32(1) << (pos % 32).astype(np.uint32)))
    return out


def run() -> dict:
    torch.set_num_threads(1)
    g = np.random.default_rng(0)
    w = g.standard_normal(N_PARAMS).astype(np.float32)
    channels.bsc(w[:64], 1e-3, 0)  # compile
    copy_s = best_of(lambda: w.copy())
    figures = []
    flips_per_s = {}
    for p, target in ((1e-6, 2.0), (1e-3, 5.0)):
        t = best_of(lambda p=p: channels.bsc(w, p, g), 5 if p < 1e-4 else 3)
        flips = N_PARAMS * 32 * p
        flips_per_s[p] = flips / t
        figures.append(
            {
                "name": f"bsc on 25M float32 params, BER {p:g}",
                "value": t * 1e3,
                "unit": "ms",
                "baseline": copy_s * 1e3,
                "ratio": t / copy_s,
                "target": f"<= {target:g}x a plain copy",
                "note": f"~{flips:.3g} flips; plain copy {copy_s * 1e3:.1f} ms",
            }
        )
    buf = w.copy()
    t_in = best_of(lambda: channels.bsc_inplace(buf, 1e-2, g), 3)
    figures.append(
        {
            "name": "flip rate, in place, BER 1e-2 (8M flips)",
            "value": N_PARAMS * 32 * 1e-2 / t_in,
            "unit": "flips/s",
            "note": f"BER 1e-3 (with copy): {flips_per_s[1e-3]:.3g} flips/s",
        }
    )
    small = w[:N_NAIVE].copy()
    for p in (1e-6, 1e-3):
        t_naive = best_of(lambda p=p: _naive(small, p, g), 2)
        t_ours = best_of(lambda p=p: channels.bsc(small, p, g), 5)
        figures.append(
            {
                "name": f"speed-up vs naive per-bit Bernoulli mask, BER {p:g} (2M params)",
                "value": t_naive / t_ours,
                "unit": "x",
                "baseline": t_naive * 1e3,
                "ratio": t_naive / t_ours,
                "note": f"naive {t_naive * 1e3:.0f} ms, ours {t_ours * 1e3:.2f} ms",
            }
        )
    t_prev = best_of(lambda: _previous(w, 1e-3, g), 2)
    t_now = best_of(lambda: channels.bsc(w, 1e-3, g), 3)
    figures.append(
        {
            "name": "speed-up vs previous bsc (np.unique + xor.at), BER 1e-3, 25M params",
            "value": t_prev / t_now,
            "unit": "x",
            "baseline": t_prev * 1e3,
            "ratio": t_prev / t_now,
            "note": f"previous {t_prev / copy_s:.0f}x a copy, now {t_now / copy_s:.1f}x",
        }
    )
    idx = g.integers(0, 256, 5_000_000)
    hwo_encode(idx[:10], 8)
    t_enc = best_of(lambda: hwo_encode(idx, 8), 3)
    words = hwo_encode(idx, 8)
    t_dec = best_of(lambda: hwo_decode(words, 8), 3)
    figures.append(
        {
            "name": "Hamming-weight-ordered code, n=8 (encode / decode)",
            "value": idx.size / t_enc,
            "unit": "values/s",
            "note": f"decode {idx.size / t_dec:.3g} values/s",
        }
    )
    return {"figures": figures}


if __name__ == "__main__":
    for f in run()["figures"]:
        print(f)
