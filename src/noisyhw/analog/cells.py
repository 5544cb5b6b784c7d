"""The unrolled recurrent engine shared by the noisy and the crossbar RNN/LSTM/GRU layers.

The cell math is torch's (``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU``, gate orders i, f, g, o and
r, z, n); only the two matrix-vector products differ between layers, so a layer supplies them as
a hook and :func:`unroll` runs the time loop. The hook returns both products of one step,

    ``products(t, h) -> (gi, gh)``,  gi = W_ih x_t (+ b), gh = W_hh h (+ b), each (N, G * H),

and may add noise or quantization to either; it is one hook, not two, because a noisy layer draws
its random numbers for both products in a fixed order.

For the GRU, ``gh`` must hold ``b_hn`` in its n-part (``n = tanh(gi_n + r * gh_n)``); the r and z
parts of either bias may sit in ``gi`` or ``gh``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch

__all__ = ["Cell", "gru_cell", "lstm_cell", "rnn_cell", "unroll"]

Cell = Literal["rnn", "lstm", "gru"]
Products = Callable[[int, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def rnn_cell(gi: torch.Tensor, gh: torch.Tensor, h: torch.Tensor, nonlinearity: str = "tanh"):
    """Elman step: ``h' = act(gi + gh)``; all (N, H)."""
    pre = gi + gh
    return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)


def lstm_cell(
    gi: torch.Tensor, gh: torch.Tensor, c: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """LSTM step from the gate products (N, 4H) and the cell state (N, H) -> ``(h', c')``."""
    i, f, g, o = (gi + gh).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def gru_cell(gi: torch.Tensor, gh: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """GRU step from the gate products (N, 3H) and the state (N, H) -> ``h'``."""
    xr, xz, xn = gi.chunk(3, dim=-1)
    hr, hz, hn = gh.chunk(3, dim=-1)
    r = torch.sigmoid(xr + hr)
    z = torch.sigmoid(xz + hz)
    n = torch.tanh(xn + r * hn)
    return (1.0 - z) * n + z * h


def unroll(
    cell: Cell,
    steps: int,
    products: Products,
    h: torch.Tensor,
    c: torch.Tensor | None = None,
    *,
    reverse: bool = False,
    nonlinearity: str = "tanh",
) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor | None]:
    """Run one direction of one layer over ``steps`` time steps.

    ``h`` (and ``c`` for an LSTM) are the initial states (N, H). Returns the per-step outputs
    in time order (a list of ``steps`` tensors (N, H)), the final ``h`` and the final ``c``
    (``None`` unless LSTM).
    """
    outs: list[torch.Tensor] = [h] * steps
    for t in range(steps - 1, -1, -1) if reverse else range(steps):
        gi, gh = products(t, h)
        if cell == "lstm":
            h, c = lstm_cell(gi, gh, c)
        elif cell == "gru":
            h = gru_cell(gi, gh, h)
        else:
            h = rnn_cell(gi, gh, h, nonlinearity)
        outs[t] = h
    return outs, h, c
