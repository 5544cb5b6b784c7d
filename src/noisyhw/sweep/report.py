"""Self-contained HTML reports that answer "did it work?" first.

Page order: title and command; a table of contents; sections that failed or were skipped, with
the reason; the summary table (one row per claim a section measured: the paper's claim, what
was measured here with its 95% interval, the setting that differs, the verdict, see
:mod:`noisyhw.claims`); then the sections, failed ones first. Tables longer than
:data:`FOLD_ROWS` rows fold into ``<details>``; cells, headers and captions are written by
:mod:`noisyhw.sweep.labels` (no Python reprs); every plot links its SVG when one is beside it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..labels import cell, header

if TYPE_CHECKING:
    from ..claims import Finding

__all__ = ["FOLD_ROWS", "Report", "Section", "format_value"]

#: tables with more rows than this fold into <details> (the first screen stays readable)
FOLD_ROWS = 12

#: one formatter for every table cell (kept under its old name for callers)
format_value = cell

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,sans-serif;max-width:1320px;margin:1.5em auto;padding:0 1em;color:#222;
line-height:1.4}
h1{border-bottom:2px solid #444;margin:.2em 0;font-size:1.7em}
h2{margin-top:1.6em;border-bottom:1px solid #ccc;font-size:1.3em}
.scroll{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;margin:.6em 0;font-size:90%}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right;vertical-align:top}
th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}
table.summary td,table.summary th{text-align:left}
table.summary{font-size:78%;line-height:1.25;width:100%;table-layout:fixed}
table.summary td{overflow-wrap:anywhere}
figure{display:inline-block;vertical-align:top;margin:.5em;width:calc(50% - 1.2em);
min-width:320px}figcaption{font-size:90%;color:#555}
img{width:100%;height:auto;border:1px solid #eee}
pre{background:#f6f6f6;padding:.6em;white-space:pre-wrap;overflow-wrap:anywhere}
p{overflow-wrap:anywhere}
.meta{color:#555;font-size:90%}
nav{font-size:85%}nav ol{margin:.2em 0;padding:0;list-style:none;display:flex;flex-wrap:wrap;
gap:.1em 1.2em}
.verdict-reproduced{background:#e3f4e3}.verdict-not-reproduced{background:#fbe3e3}
.verdict-not-comparable{background:#f3f0e0}.verdict-failed,.verdict-skipped{background:#fbe3e3}
.problems{border:2px solid #c33;padding:.4em 1em;margin:1em 0}
details{margin:.6em 0}summary{cursor:pointer;color:#245}
"""


@dataclass
class Section:
    """One titled part of a report; blocks render in the order they were added.

    ``status`` is ``ok``, ``failed`` or ``skipped`` (:meth:`fail`, :meth:`skip`, with a reason);
    ``findings`` are what the section measured for the registered claims (:meth:`finding`).
    """

    title: str
    blocks: list[tuple[str, Any]] = field(default_factory=list)
    status: str = "ok"
    reason: str = ""
    findings: list[Finding] = field(default_factory=list)

    def text(self, paragraph: str) -> Section:
        self.blocks.append(("text", paragraph))
        return self

    def code(self, text: str) -> Section:
        self.blocks.append(("code", text))
        return self

    def table(
        self,
        rows: Sequence[Mapping[str, Any]],
        columns: Sequence[str] | None = None,
        title: str = "",
    ) -> Section:
        self.blocks.append(("table", (list(rows), list(columns) if columns else None, title)))
        return self

    def image(self, path: str | Path, caption: str = "") -> Section:
        self.blocks.append(("image", (Path(path), caption)))
        return self

    def finding(self, finding: Finding) -> Section:
        """Record what this section measured for a claim (a row of the summary table)."""
        self.findings.append(finding)
        return self

    def fail(self, reason: str) -> Section:
        self.status, self.reason = "failed", reason
        return self

    def skip(self, reason: str) -> Section:
        self.status, self.reason = "skipped", reason
        return self

    @property
    def anchor(self) -> str:
        return "s-" + (re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-") or "section")


@dataclass
class Report:
    """An HTML report. Image paths are written relative to the report's folder."""

    title: str
    meta: dict[str, Any] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)

    def section(self, title: str) -> Section:
        sec = Section(title)
        self.sections.append(sec)
        return sec

    def ordered(self) -> list[Section]:
        """Sections as the page shows them: failed and skipped first, then the others."""
        return [s for s in self.sections if s.status != "ok"] + [
            s for s in self.sections if s.status == "ok"
        ]

    def summary_rows(self) -> list[dict[str, str]]:
        """The summary table: one row per finding, one per section without any (failed,
        skipped, or no registered claim); failed and skipped sections first. Empty when no
        section measured a claim or failed."""
        if not any(s.findings or s.status != "ok" for s in self.sections):
            return []  # nothing to judge: no summary table
        failed, judged, plain = [], [], []
        for sec in self.ordered():
            if sec.status != "ok":
                failed.append(_row(sec, "–", "–", "–", "–", sec.status, sec.reason))
            elif not sec.findings:
                plain.append(_row(sec, "–", "no registered claim", "–", "–", "–", ""))
            for f in sec.findings if sec.status == "ok" else []:
                c = f.claim
                paper = f"arXiv {c.arxiv}, {c.where}" if c.arxiv else c.where
                judged.append(
                    _row(
                        sec,
                        paper,
                        f"{c.source}: {c.statement}",
                        f.measured_text(),
                        f.setting or "–",
                        f.verdict,
                        f.note,
                    )
                )
        rows = failed + judged + plain  # sections without a claim last
        return rows

    def render(self, folder: Path) -> str:
        e = html.escape
        out = [
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
            "<meta name='viewport' content='width=device-width, initial-scale=1'>",
            f"<title>{e(self.title)}</title><style>{_CSS}</style></head><body>",
            f"<h1>{e(self.title)}</h1>",
        ]
        command = self.meta.get("command")
        if command:
            out.append(f"<p class='meta'>Reproduce: <code>{e(str(command))}</code></p>")
        ordered = self.ordered()
        summary = self.summary_rows()
        toc = []
        if summary:
            toc.append("<li><a href='#summary'>Summary: did it work?</a></li>")
        toc += [
            f"<li><a href='#{sec.anchor}'>{e(sec.title)}"
            + (f" ({e(sec.status)})" if sec.status != "ok" else "")
            + "</a></li>"
            for sec in ordered
        ]
        if self.meta:
            toc.append("<li><a href='#run'>Run details</a></li>")
        if len(toc) > 1:
            out.append(f"<nav><strong>Contents</strong><ol>{''.join(toc)}</ol></nav>")
        problems = [s for s in ordered if s.status != "ok"]
        if problems:
            items = "".join(
                f"<li><a href='#{s.anchor}'>{e(s.title)}</a>: {e(s.status)}"
                + (f": {e(s.reason)}" if s.reason else "")
                + "</li>"
                for s in problems
            )
            out.append(
                f"<div class='problems'><strong>{len(problems)} section(s) failed or were "
                f"skipped</strong><ul>{items}</ul></div>"
            )
        if summary:
            out.append("<h2 id='summary'>Summary: did it work?</h2>")
            out.append(_summary_table(summary))
        for sec in ordered:
            out.append(f"<h2 id='{sec.anchor}'>{e(sec.title)}</h2>")
            if sec.status != "ok":
                out.append(f"<p><strong>{e(sec.status)}</strong>: {e(sec.reason)}</p>")
            for kind, payload in sec.blocks:
                out.append(_render_block(kind, payload, folder))
        if self.meta:
            out.append("<h2 id='run'>Run details</h2><div class='scroll'><table class='meta'>")
            for k, v in self.meta.items():
                out.append(f"<tr><th>{e(str(k))}</th><td>{e(cell(v))}</td></tr>")
            out.append("</table></div>")
        out.append("</body></html>")
        return "\n".join(out)

    def write(self, path: str | Path) -> Path:
        """Write the page (atomically); then log the run folder to the active tracker, if any
        (:func:`noisyhw.sweep.track.tracking`)."""
        from ..io import atomic_write
        from .track import log_finished

        path = Path(path)
        data = self.render(path.parent).encode()
        written = atomic_write(path, lambda fh: fh.write(data))
        log_finished(written)  # a run finished inside a `tracking(...)` block is logged
        return written


