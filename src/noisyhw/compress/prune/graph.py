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

__all__ = ["ChannelGroup", "ProducerInfo", "analyze"]

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
class ChannelGroup:
    """Producers that write the same channels and everything that reads them.

    ``producers``: layer names (one, or several joined by residual adds); ``own_bns``: per
    producer, the BatchNorm layers on its own path before any add (they follow its filters);
    ``bns``: every BatchNorm on the group's paths; ``consumers``: (name, features per channel)
    of the layers reading the channels (a Linear after a flatten reads ``features`` inputs per
    channel); ``removable``: every path ends in a consumer or in one of the group's adds;
    ``zero_safe``: every operation on the way maps a zero channel to zero (BatchNorm does when
    its weight and bias entries are zero).
    """

    producers: list[str]
    out_channels: int
    own_bns: dict[str, list[str]] = field(default_factory=dict)
    bns: list[str] = field(default_factory=list)
    consumers: list[tuple[str, int]] = field(default_factory=list)
    removable: bool = True
    zero_safe: bool = True
    reason: str = ""

    @property
    def coupled(self) -> bool:
        return len(self.producers) > 1


#: kept for readers of the single-producer view
ProducerInfo = ChannelGroup

_ADDS = {operator.add, torch.add, operator.iadd}
_ADD_METHODS = {"add", "add_"}


@dataclass
class _Walk:
    bns_own: list[str] = field(default_factory=list)
    bns: list[str] = field(default_factory=list)
    consumers: list[tuple[str, int]] = field(default_factory=list)
    joins: list[fx.Node] = field(default_factory=list)
    visited: set = field(default_factory=set)
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


def analyze(model: nn.Module) -> dict[str, ChannelGroup]:
    """Producer name -> its :class:`ChannelGroup` (coupled producers share one object), for
    every Conv2d(groups=1) / Linear in ``model``."""
    gm = trace(model)
    modules = dict(model.named_modules())
    calls: dict[str, int] = {}
    for node in gm.graph.nodes:
        if node.op == "call_module":
            calls[node.target] = calls.get(node.target, 0) + 1
    walks: dict[str, _Walk] = {}
    for node in gm.graph.nodes:
        if node.op != "call_module" or not _is_producer(modules[node.target]):
            continue
        w = _Walk()
        walks[node.target] = w
        if calls[node.target] > 1:
            w.removable, w.reason = False, "layer is called more than once"
            continue
        _follow(node, _out_channels(modules[node.target]), w, modules, calls)
    # union producers that meet at an add
    parent = {n: n for n in walks}

    def find(n: str) -> str:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    by_join: dict[fx.Node, str] = {}
    for name, w in walks.items():
        for j in w.joins:
            if j in by_join:
                parent[find(name)] = find(by_join[j])
            else:
                by_join[j] = name
    members: dict[str, list[str]] = {}
    for name in walks:
        members.setdefault(find(name), []).append(name)
    out: dict[str, ChannelGroup] = {}
    for names in members.values():
        ws = [walks[n] for n in names]
        grp = ChannelGroup(names, _out_channels(modules[names[0]]))
        visited = set().union(*(w.visited for w in ws))
        for n, w in zip(names, ws, strict=True):
            grp.own_bns[n] = list(w.bns_own)
            grp.bns += [b for b in w.bns if b not in grp.bns]
            grp.consumers += [c for c in w.consumers if c not in grp.consumers]
            if not w.removable and grp.removable:
                grp.removable, grp.reason = False, w.reason
            grp.zero_safe &= w.zero_safe
        if len({_out_channels(modules[n]) for n in names}) > 1:
            grp.removable, grp.reason = False, "coupled layers of different widths"
        for j in {j for w in ws for j in w.joins}:
            if any(a not in visited for a in j.all_input_nodes):
                grp.removable, grp.reason = False, "an add has an input from outside the group"
        for n in names:
            out[n] = grp
    return out


def _follow(
    start: fx.Node,
    channels: int,
    walk: _Walk,
    modules: dict[str, nn.Module],
    calls: dict[str, int],
) -> None:
    stack = [(start, False, False)]  # (node, flattened, past a join)
    walk.visited.add(start)
    while stack:
        node, flat, joined = stack.pop()
        for user in node.users:
            if user in walk.visited:
                continue
            walk.visited.add(user)
            if _is_add(user):
                if flat:
                    walk.removable, walk.reason = False, "an add after a flatten"
                    return
                walk.joins.append(user)
                stack.append((user, flat, True))
                continue
            why = _step(user, node, flat, channels, walk, joined, modules, calls)
            if why is None:
                continue  # a consumer: the path ends here
            if why:
                walk.removable, walk.reason = False, why
                return
            stack.append((user, flat or _flattens(user, modules), joined))


def _is_add(node: fx.Node) -> bool:
    if node.op == "call_function" and node.target in _ADDS:
        return len(node.all_input_nodes) == 2
    return (
        node.op == "call_method" and node.target in _ADD_METHODS and len(node.all_input_nodes) == 2
    )


def _only_input(node: fx.Node, src: fx.Node) -> bool:
    return list(node.all_input_nodes) == [src]


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
    channels: int,
    walk: _Walk,
    joined: bool,
    modules: dict[str, nn.Module],
    calls: dict[str, int],
) -> str | None:
    """'' to continue through ``user``, None when it is a consumer, else why the path stops."""
    if not _only_input(user, src):
        return f"channels reach {user.op} {user.target} with other inputs"
    if user.op == "call_module":
        m = modules[user.target]
        if _is_producer(m):
            if calls[user.target] > 1:
                return f"{user.target} is called more than once"
            cin = _in_channels(m)
            if isinstance(m, nn.Conv2d):
                if flat or cin != channels:
                    return f"{user.target} does not read the channels one to one"
                walk.consumers.append((user.target, 1))
                return None
            if cin % channels:
                return f"{user.target} input size is not a multiple of the channels"
            walk.consumers.append((user.target, cin // channels))
            return None
        if isinstance(m, _BN):
            if flat or m.num_features != channels or calls[user.target] > 1:
                return f"{user.target} does not follow the channels one to one"
            walk.bns.append(user.target)
            if not joined:
                walk.bns_own.append(user.target)
            return ""
        if isinstance(m, _ZERO_SAFE):
            return ""
        if isinstance(m, _FLATTEN_MODULES):
            return "" if m.start_dim == 1 and m.end_dim == -1 else "flatten over other dims"
        walk.zero_safe = False
        return f"{user.target} ({type(m).__name__}) is not a channel-wise operation"
    if user.op == "call_function":
        if user.target in _ZERO_SAFE_FUNCS:
            return ""
        if user.target in _FLATTEN_FUNCS:
            start = user.args[1] if len(user.args) > 1 else user.kwargs.get("start_dim", 0)
            return "" if start == 1 else "flatten over other dims"
        return f"channels reach {getattr(user.target, '__name__', user.target)}"
    if user.op == "call_method":
        if user.target in _ZERO_SAFE_METHODS:
            return ""
        if user.target in _FLATTEN_METHODS:
            start = user.args[1] if len(user.args) > 1 else user.kwargs.get("start_dim", 0)
            return "" if start == 1 else "flatten over other dims"
        return f"channels reach .{user.target}()"
    return "channels reach the model output"
