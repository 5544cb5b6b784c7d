"""Grids of trials: each trial is a dict of parameters, identified by a stable key."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ParameterError

__all__ = ["RUNTIME_KEYS", "grid", "identity", "trial_key"]

#: config keys that do not change results (how, not what) and so may differ on resume; they
#: are left out of a run's identity at any depth (a nested TrainConfig holds ``device`` too)
RUNTIME_KEYS = frozenset({"workers", "out", "executor", "address", "device", "quiet", "threads"})


def grid(**axes: Iterable[Any]) -> list[dict[str, Any]]:
    """Cartesian product of the named axes, in the order given (last axis varies fastest).

    >>> grid(snr=[0, 10], votes=[1, 5])
    [{'snr': 0, 'votes': 1}, {'snr': 0, 'votes': 5}, {'snr': 10, 'votes': 1}, {'snr': 10, 'votes': 5}]
    """
    names = list(axes)
    values = [list(v) for v in axes.values()]
    for name, vals in zip(names, values, strict=True):
        if not vals:
            raise ParameterError(name, "needs at least one value")
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace (stable across runs, used for hashing)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def trial_key(params: Mapping[str, Any]) -> str:
    """A short stable identifier of one trial's parameters."""
    return hashlib.sha256(canonical_json(dict(params)).encode()).hexdigest()[:16]


def identity(config: Any) -> Any:
    """``config`` without the :data:`RUNTIME_KEYS`, at every depth (dicts inside lists too)."""
    if isinstance(config, Mapping):
        return {k: identity(v) for k, v in config.items() if k not in RUNTIME_KEYS}
    if isinstance(config, list | tuple):
        return [identity(v) for v in config]
    return config
