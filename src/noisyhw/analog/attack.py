"""Black-box transfer attacks, adversarial training, and inference noise as a defence.

The attacker sees only the target's *labels*: it labels its own pool of inputs by querying the
target, trains a substitute on those labels (:func:`train_substitute`), crafts adversarial
examples on the substitute with FGSM or PGD (L-infinity, inputs clipped to [0, 1]) and sends them
to the target (:func:`transfer_attack`). The target may be adversarially trained
(:class:`AdversarialLoss`, the ``loss_fn`` of :func:`noisyhw.train.fit`) and may run with
inference noise and voting: :func:`robust_accuracy` reports its accuracy on clean and
adversarial inputs either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import ParameterError, check_choice, check_float, check_int
from ..seeding import torch_generator
from ..train import TrainConfig, fit, iterate_batches

__all__ = [
    "ATTACKS",
    "AdversarialLoss",
    "fgsm",
    "label_with",
    "perturb",
    "pgd",
    "robust_accuracy",
    "train_substitute",
    "transfer_attack",
]

ATTACKS = ("fgsm", "pgd")


def _input_grad(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        loss = F.cross_entropy(model(x), y)
        (g,) = torch.autograd.grad(loss, x)
    return g


def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float) -> torch.Tensor:
    """Fast gradient sign method: ``clip(x + eps * sign(grad_x CE(model(x), y)), 0, 1)``."""
    eps = check_float("eps", eps, 0.0)
    return (x + eps * _input_grad(model, x, y).sign()).clamp(0.0, 1.0).detach()


def pgd(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    *,
    alpha: float | None = None,
    steps: int = 10,
    random_start: bool = True,
    seed: int | None = 0,
) -> torch.Tensor:
    """Projected gradient descent in the L-inf ball of radius ``eps`` (step ``alpha``,
    default ``2.5 eps / steps``; uniform random start when ``random_start``)."""
    eps = check_float("eps", eps, 0.0)
    steps = check_int("steps", steps, 1)
    alpha = check_float("alpha", alpha if alpha is not None else 2.5 * eps / steps, 0.0)
    x0 = x.detach()
    xa = x0.clone()
    if random_start and eps > 0:
        g = torch_generator(seed, x.device)
        xa = (xa + (torch.rand(x.shape, generator=g, device=x.device) * 2 - 1) * eps).clamp(0, 1)
    for _ in range(steps):
        xa = xa + alpha * _input_grad(model, xa, y).sign()
        xa = torch.min(torch.max(xa, x0 - eps), x0 + eps).clamp(0.0, 1.0).detach()
    return xa


def perturb(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, method: str, eps: float, **kw: Any
) -> torch.Tensor:
    """Adversarial examples by ``method`` (``"fgsm"`` or ``"pgd"``), in eval mode, batched."""
    check_choice("method", method, ATTACKS)
    was = model.training
    model.eval()
    try:
        return fgsm(model, x, y, eps) if method == "fgsm" else pgd(model, x, y, eps, **kw)
    finally:
        model.train(was)


class AdversarialLoss:
    """``loss_fn`` for :func:`noisyhw.train.fit`: ``(1 - w) CE(x) + w CE(x_adv)`` per batch.

    It watches the model's inputs through a forward pre-hook; for each training batch it crafts
    ``x_adv`` against the current model (FGSM or PGD with the *true* labels) and adds the loss on
    it (Goodfellow et al.'s mixed objective). Outside gradient mode (evaluation) it is plain
    cross-entropy. Call :meth:`close` to remove the hook.
    """

    def __init__(
        self,
        model: nn.Module,
        method: str = "fgsm",
        eps: float = 0.1,
        weight: float = 0.5,
        **kw: Any,
    ) -> None:
        self.model = model
        self.method = check_choice("method", method, ATTACKS)
        self.eps = check_float("eps", eps, 0.0)
        self.weight = check_float("weight", weight, 0.0, 1.0)
        self.kw = kw
        self._x: torch.Tensor | None = None
        self._crafting = False
        self._handle = model.register_forward_pre_hook(self._watch)

    def _watch(self, module: nn.Module, args: tuple) -> None:
        if not self._crafting:
            self._x = args[0]

    def __call__(self, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        clean = F.cross_entropy(logits, y)
        x = self._x
        if not torch.is_grad_enabled() or x is None or x.shape[0] != y.shape[0] or self.weight == 0:
            return clean
        self._crafting = True
        try:
            was = self.model.training
            self.model.eval()  # craft without updating BN statistics
            if self.method == "fgsm":
                xa = fgsm(self.model, x, y, self.eps)
            else:
                xa = pgd(self.model, x, y, self.eps, **self.kw)
            self.model.train(was)
            adv = F.cross_entropy(self.model(xa), y)
        finally:
            self._crafting = False
        return (1 - self.weight) * clean + self.weight * adv

    def close(self) -> None:
        self._handle.remove()


@torch.no_grad()
def label_with(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """The target's predicted labels for ``x`` (what a black-box attacker can observe)."""
    was = model.training
    model.eval()
    try:
        dev = next(model.parameters()).device
        return torch.cat([model(b.to(dev)).argmax(-1).cpu() for b in x.split(batch_size)])
    finally:
        model.train(was)


def train_substitute(
    target: nn.Module, pool: Any, substitute: nn.Module, config: TrainConfig | None = None
) -> nn.Module:
    """Train ``substitute`` on the attacker's ``pool`` (an ArrayDataset) labelled by ``target``."""
    from ..data import ArrayDataset

    if not isinstance(pool, ArrayDataset):
        raise ParameterError(
            "pool", "must be an ArrayDataset of attacker inputs", type(pool).__name__
        )
    labels = label_with(target, pool.x)
    ds = ArrayDataset(pool.x, labels, pool.classes)
    fit(substitute, ds, None, config or TrainConfig(epochs=3), description="substitute")
    return substitute


@dataclass
class AttackResult:
    """Accuracies (fractions) of the target: on clean inputs and on transferred adversarial ones."""

    clean_acc: float
    adv_acc: float
    substitute_adv_acc: float
    transfer_rate: float


def transfer_attack(
    target: nn.Module,
    substitute: nn.Module,
    data: Any,
    method: str = "fgsm",
    eps: float = 0.1,
    *,
    batch_size: int = 500,
    **kw: Any,
) -> tuple[torch.Tensor, AttackResult]:
    """Craft adversarial examples of ``data`` (.x, .y) on ``substitute``; score them on ``target``.

    Returns the adversarial inputs (N, ...) and an :class:`AttackResult`; ``transfer_rate`` is the
    fraction of examples the target got right clean and wrong adversarially.
    """
    check_choice("method", method, ATTACKS)
    advs = [
        perturb(substitute, x, y, method, eps, **kw) for x, y in iterate_batches(data, batch_size)
    ]
    x_adv = torch.cat(advs)
    clean_pred, adv_pred = label_with(target, data.x), label_with(target, x_adv)
    sub_pred = label_with(substitute, x_adv)
    y = data.y
    ok = clean_pred == y
    res = AttackResult(
        clean_acc=float(ok.float().mean()),
        adv_acc=float((adv_pred == y).float().mean()),
        substitute_adv_acc=float((sub_pred == y).float().mean()),
        transfer_rate=float((ok & (adv_pred != y)).float().sum() / max(int(ok.sum()), 1)),
    )
    return x_adv, res


def robust_accuracy(
    target: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    votes: int = 1,
    method: str = "mean",
    seed: int | None = 0,
) -> float:
    """Accuracy of ``target`` (noisy or not; ``votes`` noisy passes) on inputs ``x``."""
    from ..data import ArrayDataset
    from .vote import noisy_accuracy

    return noisy_accuracy(
        target,
        ArrayDataset(x, y, [str(i) for i in range(int(y.max()) + 1)]),
        votes,
        method,
        seed=seed,
    )
