"""Sparsity structures: each one partitions a layer's weight into groups.

A structure maps a weight tensor to a :class:`Groups` object: ``gid`` (same shape as the weight,
int64) gives every single weight the index of the one group it belongs to, so the groups
partition the weight exactly by construction. A group is pruned as a whole.

Weight layouts (``kind``):

* ``"conv"``: Conv2d weight (out, in/groups, kh, kw)
* ``"linear"``: Linear weight (out, in)
* ``"recurrent"``: an nn.RNN/LSTM/GRU matrix ``weight_ih_l*`` (gates*H, F) or ``weight_hh_l*``
  (gates*H, H), treated as a 2-D matrix.

Structures:

==========  ==================================================================================
irregular   every single weight
filter      one output channel / row: W[o]
channel     one input channel / column: W[:, i]
column      one input channel x kernel position across all filters: W[:, i, y, x]
            (a column of the im2col weight matrix; equals ``channel`` for 2-D weights)
kernel      one whole kernel W[o, i] (conv only)
pattern     each 3x3 kernel keeps one of ``patterns`` 4-entry patterns, learned from the
            weights; two groups per kernel: its pattern slots and the 5 off-pattern entries
            (conv 3x3 only). Pruning removes every off-pattern group, then whole kernels
            (connectivity pruning) by their pattern-slot norm.
block       b x b blocks of the 2-D weight matrix (conv weights as (out, in*kh*kw)); edge
            blocks are smaller when b does not divide a side
==========  ==================================================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ...errors import ParameterError, check_choice, check_int

__all__ = ["KINDS", "STRUCTURES", "Groups", "fits", "group_index", "learn_patterns"]

STRUCTURES = ("irregular", "filter", "channel", "column", "kernel", "pattern", "block")
KINDS = ("conv", "linear", "recurrent")
PATTERN_KEEP = 4  # entries kept per 3x3 kernel under the pattern structure


@dataclass
class Groups:
    """A partition of one weight tensor into ``num`` groups.

    ``gid``: int64, the weight's shape, values in ``[0, num)``; ``sizes``: (num,) weights per
    group; ``forced``: (num,) bool, groups every hard prune removes (pattern off-slots), or None.
    """

    gid: torch.Tensor
    num: int
    forced: torch.Tensor | None = None
    layout: str = ""  # a structure whose group sums are plain reductions (fast path)

    @property
    def sizes(self) -> torch.Tensor:
        return torch.bincount(self.gid.reshape(-1), minlength=self.num)

    def sq_norms(self, weight: torch.Tensor) -> torch.Tensor:
        """Squared L2 norm of every group, (num,), differentiable in ``weight``."""
        sq = weight * weight
        if self.layout == "irregular":
            return sq.reshape(-1)
        if self.layout == "filter":
            return sq.reshape(sq.shape[0], -1).sum(1)
        if self.layout == "channel":
            return sq.transpose(0, 1).reshape(sq.shape[1], -1).sum(1)
        if self.layout == "column":
            return sq.sum(0).reshape(-1)
        if self.layout == "kernel":
            return sq.sum((2, 3)).reshape(-1)
        out = torch.zeros(self.num, dtype=weight.dtype, device=weight.device)
        return out.index_add(0, self.gid.reshape(-1), sq.reshape(-1))

    def norms(self, weight: torch.Tensor) -> torch.Tensor:
        return self.sq_norms(weight.detach()).sqrt()

    def expand(self, per_group: torch.Tensor) -> torch.Tensor:
        """A per-group vector (num,) broadcast to the weight's shape."""
        return per_group[self.gid]

    def to(self, device: torch.device | str) -> Groups:
        forced = None if self.forced is None else self.forced.to(device)
        return Groups(self.gid.to(device), self.num, forced, self.layout)


def fits(structure: str, kind: str, shape: tuple[int, ...]) -> str | None:
    """None when ``structure`` applies to a weight of this kind/shape, else the reason why not."""
    if structure in ("kernel", "pattern") and kind != "conv":
        return f"{structure} sparsity needs a convolution weight (got a {kind} weight)"
    if structure == "pattern" and tuple(shape[2:]) != (3, 3):
        return f"pattern sparsity needs 3x3 kernels (got {tuple(shape[2:])})"
    return None


