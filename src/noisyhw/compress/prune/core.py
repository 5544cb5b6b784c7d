"""Pruning specs, target layers, masks kept as buffers, and the hard constraint.

Masks live on the module that owns the parameter, as a buffer named ``<param>_mask`` (same
shape, float 0/1), so they travel with ``state_dict()`` and checkpoints. Filter sparsity also
masks the coupled entries (the layer's bias and the BatchNorm right after it) so that a pruned
filter produces an exactly zero channel, which :func:`~noisyhw.compress.prune.export` removes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import nn
from torch.nn.utils import parametrize

from ...errors import ParameterError, check_choice, check_float, check_int
from ...transform import FilterFn, SpecMixin, accepts, check_filter_fn
from .graph import analyze
from .structures import PATTERN_KEEP, STRUCTURES, Groups, fits, group_index

__all__ = [
    "METHODS",
    "SCOPES",
    "PruneSpec",
    "Target",
    "apply_masks",
    "compute_masks",
    "hard_prune",
    "link_sums",
    "mask_grads",
    "masked_params",
    "refresh_groups",
    "register_masks",
    "remove_masks",
    "resolve_targets",
    "sparsity_report",
]

METHODS = ("reweighted", "magnitude", "agp", "group_lasso", "admm")
SCOPES = ("layer", "global")
MIN_PATTERN_SPARSITY = 1.0 - PATTERN_KEEP / 9.0


@dataclass(frozen=True)
class PruneSpec(SpecMixin):
    """What to prune and how (frozen, validated on creation; ``spec.replace(**changes)``).

    * ``structure``: one of :data:`~noisyhw.compress.prune.structures.STRUCTURES`.
    * ``sparsity``: designated fraction of zero weights in [0, 1), per layer (``scope="layer"``)
      or over all target layers together (``scope="global"``; groups ranked by RMS norm).
    * ``method``: ``reweighted`` (the paper), ``magnitude`` (one-shot), ``agp`` (gradual
      magnitude, cubic schedule), ``group_lasso`` (fixed penalty) or ``admm``.
    * ``layers``: ``"auto"`` (every Conv2d / Linear / recurrent weight the structure fits, except
      the output layer and, except for filter/channel, the input layer; for filter/channel only
      layers whose channels :func:`~noisyhw.compress.prune.export` can remove, with layers
      coupled by residual adds pruned alike),
      ``"all"`` (also the output layer and coupled channels) or a list of module names (kept
      as a tuple). It is the default layer filter: ``prune_(..., filter_fn=...)`` narrows it.
    * ``prune_frac``: fraction of the epochs before the hard prune (penalty / ramp phase); the
      rest is masked retraining.
    * reweighted: ``lam`` (the one global penalty), ``eps``, ``reweight_every`` (epochs between
      alpha refreshes). group_lasso: ``lam``. admm: ``rho``, ``admm_every`` (epochs per
      Z/U update), ``rho_growth`` (rho multiplier per update).
    * ``block`` (block side), ``patterns`` (pattern-set size).
    * ``update``: how reweighted / group-lasso penalties act: ``"gradient"`` adds them to the
      loss; ``"proximal"`` applies their shrinkage to the weights after every optimizer step
      (``W_g *= max(0, 1 - lr * lam * c_g)``, decoupled from Adam's normalisation like AdamW's
      weight decay, and never overshooting zero).
    * ``bits``: quantize the surviving weights to this many bits during masked retraining
      (symmetric, per output channel; QAT with the shared fake quantizer).
    """

    structure: str = "irregular"
    sparsity: float = 0.5
    method: str = "reweighted"
    scope: str = "layer"
    layers: str | tuple[str, ...] = "auto"
    prune_frac: float = 0.5
    lam: float = 1e-4
    eps: float = 1e-6
    reweight_every: int = 1
    rho: float = 1e-3
    admm_every: int = 1
    rho_growth: float = 1.0
    block: int = 4
    patterns: int = 8
    bits: int | None = None
    update: str = "gradient"

    def __post_init__(self) -> None:
        check_choice("structure", self.structure, STRUCTURES)
        check_float("sparsity", self.sparsity, 0.0, 1.0, hi_open=True)
        check_choice("method", self.method, METHODS)
        check_choice("scope", self.scope, SCOPES)
        check_choice("update", self.update, ("gradient", "proximal"))
        if isinstance(self.layers, str):
            check_choice("layers", self.layers, ("auto", "all"))
        elif not self.layers or not all(isinstance(n, str) for n in self.layers):
            raise ParameterError(
                "layers", "must be auto, all or a non-empty list of names", self.layers
            )
        else:
            object.__setattr__(self, "layers", tuple(self.layers))
        check_float("prune_frac", self.prune_frac, 0.0, 1.0, lo_open=True)
        check_float("lam", self.lam, 0.0)
        check_float("eps", self.eps, 0.0, lo_open=True)
        check_int("reweight_every", self.reweight_every, 1)
        check_float("rho", self.rho, 0.0, lo_open=True)
        check_int("admm_every", self.admm_every, 1)
        check_float("rho_growth", self.rho_growth, 1.0)
        check_int("block", self.block, 1)
        check_int("patterns", self.patterns, 1, 126)
        if self.bits is not None:
            check_int("bits", self.bits, 2, 16)
        if self.structure == "pattern" and self.sparsity < MIN_PATTERN_SPARSITY:
            raise ParameterError(
                "sparsity",
                f"pattern sparsity keeps {PATTERN_KEEP} of 9 weights per kernel, so it must be "
                f">= {MIN_PATTERN_SPARSITY:.4f}",
                self.sparsity,
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Target:
    """One pruned weight: ``module.<param>`` of layer ``name`` with its ``kind`` and groups."""

    name: str
    module: nn.Module
    param: str
    kind: str
    groups: Groups | None = None
    coupled: list[tuple[nn.Module, str]] = field(default_factory=list)
    link: str | None = None  # targets with the same link prune the same group indices
    channel_features: int = 1  # inputs per channel (a Linear after a flatten)

    @property
    def key(self) -> str:
        return f"{self.name}.{self.param}" if self.name else self.param

    @property
    def weight(self) -> torch.Tensor:
        return param_of(self.module, self.param)

    @property
    def mask(self) -> torch.Tensor:
        return getattr(self.module, f"{self.param}_mask")


def param_of(module: nn.Module, name: str) -> torch.Tensor:
    """The trainable tensor behind ``module.<name>`` (the original under a parametrization)."""
    if parametrize.is_parametrized(module, name):
        return module.parametrizations[name].original
    return getattr(module, name)


def _candidates(model: nn.Module) -> list[tuple[str, nn.Module, str, str]]:
    out = []
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):
            out.append((name, m, "weight", "conv"))
        elif isinstance(m, nn.Linear):
            out.append((name, m, "weight", "linear"))
        elif isinstance(m, nn.RNNBase):
            for pname, _ in m.named_parameters(recurse=False):
                if pname.startswith("weight_"):
                    out.append((name, m, pname, "recurrent"))
    return out


def resolve_targets(
    model: nn.Module, spec: PruneSpec, filter_fn: FilterFn | None = None
) -> list[Target]:
    """The weights ``spec`` prunes in ``model``: those ``spec.layers`` picks (see
    :class:`PruneSpec`) that ``filter_fn(module, fqn)`` also accepts (None: all of them)."""
    check_filter_fn(filter_fn)
    cands = _candidates(model)
    if not cands:
        raise ParameterError("model", "has no Conv2d, Linear or recurrent layer to prune")
    graph = None
    try:
        graph = analyze(model)
    except ParameterError:
        graph = None
    if isinstance(spec.layers, tuple):
        names = {c[0] for c in cands}
        for n in spec.layers:
            if n not in names:
                raise ParameterError("layers", "names a module that is not a prunable layer", n)
        picked = [c for c in cands if c[0] in spec.layers]
        for name, m, p, kind in picked:
            why = fits(spec.structure, kind, tuple(getattr(m, p).shape))
            if why is None and kind == "conv" and m.groups != 1 and spec.structure != "irregular":
                why = f"{spec.structure} sparsity needs an ungrouped convolution"
            if why:
                raise ParameterError("structure", f"{why} in layer {name!r}", spec.structure)
    else:
        picked = []
        last_linear = max((i for i, c in enumerate(cands) if c[3] == "linear"), default=None)
        first = 0 if cands[0][3] != "recurrent" and len(cands) > 2 else None
        for i, (name, m, p, kind) in enumerate(cands):
            if fits(spec.structure, kind, tuple(getattr(m, p).shape)):
                continue
            if kind == "conv" and m.groups != 1 and spec.structure != "irregular":
                continue
            if spec.layers == "auto":
                if i == last_linear or (i == first and spec.structure not in ("filter", "channel")):
                    continue
                if (
                    spec.structure in ("filter", "channel")
                    and graph is not None
                    and not _removable(graph, name, spec.structure)
                ):
                    continue
            picked.append((name, m, p, kind))
        if not picked:
            raise ParameterError(
                "structure", "fits no layer of this model (try layers='all')", spec.structure
            )
    if filter_fn is not None:
        picked = [c for c in picked if accepts(filter_fn, c[1], c[0])]
        if not picked:
            raise ParameterError("filter_fn", "accepts none of the layers spec.layers picks")
    targets = []
    mods = dict(model.named_modules())
    for name, m, p, kind in picked:
        t = Target(name, m, p, kind)
        if spec.structure == "filter" and kind != "recurrent":
            if getattr(m, "bias", None) is not None:
                t.coupled.append((m, "bias"))
            if graph is not None and name in graph:
                for bn in graph[name].own_bns.get(name, []):
                    if mods[bn].affine:
                        t.coupled += [(mods[bn], "weight"), (mods[bn], "bias")]
        targets.append(t)
    if graph is not None:
        if spec.structure == "channel":  # a Linear after a flatten: its channels span H*W inputs
            reads = {c: per for g in graph.values() if g.removable for c, per in g.consumers}
            for t in targets:
                if t.kind == "linear":
                    t.channel_features = reads.get(t.name, 1)
        _link(targets, graph, spec.structure)
    return targets


def _link(targets: list[Target], graph: dict, structure: str) -> None:
    """Targets that write (filter) or read (channel) the same coupled channels prune alike."""
    if structure not in ("filter", "channel"):
        return
    seen: dict[int, list[Target]] = {}
    for t in targets:
        if structure == "filter" and t.name in graph and graph[t.name].coupled:
            seen.setdefault(id(graph[t.name]), []).append(t)
        elif structure == "channel":
            for grp in {id(g): g for g in graph.values()}.values():
                if grp.removable and any(c == t.name for c, _ in grp.consumers):
                    seen.setdefault(id(grp), []).append(t)
    for key, members in seen.items():
        if len(members) > 1:
            for t in members:
                t.link = f"g{key}"


def link_sums(targets: list[Target], values: list[torch.Tensor]) -> list[torch.Tensor]:
    """Per-group ``values`` with linked targets' entries summed over their link."""
    totals: dict[str, torch.Tensor] = {}
    for t, v in zip(targets, values, strict=True):
        if t.link is not None:
            totals[t.link] = totals[t.link] + v if t.link in totals else v
    return [
        totals[t.link] if t.link is not None else v for t, v in zip(targets, values, strict=True)
    ]


