"""Channel dependencies of a model, found by tracing it with ``torch.fx``.

A *producer* is a Conv2d (groups=1) or Linear layer. Its output channels flow through
channel-wise operations (BatchNorm, activations, pooling, dropout, flatten) into *consumers*
(the next Conv2d / Linear layers). When every path from a producer ends in consumers, one of its
channels can be removed physically: drop the producer's filter, the BatchNorm entries on the way
and the consumers' input columns. When any path reaches something else (a residual ``add``, a
``cat``, the model output), the channel is *coupled* and stays: this is what makes the analysis
safe on ResNet blocks, where only the block-internal convolutions are removable.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import fx, nn

from ...errors import ParameterError

__all__ = ["ProducerInfo", "analyze"]

_BN = (nn.BatchNorm1d, nn.BatchNorm2d)
# channel-wise modules that map a zero channel to a zero channel
_ZERO_SAFE = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.ELU,
    nn.GELU,
    nn.SiLU,
    nn.Tanh,
    nn.Hardtanh,
    nn.Hardswish,
    nn.MaxPool1d,
    nn.MaxPool2d,
    nn.AvgPool1d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveMaxPool2d,
    nn.Dropout,
    nn.Dropout2d,
    nn.Identity,
)
_FLATTEN_MODULES = (nn.Flatten,)
_ZERO_SAFE_FUNCS = {
    F.relu,
    torch.relu,
    F.relu6,
    F.leaky_relu,
    F.gelu,
    F.silu,
    torch.tanh,
    F.hardtanh,
    F.max_pool2d,
    F.avg_pool2d,
    F.adaptive_avg_pool2d,
    F.adaptive_max_pool2d,
    F.dropout,
}
_FLATTEN_FUNCS = {torch.flatten}
_ZERO_SAFE_METHODS = {"relu", "relu_", "tanh", "contiguous"}
_FLATTEN_METHODS = {"flatten"}


@dataclass
class ProducerInfo:
    """How one producer's output channels are used.

    ``bns``: names of BatchNorm layers on its paths (their entries follow its channels);
    ``consumers``: (name, features per channel) of the layers reading its channels (a Linear
    after a flatten reads ``features`` inputs per channel); ``removable``: every path ends in a
    consumer; ``zero_safe``: every operation on the way maps a zero channel to zero (BatchNorm
    does when its weight and bias entries are zero).
    """

    name: str
    out_channels: int
    bns: list[str] = field(default_factory=list)
    consumers: list[tuple[str, int]] = field(default_factory=list)
    removable: bool = True
    zero_safe: bool = True
    reason: str = ""


def _is_producer(m: nn.Module) -> bool:
    return isinstance(m, nn.Linear) or (isinstance(m, nn.Conv2d) and m.groups == 1)


def _out_channels(m: nn.Module) -> int:
    return m.out_features if isinstance(m, nn.Linear) else m.out_channels


def _in_channels(m: nn.Module) -> int:
    return m.in_features if isinstance(m, nn.Linear) else m.in_channels


def trace(model: nn.Module) -> fx.GraphModule:
    """``torch.fx.symbolic_trace`` with a clear error for untraceable models."""
    try:
        return fx.symbolic_trace(model)
    except Exception as exc:  # fx raises many kinds
        raise ParameterError(
            "model",
            "channel dependencies need a model torch.fx can trace "
            f"({exc.__class__.__name__}: {str(exc).splitlines()[0][:120]})",
        ) from None


def analyze(model: nn.Module) -> dict[str, ProducerInfo]:
    """Producer name -> :class:`ProducerInfo`, for every Conv2d(groups=1)/Linear in ``model``."""
    gm = trace(model)
    modules = dict(model.named_modules())
    calls: dict[str, int] = {}
    for node in gm.graph.nodes:
        if node.op == "call_module":
            calls[node.target] = calls.get(node.target, 0) + 1
    infos: dict[str, ProducerInfo] = {}
    for node in gm.graph.nodes:
        if node.op != "call_module" or not _is_producer(modules[node.target]):
            continue
        m = modules[node.target]
        info = ProducerInfo(node.target, _out_channels(m))
        infos[node.target] = info
        if calls[node.target] > 1:
            info.removable, info.reason = False, "layer is called more than once"
            continue
        _follow(node, info, modules, calls)
    return infos


def _only_input(node: fx.Node, src: fx.Node) -> bool:
    tensors = [a for a in node.all_input_nodes]
    return tensors == [src]


def _follow(
    start: fx.Node, info: ProducerInfo, modules: dict[str, nn.Module], calls: dict[str, int]
) -> None:
    stack = [(start, False)]  # (node, flattened)
    seen: set[fx.Node] = set()
    while stack:
        node, flat = stack.pop()
        for user in node.users:
            if user in seen:
                continue
            seen.add(user)
            why = _step(user, node, flat, info, modules, calls)
            if why is None:
                continue  # a consumer: the path ends here
            if why:
                info.removable, info.reason = False, why
                return
            stack.append((user, flat or _flattens(user, modules)))


def _flattens(node: fx.Node, modules: dict[str, nn.Module]) -> bool:
    if node.op == "call_module":
        return isinstance(modules[node.target], _FLATTEN_MODULES)
    if node.op == "call_function":
        return node.target in _FLATTEN_FUNCS
    return node.op == "call_method" and node.target in _FLATTEN_METHODS


def _step(
    user: fx.Node,
    src: fx.Node,
    flat: bool,
    info: ProducerInfo,
    modules: dict[str, nn.Module],
    calls: dict[str, int],
) -> str | None:
    """'' to continue through ``user``, None when it is a consumer, else why the path stops."""
    if not _only_input(user, src):
        return f"channels reach {user.op} {user.target} with other inputs (e.g. a residual add)"
    if user.op == "call_module":
        m = modules[user.target]
        if _is_producer(m):
            if calls[user.target] > 1:
                return f"{user.target} is called more than once"
            cin = _in_channels(m)
            if isinstance(m, nn.Conv2d):
                if flat or cin != info.out_channels:
                    return f"{user.target} does not read the channels one to one"
                info.consumers.append((user.target, 1))
                return None
            if cin % info.out_channels:
                return f"{user.target} input size is not a multiple of the channels"
            info.consumers.append((user.target, cin // info.out_channels))
            return None
        if isinstance(m, _BN):
            if flat or m.num_features != info.out_channels or calls[user.target] > 1:
                return f"{user.target} does not follow the channels one to one"
            info.bns.append(user.target)
            return ""
        if isinstance(m, _ZERO_SAFE):
            return ""
        if isinstance(m, _FLATTEN_MODULES):
            return "" if m.start_dim == 1 and m.end_dim == -1 else "flatten over other dims"
        info.zero_safe = False
        return f"{user.target} ({type(m).__name__}) is not a channel-wise operation"
    if user.op == "call_function":
        if user.target in _ZERO_SAFE_FUNCS:
            return ""
        if user.target in _FLATTEN_FUNCS:
            start = user.args[1] if len(user.args) > 1 else user.kwargs.get("start_dim", 0)
            return "" if start == 1 else "flatten over other dims"
        if user.target in (operator.add, torch.add, operator.iadd, torch.cat):
            return f"channels reach {getattr(user.target, '__name__', user.target)} (coupled)"
        return f"channels reach {getattr(user.target, '__name__', user.target)}"
    if user.op == "call_method":
        if user.target in _ZERO_SAFE_METHODS:
            return ""
        if user.target in _FLATTEN_METHODS:
            start = user.args[1] if len(user.args) > 1 else user.kwargs.get("start_dim", 0)
            return "" if start == 1 else "flatten over other dims"
        return f"channels reach .{user.target}()"
    return "channels reach the model output"
