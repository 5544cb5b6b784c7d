"""Reference models and a registry: ``create(name, input_shape, num_classes, **kw)``.

torchvision models are accepted wherever a model is; ``create("torchvision:resnet18", ...)``
builds one with random weights (no download). Importing this package does not import torch
(the CLI lists :data:`MODELS` in its help); the classes load on first use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn

    from .sequence import CharLSTM, SequenceClassifier
    from .vision import MLP, BasicBlock, LeNet5, ResNet20, SmallCNN

__all__ = [
    "CLASSIFIERS",
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

#: registered model names -> one-line description
MODELS: dict[str, str] = {
    "mlp": "MLP, hidden=(128, 128)",
    "lenet5": "LeNet-5",
    "small_cnn": "2-conv CNN with BN",
    "resnet20": "CIFAR-style ResNet-20",
    "rnn": "vanilla RNN sequence classifier (input (T, F))",
    "lstm": "LSTM sequence classifier (input (T, F))",
    "gru": "GRU sequence classifier (input (T, F))",
    "char_lstm": "character LSTM LM (num_classes = vocab)",
}

#: the registered models that classify (char_lstm is a language model)
CLASSIFIERS = tuple(m for m in MODELS if m != "char_lstm")

_LAZY = {
    "MLP": "vision",
    "BasicBlock": "vision",
    "LeNet5": "vision",
    "ResNet20": "vision",
    "SmallCNN": "vision",
    "CharLSTM": "sequence",
    "SequenceClassifier": "sequence",
}


def create(
    name: str, input_shape: Sequence[int] = (1, 28, 28), num_classes: int = 10, **kwargs: Any
) -> nn.Module:
    """Build a registered model (or ``torchvision:<name>``) for inputs of ``input_shape``."""
    from ._registry import create as build

    return build(name, input_shape, num_classes, **kwargs)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
