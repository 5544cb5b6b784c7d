"""``export(model)``: a physically smaller dense model without the pruned channels.

For every producer whose channels are removable (see :mod:`.graph`), a channel goes when

* its filter is zero (weight row, bias entry and the BatchNorm weight/bias entries on the way,
  which filter masks zero together) and every operation on the way maps zero to zero, or
* every consumer's input columns for it are zero (channel / column sparsity).

Then the producer loses that output channel, the BatchNorm layers on the way lose its entries
and the consumers lose its input columns. Coupled channels (residual streams) stay, so the
exported model computes the same outputs as the masked one (eval mode).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn
from torch.nn.utils import parametrize

from .core import remove_masks
from .graph import analyze

__all__ = ["count_params", "export", "removable_channels"]


def _bake(model: nn.Module) -> None:
    """Replace parametrized weights by their current values (in this copy only).

    ``parametrize.remove_parametrizations`` would edit the parametrized class, which a deep copy
    shares with the original model; swapping the class back by hand leaves the original intact.
    """
    for m in model.modules():
        if not parametrize.is_parametrized(m):
            continue
        values = {name: getattr(m, name).detach().clone() for name in m.parametrizations}
        m.__class__ = type(m).__bases__[0]
        del m._modules["parametrizations"]
        for name, v in values.items():
            m.register_parameter(name, nn.Parameter(v))


def _groups(infos: dict) -> list:
    return list({id(g): g for g in infos.values()}.values())


@torch.no_grad()
def removable_channels(model: nn.Module) -> dict[str, torch.Tensor]:
    """Producer name -> bool (out_channels,) of the channels :func:`export` removes (coupled
    producers share one vector)."""
    mods = dict(model.named_modules())
    out: dict[str, torch.Tensor] = {}
    for grp in _groups(analyze(model)):
        if not grp.removable or not grp.consumers:
            continue
        c = grp.out_channels
        dead = torch.ones(c, dtype=torch.bool)
        for name in grp.producers:
            p = mods[name]
            dead &= (p.weight.detach().reshape(c, -1) == 0).all(dim=1)
            if p.bias is not None:
                dead &= p.bias.detach() == 0
        for bn in grp.bns:
            b = mods[bn]
            if b.affine:
                dead &= (b.weight.detach() == 0) & (b.bias.detach() == 0)
            else:
                dead &= torch.zeros_like(dead)
        if not grp.zero_safe:
            dead = torch.zeros_like(dead)
        unused = torch.ones(c, dtype=torch.bool)
        for cname, per in grp.consumers:
            cw = mods[cname].weight.detach()
            cols = cw.reshape(cw.shape[0], c, per, -1) if cw.dim() == 2 else cw[:, :, None]
            unused &= (cols == 0).reshape(cw.shape[0], c, -1).all(dim=2).all(dim=0)
        gone = dead | unused
        if gone.all():
            gone[0] = False  # keep one channel so every layer still has an output
        for name in grp.producers:
            out[name] = gone
    return out


@torch.no_grad()
def export(model: nn.Module) -> nn.Module:
    """A copy of ``model`` with pruned channels removed, masks dropped, quantization baked in.

    The copy is a plain dense model of the same classes with smaller Conv2d / Linear /
    BatchNorm layers; in eval mode it computes what ``model`` does (floating-point summation
    order aside). Raises :class:`~noisyhw.errors.ParameterError` when the model cannot be traced.
    """
    m = copy.deepcopy(model)
    _bake(m)
    remove_masks(m)
    mods = dict(m.named_modules())
    infos = analyze(m)
    gone_by = removable_channels(m)
    for grp in _groups(infos):
        gone = gone_by.get(grp.producers[0])
        if gone is None or not gone.any():
            continue
        keep = torch.nonzero(~gone).flatten()
        for name in grp.producers:
            _slice_out(mods[name], keep)
        for bn in grp.bns:
            _slice_bn(mods[bn], keep)
        for cname, per in grp.consumers:
            _slice_in(mods[cname], keep, per)
    return m


def _param(t: torch.Tensor) -> nn.Parameter:
    return nn.Parameter(t.detach().clone().contiguous(), requires_grad=True)


def _slice_out(p: nn.Module, keep: torch.Tensor) -> None:
    p.weight = _param(p.weight[keep])
    if p.bias is not None:
        p.bias = _param(p.bias[keep])
    if isinstance(p, nn.Linear):
        p.out_features = len(keep)
    else:
        p.out_channels = len(keep)


def _slice_bn(b: nn.Module, keep: torch.Tensor) -> None:
    if b.affine:
        b.weight = _param(b.weight[keep])
        b.bias = _param(b.bias[keep])
    if b.running_mean is not None:
        b.running_mean = b.running_mean[keep].clone()
        b.running_var = b.running_var[keep].clone()
    b.num_features = len(keep)


def _slice_in(c: nn.Module, keep: torch.Tensor, per: int) -> None:
    if isinstance(c, nn.Linear):
        cols = (keep[:, None] * per + torch.arange(per)[None, :]).reshape(-1)
        c.weight = _param(c.weight[:, cols])
        c.in_features = len(cols)
    else:
        c.weight = _param(c.weight[:, keep])
        c.in_channels = len(keep)


def count_params(model: nn.Module) -> int:
    """Number of parameters (weights that a dense model stores)."""
    return sum(p.numel() for p in model.parameters())


def summary(model: nn.Module, exported: nn.Module) -> dict[str, Any]:
    """Parameter counts before/after export."""
    a, b = count_params(model), count_params(exported)
    return {"params_dense": a, "params_exported": b, "param_ratio": a / max(b, 1)}
