"""Model compression: pruning (``compress.prune``) and frequency-domain compression (``compress.frequency``)."""