def group_index(
    weight: torch.Tensor,
    structure: str,
    kind: str = "conv",
    *,
    block: int = 4,
    patterns: int = 8,
    channel_features: int = 1,
) -> Groups:
    """The groups of ``structure`` over ``weight`` (see the module docstring).

    ``block`` is the side b of block groups; ``patterns`` the size of the learned pattern set;
    ``channel_features``: for ``channel`` groups of a 2-D weight, how many consecutive inputs
    make one channel (a Linear after a flatten of C x H x W reads H*W inputs per channel).
    Raises :class:`ParameterError` when the structure does not fit the weight.
    """
    check_choice("structure", structure, STRUCTURES)
    check_choice("kind", kind, KINDS)
    shape = tuple(weight.shape)
    if kind == "conv" and len(shape) != 4:
        raise ParameterError("weight", "a conv weight must be 4-D (out, in, kh, kw)", shape)
    if kind != "conv" and len(shape) != 2:
        raise ParameterError("weight", f"a {kind} weight must be 2-D (out, in)", shape)
    why = fits(structure, kind, shape)
    if why:
        raise ParameterError("structure", why, structure)
    dev = weight.device
    n = weight.numel()
    out, inp = shape[0], shape[1]
    k = int(math.prod(shape[2:])) if len(shape) > 2 else 1

    def ar(*s: int) -> torch.Tensor:
        return torch.arange(int(math.prod(s)), device=dev).reshape(s)

    if structure == "irregular":
        return Groups(ar(*shape), n, layout="irregular")
    if structure == "filter":
        g = ar(out).reshape(out, *[1] * (len(shape) - 1))
        return Groups(g.expand(shape).clone(), out, layout="filter")
    if structure == "channel":
        per = check_int("channel_features", channel_features, 1)
        if inp % per:
            raise ParameterError("channel_features", f"must divide the {inp} inputs", per)
        if per > 1:
            g = (ar(inp) // per).reshape(1, inp).expand(shape).clone()
            return Groups(g, inp // per)
        g = ar(inp).reshape(1, inp, *[1] * (len(shape) - 2))
        return Groups(g.expand(shape).clone(), inp, layout="channel")
    if structure == "column":
        g = ar(inp * k).reshape(1, *shape[1:])
        return Groups(g.expand(shape).clone(), inp * k, layout="column")
    if structure == "kernel":
        g = ar(out, inp).reshape(out, inp, 1, 1)
        return Groups(g.expand(shape).clone(), out * inp, layout="kernel")
    if structure == "block":
        b = check_int("block", block, 1)
        cols = inp * k
        nbc = -(-cols // b)
        rows = torch.arange(out, device=dev) // b
        cidx = torch.arange(cols, device=dev) // b
        g = (rows[:, None] * nbc + cidx[None, :]).reshape(shape)
        num = -(-out // b) * nbc
        return Groups(g, num)
    # pattern
    pats = learn_patterns(weight, check_int("patterns", patterns, 1, 126))
    energy = weight.detach().reshape(out * inp, 9).square()
    choice = (energy @ pats.T.to(energy.dtype)).argmax(dim=1)  # (out*in,)
    in_slot = pats[choice].bool()  # (out*in, 9)
    kern = torch.arange(out * inp, device=dev)[:, None]
    g = 2 * kern + (~in_slot).long()
    forced = torch.zeros(2 * out * inp, dtype=torch.bool, device=dev)
    forced[1::2] = True
    return Groups(g.reshape(shape), 2 * out * inp, forced)


def learn_patterns(weight: torch.Tensor, count: int = 8) -> torch.Tensor:
    """The ``count`` most frequent 4-entry patterns of a 3x3 conv weight, (count, 9) 0/1 int64.

    Every kernel votes for the pattern of its 4 largest-magnitude entries; ties in frequency go
    to the lower pattern code. When fewer distinct patterns occur, the set is topped up with the
    patterns of largest total energy over the layer.
    """
    w = weight.detach().reshape(-1, 9).abs()
    top = w.topk(PATTERN_KEEP, dim=1).indices
    codes = (2**top).sum(dim=1)  # a 9-bit code per kernel
    hist = torch.bincount(codes, minlength=512)
    # rank the 126 valid codes by votes, then by total energy (for unvoted ones)
    valid = torch.tensor(
        [c for c in range(512) if bin(c).count("1") == PATTERN_KEEP], device=w.device
    )
    bits = ((valid[:, None] >> torch.arange(9, device=w.device)) & 1).long()  # (126, 9)
    energy = bits.to(w.dtype) @ w.square().sum(dim=0)
    score = hist[valid].to(w.dtype) * (energy.max() + 1.0) + energy
    order = torch.argsort(score, descending=True, stable=True)
    return bits[order[: min(count, len(valid))]]
