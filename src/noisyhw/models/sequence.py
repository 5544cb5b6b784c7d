"""Recurrent models: sequence classifiers and a character-level language model."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from ..errors import check_choice, check_int

__all__ = ["CharLSTM", "SequenceClassifier"]

_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class SequenceClassifier(nn.Module):
    """(N, T, F) -> recurrent layers (batch_first) -> last time step -> Linear -> (N, classes).

    ``self.rnn`` is a plain ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` so that noise injection and
    quantization transforms can swap it for their own cells with the same state dict.
    """

    def __init__(
        self,
        input_size: int,
        num_classes: int = 10,
        cell: Literal["rnn", "lstm", "gru"] = "lstm",
        hidden: int = 128,
        layers: int = 1,
    ) -> None:
        super().__init__()
        check_choice("cell", cell, _CELLS)
        check_int("hidden", hidden, 1)
        check_int("layers", layers, 1)
        self.cell = cell
        kw = {"nonlinearity": "tanh"} if cell == "rnn" else {}
        self.rnn = _CELLS[cell](input_size, hidden, num_layers=layers, batch_first=True, **kw)
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.fc(out[:, -1])


class CharLSTM(nn.Module):
    """Character-level LSTM language model: ids (N, T) -> logits (N, T, vocab_size)."""

    def __init__(
        self, vocab_size: int, embed: int = 64, hidden: int = 256, layers: int = 2
    ) -> None:
        super().__init__()
        check_int("vocab_size", vocab_size, 2)
        self.embed = nn.Embedding(vocab_size, embed)
        self.rnn = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True)
        self.fc = nn.Linear(hidden, vocab_size)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.embed(ids))
        return self.fc(out)
