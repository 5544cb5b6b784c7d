"""``to_frequency``: adapt image classifiers to (C, H/8, W/8) block-DCT inputs.

* torchvision ResNet-18/34/50 (any ``torchvision.models.ResNet``): the stride-4 stem
  (conv1, bn1, relu, maxpool) becomes identity; ``layer1[0]`` is re-fitted to C input channels
  (its first convolution and its shortcut: BasicBlock gets a 1x1 conv + BN shortcut when
  C != 64, Bottleneck's existing shortcut conv is re-fitted). ``layer2_stride=1`` reproduces
  the reference code's variant (more compute, finer feature maps). A 448x448 image (56x56 DCT
  grid) then reaches layer4 at 7x7, as an RGB 224x224 input does.
* torchvision MobileNetV2: ``features[0]`` (3x3 stride-2 conv) is dropped and the first
  inverted residual's depthwise and pointwise convolutions take C channels (896x896 -> 112x112
  grid -> 7x7 at the end).
* noisyhw's small models (``"small_cnn"``, ``"resnet20"``, ``"mlp"``, ...): built directly for
  (C, h, w) input with ``to_frequency(name, channels=C, grid=(h, w))``.

Re-fitted weights come from the layer's current (e.g. pretrained) weights: input slices are
taken cyclically (C < 64: the first C slices; C > 64: repeated) and scaled by sqrt(64 / C) so
the output variance for unit-variance inputs is kept. ``init="random"`` uses a fresh Kaiming
initialisation instead. :func:`load_pretrained` loads a standard (RGB-shaped) state dict into an
adapted model the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import nn

from ...errors import ParameterError, check_choice, check_int

__all__ = ["load_pretrained", "refit_in_channels", "to_frequency"]

INITS = ("slice", "random")


def refit_in_channels(weight: torch.Tensor, channels: int, groups_dim: int = 1) -> torch.Tensor:
    """(out, in, ...) -> (out, channels, ...) by cyclic slicing of ``in``, scaled by sqrt(in/C).

    With ``groups_dim=0`` the first dimension is re-fitted instead (depthwise conv weights,
    BN vectors), without scaling.
    """
    n_in = weight.shape[groups_dim]
    idx = torch.arange(channels, device=weight.device) % n_in
    out = weight.index_select(groups_dim, idx).clone()
    if groups_dim == 1:
        out *= math.sqrt(n_in / channels)
    return out


def _count(channels: int | Sequence[int]) -> int:
    if isinstance(channels, int):
        return check_int("channels", channels, 1)
    n = len(list(channels))
    if n == 0:
        raise ParameterError(
            "channels", "must be a count or a non-empty list of channels", channels
        )
    return n


def _new_conv(old: nn.Conv2d, in_channels: int, init: str, groups: int | None = None) -> nn.Conv2d:
    g = old.groups if groups is None else groups
    conv = nn.Conv2d(
        in_channels,
        old.out_channels if g == 1 else in_channels,
        old.kernel_size,  # type: ignore[arg-type]
        old.stride,  # type: ignore[arg-type]
        old.padding,  # type: ignore[arg-type]
        old.dilation,  # type: ignore[arg-type]
        groups=g,
        bias=old.bias is not None,
    ).to(old.weight.device, old.weight.dtype)
    if init == "random":
        nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
        return conv
    with torch.no_grad():
        if g == 1:
            conv.weight.copy_(refit_in_channels(old.weight, in_channels, 1))
            if old.bias is not None:
                conv.bias.copy_(old.bias)
        else:  # depthwise: one filter per channel
            conv.weight.copy_(refit_in_channels(old.weight, in_channels, 0))
            if old.bias is not None:
                conv.bias.copy_(refit_in_channels(old.bias, in_channels, 0))
    return conv


def _new_bn(old: nn.BatchNorm2d, channels: int) -> nn.BatchNorm2d:
    bn = nn.BatchNorm2d(channels, old.eps, old.momentum).to(old.weight.device)
    with torch.no_grad():
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(bn, name).copy_(refit_in_channels(getattr(old, name), channels, 0))
    return bn


def _adapt_resnet(model: nn.Module, c: int, layer2_stride: int, init: str) -> nn.Module:
    from torchvision.models.resnet import BasicBlock, Bottleneck

    model.conv1 = nn.Identity()
    model.bn1 = nn.Identity()
    model.relu = nn.Identity()
    model.maxpool = nn.Identity()
    block = model.layer1[0]
    block.conv1 = _new_conv(block.conv1, c, init)
    if isinstance(block, Bottleneck) or block.downsample is not None:
        ds_conv = block.downsample[0]
        block.downsample[0] = _new_conv(ds_conv, c, init)
    elif isinstance(block, BasicBlock) and c != block.conv2.out_channels:
        planes = block.conv2.out_channels
        block.downsample = nn.Sequential(
            nn.Conv2d(c, planes, 1, bias=False), nn.BatchNorm2d(planes)
        ).to(block.conv2.weight.device)
    if layer2_stride != 2:
        first = model.layer2[0]
        strided = first.conv2 if isinstance(first, Bottleneck) else first.conv1
        strided.stride = (layer2_stride, layer2_stride)
        if first.downsample is not None:
            first.downsample[0].stride = (layer2_stride, layer2_stride)
    return model


def _adapt_mobilenet_v2(model: nn.Module, c: int, init: str) -> nn.Module:
    model.features[0] = nn.Identity()
    block = model.features[1]
    dw = block.conv[0]  # Conv2dNormActivation: depthwise conv, BN, ReLU6
    dw[0] = _new_conv(dw[0], c, init, groups=c)
    dw[1] = _new_bn(dw[1], c)
    block.conv[1] = _new_conv(block.conv[1], c, init)
    return model


def to_frequency(
    model: nn.Module | str,
    channels: int | Sequence[int] = 192,
    *,
    grid: tuple[int, int] | None = None,
    num_classes: int = 10,
    layer2_stride: int = 2,
    init: str = "slice",
    **kwargs: Any,
) -> nn.Module:
    """Adapt ``model`` (in place for modules) to C-channel block-DCT input; returns it.

    ``channels``: the input channel count, or the channel list / preset whose length it is.
    ``model`` may be a torchvision ResNet or MobileNetV2 instance (pretrained or not), a
    torchvision name ``"resnet18"|"resnet34"|"resnet50"|"mobilenet_v2"`` (random weights,
    ``num_classes`` outputs), or a noisyhw model name with ``grid=(h, w)``.
    """
    c = _count(channels)
    check_choice("init", init, INITS)
    check_int("layer2_stride", layer2_stride, 1, 2)
    if isinstance(model, str):
        import torchvision

        if model in ("resnet18", "resnet34", "resnet50", "mobilenet_v2"):
            model = getattr(torchvision.models, model)(weights=None, num_classes=num_classes)
        else:
            from ...models import MODELS, create

            if model not in MODELS:
                raise ParameterError(
                    "model",
                    f"must be resnet18/34/50, mobilenet_v2 or one of {', '.join(MODELS)}",
                    model,
                )
            if grid is None:
                raise ParameterError("grid", f"{model} needs the DCT grid (h, w)", grid)
            return create(model, (c, *grid), num_classes, **kwargs)
    from torchvision.models import MobileNetV2, ResNet

    if isinstance(model, ResNet):
        return _adapt_resnet(model, c, layer2_stride, init)
    if isinstance(model, MobileNetV2):
        if layer2_stride != 2:
            raise ParameterError("layer2_stride", "applies to ResNets only", layer2_stride)
        return _adapt_mobilenet_v2(model, c, init)
    raise ParameterError(
        "model",
        "to_frequency adapts torchvision ResNet / MobileNetV2; build noisyhw models with "
        "to_frequency(name, channels, grid=(h, w))",
        type(model).__name__,
    )


def load_pretrained(model: nn.Module, state_dict: Mapping[str, torch.Tensor]) -> nn.Module:
    """Load an RGB-shaped (standard) state dict into a :func:`to_frequency` model.

    Tensors of removed stem layers are skipped; tensors whose shape differs only in the input
    channels (or, for depthwise layers and their BN, the channel count) are re-fitted as in
    :func:`to_frequency`; layers the adapter added (a BasicBlock shortcut) keep their init.
    Returns the model; raises :class:`ParameterError` on any other mismatch.
    """
    own = model.state_dict()
    new: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        if key not in own:
            continue  # dropped stem (conv1.*, bn1.*, features.0.*)
        target = own[key]
        if value.shape == target.shape:
            new[key] = value
        elif value.ndim == target.ndim and value.ndim >= 1:
            if value.ndim == 4 and value.shape[0] == target.shape[0]:
                new[key] = refit_in_channels(value, target.shape[1], 1)
            elif value.shape[1:] == target.shape[1:]:
                new[key] = refit_in_channels(value, target.shape[0], 0)
            else:
                raise ParameterError(
                    "state_dict", f"{key} has shape {tuple(target.shape)}", value.shape
                )
        else:
            raise ParameterError(
                "state_dict", f"{key} has shape {tuple(target.shape)}", value.shape
            )
    model.load_state_dict({**own, **new})
    return model
