"""Pruning + quantization: n-bit QAT of the surviving weights and the compressed size in bits.

:class:`SurvivorQuantizer` is a ``torch.nn.utils.parametrize`` parametrization: the layer sees
``fake_quant(W)`` (shared :func:`noisyhw.quant.fake_quant`, symmetric scheme, one range per
output channel, so a pruned zero stays exactly zero) once it is switched on, and gradients reach
the full-precision ``W`` straight through. It is registered before training (switched off) so
that the model's state-dict keys never change mid-run and checkpoints resume.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from torch.nn.utils import parametrize

from ...quant import UniformQuantizer, calibrate_range, fake_quant
from .core import Target, param_of

__all__ = ["SurvivorQuantizer", "add_quantizers", "compression_report", "enable_quantizers"]

FLOAT_BITS = 32


class SurvivorQuantizer(nn.Module):
    """``W -> fake_quant(W, bits, -a_c, a_c, "symmetric")`` with a_c = max |W| of output
    channel c (detached). A no-op while the ``enabled`` buffer is 0."""

    def __init__(self, bits: int) -> None:
        super().__init__()
        UniformQuantizer(bits, "symmetric")  # validates bits
        self.bits = bits
        self.register_buffer("enabled", torch.zeros((), dtype=torch.uint8))

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        if not bool(self.enabled):
            return w
        lo, hi = calibrate_range(w.detach(), symmetric=True, dim=0)
        return fake_quant(w, self.bits, lo, hi, "symmetric")


def add_quantizers(targets: list[Target], bits: int) -> None:
    """Register a (switched-off) :class:`SurvivorQuantizer` on every target weight."""
    for t in targets:
        if not parametrize.is_parametrized(t.module, t.param):
            parametrize.register_parametrization(t.module, t.param, SurvivorQuantizer(bits))


def enable_quantizers(model: nn.Module, on: bool = True) -> None:
    for m in model.modules():
        if isinstance(m, SurvivorQuantizer):
            m.enabled.fill_(int(on))


def _index_bits(groups_alive: int, groups_total: int) -> int:
    """Bits to say which groups survive: a bitmap or a list of indices, whichever is smaller."""
    if groups_total <= 1:
        return 0
    return min(groups_total, groups_alive * math.ceil(math.log2(groups_total)))


@torch.no_grad()
def compression_report(
    model: nn.Module, targets: list[Target], bits: int | None = None
) -> dict[str, Any]:
    """Storage of the pruned (and quantized) model in bits vs 32-bit dense.

    Target weights cost ``bits`` (32 without quantization) per surviving weight, plus the index
    of surviving groups (bitmap or index list, whichever is smaller) plus one 32-bit scale per
    output channel when quantized. Every other parameter (biases, BatchNorm, untouched layers)
    costs 32 bits. Returns the totals and ``ratio = dense_bits / total_bits``.
    """
    wbits = bits or FLOAT_BITS
    dense = value = index = scale = 0
    target_params = set()
    for t in targets:
        p = param_of(t.module, t.param)
        target_params.add(id(p))
        w = p.detach()
        n = w.numel()
        dense += FLOAT_BITS * n
        alive = w != 0
        value += wbits * int(alive.sum())
        if t.groups is not None:
            g_alive = int((t.groups.sq_norms(alive.to(w.dtype)) > 0).sum())
            index += _index_bits(g_alive, t.groups.num)
        else:
            index += _index_bits(int(alive.sum()), n)
        if bits:
            scale += FLOAT_BITS * w.shape[0]
    other = sum(FLOAT_BITS * p.numel() for p in model.parameters() if id(p) not in target_params)
    total = value + index + scale + other
    return {
        "weight_bits": bits or FLOAT_BITS,
        "dense_bits": dense + other,
        "value_bits": value,
        "index_bits": index,
        "scale_bits": scale,
        "other_bits": other,
        "total_bits": total,
        "ratio": (dense + other) / max(total, 1),
        "ratio_pruned_layers": dense / max(value + index + scale, 1),
    }