def _removable(graph: dict, name: str, structure: str) -> bool:
    if structure == "filter":
        return name in graph and graph[name].removable
    return any(
        info.removable and any(c == name for c, _ in info.consumers) for info in graph.values()
    )


def refresh_groups(targets: list[Target], spec: PruneSpec) -> None:
    """(Re)compute every target's groups (pattern groups follow the current weights)."""
    for t in targets:
        if t.groups is None or spec.structure == "pattern":
            t.groups = group_index(
                t.weight.detach(),
                spec.structure,
                t.kind,
                block=spec.block,
                patterns=spec.patterns,
                channel_features=t.channel_features,
            )


# --------------------------------------------------------------------------- masks
def register_masks(targets: list[Target]) -> None:
    """Give every target (and its coupled entries) an all-ones ``<param>_mask`` buffer."""
    for t in targets:
        for m, p in [(t.module, t.param), *t.coupled]:
            buf = f"{p}_mask"
            if not hasattr(m, buf):
                m.register_buffer(buf, torch.ones_like(param_of(m, p).detach()))


def masked_params(model: nn.Module) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Every (parameter, mask) pair of ``model``."""
    pairs = []
    for m in model.modules():
        for bname, buf in m.named_buffers(recurse=False):
            if bname.endswith("_mask"):
                pairs.append((param_of(m, bname[: -len("_mask")]), buf))
    return pairs


@torch.no_grad()
def apply_masks(model: nn.Module) -> None:
    """Zero every masked weight in place."""
    for p, mask in masked_params(model):
        p.mul_(mask)


@torch.no_grad()
def mask_grads(model: nn.Module) -> None:
    """Zero the gradients of masked weights (masked retraining)."""
    for p, mask in masked_params(model):
        if p.grad is not None:
            p.grad.mul_(mask)


def remove_masks(model: nn.Module) -> None:
    """Drop the mask buffers (the zeros stay in the weights)."""
    for m in model.modules():
        for bname in [b for b, _ in m.named_buffers(recurse=False) if b.endswith("_mask")]:
            delattr(m, bname)


# --------------------------------------------------------------------------- hard constraint
def _n_to_prune(sizes: torch.Tensor, target: float, n_forced: int, cap: int) -> int:
    """How many groups (in pruning order) bring the pruned count closest to ``target``."""
    cum = torch.cat([sizes.new_zeros(1), sizes.cumsum(0)]).double()
    k = int((cum - target).abs()[n_forced : cap + 1].argmin()) + n_forced
    return k


def _order(scores: torch.Tensor, forced: torch.Tensor | None) -> torch.Tensor:
    s = scores.clone().double()
    if forced is not None:
        s[forced] = -1.0
    return torch.argsort(s, stable=True)


@torch.no_grad()
def compute_masks(
    targets: list[Target],
    spec: PruneSpec,
    sparsity: float | None = None,
    weights: list[torch.Tensor] | None = None,
) -> list[torch.Tensor]:
    """The masks (one per target, 0/1 in the weight's shape) that keep the strongest groups of
    ``weights`` (default: the current masked weights) at the designated sparsity.

    Groups are ranked by RMS norm ``||W_g|| / sqrt(|g|)``; pattern off-slots go first; a layer
    prunes the number of groups whose total size is closest to ``sparsity * weights`` and keeps
    at least one group. ``scope="global"`` ranks the groups of all targets together.
    """
    s = spec.sparsity if sparsity is None else sparsity
    if weights is None:
        weights = [t.weight.detach() * t.mask for t in targets]
    sq = link_sums(
        targets, [t.groups.sq_norms(w.detach()) for t, w in zip(targets, weights, strict=True)]
    )
    n = link_sums(
        targets, [t.groups.sizes.to(w.dtype) for t, w in zip(targets, weights, strict=True)]
    )
    per = []
    for t, q, nn_ in zip(targets, sq, n, strict=True):
        per.append((q.sqrt() / nn_.clamp(min=1).sqrt(), t.groups.sizes, t.groups.forced))
    keeps: list[torch.Tensor] = []
    if spec.scope == "layer":
        for (score, sizes, forced), w in zip(per, weights, strict=True):
            order = _order(score, forced)
            nf = int(forced.sum()) if forced is not None else 0
            k = _n_to_prune(sizes[order], s * w.numel(), nf, len(order) - 1)
            keep = torch.ones_like(score, dtype=torch.bool)
            keep[order[:k]] = False
            keeps.append(keep)
    else:
        scores = torch.cat([p[0] for p in per])
        sizes = torch.cat([p[1] for p in per])
        forced = torch.cat(
            [p[2] if p[2] is not None else torch.zeros_like(p[0], dtype=torch.bool) for p in per]
        )
        owner = torch.cat([torch.full_like(p[1], i) for i, p in enumerate(per)])
        order = _order(scores, forced)
        total = sum(w.numel() for w in weights)
        k = _n_to_prune(sizes[order], s * total, int(forced.sum()), len(order) - 1)
        keep_all = torch.ones_like(scores, dtype=torch.bool)
        keep_all[order[:k]] = False
        for i in range(len(targets)):  # never empty a layer: give back its strongest group
            sel = owner == i
            if not keep_all[sel & ~forced].any():
                idx = torch.nonzero(sel & ~forced).flatten()
                keep_all[idx[scores[idx].argmax()]] = True
        start = 0
        for p in per:
            keeps.append(keep_all[start : start + len(p[0])])
            start += len(p[0])
    return [
        t.groups.expand(keep).to(w.dtype)
        for t, keep, w in zip(targets, keeps, weights, strict=True)
    ]


@torch.no_grad()
def hard_prune(targets: list[Target], spec: PruneSpec, sparsity: float | None = None) -> None:
    """The hard constraint: set every target's mask by :func:`compute_masks`, zero the pruned
    weights and (filter sparsity) their coupled bias / BatchNorm entries."""
    refresh_groups(targets, spec)
    for t, mask in zip(targets, compute_masks(targets, spec, sparsity), strict=True):
        t.mask.copy_(mask)
        _couple(t)
        t.weight.mul_(t.mask)
        for m, p in t.coupled:
            param_of(m, p).mul_(getattr(m, f"{p}_mask"))


def _couple(t: Target) -> None:
    if not t.coupled:
        return
    alive = t.mask.reshape(t.mask.shape[0], -1).any(dim=1).to(t.mask.dtype)
    for m, p in t.coupled:
        getattr(m, f"{p}_mask").copy_(alive)


# --------------------------------------------------------------------------- reports
def sparsity_report(model: nn.Module, targets: list[Target] | None = None) -> list[dict[str, Any]]:
    """Per-layer rows: layer, weights, zeros (counted in the weights themselves), sparsity."""
    rows = []
    if targets is None:
        items = [(f"{n}.{p}" if n else p, m, p) for n, m, p, _ in _candidates(model)]
    else:
        items = [(t.key, t.module, t.param) for t in targets]
    for key, m, p in items:
        w = param_of(m, p).detach()
        zeros = int((w == 0).sum())
        rows.append(
            {"layer": key, "weights": w.numel(), "zeros": zeros, "sparsity": zeros / w.numel()}
        )
    return rows
