"""The builders behind :func:`noisyhw.models.create` (imports torch; the package does not)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from torch import nn

from ..errors import ParameterError
from .sequence import CharLSTM, SequenceClassifier
from .vision import MLP, LeNet5, ResNet20, SmallCNN

__all__ = ["BUILDERS", "create"]


def _seq(cell: str) -> Callable[..., nn.Module]:
    def build(input_shape: Sequence[int], num_classes: int, **kw: Any) -> nn.Module:
        if len(input_shape) != 2:
            raise ParameterError("input_shape", "a sequence model needs (T, F)", tuple(input_shape))
        return SequenceClassifier(input_shape[1], num_classes, cell=cell, **kw)

    return build


BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "mlp": lambda s, n, **kw: MLP(s, n, **kw),
    "lenet5": lambda s, n, **kw: LeNet5(s, n, **kw),
    "small_cnn": lambda s, n, **kw: SmallCNN(s, n, **kw),
    "resnet20": lambda s, n, **kw: ResNet20(s, n, **kw),
    "rnn": _seq("rnn"),
    "lstm": _seq("lstm"),
    "gru": _seq("gru"),
    "char_lstm": lambda s, n, **kw: CharLSTM(n, **kw),
}


def create(
    name: str, input_shape: Sequence[int] = (1, 28, 28), num_classes: int = 10, **kwargs: Any
) -> nn.Module:
    """See :func:`noisyhw.models.create`."""
    if name.startswith("torchvision:"):
        import torchvision

        fn = getattr(torchvision.models, name.split(":", 1)[1], None)
        if fn is None or not callable(fn):
            raise ParameterError("model", "unknown torchvision model", name)
        return fn(weights=None, num_classes=num_classes, **kwargs)
    if name not in BUILDERS:
        raise ParameterError(
            "model", f"must be one of {', '.join(BUILDERS)} or torchvision:<name>", name
        )
    return BUILDERS[name](tuple(input_shape), num_classes, **kwargs)
