"""Store an ``nn.Module``'s weights in a representation, corrupt the image, load it back.

>>> image = store(model, "fixed8", "nulling")            # doctest: +SKIP
>>> noisy, flips = image.corrupted(1e-4, rng=0)           # doctest: +SKIP
>>> stats = load_stored(model, noisy)                     # doctest: +SKIP
>>> noisy = corrupt(model, 1e-4, "float32", "range", rng=0)   # a corrupted copy  # doctest: +SKIP
>>> corrupt_(model, 1e-4, "float32", "range", rng=0)           # the same, in place  # doctest: +SKIP

``filter_fn(module, fqn)`` stores / corrupts only the tensors owned by the modules it accepts
(the convention of :mod:`noisyhw.transform`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..channels import bit_positions, bsc_inplace
from ..errors import ParameterError
from ..seeding import RngLike, as_rng
from ..transform import FilterFn, accepts, check_filter_fn
from .formats import Representation, StoredTensor
from .formats import representation as _representation
from .protect import Protection, decode_tensor, encode_tensor
from .protect import protection as _protection

__all__ = ["StoredModel", "corrupt", "corrupt_", "load_stored", "store"]


@dataclass
class StoredModel:
    """Memory images of a model's weights, by state-dict name."""

    representation: Representation
    protection: Protection
    tensors: dict[str, StoredTensor] = field(default_factory=dict)
    dtypes: dict[str, torch.dtype] = field(default_factory=dict)

    @property
    def num_values(self) -> int:
        return sum(t.words.size for t in self.tensors.values())

    @property
    def width(self) -> int:
        """Stored bits per value (the representation's, plus an extra parity bit if any)."""
        return self.protection.width(self.representation)

    @property
    def stored_bits(self) -> int:
        """Bits exposed to errors: ``width`` per value."""
        return self.num_values * self.width

    @property
    def bits_per_param(self) -> float:
        """Stored bits per parameter, side information (scales, ranges) included."""
        side = sum(t.side_bits for t in self.tensors.values())
        return (self.stored_bits + side) / max(self.num_values, 1)

    def corrupted(
        self,
        p: float | None = None,
        rng: RngLike = None,
        *,
        p01: float | None = None,
        p10: float | None = None,
        bit_mask: np.ndarray | list[int] | None = None,
    ) -> tuple[StoredModel, int]:
        """A copy with every stored bit flipped independently (see :func:`noisyhw.channels.bsc`);
        returns it and the number of flipped bits. ``bit_mask`` selects bit positions within the
        ``width`` stored bits (bit 0 = LSB); container bits above ``width`` never flip."""
        width = self.width
        positions = bit_positions(bit_mask, width)
        g = as_rng(rng)
        out = StoredModel(self.representation, self.protection, {}, dict(self.dtypes))
        flips = 0
        for name, t in self.tensors.items():
            c = t.copy()
            flips += bsc_inplace(c.words, p, g, p01=p01, p10=p10, bit_mask=positions)
            out.tensors[name] = c
        return out, flips

    def decode(self) -> tuple[dict[str, torch.Tensor], dict[str, int]]:
        """Decoded weights by name and detection counts ``{"nulled", "range_zeroed"}``."""
        state, nulled, ranged = {}, 0, 0
        for name, t in self.tensors.items():
            v, a, b = decode_tensor(t, self.representation, self.protection)
            state[name] = torch.from_numpy(v).to(self.dtypes.get(name, torch.float32))
            nulled += a
            ranged += b
        return state, {"nulled": nulled, "range_zeroed": ranged}


def _weights(
    model: nn.Module, buffers: bool, filter_fn: FilterFn | None = None
) -> dict[str, torch.Tensor]:
    """Parameters (and floating buffers) by state-dict name, of the modules ``filter_fn`` keeps."""
    named = dict(model.named_parameters())
    if buffers:
        named.update((n, b) for n, b in model.named_buffers() if b.is_floating_point())
    if filter_fn is None:
        return named
    keep: dict[str, bool] = {}
    for name in named:
        owner = name.rpartition(".")[0]
        if owner not in keep:
            keep[owner] = accepts(filter_fn, model.get_submodule(owner), owner)
    return {n: t for n, t in named.items() if keep[n.rpartition(".")[0]]}


def store(
    model: nn.Module,
    representation: str | Representation = "float32",
    protection: str | Protection = "none",
    *,
    filter_fn: FilterFn | None = None,
    buffers: bool = False,
) -> StoredModel:
    """Encode every parameter (and floating buffers such as BatchNorm statistics with
    ``buffers=True``) of ``model`` into memory images; with ``filter_fn(module, fqn)`` only
    those of the modules it accepts."""
    check_filter_fn(filter_fn)
    rep = _representation(representation)
    prot = _protection(protection)
    out = StoredModel(rep, prot)
    for name, t in _weights(model, buffers, filter_fn).items():
        w = t.detach().to("cpu", torch.float32).numpy()
        out.tensors[name] = encode_tensor(w, rep, prot)
        out.dtypes[name] = t.dtype
    return out


def load_stored(model: nn.Module, stored: StoredModel) -> dict[str, int]:
    """Decode ``stored`` into ``model``'s tensors in place; returns the detection counts."""
    state, stats = stored.decode()
    named = {**dict(model.named_parameters()), **dict(model.named_buffers())}
    missing = [n for n in state if n not in named]
    if missing:
        raise ParameterError("stored", "holds tensors the model does not have", missing[:3])
    with torch.no_grad():
        for name, value in state.items():
            target = named[name]
            if target.shape != value.shape:
                raise ParameterError(name, f"shape {tuple(target.shape)}", tuple(value.shape))
            target.copy_(value.to(target.device))
    return stats


def corrupt_(
    model: nn.Module,
    p: float | None = None,
    representation: str | Representation = "float32",
    protection: str | Protection = "none",
    rng: RngLike = None,
    *,
    p01: float | None = None,
    p10: float | None = None,
    bit_mask: np.ndarray | list[int] | None = None,
    buffers: bool = False,
    filter_fn: FilterFn | None = None,
) -> nn.Module:
    """Store, flip each stored bit (BER ``p`` or ``p01``/``p10``) and load back, in place;
    return ``model``. Only the tensors of modules ``filter_fn(module, fqn)`` accepts are stored
    (and so exposed to errors); the others stay exact."""
    image = store(model, representation, protection, filter_fn=filter_fn, buffers=buffers)
    noisy, _ = image.corrupted(p, rng, p01=p01, p10=p10, bit_mask=bit_mask)
    load_stored(model, noisy)
    return model


def corrupt(
    model: nn.Module,
    p: float | None = None,
    representation: str | Representation = "float32",
    protection: str | Protection = "none",
    rng: RngLike = None,
    *,
    p01: float | None = None,
    p10: float | None = None,
    bit_mask: np.ndarray | list[int] | None = None,
    buffers: bool = False,
    filter_fn: FilterFn | None = None,
) -> nn.Module:
    """A corrupted deep copy of ``model`` (``model`` untouched); see :func:`corrupt_`."""
    check_filter_fn(filter_fn)
    return corrupt_(
        copy.deepcopy(model),
        p,
        representation,
        protection,
        rng,
        p01=p01,
        p10=p10,
        bit_mask=bit_mask,
        buffers=buffers,
        filter_fn=filter_fn,
    )
