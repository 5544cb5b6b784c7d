"""Summaries and report sections of pruning sweeps: mean test accuracy over seeds with its
interval, paired differences against a baseline method at the same seed, plots and tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..stats import mean_ci
from ..sweep import Run, Section, bar_plot, line_plot

__all__ = [
    "KNOBS",
    "SUMMARY_COLUMNS",
    "SWEEP_COLUMNS",
    "paired_vs",
    "point_key",
    "report_paired",
    "report_seeds",
    "report_sweep",
    "summarize_seeds",
]

#: the one knob tuned per method on the validation split (magnitude and agp have none)
KNOBS = {"reweighted": "lam", "group_lasso": "lam", "admm": "rho"}

#: columns of a pruning sweep's table, in display order
SWEEP_COLUMNS = [
    "structure",
    "method",
    "sparsity",
    "achieved_sparsity",
    "accuracy",
    "pruned_energy",
    "hyperparameters",
    "compression",
    "speedup",
]


def point_key(r: Mapping[str, Any]) -> tuple[str, float, str]:
    """A trial's (structure, sparsity, method): the point of the sweep it belongs to."""
    return (r["structure"], float(r["sparsity"]), r["method"])


def summarize_seeds(
    rows: Sequence[Mapping[str, Any]], confidence: float = 0.95
) -> list[dict[str, Any]]:
    """Per (structure, sparsity, method): the seeds, mean test accuracy with its Student-t
    ``confidence`` interval (``acc_lo`` / ``acc_hi``), mean pruned energy and the tuned knob."""
    groups: dict[tuple[str, float, str], list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault(point_key(r), []).append(r)
    out = []
    for (structure, sparsity, method), grp in groups.items():
        mean, lo, hi = mean_ci([g["accuracy"] for g in grp], confidence)
        energy = [g["pruned_energy"] for g in grp if g.get("pruned_energy") is not None]
        knob = KNOBS.get(method)
        out.append(
            {
                "structure": structure,
                "sparsity": sparsity,
                "method": method,
                "seeds": len(grp),
                "accuracy": mean,
                "acc_lo": lo,
                "acc_hi": hi,
                "pruned_energy": sum(energy) / len(energy) if energy else None,
                "knob": f"{knob}={grp[0][knob]:g}" if knob and knob in grp[0] else "",
            }
        )
    return out


def paired_vs(
    rows: Sequence[Mapping[str, Any]], baseline: str = "magnitude", confidence: float = 0.95
) -> list[dict[str, Any]]:
    """Per (structure, sparsity, method other than ``baseline``): test accuracy minus the
    baseline's at the same seed (same initialisation, batch order and data), as mean and
    Student-t ``confidence`` interval over the seeds both have."""
    acc = {(*point_key(r), r.get("seed")): r["accuracy"] for r in rows}
    out = []
    for structure, sparsity, method in dict.fromkeys(point_key(r) for r in rows):
        if method == baseline:
            continue
        seeds = [
            s
            for (st, sp, m, s) in acc
            if (st, sp, m) == (structure, sparsity, method)
            and (structure, sparsity, baseline, s) in acc
        ]
        if not seeds:
            continue
        diffs = [
            acc[(structure, sparsity, method, s)] - acc[(structure, sparsity, baseline, s)]
            for s in seeds
        ]
        mean, lo, hi = mean_ci(diffs, confidence)
        out.append(
            {
                "structure": structure,
                "sparsity": sparsity,
                "method": method,
                "baseline": baseline,
                "seeds": len(seeds),
                "diff": mean,
                "diff_lo": lo,
                "diff_hi": hi,
            }
        )
    return out


#: columns of the seed-summary table
SUMMARY_COLUMNS = [
    "structure",
    "sparsity",
    "method",
    "knob",
    "seeds",
    "accuracy",
    "acc_lo",
    "acc_hi",
    "pruned_energy",
]


def report_seeds(
    run: Run, section: Section, summary: list[dict[str, Any]], prefix: str = "prune_"
) -> None:
    """Mean test accuracy vs sparsity with its interval band, one curve per method, and the
    summary table."""
    for structure in dict.fromkeys(r["structure"] for r in summary):
        sub = [r for r in summary if r["structure"] == structure]
        png = line_plot(
            sub,
            "sparsity",
            "accuracy",
            run.plot_path(f"{prefix}acc_{structure}.png"),
            hue="method",
            band=("acc_lo", "acc_hi"),
            title=f"{structure} sparsity: mean test accuracy over seeds (95% interval)",
            xlabel="designated sparsity",
            ylabel="test accuracy",
        )
        section.image(png, f"accuracy vs {structure} sparsity, mean over seeds with 95% band")
    section.table([{c: r.get(c) for c in SUMMARY_COLUMNS} for r in summary], SUMMARY_COLUMNS)


def report_paired(section: Section, paired: list[dict[str, Any]]) -> None:
    """The paired differences of :func:`paired_vs` as a table."""
    cols = ["structure", "sparsity", "method", "baseline", "seeds", "diff", "diff_lo", "diff_hi"]
    section.table(
        paired, cols, title="accuracy minus the baseline's at the same seed (95% interval)"
    )


def report_sweep(
    run: Run, section: Section, rows: list[dict[str, Any]], prefix: str = "prune_"
) -> None:
    """Accuracy vs sparsity per structure (one curve per method), per-layer sparsity bars of
    the sparsest reweighted trial, and the results table."""
    for structure in dict.fromkeys(r["structure"] for r in rows):
        sub = [r for r in rows if r["structure"] == structure]
        png = line_plot(
            sub,
            "sparsity",
            "accuracy",
            run.plot_path(f"{prefix}acc_{structure}.png"),
            hue="method",
            title=f"{structure} sparsity: test accuracy after equal epochs",
            xlabel="designated sparsity",
            ylabel="test accuracy",
        )
        section.image(png, f"accuracy vs {structure} sparsity, one curve per method")
    # the layers' share differs only under a global budget; otherwise show the sparsest trial
    pick = max(rows, key=lambda r: (r["method"] == "reweighted", r["sparsity"]))
    labels = [f"{n.removesuffix('.weight')}" for n in pick["layers"]]
    png = bar_plot(
        labels,
        pick["layer_sparsity"],
        run.plot_path(f"{prefix}layers.png"),
        title=f"per-layer sparsity: {pick['method']} {pick['structure']} {pick['sparsity']}",
        ylabel="fraction of zero weights",
    )
    section.image(png, "achieved sparsity per layer (counted from the weights)")
    cols = SWEEP_COLUMNS
    section.table([{c: r.get(c) for c in cols} for r in rows], cols)