_SUMMARY_COLUMNS = (
    "section",
    "paper (where)",
    "claim",
    "measured here (95% interval)",
    "setting that differs",
    "verdict",
)


#: column widths of the summary table (%), so that a row stays two or three lines high
_SUMMARY_COLS = (
    "<colgroup>"
    + "".join(f"<col style='width:{w}%'>" for w in (14, 11, 31, 13, 18, 13))
    + "</colgroup>"
)


def _row(
    sec: Section, paper: str, claim: str, measured: str, setting: str, verdict: str, note: str
) -> dict[str, str]:
    values = (sec.title, paper, claim, measured, setting, verdict)
    return {"anchor": sec.anchor, **dict(zip(_SUMMARY_COLUMNS, values, strict=True)), "note": note}


def _summary_table(rows: list[dict[str, str]]) -> str:
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in _SUMMARY_COLUMNS)
    body = []
    for r in rows:
        verdict = r["verdict"]
        css = "verdict-" + verdict.replace(" ", "-")
        note = f"<br><small>{e(r['note'])}</small>" if r["note"] else ""
        cells = "".join(f"<td>{e(r[c])}</td>" for c in _SUMMARY_COLUMNS[1:-1])
        body.append(
            f"<tr><td><a href='#{r['anchor']}'>{e(r['section'])}</a></td>{cells}"
            f"<td class='{css}'><strong>{e(verdict)}</strong>{note}</td></tr>"
        )
    return (
        f"<div class='scroll'><table class='summary'>{_SUMMARY_COLS}<tr>{head}</tr>"
        f"{''.join(body)}</table></div>"
    )


def _render_block(kind: str, payload: Any, folder: Path) -> str:
    e = html.escape
    if kind == "text":
        return f"<p>{e(payload)}</p>"
    if kind == "code":
        return f"<pre>{e(payload)}</pre>"
    if kind == "image":
        path, caption = payload
        rel = _relative(path, folder)
        svg = path.with_suffix(".svg")
        link = f" <a href='{e(str(_relative(svg, folder)))}'>SVG</a>" if svg.is_file() else ""
        return (
            f"<figure><a href='{e(str(rel))}'><img src='{e(str(rel))}' alt='{e(caption)}'></a>"
            f"<figcaption>{e(caption)}{link}</figcaption></figure>"
        )
    rows, columns, title = payload
    if not rows:
        return "<p><em>(no rows)</em></p>"
    columns = columns or list(dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th>{e(header(c))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{e(cell(r.get(c)))}</td>" for c in columns) + "</tr>" for r in rows
    )
    cap = f"<caption>{e(title)}</caption>" if title else ""
    table = f"<div class='scroll'><table>{cap}<tr>{head}</tr>{body}</table></div>"
    if len(rows) > FOLD_ROWS:
        name = e(title) if title else "table"
        return (
            f"<details><summary>{name}: {len(rows)} rows (click to show)</summary>{table}</details>"
        )
    return table


def _relative(path: Path, folder: Path) -> Path:
    try:
        return path.resolve().relative_to(folder.resolve())
    except ValueError:
        return path
