"""noisyhw: neural networks and data on imperfect hardware.

The model transforms (prune, quantize to crossbars, store / corrupt, inject noise) follow one
convention, stated in :mod:`noisyhw.transform`; ``noisyhw.calibrate`` (:func:`noisyhw.analog.chain.calibrate`)
calibrates whatever a chained model carries.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # type checkers see the real signature; at run time it loads lazily
    from .analog.chain import calibrate

__version__ = "0.1.0"

__all__ = ["__version__", "calibrate"]


def __getattr__(name: str) -> object:
    # lazy, so that `import noisyhw` (and `noisyhw --help`) does not load torch
    if name == "calibrate":
        from .analog.chain import calibrate

        return calibrate
    raise AttributeError(f"module 'noisyhw' has no attribute {name!r}")
