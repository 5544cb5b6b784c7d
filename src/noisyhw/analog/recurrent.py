"""Noisy RNN / LSTM / GRU: torch's recurrent layers with noise in every matrix-vector product.

:class:`NoisyRecurrent` (and the torch-like :class:`NoisyRNN`, :class:`NoisyLSTM`,
:class:`NoisyGRU`) has exactly the parameters of ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (same
names, shapes and gate order: LSTM ``i, f, g, o``; GRU ``r, z, n``), so their state dicts load
either way, and with noise off it computes what torch computes. With a noise context attached
(:func:`noisyhw.analog.inject_noise` does that), each time step's input product
``W_ih x_t + b_ih`` and hidden product ``W_hh h_{t-1} + b_hh`` get independent noise through
:func:`~noisyhw.analog.noise.apply_noise` ("deep noise injection"); DAC-side noise goes on
``x_t`` and ``h_{t-1}`` before the products, weight noise is drawn once per forward call
(static over the time steps, like programming noise of the array). For the GRU the hidden
product is noised before the reset gate multiplies its ``n`` part, as in the array.

Shapes follow torch: input (T, N, F) or (N, T, F) with ``batch_first``, or unbatched (T, F);
``h_0`` / ``c_0`` (layers * directions, N, H). ``proj_size`` and packed sequences are not
supported (a clear error says so).
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import ParameterError, check_choice, check_float, check_int
from .cells import unroll
from .noise import NoisePoint, apply_noise
from .protocols import NoiseState

__all__ = ["NoisyGRU", "NoisyLSTM", "NoisyRNN", "NoisyRecurrent", "to_noisy_recurrent"]

_GATES = {"rnn": 1, "lstm": 4, "gru": 3}
_TORCH = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class NoisyRecurrent(nn.Module):
    """A multi-layer (bi)directional RNN / LSTM / GRU with per-time-step noisy products.

    Parameters mirror torch's: ``cell`` (``"rnn"``, ``"lstm"``, ``"gru"``), ``input_size``,
    ``hidden_size``, ``num_layers``, ``bias``, ``batch_first``, ``dropout`` (between layers,
    training only), ``bidirectional``, ``nonlinearity`` (``"tanh"``/``"relu"``, RNN only).
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        nonlinearity: str = "tanh",
    ) -> None:
        super().__init__()
        self.cell = check_choice("cell", cell, tuple(_GATES))
        self.input_size = check_int("input_size", input_size, 1)
        self.hidden_size = check_int("hidden_size", hidden_size, 1)
        self.num_layers = check_int("num_layers", num_layers, 1)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = check_float("dropout", dropout, 0.0, 1.0)
        self.bidirectional = bool(bidirectional)
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, ("tanh", "relu"))
        self.noise_ctx: NoiseState | None = None
        gates = _GATES[cell] * hidden_size
        dirs = 2 if bidirectional else 1
        stdv = 1.0 / math.sqrt(hidden_size)
        self.points: dict[str, NoisePoint] = {}
        for layer in range(num_layers):
            width = input_size if layer == 0 else hidden_size * dirs
            for d in range(dirs):
                sfx = self._suffix(layer, d)
                shapes = {
                    f"weight_ih{sfx}": (gates, width),
                    f"weight_hh{sfx}": (gates, hidden_size),
                }
                if bias:
                    shapes.update({f"bias_ih{sfx}": (gates,), f"bias_hh{sfx}": (gates,)})
                for name, shape in shapes.items():
                    p = nn.Parameter(torch.empty(shape))
                    nn.init.uniform_(p, -stdv, stdv)
                    self.register_parameter(name, p)
                for part in ("ih", "hh"):
                    self.points[f"{sfx[1:]}.{part}"] = NoisePoint(f"{sfx[1:]}.{part}")

    @staticmethod
    def _suffix(layer: int, direction: int) -> str:
        return f"_l{layer}" + ("_reverse" if direction else "")

    # ------------------------------------------------------------------ conversion
    @classmethod
    def from_torch(cls, module: nn.RNNBase) -> NoisyRecurrent:
        """Wrap a torch ``nn.RNN``/``nn.LSTM``/``nn.GRU``, sharing its Parameter objects."""
        cell = _cell_of(module)
        if getattr(module, "proj_size", 0):
            raise ParameterError(
                "proj_size", "LSTM projections are not supported", module.proj_size
            )
        kw: dict[str, Any] = {}
        if cell == "rnn":
            kw["nonlinearity"] = module.nonlinearity
        new = cls(
            cell,
            module.input_size,
            module.hidden_size,
            module.num_layers,
            module.bias,
            module.batch_first,
            float(module.dropout),
            module.bidirectional,
            **kw,
        )
        for name in module._flat_weights_names:
            setattr(new, name, getattr(module, name))
        return new.to(next(module.parameters()).device)

    def to_torch(self) -> nn.RNNBase:
        """The equivalent torch module, sharing this module's Parameter objects."""
        kw: dict[str, Any] = {"nonlinearity": self.nonlinearity} if self.cell == "rnn" else {}
        dev = next(self.parameters()).device
        m = _TORCH[self.cell](
            self.input_size,
            self.hidden_size,
            num_layers=self.num_layers,
            bias=self.bias,
            batch_first=self.batch_first,
            dropout=self.dropout,
            bidirectional=self.bidirectional,
            device=dev,
            **kw,
        )
        for name, p in self.named_parameters():
            setattr(m, name, p)
        m.train(self.training)
        return m

    # ------------------------------------------------------------------ forward
    def forward(
        self,
        input: torch.Tensor,
        hx: torch.Tensor | tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, Any]:
        if not isinstance(input, torch.Tensor):
            raise ParameterError(
                "input", "packed sequences are not supported; pass a padded tensor"
            )
        if input.dim() not in (2, 3):
            raise ParameterError(
                "input", "must be (T, F), (T, N, F) or batch_first (N, T, F)", tuple(input.shape)
            )
        unbatched = input.dim() == 2
        x = (
            input.unsqueeze(0)
            if unbatched
            else (input if self.batch_first else input.transpose(0, 1))
        )
        n = x.shape[0]
        dirs = 2 if self.bidirectional else 1
        h0, c0 = self._initial(hx, n, dirs, unbatched, x)
        ctx = self.noise_ctx
        noisy = (
            ctx is not None and ctx.enabled and ctx.spec.active and "recurrent" in ctx.spec.targets
        )
        calibrating = ctx is not None and any(p.calibrating for p in self.points.values())
        hn, cn = [], []
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                idx = layer * dirs + d
                sfx = self._suffix(layer, d)
                out, h, c = self._run_direction(
                    layer_in,
                    sfx,
                    h0[idx],
                    None if c0 is None else c0[idx],
                    reverse=bool(d),
                    ctx=ctx if (noisy or calibrating) else None,
                )
                outs.append(out)
                hn.append(h)
                if c is not None:
                    cn.append(c)
            layer_in = outs[0] if dirs == 1 else torch.cat(outs, dim=-1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, training=True)
        output = layer_in
        h_n = torch.stack(hn)
        if unbatched:
            output, h_n = output[0], h_n[:, 0]
        elif not self.batch_first:
            output = output.transpose(0, 1)
        if self.cell == "lstm":
            c_n = torch.stack(cn)
            return output, (h_n, c_n[:, 0] if unbatched else c_n)
        return output, h_n

    def _initial(
        self, hx: Any, n: int, dirs: int, unbatched: bool, x: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        shape = (self.num_layers * dirs, n, self.hidden_size)
        if hx is None:
            zeros = x.new_zeros(shape)
            return zeros, (zeros if self.cell == "lstm" else None)
        if self.cell == "lstm":
            if not isinstance(hx, tuple | list) or len(hx) != 2:
                raise ParameterError("hx", "an LSTM takes (h_0, c_0)", type(hx).__name__)
            h0, c0 = hx
            if unbatched:
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
            return h0, c0
        h0 = hx.unsqueeze(1) if unbatched else hx
        return h0, None

    def _weights(self, sfx: str, ctx: NoiseState | None) -> tuple[torch.Tensor, ...]:
        w_ih, w_hh = getattr(self, f"weight_ih{sfx}"), getattr(self, f"weight_hh{sfx}")
        b_ih = getattr(self, f"bias_ih{sfx}") if self.bias else None
        b_hh = getattr(self, f"bias_hh{sfx}") if self.bias else None
        if ctx is not None:
            gen = ctx.generator(w_ih.device)
            w_ih = apply_noise(w_ih, ctx.spec, self.points[f"{sfx[1:]}.ih"], gen, site="weight")
            w_hh = apply_noise(w_hh, ctx.spec, self.points[f"{sfx[1:]}.hh"], gen, site="weight")
        return w_ih, w_hh, b_ih, b_hh

    def _run_direction(
        self,
        x: torch.Tensor,
        sfx: str,
        h: torch.Tensor,
        c: torch.Tensor | None,
        *,
        reverse: bool,
        ctx: NoiseState | None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """One direction of one layer over (N, T, F) -> outputs (N, T, H), h_T, c_T."""
        w_ih, w_hh, b_ih, b_hh = self._weights(sfx, ctx)
        p_ih, p_hh = self.points[f"{sfx[1:]}.ih"], self.points[f"{sfx[1:]}.hh"]
        gen = ctx.generator(x.device) if ctx is not None else None
        groups = ctx.groups if ctx is not None else 1
        spec = ctx.spec if ctx is not None else None
        dac = spec is not None and (math.isfinite(spec.input_snr_db) or p_ih.calibrating)
        if not dac:  # all input products in one matmul (time major); noise is drawn per step
            xw = F.linear(x.transpose(0, 1), w_ih, b_ih).contiguous()

        def products(t: int, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            if dac:
                gi = F.linear(
                    apply_noise(x[:, t], spec, p_ih, gen, site="in", groups=groups), w_ih, b_ih
                )
                hin = apply_noise(h, spec, p_hh, gen, site="in", groups=groups)
            else:
                gi, hin = xw[t], h
            gh = F.linear(hin, w_hh, b_hh)
            if spec is not None:
                gi = apply_noise(gi, spec, p_ih, gen, groups=groups, inplace=True)
                gh = apply_noise(gh, spec, p_hh, gen, groups=groups, inplace=True)
            return gi, gh

        outs, h, c = unroll(
            self.cell, x.shape[1], products, h, c, reverse=reverse, nonlinearity=self.nonlinearity
        )
        return torch.stack(outs, dim=1), h, c

    def extra_repr(self) -> str:
        s = f"{self.cell}, {self.input_size}, {self.hidden_size}, num_layers={self.num_layers}"
        if self.batch_first:
            s += ", batch_first=True"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s


class NoisyRNN(NoisyRecurrent):
    """``nn.RNN`` with noisy products (see :class:`NoisyRecurrent`)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, **kw: Any) -> None:
        super().__init__("rnn", input_size, hidden_size, num_layers, **kw)


class NoisyLSTM(NoisyRecurrent):
    """``nn.LSTM`` with noisy products (see :class:`NoisyRecurrent`)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, **kw: Any) -> None:
        super().__init__("lstm", input_size, hidden_size, num_layers, **kw)


class NoisyGRU(NoisyRecurrent):
    """``nn.GRU`` with noisy products (see :class:`NoisyRecurrent`)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, **kw: Any) -> None:
        super().__init__("gru", input_size, hidden_size, num_layers, **kw)


def _cell_of(module: nn.Module) -> str:
    for name, cls in _TORCH.items():
        if isinstance(module, cls):
            return name
    raise ParameterError("module", "must be an nn.RNN, nn.LSTM or nn.GRU", type(module).__name__)


def to_noisy_recurrent(module: nn.RNNBase) -> NoisyRecurrent:
    """Shorthand for :meth:`NoisyRecurrent.from_torch`."""
    return NoisyRecurrent.from_torch(module)
