"""Assembles docs/RESULTS.md from the reports of finished output directories.

    .venv/bin/python bench/results_doc.py results/what_embeddings_learn results/qi2018_learning_curve ...
    .venv/bin/python bench/results_doc.py docs/claims.yaml      # the evaluated claims' table
    .venv/bin/python bench/results_doc.py provenance            # commits of every archive, from its DB

A claims file (``*.yaml``) is evaluated (:mod:`embedlab.experiments.reporting.hypotheses`) and its table placed
between ``<!-- BEGIN claims -->`` / ``<!-- END claims -->``.

Each directory's report is regenerated (`embedlab report`), its figures are copied to
docs/figures/<name>/, and the Markdown is placed under a heading between the markers
``<!-- BEGIN report NAME -->`` / ``<!-- END report NAME -->`` of docs/RESULTS.md, so the hand-written
summary around them survives regeneration.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

from embedlab.experiments.reporting.hypotheses import claims_markdown, evaluate
from embedlab.experiments.reporting.report import write_report

REPO = Path(__file__).resolve().parents[1]


def main(outdirs: list[str]) -> None:
    doc = REPO / "docs" / "RESULTS.md"
    text = doc.read_text() if doc.exists() else "# Results\n"
    for outdir in map(Path, outdirs):
        if str(outdir) == "provenance":
            text = _place(text, "provenance", provenance_markdown(sorted((REPO / "docs" / "results").iterdir())))
            continue
        if outdir.suffix == ".yaml":
            text = _place(text, "claims", claims_markdown(evaluate(outdir)))
            print(f"{outdir}: evaluated claims placed in {doc}", file=sys.stderr)
            continue
        name = outdir.name
        folder = write_report(outdir)
        figures = REPO / "docs" / "figures" / name
        figures.mkdir(parents=True, exist_ok=True)
        for png in folder.glob("*.png"):
            shutil.copy(png, figures / png.name)
        markdown = (folder / "report.md").read_text()
        markdown = re.sub(r"!\[(.*?)\]\((.+?\.png)\)", rf"![\1](figures/{name}/\2)", markdown)
        markdown = re.sub(r"^(#+) ", r"#\1 ", markdown, flags=re.M)  # one level below the document's
        text = _place(text, f"report {name}", markdown)
        print(f"{name}: report placed in {doc}", file=sys.stderr)
    doc.write_text(text)


def provenance_markdown(archives: list[Path]) -> str:
    """Where each archived result came from, read from its results.db (never typed): finished runs
    per commit with the dirty flag (a dirty run was trained with uncommitted changes), and dates."""
    from embedlab.experiments.running.store import ResultsStore

    lines = ["| archive | finished runs | commits (runs; dirty = uncommitted changes in the checkout) | trained |",
             "|---|---|---|---|"]
    for folder in archives:
        if not (folder / "results.db").exists():
            continue
        runs = ResultsStore(folder).frame()
        runs = runs[runs["status"] == "finished"]
        by_commit = runs.groupby([runs["git_commit"].fillna("?").str[:7], runs["git_dirty"].fillna(0).astype(int)])
        commits = "; ".join(f"{commit} ×{len(rows)}{', dirty' if dirty else ''}"
                            for (commit, dirty), rows in sorted(by_commit, key=lambda kv: kv[1]["started_at"].min()))
        dates = f"{runs['started_at'].min()[:10]} – {runs['finished_at'].max()[:10]}" if len(runs) else "–"
        lines.append(f"| `docs/results/{folder.name}` | {len(runs)} | {commits} | {dates} |")
    return ("Generated from each archive's results.db by `bench/results_doc.py provenance` (a run copied "
            "with `--reuse` keeps the commit it was trained at).\n\n" + "\n".join(lines) + "\n")


def _place(text: str, marker: str, markdown: str) -> str:
    """Puts ``markdown`` between the BEGIN/END markers named ``marker`` (appended if absent)."""
    block = f"<!-- BEGIN {marker} -->\n{markdown}<!-- END {marker} -->"
    pattern = re.compile(rf"<!-- BEGIN {re.escape(marker)} -->.*?<!-- END {re.escape(marker)} -->", re.S)
    return pattern.sub(lambda _: block, text) if pattern.search(text) else f"{text}\n{block}\n"


if __name__ == "__main__":
    main(sys.argv[1:])
