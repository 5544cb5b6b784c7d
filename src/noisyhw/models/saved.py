"""Rebuild a model from a saved model file's contents, checking its structure first.

A model file (``noisyhw train``'s ``model.pt``) is a dict: ``model_name``, ``input_shape``,
``num_classes``, ``model_kwargs``, ``state_dict`` (plus ``dataset``, ``sequence``). Every field
is checked, and the model is first built on the ``meta`` device (no memory) so that a file whose
weights do not fit its own description is refused with one line before anything is allocated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import DataError, NoisyhwError
from . import MODELS

__all__ = ["MAX_CLASSES", "MAX_INPUT_ELEMENTS", "build_saved"]

#: the largest input a saved model may describe (elements of one example: 16 Mi, 64 MiB float32)
MAX_INPUT_ELEMENTS = 2**24
#: the most classes a saved model may have
MAX_CLASSES = 1_000_000


def build_saved(
    state: Any, path: str | Path, device: str = "cpu", option: str | None = None
) -> nn.Module:
    """The model ``state`` describes, with its weights, on ``device``.

    Raises :class:`~noisyhw.errors.DataError` (one line naming ``path``, the ``option`` that
    gave it when given, and the field) for a
    state that is not a model file: not a dict, a field missing or of the wrong type, an unknown
    model, a non-positive or huge size, kwargs the model does not take, weights that do not fit.
    """
    where = f"{option}: {path}" if option else f"model file {path}"

    def bad(what: str) -> DataError:
        return DataError(f"{where}: {what} (write model files with `noisyhw train`)")

    if not isinstance(state, Mapping):
        raise bad(f"holds a {type(state).__name__}, not a model description")
    for key in ("model_name", "input_shape", "num_classes", "state_dict"):
        if key not in state:
            raise bad(f"has no {key!r}")
    name = state["model_name"]
    if not isinstance(name, str) or not (name in MODELS or name.startswith("torchvision:")):
        raise bad(f"model_name must be one of {', '.join(MODELS)} (got {name!r})")
    shape = state["input_shape"]
    if (
        not isinstance(shape, list | tuple)
        or not 1 <= len(shape) <= 4
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 1 for d in shape)
    ):
        raise bad(f"input_shape must be 1 to 4 positive integers (got {shape!r})")
    if math.prod(shape) > MAX_INPUT_ELEMENTS:
        raise bad(f"input_shape {tuple(shape)} exceeds {MAX_INPUT_ELEMENTS} elements")
    classes = state["num_classes"]
    if not isinstance(classes, int) or isinstance(classes, bool) or not 1 <= classes <= MAX_CLASSES:
        raise bad(f"num_classes must be an integer in [1, {MAX_CLASSES}] (got {classes!r})")
    kwargs = state.get("model_kwargs", {})
    if not isinstance(kwargs, Mapping) or not all(isinstance(k, str) for k in kwargs):
        raise bad(f"model_kwargs must be a dict of keyword arguments (got {kwargs!r})")
    if not isinstance(state.get("dataset", ""), str) or not isinstance(
        state.get("sequence", False), bool
    ):
        raise bad("dataset must be a name and sequence a bool")
    weights = state["state_dict"]
    if (
        not isinstance(weights, Mapping)
        or not weights
        or not all(isinstance(v, torch.Tensor) for v in weights.values())
    ):
        raise bad("state_dict must be a non-empty dict of tensors")

    from . import create

    def build(device: str) -> nn.Module:
        try:
            with torch.device(device):
                return create(name, tuple(shape), classes, **kwargs)
        except (NoisyhwError, TypeError, ValueError, RuntimeError) as exc:
            raise bad(f"cannot build {name} from it ({_first_line(exc)})") from None

    try:
        skeleton, on_meta = build("meta"), True
    except DataError:  # a builder that computes on its input cannot run on meta: the bounded
        skeleton, on_meta = build("cpu"), False  # input size keeps a real build small
    expected = {k: tuple(v.shape) for k, v in skeleton.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in weights.items()}
    if expected != got:
        missing = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        if missing or extra:
            detail = f"missing {missing[:2]}" if missing else f"unexpected {extra[:2]}"
        else:
            k = next(k for k in expected if expected[k] != got[k])
            detail = f"{k} has shape {got[k]}, the model needs {expected[k]}"
        raise bad(f"its weights do not fit {name} ({detail})")
    model = build("cpu") if on_meta else skeleton
    model.load_state_dict(weights)
    return model.to(device)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0][:100]}" if text else exc.__class__.__name__
