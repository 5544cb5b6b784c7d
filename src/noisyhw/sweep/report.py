"""Self-contained HTML reports: headings, text, tables and the run's PNG plots."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Report", "Section", "format_value"]

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
h1{border-bottom:2px solid #444}h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:1em 0;font-size:90%}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f0f0f0}
td:first-child,th:first-child{text-align:left}
figure{display:inline-block;margin:1em}figcaption{font-size:90%;color:#555}
img{max-width:100%;border:1px solid #eee}
pre{background:#f6f6f6;padding:.6em;overflow-x:auto}
.meta{color:#666;font-size:90%}
"""


def format_value(v: Any) -> str:
    """Short human form of a table cell."""
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            return str(v)
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e5):
            return f"{v:.3e}"
        return f"{v:.4g}"
    return str(v)


@dataclass
class Section:
    """One titled part of a report; blocks render in the order they were added."""

    title: str
    blocks: list[tuple[str, Any]] = field(default_factory=list)

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

    def render(self, folder: Path) -> str:
        e = html.escape
        out = [
            "<!doctype html><html><head><meta charset='utf-8'>",
            f"<title>{e(self.title)}</title><style>{_CSS}</style></head><body>",
            f"<h1>{e(self.title)}</h1>",
        ]
        if self.meta:
            out.append("<table class='meta'>")
            for k, v in self.meta.items():
                out.append(f"<tr><th>{e(str(k))}</th><td>{e(format_value(v))}</td></tr>")
            out.append("</table>")
        for sec in self.sections:
            out.append(f"<h2>{e(sec.title)}</h2>")
            for kind, payload in sec.blocks:
                out.append(_render_block(kind, payload, folder))
        out.append("</body></html>")
        return "\n".join(out)

    def write(self, path: str | Path) -> Path:
        from ..io import atomic_write

        path = Path(path)
        data = self.render(path.parent).encode()
        return atomic_write(path, lambda fh: fh.write(data))


def _render_block(kind: str, payload: Any, folder: Path) -> str:
    e = html.escape
    if kind == "text":
        return f"<p>{e(payload)}</p>"
    if kind == "code":
        return f"<pre>{e(payload)}</pre>"
    if kind == "image":
        path, caption = payload
        try:
            rel = path.resolve().relative_to(folder.resolve())
        except ValueError:
            rel = path
        return (
            f"<figure><img src='{e(str(rel))}' alt='{e(caption)}'>"
            f"<figcaption>{e(caption)}</figcaption></figure>"
        )
    rows, columns, title = payload
    if not rows:
        return "<p><em>(no rows)</em></p>"
    columns = columns or list(dict.fromkeys(k for r in rows for k in r))
    head = "".join(f"<th>{e(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{e(format_value(r.get(c, '')))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    cap = f"<caption>{e(title)}</caption>" if title else ""
    return f"<table>{cap}<tr>{head}</tr>{body}</table>"
