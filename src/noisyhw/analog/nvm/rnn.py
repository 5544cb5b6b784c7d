"""Quantized LSTM and GRU on crossbars: every gate product goes DAC -> crossbar -> ADC.

:class:`CrossbarLSTM` / :class:`CrossbarGRU` take the parameters of ``nn.LSTM`` / ``nn.GRU``
under the same names (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``, ``bias_hh_l0``, ...), so
a float state dict loads as is, and with quantization and noise off they compute the float model.
Per layer ``l`` there are two arrays: ``xbar_ih[l]`` (input ``x_t`` -> all gates, rows = input
size, evaluated for every time step in one batched call) and ``xbar_hh[l]`` (state ``h_{t-1}``
-> all gates, rows = hidden size, DAC range fixed to [-1, 1] because ``|h| < 1``), each with its
own ADC per column. Biases are added digitally. The elementwise gate math (sigmoid, tanh,
products, cell state) runs in the digital periphery in float.

Input ``(N, T, F)`` with ``batch_first=True`` (else ``(T, N, F)``); returns ``output (N, T, H)``
and ``(h_n, c_n)`` (LSTM) or ``h_n`` (GRU), each ``(layers, N, H)``, like torch.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ...errors import ParameterError
from ..cells import Cell, unroll
from .crossbar import Crossbar
from .spec import QuantSpec

__all__ = ["CrossbarGRU", "CrossbarLSTM"]


class _CrossbarRNNBase(nn.Module):
    gates = 4
    cell: Cell = "lstm"

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        *,
        spec: QuantSpec | None = None,
        index: int = 0,
    ) -> None:
        super().__init__()
        spec = spec or QuantSpec()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout = dropout
        g = self.gates * hidden_size
        self.xbar_ih = nn.ModuleList()
        self.xbar_hh = nn.ModuleList()
        for layer in range(num_layers):
            rows = input_size if layer == 0 else hidden_size
            self.register_parameter(f"weight_ih_l{layer}", nn.Parameter(torch.empty(g, rows)))
            self.register_parameter(
                f"weight_hh_l{layer}", nn.Parameter(torch.empty(g, hidden_size))
            )
            if bias:
                self.register_parameter(f"bias_ih_l{layer}", nn.Parameter(torch.empty(g)))
                self.register_parameter(f"bias_hh_l{layer}", nn.Parameter(torch.empty(g)))
            self.xbar_ih.append(Crossbar(rows, g, spec, index=index + 2 * layer))
            self.xbar_hh.append(
                Crossbar(hidden_size, g, spec, index=index + 2 * layer + 1, dac_fixed=(-1.0, 1.0))
            )
        k = hidden_size**-0.5
        for p in self.parameters(recurse=False):  # torch's default RNN initialisation
            nn.init.uniform_(p, -k, k)

    @classmethod
    def from_float(cls, rnn: nn.LSTM | nn.GRU, spec: QuantSpec, index: int = 0):
        if rnn.bidirectional or getattr(rnn, "proj_size", 0):
            raise ParameterError("model", "bidirectional / projected RNNs are not supported", rnn)
        m = cls(
            rnn.input_size,
            rnn.hidden_size,
            rnn.num_layers,
            rnn.bias,
            rnn.batch_first,
            rnn.dropout,
            spec=spec,
            index=index,
        )
        p0 = next(rnn.parameters())
        m.to(device=p0.device, dtype=p0.dtype)
        m.load_state_dict(rnn.state_dict(), strict=False)
        return m

    def _params(self, layer: int) -> tuple[torch.Tensor, ...]:
        w_ih = getattr(self, f"weight_ih_l{layer}")
        w_hh = getattr(self, f"weight_hh_l{layer}")
        b_ih = getattr(self, f"bias_ih_l{layer}") if self.bias else None
        b_hh = getattr(self, f"bias_hh_l{layer}") if self.bias else None
        return w_ih, w_hh, b_ih, b_hh

    def _layers(self, x: torch.Tensor, states: list[tuple[torch.Tensor, ...]]):
        """x (T, N, F) -> output (T, N, H), final states per layer."""
        finals = []
        for layer in range(self.num_layers):
            x, state = self._layer(layer, x, states[layer])
            finals.append(state)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        return x, finals

    def _layer(self, layer: int, x: torch.Tensor, state: tuple[torch.Tensor, ...]):
        """One layer: x (T, N, F) and its initial state -> output (T, N, H), final state."""
        w_ih, w_hh, b_ih, b_hh = self._params(layer)
        t_len, n = x.shape[:2]
        # all time steps at once, as one (T*N, F) matrix product (a 3-D strided input would
        # take a slow batched-matmul path)
        gx = self.xbar_ih[layer](x.reshape(t_len * n, -1), w_ih).view(t_len, n, -1)
        gx, b_step = self._fold_bias(gx, b_ih, b_hh)
        gx_steps = gx.unbind(0)  # not gx[t]: T selects would backprop T full-size zero grads
        hh = self.xbar_hh[layer]
        prepared = hh.prepare(w_hh)

        def products(t: int, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            gh = hh.apply(h, prepared)
            return gx_steps[t], (gh if b_step is None else gh + b_step)

        c0 = state[1] if self.cell == "lstm" else None
        outs, h, c = unroll(self.cell, t_len, products, state[0], c0)
        return torch.stack(outs), ((h, c) if self.cell == "lstm" else (h,))

    def _fold_bias(self, gx, b_ih, b_hh):
        """Add the digital biases to the input-gate products once for all steps; returns
        ``(gx, bias left for every step)``."""
        if b_ih is None:
            return gx, None
        return gx + (b_ih + b_hh), None

    def _check(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ParameterError(
                "input",
                f"must be (N, T, {self.input_size}) / (T, N, {self.input_size})",
                tuple(x.shape),
            )
        return x.transpose(0, 1) if self.batch_first else x

    def _out(self, y: torch.Tensor) -> torch.Tensor:
        return y.transpose(0, 1) if self.batch_first else y

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
            f"batch_first={self.batch_first}"
        )


class CrossbarLSTM(_CrossbarRNNBase):
    """``nn.LSTM`` on crossbars (gate order i, f, g, o; see module doc)."""

    gates = 4
    cell = "lstm"

    def forward(self, x: torch.Tensor, hx: tuple[torch.Tensor, torch.Tensor] | None = None):
        x = self._check(x)
        n = x.shape[1]
        if hx is None:
            z = x.new_zeros(self.num_layers, n, self.hidden_size)
            hx = (z, z)
        states = [(hx[0][k], hx[1][k]) for k in range(self.num_layers)]
        y, finals = self._layers(x, states)
        h = torch.stack([s[0] for s in finals])
        c = torch.stack([s[1] for s in finals])
        return self._out(y), (h, c)


class CrossbarGRU(_CrossbarRNNBase):
    """``nn.GRU`` on crossbars (gate order r, z, n; ``n = tanh(x_n + r * (W_hn h + b_hn))``)."""

    gates = 3
    cell = "gru"

    def _fold_bias(self, gx, b_ih, b_hh):
        """``b_hr``, ``b_hz`` fold into the input products; ``b_hn`` stays inside ``r * (...)``."""
        if b_ih is None:
            return gx, None
        h = self.hidden_size
        b_r, b_z, b_n = b_hh.split(h)
        folded = torch.cat([b_r, b_z, torch.zeros_like(b_n)])
        return gx + (b_ih + folded), torch.cat([torch.zeros_like(b_r), torch.zeros_like(b_z), b_n])

    def forward(self, x: torch.Tensor, hx: torch.Tensor | None = None):
        x = self._check(x)
        if hx is None:
            hx = x.new_zeros(self.num_layers, x.shape[1], self.hidden_size)
        y, finals = self._layers(x, [(hx[k],) for k in range(self.num_layers)])
        return self._out(y), torch.stack([s[0] for s in finals])
