"""Plots for sweeps and reports (matplotlib, Agg backend, PNG files)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["bar_plot", "heatmap", "line_plot"]


def _pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend, imported on the first plot (not at import: a CLI
    start or a worker process that draws nothing should not pay for it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def line_plot(
    rows: Sequence[Mapping[str, Any]],
    x: str,
    y: str,
    path: str | Path,
    *,
    hue: str | Sequence[str] | None = None,
    title: str = "",
    xlabel: str | None = None,
    ylabel: str | None = None,
    logx: bool = False,
    logy: bool = False,
    band: tuple[str, str] | None = None,
    hlines: Mapping[str, float] | None = None,
) -> Path:
    """One curve per distinct value of ``hue`` (a key or tuple of keys) of ``y`` against ``x``.

    ``band=(low_key, high_key)`` shades a confidence interval; ``hlines`` draws labelled
    horizontal reference lines (e.g. the clean accuracy).
    """
    hue_keys = [hue] if isinstance(hue, str) else list(hue or [])
    groups: dict[tuple, list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(r.get(k) for k in hue_keys), []).append(r)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, grp in groups.items():
        grp = sorted(grp, key=lambda r: r[x])
        xs = np.array([float(r[x]) for r in grp])
        ys = np.array([float(r[y]) if r.get(y) is not None else np.nan for r in grp])
        name = ", ".join(f"{k}={v}" for k, v in zip(hue_keys, label, strict=True)) or y
        (line,) = ax.plot(xs, ys, marker="o", ms=3, label=name)
        if band:
            lo = np.array([float(r[band[0]]) for r in grp])
            hi = np.array([float(r[band[1]]) for r in grp])
            ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.15)
    for name, value in (hlines or {}).items():
        ax.axhline(value, ls="--", color="gray", lw=1)
        ax.annotate(
            name,
            (0.01, value),
            xycoords=("axes fraction", "data"),
            va="bottom",
            fontsize=8,
            color="gray",
        )
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or y)
    ax.set_title(title)
    ax.grid(True, alpha=0.3, which="both")
    if len(groups) > 8:  # many curves: legend to the right of the axes, figure widened
        fig.set_size_inches(
            6.4 + 2.6 * math.ceil(len(groups) / 22), 4.2 + 0.1 * min(len(groups), 22)
        )
        ax.legend(
            fontsize=7,
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            ncol=math.ceil(len(groups) / 22),
        )
    elif len(groups) > 1 or hue_keys:
        ax.legend(fontsize=8)
    return _save(fig, path)


def heatmap(
    matrix: np.ndarray,
    path: str | Path,
    *,
    title: str = "",
    xlabels: Sequence[str] | None = None,
    ylabels: Sequence[str] | None = None,
    xlabel: str = "",
    ylabel: str = "",
    annotate: bool = False,
    cmap: str = "viridis",
    fmt: str = "{:.0f}",
) -> Path:
    """A 2-D colour map (e.g. a confusion matrix or an 8x8 frequency heat map)."""
    m = np.asarray(matrix, dtype=float)
    plt = _pyplot()
    fig, ax = plt.subplots(
        figsize=(max(4.0, 0.45 * m.shape[1] + 2), max(3.5, 0.4 * m.shape[0] + 1.5))
    )
    im = ax.imshow(m, cmap=cmap, aspect="auto")
    fig.colorbar(im, ax=ax, fraction=0.046)
    if xlabels is not None:
        ax.set_xticks(range(len(xlabels)), list(xlabels), rotation=45, ha="right", fontsize=8)
    if ylabels is not None:
        ax.set_yticks(range(len(ylabels)), list(ylabels), fontsize=8)
    if annotate:
        for i in range(m.shape[0]):
            for j in range(m.shape[1]):
                r, g, b, _ = im.cmap(im.norm(m[i, j]))
                dark_cell = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
                ax.text(
                    j,
                    i,
                    fmt.format(m[i, j]),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if dark_cell else "black",
                )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return _save(fig, path)


def bar_plot(
    labels: Sequence[str],
    values: Sequence[float],
    path: str | Path,
    *,
    title: str = "",
    ylabel: str = "",
) -> Path:
    """Vertical bars with category labels."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(5.0, 0.35 * len(labels) + 2), 3.8))
    ax.bar(range(len(values)), values)
    ax.set_xticks(range(len(labels)), list(labels), rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, axis="y", alpha=0.3)
    return _save(fig, path)


def _save(fig: Any, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    _pyplot().close(fig)
    tmp.replace(path)
    return path
