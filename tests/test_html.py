"""The HTML page of a report: tables rendered, figures embedded, raw HTML escaped."""

from embedlab.experiments.reporting.html import markdown_to_html


def test_tables_figures_and_escaping(tmp_path):
    (tmp_path / "curve.png").write_bytes(b"\x89PNG fake")
    page = markdown_to_html("### Gains\n\n| a | b |\n|---|---|\n| 1 | *2* |\n\n![curve](curve.png)\n\n"
                            "<script>alert(1)</script> and `x < y`\n", tmp_path, title="t <1>")
    assert page.startswith("<!doctype html>") and "<title>t &lt;1&gt;</title>" in page
    assert "<h3>Gains</h3>" in page and "<td><em>2</em></td>" in page
    assert 'src="data:image/png;base64,iVBORyBmYWtl"' in page  # the figure travels inside the page
    assert "<script>" not in page and "&lt;script&gt;" in page and "<code>x &lt; y</code>" in page


def test_a_missing_figure_stays_a_link(tmp_path):
    assert '<img src="gone.png" alt="x"' in markdown_to_html("![x](gone.png)\n", tmp_path)
