"""noisyhw: neural networks and data on imperfect hardware.

The model transforms (prune, quantize to crossbars, store / corrupt, inject noise) follow one
convention, stated in :mod:`noisyhw.transform`; :func:`calibrate` calibrates whatever a chained
model carries.
"""

from .transform import calibrate

__version__ = "0.1.0"

__all__ = ["__version__", "calibrate"]
