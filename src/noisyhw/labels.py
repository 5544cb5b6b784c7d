"""Labels for people, all in one module: table cells, column headers, plot legends and the
short label of one Monte-Carlo point (progress lines, live rows).

Python values never reach a reader as ``None``, ``True``, ``qat=False``, ``config=hwo8/nulling``
or a dict repr:

>>> cell(None), cell(True), cell(0.000123), cell(float("nan"))
('–', 'yes', '1.230e-04', 'n/a')
>>> header("snr_db"), header("val_acc")
('SNR (dB)', 'val. accuracy')
>>> label({"qat": False, "config": "hwo8/nulling", "snr_db": 0})
'no QAT, hwo8 + nulling, SNR 0 dB'
>>> point_label({"decoder": "scl", "list_size": 8, "ebn0_db": 2.5})
'SCL-8 @ 2.5 dB'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["cell", "flatten", "header", "is_number", "label", "legend_label", "point_label"]

#: key -> (name for people, unit or ""); keys not here read as their words.
_KEYS: dict[str, tuple[str, str]] = {
    "snr_db": ("SNR", "dB"),
    "train_snr_db": ("training SNR", "dB"),
    "test_snr_db": ("test SNR", "dB"),
    "ebn0_db": ("Eb/N0", "dB"),
    "ebn0": ("Eb/N0", "dB"),
    "ber": ("bit error rate", ""),
    "fer": ("frame error rate", ""),
    "wer": ("word error rate", ""),
    "cer": ("character error rate", ""),
    "qat": ("QAT", ""),
    "acc": ("accuracy", ""),
    "val_acc": ("val. accuracy", ""),
    "val_loss": ("val. loss", ""),
    "train_acc": ("train accuracy", ""),
    "train_loss": ("train loss", ""),
    "lr": ("learning rate", ""),
    "elapsed_s": ("time", "s"),
    "time_s": ("time", "s"),
    "ci_low": ("95% CI low", ""),
    "ci_high": ("95% CI high", ""),
    "n_train": ("training examples", ""),
    "n_test": ("test examples", ""),
    "dac_bits": ("DAC bits", ""),
    "adc_bits": ("ADC bits", ""),
    "weight_bits": ("weight bits", ""),
    "k": ("K", ""),
    "n": ("N", ""),
}
#: keys whose string values speak for themselves (shown without the key)
_SELF_NAMED = frozenset(
    {"config", "series", "scheme", "method", "mode", "curve", "structure", "decoder", "code"}
)
_UNIT_SUFFIXES = {"_db": "dB", "_s": "s", "_ms": "ms", "_pct": "%", "_bits": "bits"}


def _name_unit(key: str) -> tuple[str, str]:
    if key in _KEYS:
        return _KEYS[key]
    for suffix, unit in _UNIT_SUFFIXES.items():
        if key.endswith(suffix) and len(key) > len(suffix):
            name = key[: -len(suffix)].replace("_", " ")
            return (f"{name} bits", "") if unit == "bits" else (name, unit)
    return key.replace("_", " "), ""


def header(key: str) -> str:
    """A column header: ``snr_db`` -> ``SNR (dB)``."""
    name, unit = _name_unit(str(key))
    return f"{name} ({unit})" if unit else name


def cell(value: Any) -> str:
    """A table cell: numbers to 4 significant digits, ``None`` -> ``–``, booleans -> yes/no,
    lists joined by commas, mappings as ``key value`` pairs."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.3e}"
        return f"{value:.4g}"
    if isinstance(value, Mapping):
        return label(value)
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    return str(value)


def _part(key: str, value: Any) -> str:
    name, unit = _name_unit(key)
    if isinstance(value, bool):
        return name if value else f"no {name}"
    if value is None or (isinstance(value, str) and value.lower() in ("none", "")):
        return f"no {name}"
    if isinstance(value, str):
        text = value.replace("/", " + ")
        return text if key in _SELF_NAMED or not _looks_numeric(value) else f"{name} {text}"
    if isinstance(value, Mapping):
        return label(value)
    text = cell(value)
    return f"{name} {text} {unit}" if unit else f"{name} {text}"


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def label(params: Mapping[str, Any]) -> str:
    """A legend entry or caption for a set of parameters: ``{"qat": False, "snr_db": 0}`` ->
    ``no QAT, SNR 0 dB``; an empty mapping gives ``""``."""
    return ", ".join(_part(str(k), v) for k, v in params.items())


#: decoder names as the literature writes them
_DECODERS = {"sc": "SC", "scl": "SCL", "cascl": "CA-SCL", "ascl": "A-SCL"}


def point_label(params: Mapping[str, Any]) -> str:
    """The short label of one point: ``{"decoder": "scl", "list_size": 8, "ebn0_db": 2.5}`` ->
    ``SCL-8 @ 2.5 dB``. A dB value shows as ``2.5 dB``, ``p`` as ``p = 0.05``, other keys as
    ``key=value``; the SC variants have no list size."""
    rest = dict(params)
    head = ""
    if "decoder" in rest:
        name = str(rest.pop("decoder"))
        head = _DECODERS.get(name, name)
        size = rest.pop("list_size", None)
        is_sc = name == "sc" or name.startswith("sc-")  # sc, sc-int16, sc-int8: no list
        if size is not None and not is_sc and not head.endswith(f"-{size}"):
            head += f"-{size}"
    parts = []
    for key, value in rest.items():
        text = str(value)
        if isinstance(value, float):
            text = f"{value:.1f}" if value.is_integer() else f"{value:g}"
        if _name_unit(str(key))[1] == "dB":
            parts.append(f"{text} dB")
        elif key == "p":
            parts.append(f"p = {text}")
        else:
            parts.append(f"{key}={text}")
    body = ", ".join(parts)
    return f"{head} @ {body}" if head and body else head or body


def legend_label(keys: list[str], values: tuple[Any, ...]) -> str:
    """The legend entry of one curve grouped by ``keys`` (see :func:`label`)."""
    return label(dict(zip(keys, values, strict=True)))


def is_number(value: Any) -> bool:
    """A real number (Python or numpy int/float), not a bool: what plots and metrics take."""
    import numpy as np

    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as one level, keys joined by dots: ``{"a": {"b": 1}}`` -> ``{"a.b": 1}``."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out
