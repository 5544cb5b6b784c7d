"""noisyhw: neural networks and data on imperfect hardware."""

__version__ = "0.1.0"
