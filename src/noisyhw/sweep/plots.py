"""Plots for sweeps and reports (matplotlib, Agg backend): each figure is written as a PNG
and as an SVG beside it (for papers); labels come from :mod:`noisyhw.sweep.labels`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..labels import cell, header, is_number, legend_label

__all__ = ["STYLE_PERIOD", "bar_plot", "heatmap", "line_plot", "series_style"]


def _pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend, imported on the first plot (not at import: a CLI
    start or a worker process that draws nothing should not pay for it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


#: colours (matplotlib's tab10), markers and dash patterns; see :func:`series_style`
_COLOURS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">")
_DASHES = ("-", "--", "-.", ":")
#: number of series with pairwise distinct (colour, marker, dash) combinations
STYLE_PERIOD = math.lcm(len(_COLOURS) * len(_MARKERS), len(_COLOURS) * len(_DASHES))


def series_style(i: int) -> dict[str, str]:
    """Colour, marker and line style of the ``i``-th series: the colour cycles every 10, the
    marker every 9 (coprime, so colour+marker repeat only after 90), the dash pattern changes
    every 10; the combination repeats after :data:`STYLE_PERIOD` (360) series."""
    return {
        "color": _COLOURS[i % len(_COLOURS)],
        "marker": _MARKERS[i % len(_MARKERS)],
        "linestyle": _DASHES[(i // len(_COLOURS)) % len(_DASHES)],
    }


def _all_integers(values: Sequence[Any]) -> bool:
    return bool(values) and all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values
    )


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
    join: bool | None = None,
) -> Path:
    """One series per distinct value of ``hue`` (a key or tuple of keys) of ``y`` against ``x``;
    writes ``path`` (PNG) and the same figure as SVG beside it.

    ``band=(low_key, high_key)`` shades a confidence interval; ``hlines`` draws labelled
    horizontal reference lines (in the legend, so their labels never overlap).

    - Every series gets its own colour + marker + dash combination (:func:`series_style`).
    - ``x`` values that are not numbers (strings, tuples: categorical cases) become ticks and the
      points are drawn as markers, not joined; ``join=False`` does the same for numeric ``x``
      (e.g. unrelated cases numbered 1..n), ``join=True`` forces lines.
    - An axis whose values are all integers (epochs, bits) gets integer ticks.
    - On a log ``y`` axis a point with ``y <= 0`` (no errors seen) is drawn as a downward arrow
      from the upper end of its band (an upper bound), or at the bottom edge without a band:
      never silently dropped. Missing values (``None``, NaN) are left out.
    """
    hue_keys = [hue] if isinstance(hue, str) else list(hue or [])
    groups: dict[tuple, list[Mapping[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(r.get(k) for k in hue_keys), []).append(r)
    xs_all = [r[x] for r in rows]
    categorical = not all(is_number(v) for v in xs_all)
    if join is None:
        join = not categorical
    cats = list(dict.fromkeys(_category(v) for v in xs_all)) if categorical else []
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    n_series = len(groups)
    fig, ax = plt.subplots(figsize=(8.0, 5.0))
    offsets = _dodge(n_series) if categorical or not join else [0.0] * n_series
    below_axis = False
    arrow_ends: list[float] = []  # lowest points of upper-bound arrows (the y range must hold them)
    for i, (key, grp) in enumerate(groups.items()):
        style = series_style(i)
        if not categorical:
            grp = sorted(grp, key=lambda r: r[x])
        xs = np.array(
            [cats.index(_category(r[x])) if categorical else float(r[x]) for r in grp], float
        )
        if categorical or not join:
            xs = xs + offsets[i] * (1.0 if categorical else _step(xs_all))
        ys = np.array([_float(r.get(y)) for r in grp])
        name = legend_label(hue_keys, key) if hue_keys else header(y)
        name = name or "(all)"
        shown = ys > 0 if logy else np.isfinite(ys)
        shown &= np.isfinite(ys)
        ax.plot(
            xs[shown],
            ys[shown],
            color=style["color"],
            marker=style["marker"],
            linestyle=style["linestyle"] if join else "none",
            ms=5,
            lw=1.4,
            label=name,
        )
        if band:
            lo = np.array([_float(r.get(band[0])) for r in grp])
            hi = np.array([_float(r.get(band[1])) for r in grp])
            if join:
                ok = np.isfinite(lo) & np.isfinite(hi) & ((lo > 0) if logy else True)
                ax.fill_between(xs[ok], lo[ok], hi[ok], color=style["color"], alpha=0.15, lw=0)
            else:
                ok = shown & np.isfinite(lo) & np.isfinite(hi)
                ax.errorbar(
                    xs[ok],
                    ys[ok],
                    yerr=[ys[ok] - lo[ok], hi[ok] - ys[ok]],
                    fmt="none",
                    ecolor=style["color"],
                    capsize=2,
                )
        if logy:  # no errors seen: an upper bound, not a vanished point
            zero = np.isfinite(ys) & (ys <= 0)
            for j in np.flatnonzero(zero):
                top = _float(grp[j].get(band[1])) if band else math.nan
                if math.isfinite(top) and top > 0:
                    ax.annotate(
                        "",
                        xy=(xs[j], top / 4),
                        xytext=(xs[j], top),
                        arrowprops={"arrowstyle": "-|>", "color": style["color"], "lw": 1.2},
                    )
                    ax.plot([xs[j]], [top], marker="_", ms=10, mew=2, color=style["color"])
                    arrow_ends.append(top / 4)
                else:
                    below_axis = True
                    ax.plot(
                        [xs[j]],
                        [0.0],
                        marker="v",
                        ms=7,
                        color=style["color"],
                        transform=ax.get_xaxis_transform(),
                        clip_on=False,
                    )
    for k, (name, value) in enumerate((hlines or {}).items()):
        ax.axhline(value, ls=_DASHES[1 + k % 3], color=str(0.25 + 0.15 * (k % 4)), lw=1, label=name)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
        if arrow_ends:
            low, high = ax.get_ylim()
            ax.set_ylim(min(low, min(arrow_ends) / 1.5), high)
    if categorical:
        turn = len(cats) > 6
        ax.set_xticks(
            range(len(cats)), cats, rotation=30 if turn else 0, ha="right" if turn else "center"
        )
    elif not logx and _all_integers(xs_all):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ys_all = [r.get(y) for r in rows]
    if not logy and _all_integers([v for v in ys_all if v is not None]):
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel or header(x))
    ax.set_ylabel(ylabel or header(y))
    ax.set_title(title)
    ax.grid(True, alpha=0.3, which="both")
    handles, labels = ax.get_legend_handles_labels()
    if below_axis:
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], marker="v", color="k", ls="none"))
        labels.append("zero (below the log axis)")
    if len(handles) > 8:  # many entries: legend right of the axes, figure widened
        ncol = math.ceil(len(handles) / 22)
        fig.set_size_inches(8.0 + 2.8 * ncol, 5.0 + 0.12 * min(len(handles), 22))
        ax.legend(
            handles, labels, fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), ncol=ncol
        )
    elif len(handles) > 1 or hue_keys or hlines:
        ax.legend(handles, labels, fontsize=9)
    return _save(fig, path)


def _category(v: Any) -> str:
    """Tick text of a categorical x value (a tuple reads as ``(2, 1, 1)``)."""
    if isinstance(v, tuple | list):
        return "(" + ", ".join(cell(e) for e in v) + ")"
    return cell(v)


def _dodge(n: int) -> list[float]:
    """Horizontal offsets (in category widths) that keep markers of n series apart."""
    if n <= 1:
        return [0.0] * n
    width = min(0.6, 0.12 * n)
    return [-width / 2 + width * i / (n - 1) for i in range(n)]


def _step(values: Sequence[Any]) -> float:
    """The smallest spacing between distinct numeric x values (1 when there is one)."""
    u = np.unique(np.asarray(values, float))
    return float(np.min(np.diff(u))) if len(u) > 1 else 1.0


def _float(v: Any) -> float:
    return math.nan if v is None else float(v)


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
    """Vertical bars with category labels (categorical cases: bars, never a joined line)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6.4, 0.45 * len(labels) + 2), 4.6))
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
    for target, fmt in ((path, "png"), (path.with_suffix(".svg"), "svg")):
        tmp = target.with_name(f".{target.name}.tmp")
        fig.savefig(tmp, dpi=150, format=fmt)
        tmp.replace(target)
    _pyplot().close(fig)
    return path
