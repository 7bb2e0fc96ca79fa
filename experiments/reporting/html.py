"""The Markdown report as one self-contained HTML page: rendered by markdown-it-py (CommonMark with
pipe tables), the figures embedded as base64 so the page travels alone."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from markdown_it import MarkdownIt

_STYLE = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f3f3}img{max-width:100%}em{color:#555}code{background:#f3f3f3;padding:0 3px}"""


def markdown_to_html(markdown: str, base: Path, title: str = "embedlab report") -> str:
    """A whole HTML page of ``markdown``; an image whose path is a file under ``base`` is embedded.

    Raw HTML in the Markdown is escaped, not passed through (text in a report comes from the runs'
    settings, e.g. a dataset file's name)."""
    renderer = MarkdownIt("commonmark", {"html": False}).enable("table")

    def embedded_image(self, tokens, idx, options, env):
        token = tokens[idx]
        path = base / str(token.attrGet("src"))
        if path.is_file():
            token.attrSet("src", "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode())
        return self.image(tokens, idx, options, env)

    renderer.add_render_rule("image", embedded_image)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body>\n" + renderer.render(markdown) + "</body></html>\n")
