"""A small Markdown → self-contained HTML converter for embedlab's own reports (headings,
paragraphs, bullet lists, pipe tables, images embedded as base64, *captions*)."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

_STYLE = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f3f3}img{max-width:100%}em{color:#555}code{background:#f3f3f3;padding:0 3px}"""


def _inline(text: str) -> str:
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"`(.+?)`", r"<code>\1</code>", text)
    return re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", text)


def markdown_to_html(markdown: str, base: Path, title: str = "embedlab report") -> str:
    out, table, items = [], [], []

    def flush() -> None:
        if table:
            rows = [r for r in table if not re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", r.replace("---", "-"))]
            cells = [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows]
            out.append("<table><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in cells[0]) + "</tr>" + "".join(
                "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in cells[1:]) + "</table>")
            table.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for line in markdown.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        if line.startswith("- "):
            items.append(line[2:])
            continue
        flush()
        image = re.fullmatch(r"!\[(.*?)\]\((.+?)\)", line.strip())
        heading = re.match(r"(#{1,6}) (.*)", line)
        if image:
            data = base64.b64encode((base / image.group(2)).read_bytes()).decode()
            out.append(f'<img alt="{html.escape(image.group(1))}" src="data:image/png;base64,{data}">')
        elif heading:
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif line.strip():
            out.append(f"<p>{_inline(line)}</p>")
    flush()
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body>" + "\n".join(out) + "</body></html>\n")
