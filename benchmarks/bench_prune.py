"""Pruning speed: CPU inference of an exported 50%-filter ResNet-20 vs the dense one, and the
per-step cost of the reweighted penalty vs plain training (both measured in the same run)."""

from __future__ import annotations

import time

import torch

from noisyhw import models
from noisyhw.compress.prune import PruneSpec, PruningCallback, count_params, export, prune_
from noisyhw.experiments.prune import measure_latency

SHAPE = (3, 32, 32)  # CIFAR-size input, the shape ResNet-20 was designed for


def _step_times(models_callbacks, steps=12, batch=64) -> list[float]:
    """Median training-step time of each (model, callback) pair, steps interleaved so that
    machine load hits every variant alike."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, *SHAPE, generator=g)
    y = torch.randint(0, 10, (batch,), generator=g)
    opts = [torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9) for m, _ in models_callbacks]
    times: list[list[float]] = [[] for _ in models_callbacks]
    for i in range(steps + 2):
        for j, ((model, cb), opt) in enumerate(zip(models_callbacks, opts, strict=True)):
            t0 = time.perf_counter()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            extra = cb.extra_loss(model) if cb is not None else None
            if extra is not None:
                loss = loss + extra
            opt.zero_grad()
            loss.backward()
            if cb is not None:
                cb.on_after_backward(model)
            opt.step()
            if cb is not None:
                cb.on_step_end(model)
            if i >= 2:
                times[j].append(time.perf_counter() - t0)
    return [sorted(t)[len(t) // 2] for t in times]


def _latencies(nets, batch=64, rounds=5, repeats=5) -> list[float]:
    """Median forward time (ms) of each model, rounds interleaved against machine load."""
    out: list[list[float]] = [[] for _ in nets]
    for _ in range(rounds):
        for j, net in enumerate(nets):
            out[j].append(measure_latency(net, SHAPE, batch=batch, repeats=repeats))
    return [sorted(t)[len(t) // 2] for t in out]


def run() -> dict:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    dense = models.create("resnet20", SHAPE, 10).eval()
    pruned = models.create("resnet20", SHAPE, 10)
    pruned.load_state_dict(dense.state_dict())
    prune_(pruned, PruneSpec("filter", 0.5, "magnitude"))  # auto: every conv, residual-coupled
    small = export(pruned).eval()
    inner = models.create("resnet20", SHAPE, 10)
    inner.load_state_dict(dense.state_dict())
    names = [n for n, _ in inner.named_modules() if n.startswith("layer") and n.endswith("conv1")]
    prune_(inner, PruneSpec("filter", 0.5, "magnitude", layers=names))
    small_inner = export(inner).eval()
    t_dense, t_small, t_inner = _latencies([dense, small, small_inner])
    figures = [
        {
            "name": "exported ResNet-20, 50% filters of every conv (coupled groups), batch 64",
            "value": t_small,
            "unit": "ms",
            "baseline": t_dense,
            "ratio": t_dense / t_small,
            "target": 1.6,
            "note": f"speedup vs dense; params {count_params(small)} vs {count_params(dense)}",
        },
        {
            "name": "exported ResNet-20, 50% filters of block-internal convs only, batch 64",
            "value": t_inner,
            "unit": "ms",
            "baseline": t_dense,
            "ratio": t_dense / t_inner,
            "note": f"speedup vs dense; params {count_params(small_inner)}; residual stream kept",
        },
    ]

    pairs = []
    variants = [("irregular", "gradient"), ("filter", "gradient"), ("filter", "proximal")]
    for structure, update in [(None, None), *variants]:
        torch.manual_seed(0)
        m = models.create("resnet20", SHAPE, 10)
        cb = None
        if structure:
            spec = PruneSpec(structure, 0.5, "reweighted", layers="all", update=update)
            cb = PruningCallback(m, spec, 2)
            cb.on_train_begin(m, None)
        pairs.append((m, cb))
    t_plain, *t_rw = _step_times(pairs)
    for (structure, update), t in zip(variants, t_rw, strict=True):
        figures.append(
            {
                "name": f"reweighted {structure} penalty ({update}), ResNet-20 step, batch 64",
                "value": t * 1e3,
                "unit": "ms",
                "baseline": t_plain * 1e3,
                "ratio": t / t_plain,
                "target": 1.2,
                "note": "step time vs plain step, all layers penalised (lower is better)",
            }
        )
    return {"figures": figures}


if __name__ == "__main__":
    for f in run()["figures"]:
        print(f)
