"""Structured and irregular pruning: reweighted group penalties (arXiv 2004.05531), magnitude,
AGP, group-lasso and ADMM baselines in one harness, physical export, pruning + quantization.

>>> from noisyhw.compress.prune import PruneSpec, prune_, export
>>> spec = PruneSpec(structure="filter", sparsity=0.5, method="reweighted", lam=1e-3)
>>> result = prune_(model, spec, train_ds, val_ds, TrainConfig(epochs=6))  # doctest: +SKIP
>>> small = export(model)                     # physically smaller, same outputs  # doctest: +SKIP

``prune_`` prunes in place and returns a :class:`PruneResult`; ``prune`` returns a pruned copy
(its result is ``pruned_copy.prune_result``). The convention is :mod:`noisyhw.transform`'s.

See docs/prune.md.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn
from torch.utils.data import Dataset

from ...errors import ParameterError
from ...transform import FilterFn, check_filter_fn
from .core import (
    METHODS,
    SCOPES,
    PruneSpec,
    Target,
    apply_masks,
    compute_masks,
    hard_prune,
    mask_grads,
    register_masks,
    remove_masks,
    resolve_targets,
    sparsity_report,
)
from .export import count_params, export, removable_channels
from .graph import ChannelGroup, ProducerInfo, analyze
from .methods import HYPERPARAMETERS, PruningCallback
from .quantize import SurvivorQuantizer, compression_report
from .structures import STRUCTURES, Groups, group_index, learn_patterns

__all__ = [
    "HYPERPARAMETERS",
    "METHODS",
    "SCOPES",
    "STRUCTURES",
    "ChannelGroup",
    "Groups",
    "ProducerInfo",
    "PruneResult",
    "PruneSpec",
    "PruningCallback",
    "SurvivorQuantizer",
    "Target",
    "analyze",
    "apply_masks",
    "compression_report",
    "compute_masks",
    "count_params",
    "export",
    "group_index",
    "hard_prune",
    "learn_patterns",
    "mask_grads",
    "prune",
    "prune_",
    "register_masks",
    "removable_channels",
    "remove_masks",
    "resolve_targets",
    "sparsity_report",
]


@dataclass
class PruneResult:
    """What :func:`prune_` did: the pruned layers, per-layer sparsity, the training history
    (empty for a one-shot prune), the achieved sparsity and the compressed size in bits."""

    targets: list[Target]
    layers: list[dict[str, Any]]
    sparsity: float
    compression: dict[str, Any]
    history: list[dict[str, float]] = field(default_factory=list)
    callback: PruningCallback | None = None


def prune_(
    model: nn.Module,
    spec: PruneSpec,
    train: Dataset | None = None,
    val: Dataset | None = None,
    config: Any = None,
    *,
    filter_fn: FilterFn | None = None,
    callbacks: list[Any] | tuple[Any, ...] = (),
    checkpoint: str | Path | None = None,
    description: str = "prune",
) -> PruneResult:
    """Prune ``model`` in place as ``spec`` says; masks stay on it as ``*_mask`` buffers.

    The layers are those ``spec.layers`` picks that ``filter_fn(module, fqn)`` also accepts
    (None: all of them). Without ``train``: a one-shot hard prune of the current weights
    (``method="magnitude"``). With ``train`` (and a :class:`~noisyhw.train.TrainConfig`): the
    whole method through :func:`~noisyhw.train.fit` (penalty / ramp phase, hard prune, masked
    retraining, progress, resumable ``checkpoint``), extra ``callbacks`` run after the pruning one.
    """
    if not isinstance(spec, PruneSpec):
        raise ParameterError("spec", "must be a PruneSpec", type(spec).__name__)
    check_filter_fn(filter_fn)
    if train is None:
        if spec.method != "magnitude":
            raise ParameterError(
                "method",
                "needs training data (pass train=...); without it use magnitude",
                spec.method,
            )
        if spec.bits:
            raise ParameterError(
                "bits", "quantization-aware training needs training data", spec.bits
            )
        targets = resolve_targets(model, spec, filter_fn)
        register_masks(targets)
        hard_prune(targets, spec)
        return _result(model, targets, spec, [], None)
    from ...train import TrainConfig, fit

    cfg = config or TrainConfig()
    cb = PruningCallback(model, spec, cfg.epochs, filter_fn=filter_fn)
    history = fit(
        model,
        train,
        val,
        cfg,
        callbacks=[cb, *callbacks],
        checkpoint=checkpoint,
        description=description,
    )
    if not cb.pruned:  # a resumed run that had finished, or an unusual schedule
        cb.finalize_prune(model)
    return _result(model, cb.targets, spec, history, cb)


def prune(
    model: nn.Module,
    spec: PruneSpec,
    train: Dataset | None = None,
    val: Dataset | None = None,
    config: Any = None,
    *,
    filter_fn: FilterFn | None = None,
    callbacks: list[Any] | tuple[Any, ...] = (),
    checkpoint: str | Path | None = None,
    description: str = "prune",
) -> nn.Module:
    """A pruned deep copy of ``model`` (``model`` untouched); see :func:`prune_`.

    The copy's :class:`PruneResult` is its ``prune_result`` attribute (a plain attribute, not a
    module, parameter or buffer: the state dict is the same as after :func:`prune_`).
    """
    if not isinstance(spec, PruneSpec):
        raise ParameterError("spec", "must be a PruneSpec", type(spec).__name__)
    check_filter_fn(filter_fn)
    out = copy.deepcopy(model)
    result = prune_(
        out,
        spec,
        train,
        val,
        config,
        filter_fn=filter_fn,
        callbacks=callbacks,
        checkpoint=checkpoint,
        description=description,
    )
    object.__setattr__(out, "prune_result", result)
    return out


def _result(model, targets, spec, history, cb) -> PruneResult:
    layers = sparsity_report(model, targets)
    zeros = sum(r["zeros"] for r in layers)
    total = sum(r["weights"] for r in layers)
    return PruneResult(
        targets,
        layers,
        zeros / max(total, 1),
        compression_report(model, targets, spec.bits),
        history,
        cb,
    )
