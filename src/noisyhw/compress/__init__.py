"""Compressing networks and their inputs: pruning (``compress.prune``) and frequency-domain
inputs (``compress.frequency``)."""
