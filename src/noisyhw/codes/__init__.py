"""Constrained and error-correcting codes: one module or subpackage per family."""
