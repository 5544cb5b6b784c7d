"""Analog noise speed: noisy vs clean forward of a ResNet-20, batched K-vote vs K forwards.

Targets (issue 3): noisy forward <= 1.3x the clean forward on the same batch; K-vote <= 1.1x
K clean forwards and faster than a Python loop of K noisy passes. Best of ``repeat`` timings,
one thread, measured in the same run.
"""

from __future__ import annotations

import copy
import time

import torch

from noisyhw.analog import NoiseSpec, calibrate, inject_noise, vote
from noisyhw.channels import awgn_
from noisyhw.models import create


def _time(fn, repeat: int = 5) -> float:
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def _time_rr(fns, rounds: int = 7) -> list[float]:
    for fn in fns:
        fn()
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t0 = time.process_time()
            fn()
            best[i] = min(best[i], time.process_time() - t0)
    return best


@torch.no_grad()
def run(batch: int = 128, votes: int = 8, vote_batch: int = 64) -> dict:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        clean = create("resnet20", (3, 32, 32), 10).eval()
        x = torch.rand(batch, 3, 32, 32)
        rel = inject_noise(copy.deepcopy(clean), NoiseSpec(10.0), seed=0)
        fixed = inject_noise(copy.deepcopy(clean), NoiseSpec(10.0, mode="fixed"), seed=0)
        calibrate(fixed, x)
        # round robin, best of each: a shared machine's slow spells hit all three alike
        t_clean, t_rel, t_fixed = _time_rr([lambda: clean(x), lambda: rel(x), lambda: fixed(x)])

        # K-vote on the small CNN of the studies (Fashion-MNIST shape)
        torch.manual_seed(0)
        cnn = create("small_cnn", (1, 28, 28), 10).eval()
        xv = torch.rand(vote_batch, 1, 28, 28)
        xk = xv.repeat(votes, 1, 1, 1)
        ncnn = inject_noise(copy.deepcopy(cnn), NoiseSpec(0.0), seed=0)
        t_one_clean, t_k_clean, t_k_batched, t_vote, t_vote_plain, t_loop = _time_rr(
            [
                lambda: cnn(xv),
                lambda: [cnn(xv) for _ in range(votes)],
                lambda: cnn(xk),
                lambda: vote(ncnn, xv, votes, "mean", seed=0),
                lambda: vote(ncnn, xv, votes, "mean", seed=0, share_prefix=False),
                lambda: [ncnn(xv).softmax(-1) for _ in range(votes)],
            ],
            rounds=5,
        )

        # K-vote on the digits MLP (small layers: per-call overhead, where stacking replicas pays)
        mlp = create("mlp", (1, 8, 8), 10).eval()
        xm = torch.rand(32, 1, 8, 8)
        k_mlp = 31
        tm_clean = _time(lambda: [mlp(xm) for _ in range(k_mlp)])
        nmlp = inject_noise(copy.deepcopy(mlp), NoiseSpec(0.0), seed=0)
        tm_vote = _time(lambda: vote(nmlp, xm, k_mlp, "mean", seed=0))
        tm_loop = _time(lambda: [nmlp(xm).softmax(-1) for _ in range(k_mlp)])

        # K-vote on an MLP whose first layer dominates (Fashion-MNIST shape, 784-128-128-10):
        # with the first layer's clean product shared, voting costs less than K clean forwards
        torch.manual_seed(0)
        fmlp = create("mlp", (1, 28, 28), 10).eval()
        xf = torch.rand(256, 1, 28, 28)
        k_f = 16
        nfmlp = inject_noise(copy.deepcopy(fmlp), NoiseSpec(0.0), seed=0)
        tf_clean, tf_vote, tf_plain, tf_loop = _time_rr(
            [
                lambda: [fmlp(xf) for _ in range(k_f)],
                lambda: vote(nfmlp, xf, k_f, "mean", seed=0),
                lambda: vote(nfmlp, xf, k_f, "mean", seed=0, share_prefix=False),
                lambda: [nfmlp(xf).softmax(-1) for _ in range(k_f)],
            ]
        )

        # the channel itself: in-place compiled Gaussian vs torch's CPU normal_ + add
        buf = torch.zeros(batch * 16 * 32 * 32)  # one ResNet-20 stage-1 activation
        gen = torch.Generator().manual_seed(0)
        t_awgn = _time(lambda: awgn_(buf, 0.1, gen))
        t_torch = _time(lambda: buf.add_(torch.empty_like(buf).normal_(generator=gen), alpha=0.1))
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
                "name": f"{votes}-vote vs {votes} clean forwards batched, small CNN",
                "value": vote_batch / t_vote,
                "unit": "images/s",
                "baseline": vote_batch / t_k_batched,
                "ratio": t_vote / t_k_batched,
                "target": "<= 1.1",
                "note": f"time ratio batched vote / one clean forward of the {votes}x replicated "
                "batch",
            },
            {
                "name": f"{votes}-vote vs Python loop of {votes} noisy passes",
                "value": t_vote * 1e3,
                "unit": "ms",
                "baseline": t_loop * 1e3,
                "ratio": t_vote / t_loop,
                "target": "< 1",
                "note": "time ratio batched vote / loop (activations beyond the CPU caches: "
                "one replica per forward; the first conv computed once)",
            },
            {
                "name": f"{votes}-vote, first layer shared vs computed per vote",
                "value": t_vote * 1e3,
                "unit": "ms",
                "baseline": t_vote_plain * 1e3,
                "ratio": t_vote / t_vote_plain,
                "target": "< 1",
                "note": "time ratio vote(share_prefix=True, the default) / share_prefix=False",
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
            {
                "name": f"{k_f}-vote, Fashion-MNIST MLP 784-128-128, batch 256",
                "value": 256 / tf_vote,
                "unit": "images/s",
                "baseline": 256 / tf_clean,
                "ratio": tf_vote / tf_clean,
                "target": "<= 1.1",
                "note": f"time ratio batched vote / {k_f} clean forwards (first layer shared; "
                f"without sharing {tf_plain / tf_clean:.2f}, loop of noisy passes "
                f"{tf_loop / tf_clean:.2f})",
            },
            {
                "name": f"{k_f}-vote vs Python loop, Fashion-MNIST MLP, batch 256",
                "value": tf_vote * 1e3,
                "unit": "ms",
                "baseline": tf_loop * 1e3,
                "ratio": tf_vote / tf_loop,
                "target": "< 1",
                "note": "time ratio batched vote / loop of noisy passes",
            },
            {
                "name": "in-place AWGN (channels.awgn_) vs torch normal_ + add, 2M floats",
                "value": buf.numel() / t_awgn / 1e6,
                "unit": "Msamples/s",
                "baseline": buf.numel() / t_torch / 1e6,
                "ratio": t_awgn / t_torch,
                "target": "< 1",
                "note": "time ratio compiled ziggurat (Philox4x32-10 bits) in place / torch CPU "
                "Gaussian + add",
            },
        ]
    }


if __name__ == "__main__":
    for fig in run()["figures"]:
        print(
            f"{fig['name']}: {fig['value']:.1f} {fig['unit']} (baseline {fig['baseline']:.1f}), "
            f"ratio {fig['ratio']:.3f} target {fig['target']}"
        )
