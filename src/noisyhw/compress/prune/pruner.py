"""Pruning in your own training loop (Torch-Pruning style): :class:`Pruner`.

>>> p = Pruner(model, PruneSpec("filter", 0.5), epochs=6, steps_per_epoch=len(loader),
...            optimizer=opt)                                             # doctest: +SKIP
>>> for epoch in range(6):                                                # doctest: +SKIP
...     for x, y in loader:
...         loss = F.cross_entropy(model(x), y) + p.penalty()
...         opt.zero_grad(); loss.backward(); opt.step()
...         p.step()

:class:`Pruner` drives the very :class:`~noisyhw.compress.prune.PruningCallback` that
:func:`~noisyhw.compress.prune.prune_` runs inside :func:`~noisyhw.train.fit` (one
implementation): ``penalty()`` is the callback's extra loss (a zero tensor when the method adds
none at this point of the schedule), ``step()`` its after-step hook (proximal shrink, masks
re-applied) and, every ``steps_per_epoch`` calls, its end-of-epoch hook (alpha refresh, ADMM
update, the AGP ramp, the hard prune after ``prune_frac`` of the epochs). The gradient masking
of masked retraining runs as a step pre-hook of ``optimizer``. With the same seed, batches and
optimizer the loop above gives bit-for-bit the weights and masks of ``prune_(model, spec, train,
config=TrainConfig(...))`` in place (tests/prune/test_pruner.py).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ...errors import ParameterError, check_int
from ...transform import FilterFn, check_filter_fn
from .core import PruneSpec, Target
from .methods import PruningCallback

__all__ = ["Pruner"]


class Pruner:
    """Runs ``spec.method`` over ``epochs`` epochs of a loop you write.

    Parameters
    ----------
    model: the model to prune in place (create the pruner after ``model.to(device)``, or at
        least before the first :meth:`penalty` / :meth:`step`); mask buffers ``*_mask`` are
        registered on it at once.
    spec: what to prune and how (:class:`~noisyhw.compress.prune.PruneSpec`).
    epochs: the length of the whole schedule; the hard prune comes after
        ``round(spec.prune_frac * epochs)`` epochs, masked retraining after it.
    steps_per_epoch: optimizer steps per epoch (``len(loader)``): every that many
        :meth:`step` calls end an epoch. ``None``: call :meth:`epoch_end` yourself.
    optimizer: the loop's optimizer. Gives the learning rate of ``update="proximal"`` (needed
        there) and masks the pruned weights' gradients before each of its steps (a step
        pre-hook), as :func:`~noisyhw.train.fit` does after ``backward``. If you clip gradients
        by their global norm, call :meth:`mask_grads` before clipping to match ``fit`` exactly.
    filter_fn: ``filter_fn(module, fqn) -> bool`` narrows the layers ``spec.layers`` picks
        (None: all of them), as in :func:`~noisyhw.compress.prune.prune_`.
    """

    def __init__(
        self,
        model: nn.Module,
        spec: PruneSpec,
        *,
        epochs: int,
        steps_per_epoch: int | None = None,
        optimizer: torch.optim.Optimizer | None = None,
        filter_fn: FilterFn | None = None,
    ) -> None:
        if not isinstance(spec, PruneSpec):
            raise ParameterError("spec", "must be a PruneSpec", type(spec).__name__)
        check_int("epochs", epochs, 1)
        if steps_per_epoch is not None:
            check_int("steps_per_epoch", steps_per_epoch, 1)
        proximal = spec.update == "proximal" and spec.method in ("reweighted", "group_lasso")
        if proximal and optimizer is None:
            raise ParameterError(
                "optimizer", "update='proximal' needs the optimizer (its learning rate)", None
            )
        if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
            raise ParameterError(
                "optimizer", "must be a torch.optim.Optimizer", type(optimizer).__name__
            )
        self.model = model
        check_filter_fn(filter_fn)
        self.callback = PruningCallback(model, spec, epochs, filter_fn=filter_fn)
        self.steps_per_epoch = steps_per_epoch
        self.optimizer = optimizer
        #: optimizer steps taken so far, and finished epochs
        self.iteration = 0
        self.epoch = 0
        #: one entry per finished epoch: ``epoch``, ``sparsity`` (and ``pruned_energy``)
        self.history: list[dict[str, float]] = []
        self._begun = False
        self._hook = (
            optimizer.register_step_pre_hook(lambda *_: self.mask_grads())
            if optimizer is not None
            else None
        )

    # ------------------------------------------------------------------ the loop's calls
    def penalty(self) -> torch.Tensor:
        """The term to add to this batch's loss: the method's regulariser while it shapes the
        weights (``reweighted`` / ``group_lasso`` with ``update="gradient"``, ``admm``), else a
        zero scalar on the weights' device (adding it changes nothing)."""
        self._begin()
        extra = self.callback.extra_loss(self.model)
        if extra is None:
            return torch.zeros((), device=self.callback.targets[0].weight.device)
        return extra

    def mask_grads(self) -> None:
        """Zero the gradients of pruned weights (masked retraining); a no-op before that."""
        self.callback.on_after_backward(self.model)

    def step(self) -> None:
        """Call after ``optimizer.step()``: proximal shrink (``update="proximal"``), masks
        re-applied to the weights, and every ``steps_per_epoch`` calls :meth:`epoch_end`."""
        self._begin()
        self.callback.on_step_end(self.model)
        self.iteration += 1
        if self.steps_per_epoch is not None and self.iteration % self.steps_per_epoch == 0:
            self.epoch_end()

    def epoch_end(self) -> dict[str, float]:
        """End an epoch: alpha refresh / ADMM update / AGP ramp step during the first phase, the
        hard prune at its end. Returns (and appends to :attr:`history`) ``epoch``, ``sparsity``
        and, once pruned, ``pruned_energy``."""
        self._begin()
        self.epoch += 1
        metrics: dict[str, float] = {"epoch": self.epoch}
        self.callback.on_epoch_end(self.epoch, self.model, metrics)
        self.history.append(metrics)
        return metrics

    def finish(self) -> float:
        """After the loop: hard-prune now if the schedule has not (a loop stopped early), remove
        the optimizer hook, and return the achieved sparsity of the target layers."""
        if not self.callback.pruned:
            self.callback.finalize_prune(self.model)
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
        return self.sparsity()

    # ------------------------------------------------------------------ read-outs
    @property
    def pruned(self) -> bool:
        """True once the hard prune happened (masked retraining from then on)."""
        return self.callback.pruned

    @property
    def targets(self) -> list[Target]:
        """The pruned weights."""
        return self.callback.targets

    def sparsity(self) -> float:
        """Fraction of zero weights over the target layers."""
        return self.callback.sparsity()

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """The schedule position and the method's state (tensors and plain values)."""
        return {
            "iteration": self.iteration,
            "epoch": self.epoch,
            "history": [dict(h) for h in self.history],
            "callback": self.callback.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` (after loading the model's own state dict)."""
        self.iteration = int(state["iteration"])
        self.epoch = int(state["epoch"])
        self.history = [dict(h) for h in state["history"]]
        self.callback.load_state_dict(state["callback"])
        self._begun = False  # move the restored tensors to the weights' device

    def _begin(self) -> None:
        if not self._begun:  # as fit() does once the model sits on its device
            self.callback.on_train_begin(self.model, self.optimizer)
            self._begun = True
