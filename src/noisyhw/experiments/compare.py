"""``noisyhw compare``: the common curves of finished runs overlaid, and their config diff."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..sweep import Run, line_plot
from ..sweep.labels import header
from ..sweep.runs import LoadedRun, check_comparable, config_diff, curve_rows

__all__ = ["compare_runs"]


def compare_runs(runs: Sequence[LoadedRun], run: Run) -> list[dict[str, Any]]:
    """Fill ``run``'s report: one overlay plot per common curve (one series per run and text
    value, e.g. decoder) and the table of settings that differ; returns that table's rows."""
    curves = check_comparable(runs)
    names = ", ".join(r.name for r in runs)
    intro = run.section(f"Runs compared: noisyhw {runs[0].command}")
    intro.text(f"{len(runs)} runs: {names}.")
    diff = config_diff(runs)
    if diff:
        intro.table(diff, title="settings that differ")
    else:
        intro.text("The runs have the same settings and seed.")
    sec = run.section("Common curves")
    for c in curves:
        rows = curve_rows(runs, c)
        text_keys = [k for k in dict.fromkeys(k for r in rows for k in r) if k not in (c.x, c.y)]
        varying = [k for k in text_keys if len({str(r.get(k)) for r in rows}) > 1]
        hue = ["run"] + [k for k in varying if k not in ("run", "ci_low", "ci_high")]
        band = ("ci_low", "ci_high") if all("ci_low" in r for r in rows) else None
        png = line_plot(
            rows,
            c.x,
            c.y,
            run.plot_path(f"compare_{c.y}_vs_{c.x}.png"),
            hue=hue,
            logx=c.logx,
            logy=c.logy,
            band=band,
            title=f"{header(c.y)} vs {header(c.x)}",
        )
        sec.image(png, f"{header(c.y)} vs {header(c.x)}, one series per run")
    return diff
