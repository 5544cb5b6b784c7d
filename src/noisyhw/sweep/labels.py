"""Kept for existing imports: the labels for people live in :mod:`noisyhw.labels`."""

from ..labels import cell, flatten, header, is_number, label, legend_label

__all__ = ["cell", "flatten", "header", "is_number", "label", "legend_label"]
