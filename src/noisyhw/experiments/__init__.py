"""Studies: each module composes library pieces into runs with plots and a demo section."""
