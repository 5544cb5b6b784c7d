"""Pruning methods as training-loop callbacks, all in one harness.

Every method runs inside :func:`noisyhw.train.fit` for the same number of epochs: a first phase
(``prune_frac`` of the epochs) shapes the weights, then the hard constraint prunes to the
designated sparsity and the rest is masked retraining (gradients and weights multiplied by the
masks every step; with ``bits`` also n-bit QAT of the survivors).

==============  ===========================================================  ===============
method          first phase                                                  hyperparameters
==============  ===========================================================  ===============
reweighted      ``lam * sum_layers sum_g alpha_g ||W_g||^2`` with           lam
                ``alpha_g = 1 / (||W_g||^2 + eps)`` from the detached
                weights, refreshed every ``reweight_every`` epochs
group_lasso     ``lam * sum_layers sum_g sqrt(|g|) ||W_g||`` (fixed)           lam
admm            ``rho/2 ||W - Z + U||^2``; every ``admm_every`` epochs        rho, admm_every,
                ``Z = proj(W + U)``, ``U += W - Z``, ``rho *= rho_growth``    rho_growth
magnitude       plain training, one-shot prune at the end of the phase       (none)
agp             gradual: at the end of epoch e of the phase, prune to        (schedule: the
                ``s * (1 - (1 - e/E)^3)`` (Zhu & Gupta 2017)                  phase length)
==============  ===========================================================  ===============

The reweighted term approaches the *number* of surviving groups (each term is ~1 for a group far
above sqrt(eps), ~0 for a vanished one): a smooth group-L0 count whose pull on small groups
grows as they shrink (its gradient on group g is ``2 lam W_g / (||W_g||^2 + eps)``). Useful
``lam`` depends on the structure (small groups feel a stronger pull): about 1e-5..1e-4 for
irregular, 1e-3..1e-2 for filter/channel with Adam (docs/prune.md).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ...train import Callback
from ...transform import FilterFn
from .core import (
    PruneSpec,
    Target,
    apply_masks,
    compute_masks,
    hard_prune,
    link_sums,
    mask_grads,
    refresh_groups,
    register_masks,
    resolve_targets,
)
from .quantize import add_quantizers, enable_quantizers

__all__ = ["HYPERPARAMETERS", "PruningCallback"]

#: the knobs each method needs tuned (beyond the designated sparsity and the epochs)
HYPERPARAMETERS: dict[str, tuple[str, ...]] = {
    "reweighted": ("lam",),
    "group_lasso": ("lam",),
    "admm": ("rho", "admm_every", "rho_growth"),
    "magnitude": (),
    "agp": ("prune_frac",),
}
_TINY = 1e-12


class PruningCallback(Callback):
    """Runs ``spec.method`` during :func:`~noisyhw.train.fit` for ``epochs`` epochs.

    Creating it resolves the target layers (``spec.layers`` narrowed by ``filter_fn``), registers
    all-ones mask buffers (and switched-off quantizers when ``spec.bits``), so the model's
    state-dict keys stay the same for the whole run and checkpoints resume. ``state_dict()``
    holds the phase, alphas, ADMM Z/U and rho.
    """

    def __init__(
        self,
        model: nn.Module,
        spec: PruneSpec,
        epochs: int,
        *,
        filter_fn: FilterFn | None = None,
    ) -> None:
        self.spec = spec
        self.epochs = int(epochs)
        self.prune_epoch = max(1, min(self.epochs, round(spec.prune_frac * self.epochs)))
        self.targets: list[Target] = resolve_targets(model, spec, filter_fn)
        refresh_groups(self.targets, spec)
        register_masks(self.targets)
        if spec.bits:
            add_quantizers(self.targets, spec.bits)
        self.alphas: list[torch.Tensor] | None = None
        self.Z: list[torch.Tensor] | None = None
        self.U: list[torch.Tensor] | None = None
        self.rho = spec.rho
        self.pruned = False
        self.masking = False
        self.pruned_energy: float | None = None
        self.optimizer: torch.optim.Optimizer | None = None

    # ------------------------------------------------------------------ penalties
    @torch.no_grad()
    def refresh_alphas(self) -> None:
        """alpha_g = 1 / (||W_g||^2 + eps) from the current weights."""
        if self.spec.structure == "pattern":
            refresh_groups(self.targets, self.spec)
        sq = link_sums(self.targets, [t.groups.sq_norms(t.weight.detach()) for t in self.targets])
        self.alphas = [1.0 / (q + self.spec.eps) for q in sq]

    def penalty(self) -> torch.Tensor | None:
        """The method's regulariser of the current weights (None for magnitude / agp)."""
        m = self.spec.method
        if m == "reweighted":
            if self.alphas is None:
                self.refresh_alphas()
            terms = [
                (a * t.groups.sq_norms(t.weight)).sum()
                for t, a in zip(self.targets, self.alphas, strict=True)
            ]
            return self.spec.lam * torch.stack(terms).sum()
        if m == "group_lasso":
            terms = []
            for t in self.targets:
                sq = t.groups.sq_norms(t.weight)
                terms.append((t.groups.sizes.to(sq.dtype).sqrt() * (sq + _TINY).sqrt()).sum())
            return self.spec.lam * torch.stack(terms).sum()
        if m == "admm":
            if self.Z is None:
                self._admm_init()
            terms = [
                (t.weight - z + u).square().sum()
                for t, z, u in zip(self.targets, self.Z, self.U, strict=True)
            ]
            return 0.5 * self.rho * torch.stack(terms).sum()
        return None

    @torch.no_grad()
    def _admm_init(self) -> None:
        ws = [t.weight.detach().clone() for t in self.targets]
        self.Z = [
            w * m
            for w, m in zip(ws, compute_masks(self.targets, self.spec, weights=ws), strict=True)
        ]
        self.U = [torch.zeros_like(w) for w in ws]

    @torch.no_grad()
    def _admm_update(self) -> None:
        assert self.Z is not None and self.U is not None
        if self.spec.structure == "pattern":
            refresh_groups(self.targets, self.spec)
        v = [t.weight.detach() + u for t, u in zip(self.targets, self.U, strict=True)]
        masks = compute_masks(self.targets, self.spec, weights=v)
        self.Z = [x * m for x, m in zip(v, masks, strict=True)]
        self.U = [
            u + t.weight.detach() - z for t, u, z in zip(self.targets, self.U, self.Z, strict=True)
        ]
        self.rho *= self.spec.rho_growth

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.optimizer = optimizer
        for t in self.targets:  # fit() may have moved the model to another device
            if t.groups is not None and t.groups.gid.device != t.weight.device:
                t.groups = t.groups.to(t.weight.device)
        dev = self.targets[0].weight.device
        if self.alphas is not None:
            self.alphas = [a.to(dev) for a in self.alphas]
        if self.Z is not None:
            self.Z = [z.to(dev) for z in self.Z]
            self.U = [u.to(dev) for u in self.U]
        if self.spec.method == "reweighted" and self.alphas is None:
            self.refresh_alphas()
        if self.spec.method == "admm" and self.Z is None:
            self._admm_init()

    def extra_loss(self, model: nn.Module) -> torch.Tensor | None:
        if self.pruned or (self.spec.update == "proximal" and self.spec.method != "admm"):
            return None
        return self.penalty()

    @torch.no_grad()
    def proximal_step(self, lr: float) -> None:
        """Decoupled shrinkage of one step: reweighted ``W_g *= max(0, 1 - 2 lr lam alpha_g)``
        (the gradient step of the penalty, clipped at zero); group lasso the exact group
        soft-threshold ``W_g *= max(0, 1 - lr lam sqrt(|g|) / ||W_g||)``."""
        s = self.spec
        for i, t in enumerate(self.targets):
            g = t.groups
            if s.method == "reweighted":
                if self.alphas is None:
                    self.refresh_alphas()
                c = 2.0 * self.alphas[i]
            else:
                c = g.sizes.to(t.weight.dtype).sqrt() / g.sq_norms(t.weight).sqrt().clamp(min=_TINY)
            t.weight.mul_(g.expand((1.0 - lr * s.lam * c).clamp(min=0.0)))

    def on_after_backward(self, model: nn.Module) -> None:
        if self.masking:
            mask_grads(model)

    def on_step_end(self, model: nn.Module) -> None:
        s = self.spec
        if not self.pruned and s.update == "proximal" and s.method in ("reweighted", "group_lasso"):
            self.proximal_step(self._lr())
        if self.masking:
            apply_masks(model)

    def _lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"]) if self.optimizer is not None else 0.0

    def on_epoch_end(self, epoch: int, model: nn.Module, metrics: dict[str, float]) -> None:
        s = self.spec
        if epoch < self.prune_epoch:
            if s.method == "reweighted" and epoch % s.reweight_every == 0:
                self.refresh_alphas()
            elif s.method == "admm" and epoch % s.admm_every == 0:
                self._admm_update()
            elif s.method == "agp":
                frac = 1.0 - (1.0 - epoch / self.prune_epoch) ** 3
                hard_prune(self.targets, s, s.sparsity * frac)
                self.masking = True
        elif epoch == self.prune_epoch and not self.pruned:
            self.finalize_prune(model)
        metrics["sparsity"] = self.sparsity()
        if self.pruned_energy is not None:
            metrics["pruned_energy"] = self.pruned_energy

    def finalize_prune(self, model: nn.Module) -> None:
        """The hard constraint, then masked retraining (with QAT when ``spec.bits``).

        Records ``pruned_energy``: the fraction of the target weights' squared norm the hard
        prune removed (near 0 when the first phase already drove the pruned groups to zero).
        """
        with torch.no_grad():
            before = sum(float(t.weight.square().sum()) for t in self.targets)
        hard_prune(self.targets, self.spec)
        with torch.no_grad():
            after = sum(float(t.weight.square().sum()) for t in self.targets)
        self.pruned_energy = 1.0 - after / max(before, 1e-30)
        self.pruned = self.masking = True
        if self.spec.bits:
            enable_quantizers(model, True)

    @torch.no_grad()
    def sparsity(self) -> float:
        """Fraction of zero weights over the target layers."""
        z = sum(int((t.weight == 0).sum()) for t in self.targets)
        return z / max(1, sum(t.weight.numel() for t in self.targets))

    # ------------------------------------------------------------------ resume
    def state_dict(self) -> dict[str, Any]:
        st: dict[str, Any] = {
            "pruned": self.pruned,
            "masking": self.masking,
            "rho": self.rho,
            "pruned_energy": self.pruned_energy,
        }
        if self.alphas is not None:
            st["alphas"] = [a.clone() for a in self.alphas]
        if self.Z is not None:
            st["Z"] = [z.clone() for z in self.Z]
            st["U"] = [u.clone() for u in self.U]
        if self.spec.structure == "pattern":
            st["pattern_gid"] = [t.groups.gid.clone() for t in self.targets]
        return st

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.pruned = bool(state["pruned"])
        self.masking = bool(state["masking"])
        self.rho = float(state["rho"])
        self.pruned_energy = state.get("pruned_energy")
        self.alphas = state.get("alphas")
        self.Z, self.U = state.get("Z"), state.get("U")
        if "pattern_gid" in state:
            for t, gid in zip(self.targets, state["pattern_gid"], strict=True):
                t.groups.gid = gid.to(t.weight.device)
