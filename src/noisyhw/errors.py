"""Errors and parameter validation shared by the library and the CLI.

Every user-facing mistake raises a :class:`NoisyhwError` subclass whose message is one line that
names the parameter and what is allowed. The CLI turns these into ``error: ...`` and exit code 2.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

__all__ = [
    "BATCH_MAX",
    "COUNT_MAX",
    "EPOCHS_MAX",
    "DataError",
    "NoisyhwError",
    "ParameterError",
    "check_choice",
    "check_float",
    "check_int",
    "check_memory",
    "check_probability",
    "check_seed",
    "did_you_mean",
    "option_name",
    "renamed",
]


class NoisyhwError(Exception):
    """Base class of every error noisyhw raises on purpose (bad input, missing data)."""


class ParameterError(NoisyhwError, ValueError):
    """A parameter outside its allowed range: ``<name>: <allowed> (got <value>)``.

    When ``allowed`` reads ``must be one of a, b, c`` and ``got`` is a near miss of one of them
    (``fashion_mnist`` for ``fashion-mnist``), the message ends with ``; did you mean 'b'?``.
    """

    def __init__(self, name: str, allowed: str, got: Any = ...) -> None:
        self.name = name
        self.allowed = allowed
        self.got = got
        msg = f"{name}: {allowed}" if got is ... else f"{name}: {allowed} (got {got!r})"
        guess = did_you_mean(got, _listed_choices(allowed)) if isinstance(got, str) else None
        super().__init__(msg if guess is None else f"{msg}; did you mean {guess!r}?")


def _listed_choices(allowed: str) -> list[str]:
    """The names in ``"must be one of a, b or c:<name>"`` (nothing for any other wording)."""
    head = "must be one of "
    if not allowed.startswith(head):
        return []
    text = allowed[len(head) :].split(";")[0].split(" (")[0]
    return [t.strip() for part in text.split(", ") for t in part.split(" or ") if t.strip()]


def did_you_mean(got: str, choices: Iterable[str]) -> str | None:
    """The choice ``got`` most likely meant: equal up to case and ``_``/``-``/space, else the
    closest by :func:`difflib.get_close_matches` (ratio >= 0.6); None when nothing is close."""
    import difflib

    options = list(map(str, choices))
    if got in options:
        return None

    def norm(s: str) -> str:
        return s.lower().replace("_", "-").replace(" ", "-")

    same = [c for c in options if norm(c) == norm(got)]
    if same:
        return same[0]
    close = difflib.get_close_matches(got, options, n=1, cutoff=0.6)
    return close[0] if close else None


class DataError(NoisyhwError):
    """A data file that is missing, truncated or not what it claims to be."""


#: the most epochs and the largest batch any training takes (upper bounds of counts are part of
#: every check: a count is a promise of time or memory)
EPOCHS_MAX = 100_000
BATCH_MAX = 2**20
#: the most examples a count (a training subset size, a number of images) may ask for; a count
#: above a data set's size takes all of it
COUNT_MAX = 10**9

#: the largest seed every generator takes (torch.manual_seed: an unsigned 64-bit integer)
SEED_MAX = 2**64 - 1


def check_seed(name: str, value: Any) -> int:
    """Return ``value`` as an int if it is a valid seed, an integer in ``[0, SEED_MAX]``."""
    return check_int(name, value, 0, SEED_MAX)


def check_int(name: str, value: Any, lo: int | None = None, hi: int | None = None) -> int:
    """Return ``value`` as an int if it is an integer within ``[lo, hi]`` (either may be None)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(name, "must be an integer", value)
    if not isinstance(value, numbers.Integral) and (
        not math.isfinite(value) or value != int(value)
    ):
        raise ParameterError(name, "must be an integer", value)
    value = int(value)
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ParameterError(name, _range_text(lo, hi, "integer"), value)
    return value


def check_float(
    name: str,
    value: Any,
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    hi_open: bool = False,
    allow_inf: bool = False,
) -> float:
    """Return ``value`` as a float within the given (optionally open) bounds; NaN is rejected."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ParameterError(name, "must be a number", value) from None
    if math.isnan(f) or (math.isinf(f) and not allow_inf):
        raise ParameterError(name, "must be a finite number", value)
    bad = (lo is not None and (f < lo or (lo_open and f == lo))) or (
        hi is not None and (f > hi or (hi_open and f == hi))
    )
    if bad:
        left = "(" if lo_open else "["
        right = ")" if hi_open else "]"
        lo_s = "-inf" if lo is None else f"{lo:g}"
        hi_s = "inf" if hi is None else f"{hi:g}"
        raise ParameterError(name, f"must be in {left}{lo_s}, {hi_s}{right}", value)
    return f


def memory_budget() -> int:
    """Bytes one command may plan to hold: half of this machine's physical memory."""
    import os

    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        total = 16 * 2**30
    return total // 2


def format_bytes(n: float) -> str:
    """``1536`` -> ``1.5 KiB``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} EiB"  # pragma: no cover


def check_memory(name: str, nbytes: float, got: Any, what: str = "") -> None:
    """Refuse a size whose estimated memory, ``nbytes``, exceeds :func:`memory_budget`; the
    message gives the estimate (``what`` says what it holds)."""
    budget = memory_budget()
    if nbytes > budget:
        detail = f" for {what}" if what else ""
        raise ParameterError(
            name,
            f"needs about {format_bytes(nbytes)} of memory{detail}; at most "
            f"{format_bytes(budget)} (half of this machine's) can be used",
            got,
        )


def check_probability(name: str, value: Any) -> float:
    """A probability in [0, 1]."""
    return check_float(name, value, 0.0, 1.0)


def check_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """``value`` must be one of ``choices`` (exact string match)."""
    options = list(choices)
    if value not in options:
        raise ParameterError(name, f"must be one of {', '.join(map(str, options))}", value)
    return value


#: config fields whose option is not ``--field-name`` (one table for every command's messages)
OPTION_NAMES: dict[str, str] = {
    "ebn0_db": "--ebn0",
    "list_size": "--list",
    "max_param": "--max",
    "on_off_ratio": "--on-off",
    "sparsity": "--sparsities",
}


def option_name(field: str, options: dict[str, str] | None = None) -> str:
    """The CLI option that sets config field ``field``: ``options``, then :data:`OPTION_NAMES`,
    else ``--field-name``; a name that is already an option (``--x``) is returned as is."""
    if not field or field.startswith("-") or not field.replace("_", "").isalnum():
        return field  # already an option, or not a field name (an argument, a description)
    if field.isupper():
        return field  # a positional argument (FOLDER, ROOT)
    if options and field in options:
        return options[field]
    return OPTION_NAMES.get(field, "--" + field.replace("_", "-"))


def renamed(exc: ParameterError, options: dict[str, str] | None = None) -> ParameterError:
    """``exc`` naming the option the user typed instead of the library field."""
    return ParameterError(option_name(exc.name, options), exc.allowed, exc.got)


def _range_text(lo: int | None, hi: int | None, kind: str) -> str:
    if lo is not None and hi is not None:
        return f"must be an {kind} in [{lo}, {hi}]"
    if lo is not None:
        return f"must be an {kind} >= {lo}"
    return f"must be an {kind} <= {hi}"
