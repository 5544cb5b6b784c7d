"""Analog noise speed: noisy vs clean forward of a ResNet-20, batched K-vote vs K forwards.

Targets (issue 3): noisy forward <= 1.3x the clean forward on the same batch; K-vote <= 1.1x
K clean forwards and faster than a Python loop of K noisy passes. Best of ``repeat`` timings,
one thread, measured in the same run.
"""

from __future__ import annotations

import copy
import time

import torch

from noisyhw.analog import NoiseSpec, calibrate, inject_noise, set_noise, vote
from noisyhw.models import create


def _time(fn, repeat: int = 5) -> float:
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


@torch.no_grad()
def run(batch: int = 128, votes: int = 8, vote_batch: int = 64) -> dict:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        clean = create("resnet20", (3, 32, 32), 10).eval()
        x = torch.rand(batch, 3, 32, 32)
        t_clean = _time(lambda: clean(x))
        noisy = inject_noise(copy.deepcopy(clean), NoiseSpec(10.0), seed=0)
        t_rel = _time(lambda: noisy(x))
        calibrate(noisy, x, NoiseSpec(10.0, mode="fixed"))
        t_fixed = _time(lambda: noisy(x))
        set_noise(noisy, NoiseSpec(10.0, mode="relative"))

        # K-vote on the small CNN of the studies (Fashion-MNIST shape)
        torch.manual_seed(0)
        cnn = create("small_cnn", (1, 28, 28), 10).eval()
        xv = torch.rand(vote_batch, 1, 28, 28)
        t_one_clean = _time(lambda: cnn(xv))
        t_k_clean = _time(lambda: [cnn(xv) for _ in range(votes)])
        ncnn = inject_noise(copy.deepcopy(cnn), NoiseSpec(0.0), seed=0)
        t_vote = _time(lambda: vote(ncnn, xv, votes, "mean", seed=0))
        t_loop = _time(lambda: [ncnn(xv).softmax(-1) for _ in range(votes)])

        # K-vote on the digits MLP (small layers: per-call overhead, where stacking replicas pays)
        mlp = create("mlp", (1, 8, 8), 10).eval()
        xm = torch.rand(32, 1, 8, 8)
        k_mlp = 31
        tm_clean = _time(lambda: [mlp(xm) for _ in range(k_mlp)])
        nmlp = inject_noise(copy.deepcopy(mlp), NoiseSpec(0.0), seed=0)
        tm_vote = _time(lambda: vote(nmlp, xm, k_mlp, "mean", seed=0))
        tm_loop = _time(lambda: [nmlp(xm).softmax(-1) for _ in range(k_mlp)])
    finally:
        torch.set_num_threads(threads)
    return {
        "figures": [
            {
                "name": f"noisy forward, ResNet-20, batch {batch} (relative SNR)",
                "value": batch / t_rel,
                "unit": "images/s",
                "baseline": batch / t_clean,
                "ratio": t_rel / t_clean,
                "target": "<= 1.3",
                "note": "time ratio noisy / clean forward, 1 thread",
            },
            {
                "name": f"noisy forward, ResNet-20, batch {batch} (fixed SNR)",
                "value": batch / t_fixed,
                "unit": "images/s",
                "baseline": batch / t_clean,
                "ratio": t_fixed / t_clean,
                "target": "<= 1.3",
                "note": "time ratio noisy / clean forward, 1 thread",
            },
            {
                "name": f"{votes}-vote, small CNN, batch {vote_batch}",
                "value": vote_batch / t_vote,
                "unit": "images/s",
                "baseline": vote_batch / t_k_clean,
                "ratio": t_vote / t_k_clean,
                "target": "<= 1.1",
                "note": f"time ratio batched vote / {votes} clean forwards (one clean forward "
                f"{t_one_clean * 1e3:.1f} ms)",
            },
            {
                "name": f"{votes}-vote vs Python loop of {votes} noisy passes",
                "value": t_vote * 1e3,
                "unit": "ms",
                "baseline": t_loop * 1e3,
                "ratio": t_vote / t_loop,
                "target": "< 1",
                "note": "time ratio batched vote / loop (activations beyond the CPU caches: "
                "one replica per forward)",
            },
            {
                "name": f"{k_mlp}-vote, digits MLP, batch 32",
                "value": 32 / tm_vote,
                "unit": "images/s",
                "baseline": 32 / tm_clean,
                "ratio": tm_vote / tm_clean,
                "target": "<= 1.1",
                "note": f"time ratio batched vote / {k_mlp} clean forwards",
            },
            {
                "name": f"{k_mlp}-vote vs Python loop, digits MLP, batch 32",
                "value": tm_vote * 1e3,
                "unit": "ms",
                "baseline": tm_loop * 1e3,
                "ratio": tm_vote / tm_loop,
                "target": "< 1",
                "note": "time ratio batched vote / loop of noisy passes",
            },
        ]
    }


if __name__ == "__main__":
    for fig in run()["figures"]:
        print(
            f"{fig['name']}: {fig['value']:.1f} {fig['unit']} (baseline {fig['baseline']:.1f}), "
            f"ratio {fig['ratio']:.3f} target {fig['target']}"
        )
