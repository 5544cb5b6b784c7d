"""Voting over K noisy passes, computed as batched forwards of a replicated batch.

``vote(model, x, votes=K)`` stacks K replicas of the batch along the batch dimension (tagging the
model's noise context with ``groups = replicas`` so that per-layer signal powers are measured per
replica, exactly as K separate passes would), runs them in chunks, and combines:

``majority``  the most frequent argmax over the K passes; ties go to the class with the larger
              mean softmax probability. ``scores`` are vote counts (+ a tie-break < 1).
``mean``      the argmax of the softmax averaged over the K passes (``scores`` = mean softmax).

Chunk size: a forward holds at most ``max_rows`` rows, and (on the CPU) only as many replicas
as keep its largest product output under ``cache_elems`` elements: beyond the caches, a bigger
batch costs more per row than a loop of small ones (measured on 1-2 cores), while small models
and small batches gain from stacking replicas. Weight noise is drawn once per forward call, so
with weight noise each replica runs in its own forward (every pass then reads a differently
perturbed array).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..errors import ParameterError, check_choice, check_int
from .inject import PrefixUnsupportedError, SharedPrefix, _device_of, get_noise
from .recurrent import NoisyRecurrent

__all__ = ["VoteResult", "noisy_accuracy", "vote"]

METHODS = ("majority", "mean")


@dataclass
class VoteResult:
    """``pred`` (N,) int64 class indices; ``scores`` (N, C) float (counts or mean softmax)."""

    pred: torch.Tensor
    scores: torch.Tensor


@torch.no_grad()
def vote(
    model: nn.Module,
    x: torch.Tensor,
    votes: int = 5,
    method: str = "majority",
    *,
    seed: int | None = None,
    max_rows: int = 4096,
    cache_elems: int | None = None,
    share_prefix: bool | None = None,
) -> VoteResult:
    """Classify ``x`` (N, ...) by K = ``votes`` noisy passes of ``model`` (batched, chunked).

    ``seed`` reseeds the model's noise first, so the same seed gives the same result; with
    ``votes=1`` and ``N <= max_rows`` the noise equals one plain noisy forward after the same seed.
    A model without injected noise gives K identical passes. ``cache_elems`` (default 2^18 on
    the CPU, unlimited elsewhere) bounds the largest activation of one forward.

    ``share_prefix`` computes the first noisy layer's clean output once per batch chunk instead
    of once per vote (see :class:`~noisyhw.analog.inject.SharedPrefix`); possible without input
    or weight noise and without noisy recurrent layers. Default: wherever possible. Copying the
    stored output costs one memory pass, less than the layer itself even at 9 multiply-adds
    per output (a 3x3 conv on one channel, which oneDNN runs at ~1-5 GMAC/s on one core).
    The noise is the same as without it (same generator draws, same shapes); the numbers can
    differ in the last bits only through the first layer running on a smaller batch. A model
    that does not keep batch rows independent after that layer falls back to replicating the
    input (reseeded first, so the result is what ``share_prefix=False`` gives).
    """
    votes = check_int("votes", votes, 1)
    method = check_choice("method", method, METHODS)
    max_rows = check_int("max_rows", max_rows, 1)
    if not isinstance(x, torch.Tensor) or x.dim() < 1 or x.shape[0] == 0:
        raise ParameterError("x", "must be a non-empty batch tensor (N, ...)")
    ctx = get_noise(model)
    if ctx is not None and seed is not None:
        ctx.reseed(seed)
    dev = _device_of(model)
    n = x.shape[0]
    n_chunk = min(n, max_rows)
    per_forward = 1 if ctx is not None and math.isfinite(ctx.spec.weight_snr_db) else votes
    r_chunk = max(1, min(per_forward, max_rows // n_chunk))
    if cache_elems is None:
        cache_elems = 2**18 if dev.type == "cpu" else 2**62
    check_int("cache_elems", cache_elems, 1)
    can_share = (
        ctx is not None
        and ctx.enabled
        and ctx.spec.active
        and ctx.spec.input_snr_db == math.inf
        and ctx.spec.weight_snr_db == math.inf
        and not any(isinstance(m, NoisyRecurrent) for m in model.modules())
    )
    if share_prefix is None:
        share_prefix = can_share
    elif share_prefix and not can_share:
        raise ParameterError(
            "share_prefix",
            "needs injected noise without input or weight noise and no recurrent layers",
            share_prefix,
        )
    was_training = model.training
    model.eval()
    try:
        try:
            counts, probs = _vote_passes(
                model, x, votes, n_chunk, r_chunk, cache_elems, dev, share_prefix
            )
        except PrefixUnsupportedError:
            assert ctx is not None
            if seed is not None:
                ctx.reseed(seed)
            counts, probs = _vote_passes(model, x, votes, n_chunk, r_chunk, cache_elems, dev, False)
    finally:
        if ctx is not None:
            ctx.groups = 1
        model.train(was_training)
    probs /= votes
    if method == "mean":
        return VoteResult(probs.argmax(-1).cpu(), probs.cpu())
    scores = counts + 0.5 * probs
    return VoteResult(scores.argmax(-1).cpu(), scores.cpu())


def _vote_passes(
    model: nn.Module,
    x: torch.Tensor,
    votes: int,
    n_chunk: int,
    r_chunk: int,
    cache_elems: int,
    dev: torch.device,
    share: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Vote counts and summed softmax (N, C) over ``votes`` noisy passes, chunked."""
    ctx = get_noise(model)
    prefix = SharedPrefix() if share else None
    if ctx is not None:
        ctx.prefix = prefix
    n = x.shape[0]
    sized = False
    counts: torch.Tensor | None = None
    probs: torch.Tensor | None = None
    try:
        for s in range(0, n, n_chunk):
            xc = x[s : s + n_chunk].to(dev)
            nc = xc.shape[0]
            if prefix is not None:
                prefix.start_chunk(nc)
            done = 0
            while done < votes:
                if done and not sized and ctx is not None and ctx.peak_per_row:
                    by_cache = cache_elems // (ctx.peak_per_row * nc)
                    r_chunk = max(1, min(r_chunk, by_cache))
                    sized = True
                r = min(r_chunk if done else 1, votes - done)
                if ctx is not None:
                    ctx.groups = r
                if prefix is not None:
                    prefix.start_forward(r)
                    logits = model(xc)
                    if prefix.module is None or logits.shape[0] != r * nc:
                        raise PrefixUnsupportedError("the output does not hold every vote's rows")
                    prefix.skip_first()
                else:
                    logits = model(xc.repeat(r, *([1] * (xc.dim() - 1))))
                logits = logits.float()
                p = torch.softmax(logits, dim=-1).reshape(r, nc, -1)
                c = logits.shape[-1]
                if probs is None:
                    probs = torch.zeros(n, c, device=logits.device)
                    counts = torch.zeros(n, c, device=logits.device)
                probs[s : s + nc] += p.sum(0)
                hits = torch.nn.functional.one_hot(p.argmax(-1), c).sum(0)
                counts[s : s + nc] += hits  # type: ignore[index]
                done += r
    except PrefixUnsupportedError:
        raise
    except Exception as err:  # e.g. a reshape or an index that read the batch from the input
        if prefix is None:
            raise
        raise PrefixUnsupportedError(f"{type(err).__name__}: {err}") from err
    finally:
        if prefix is not None:
            prefix.release()
        if ctx is not None:
            ctx.prefix = None
    assert probs is not None and counts is not None
    return counts, probs


@torch.no_grad()
def noisy_accuracy(
    model: nn.Module,
    data: Any,
    votes: int = 1,
    method: str = "mean",
    *,
    seed: int | None = 0,
    batch_size: int = 1000,
    max_rows: int = 8192,
) -> float:
    """Accuracy of (voted) noisy classification over a dataset with ``.x`` and ``.y`` tensors."""
    if not (hasattr(data, "x") and hasattr(data, "y")):
        raise ParameterError("data", "needs .x and .y tensors (an ArrayDataset)")
    batch_size = check_int("batch_size", batch_size, 1)
    ctx = get_noise(model)
    if ctx is not None and seed is not None:
        ctx.reseed(seed)
    correct = 0
    for s in range(0, len(data.y), batch_size):
        res = vote(
            model, data.x[s : s + batch_size], votes, method, max_rows=max(max_rows, batch_size)
        )
        correct += int((res.pred == data.y[s : s + batch_size]).sum())
    return correct / max(len(data.y), 1)
