"""The one convention every model transform follows, and the helpers they share.

The transforms are :func:`noisyhw.compress.prune.prune_` (pruning), :func:`noisyhw.analog.nvm.quantize_`
(n-bit NVM crossbars), :func:`noisyhw.storage.corrupt_` (stored weights with bit errors) and
:func:`noisyhw.analog.inject_noise_` (noisy analog products). The rule, stated once:

* ``verb_(model, spec, ..., *, filter_fn=None)`` changes ``model`` **in place** and returns what
  it did: the model itself (``inject_noise_``, ``quantize_``, ``corrupt_``) or a result object
  (``prune_`` returns a :class:`~noisyhw.compress.prune.PruneResult`).
  ``verb(model, spec, ...)`` (no underscore) leaves ``model`` untouched and returns a changed
  deep copy; ``verb(...)`` gives exactly what ``verb_`` gives on a copy with the same seed.
* ``spec`` is a frozen dataclass (:class:`~noisyhw.analog.NoiseSpec`,
  :class:`~noisyhw.analog.nvm.QuantSpec`, :class:`~noisyhw.compress.prune.PruneSpec`), validated
  in ``__post_init__`` (a bad field raises :class:`~noisyhw.errors.ParameterError` naming it, at
  construction); ``spec.replace(**changes)`` makes a validated variant (``with_`` is the same).
  Storage takes its ``representation`` and ``protection`` by name (or object) instead of a spec.
* ``filter_fn(module, fqn) -> bool`` narrows the layers a transform touches (``fqn`` is the
  module's qualified name in ``model``, ``""`` for the model itself). ``None`` keeps the
  transform's own "auto" choice (layer kinds, ``PruneSpec.layers``); a layer is transformed only
  when both the auto choice and ``filter_fn`` accept it.
* One calibration signature: ``calibrate(model, data, *, max_batches=8, batch_size=256,
  device=None)`` (:func:`noisyhw.analog.calibrate`, :func:`noisyhw.analog.nvm.calibrate`), and
  ``noisyhw.calibrate`` (:mod:`noisyhw.analog.chain`) calibrates whatever a chained model
  carries (crossbar converters and/or injected noise) in one call.

>>> import noisyhw                                                              # doctest: +SKIP
>>> prune_(model, PruneSpec(structure="filter", sparsity=0.5, method="magnitude"))
>>> quantize_(model, QuantSpec(weight_bits=4, dac_bits=4, adc_bits=4), filter_fn=lambda m, n: n != "fc")
>>> corrupt_(model, 1e-4, "fixed8", "nulling", rng=0)
>>> inject_noise_(model, NoiseSpec(snr_db=20.0, mode="fixed"), seed=0)
>>> noisyhw.calibrate(model, train_ds, max_batches=8)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import ParameterError

if TYPE_CHECKING:  # importing noisyhw stays light: torch loads with the transforms
    from torch import nn

__all__ = ["FilterFn", "SpecMixin", "accepts", "check_filter_fn", "select_modules"]

#: ``filter_fn(module, fqn) -> bool``: True keeps the layer in the transform
FilterFn = Callable[["nn.Module", str], bool]

_S = TypeVar("_S")


class SpecMixin:
    """``replace`` / ``with_`` for a frozen spec dataclass (the copy is validated again)."""

    def replace(self: _S, **changes: Any) -> _S:
        """A copy with some fields changed (validated again by ``__post_init__``)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def with_(self: _S, **changes: Any) -> _S:
        """The same as :meth:`replace`."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]


def check_filter_fn(filter_fn: Any) -> FilterFn | None:
    """``filter_fn`` itself when it is None or callable; else one :class:`ParameterError`."""
    if filter_fn is not None and not callable(filter_fn):
        raise ParameterError(
            "filter_fn", "a callable (module, fqn) -> bool, or None", type(filter_fn).__name__
        )
    return filter_fn


def accepts(filter_fn: FilterFn | None, module: nn.Module, fqn: str) -> bool:
    """Whether ``filter_fn`` keeps ``module`` (named ``fqn``); None keeps everything."""
    return filter_fn is None or bool(filter_fn(module, fqn))


def select_modules(
    model: nn.Module,
    kinds: type | tuple[type, ...],
    filter_fn: FilterFn | None = None,
    *,
    exact: bool = False,
) -> list[tuple[str, nn.Module]]:
    """The ``(fqn, module)`` pairs of ``model`` (itself included, as ``""``) that are ``kinds``
    and that ``filter_fn`` accepts, in ``named_modules`` order.

    ``exact=True`` matches the types themselves, not their subclasses (e.g. so that
    ``nn.MultiheadAttention``'s ``NonDynamicallyQuantizableLinear`` is not taken for an
    ``nn.Linear``). A selected module's own submodules are not listed again.
    """
    check_filter_fn(filter_fn)
    types = kinds if isinstance(kinds, tuple) else (kinds,)
    out: list[tuple[str, nn.Module]] = []
    chosen: set[str] = set()
    for fqn, module in model.named_modules():
        parts = fqn.split(".") if fqn else []
        if any(".".join(parts[:i]) in chosen for i in range(len(parts))):
            continue  # inside a selected module
        hit = type(module) in types if exact else isinstance(module, types)
        if hit and accepts(filter_fn, module, fqn):
            out.append((fqn, module))
            chosen.add(fqn)
    return out
