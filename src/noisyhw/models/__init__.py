"""Reference models and a registry: ``create(name, input_shape, num_classes, **kw)``.

torchvision models are accepted wherever a model is; ``create("torchvision:resnet18", ...)``
builds one with random weights (no download).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from torch import nn

from ..errors import ParameterError
from .sequence import CharLSTM, SequenceClassifier
from .vision import MLP, BasicBlock, LeNet5, ResNet20, SmallCNN

__all__ = [
    "MLP",
    "MODELS",
    "BasicBlock",
    "CharLSTM",
    "LeNet5",
    "ResNet20",
    "SequenceClassifier",
    "SmallCNN",
    "create",
]


def _seq(cell: str) -> Callable[..., nn.Module]:
    def build(input_shape: Sequence[int], num_classes: int, **kw: Any) -> nn.Module:
        if len(input_shape) != 2:
            raise ParameterError("input_shape", "a sequence model needs (T, F)", tuple(input_shape))
        return SequenceClassifier(input_shape[1], num_classes, cell=cell, **kw)

    return build


MODELS: dict[str, tuple[Callable[..., nn.Module], str]] = {
    "mlp": (lambda s, n, **kw: MLP(s, n, **kw), "MLP, hidden=(128, 128)"),
    "lenet5": (lambda s, n, **kw: LeNet5(s, n, **kw), "LeNet-5"),
    "small_cnn": (lambda s, n, **kw: SmallCNN(s, n, **kw), "2-conv CNN with BN"),
    "resnet20": (lambda s, n, **kw: ResNet20(s, n, **kw), "CIFAR-style ResNet-20"),
    "rnn": (_seq("rnn"), "vanilla RNN sequence classifier (input (T, F))"),
    "lstm": (_seq("lstm"), "LSTM sequence classifier (input (T, F))"),
    "gru": (_seq("gru"), "GRU sequence classifier (input (T, F))"),
    "char_lstm": (lambda s, n, **kw: CharLSTM(n, **kw), "character LSTM LM (num_classes = vocab)"),
}


def create(
    name: str, input_shape: Sequence[int] = (1, 28, 28), num_classes: int = 10, **kwargs: Any
) -> nn.Module:
    """Build a registered model (or ``torchvision:<name>``) for inputs of ``input_shape``."""
    if name.startswith("torchvision:"):
        import torchvision

        fn = getattr(torchvision.models, name.split(":", 1)[1], None)
        if fn is None or not callable(fn):
            raise ParameterError("model", "unknown torchvision model", name)
        return fn(weights=None, num_classes=num_classes, **kwargs)
    if name not in MODELS:
        raise ParameterError(
            "model", f"must be one of {', '.join(MODELS)} or torchvision:<name>", name
        )
    return MODELS[name][0](tuple(input_shape), num_classes, **kwargs)
