"""The report of a results folder: its sections in order, as Markdown, HTML, CSV and LaTeX."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from embedlab.experiments.config.experiment import UNTUNED
from embedlab.experiments.reporting.html import markdown_to_html
from embedlab.experiments.reporting.runs import finished_runs, other_settings_runs
from embedlab.experiments.reporting.sections import SECTIONS, ReportContext
from embedlab.experiments.reporting.tables import summarise
from embedlab.experiments.running.store import ResultsStore

def report_sections(outdir, metric: str = "accuracy", figures_dir: Path | None = None) -> list[tuple[str, str]]:
    """The report as (title, markdown body) sections, from the units of
    :mod:`embedlab.experiments.reporting.sections` in their order; figures are written to ``figures_dir``."""
    outdir = Path(outdir)
    store = ResultsStore(outdir)
    frame, grid = store.frame(), store.grid()
    other_settings = other_settings_runs(frame, grid)
    if grid is not None:
        frame = frame[frame["run_id"].isin(set(grid["run_id"]))]
    failed = int((frame["status"] == "failed").sum()) if not frame.empty else 0
    runs, tuning = finished_runs(outdir), None
    search = _tuning_search(outdir)
    if search is not None:  # the untuned variant is the grid every other section reads; the trials have theirs
        tuning = (*search, runs)
        runs = runs[runs["variant"] == UNTUNED].assign(variant="–")
    context = ReportContext(runs, metric, outdir, figures_dir, failed, other_settings, tuning)
    sections = (unit(context) for unit in SECTIONS)
    return [(section.title, section.markdown) for section in sections if section is not None]


def _tuning_search(outdir: Path):
    """``(tune section, variants)`` of a folder a tuning search wrote, else None."""
    snapshot = outdir / "experiment.yaml"
    if not snapshot.exists():
        return None
    import yaml

    from embedlab.experiments.config.tuning import TuneConfig

    # Only the two sections it needs: the whole snapshot may not validate any more (a user dataset's
    # CSV moved), and the report must still work from the database.
    raw = yaml.safe_load(snapshot.read_text(encoding="utf-8")) or {}
    if not raw.get("tune"):
        return None
    return TuneConfig.model_validate(raw["tune"]), raw.get("variants") or {}


def report_markdown(outdir, metric: str = "accuracy", figures_dir: Path | None = None) -> str:
    """The full Markdown report of an output directory."""
    runs = finished_runs(outdir)
    title = ", ".join(sorted(runs["experiment"].unique())) if not runs.empty else str(outdir)
    body = "\n".join(f"### {name}\n\n{text}" for name, text in report_sections(outdir, metric, figures_dir))
    return f"## {title}\n\n{body}\n"


def write_report(outdir, metric: str = "accuracy") -> Path:
    """Writes OUTDIR/report/: report.md, report.html (self-contained), the summary as CSV and LaTeX,
    and the figures as PNG. Returns the folder."""
    outdir = Path(outdir)
    folder = outdir / "report"
    folder.mkdir(exist_ok=True)
    markdown = report_markdown(outdir, metric, figures_dir=folder)
    (folder / "report.md").write_text(markdown, encoding="utf-8")
    (folder / "report.html").write_text(markdown_to_html(markdown, folder), encoding="utf-8")
    summary = summarise(finished_runs(outdir), metric)
    summary.to_csv(folder / "summary.csv", index=False)
    (folder / "summary.tex").write_text(latex_table(summary), encoding="utf-8")
    return folder


def latex_table(frame: pd.DataFrame) -> str:
    """A booktabs tabular of a DataFrame (pandas' to_latex needs jinja2; this needs nothing)."""
    def cell(value) -> str:
        text = f"{value:.4f}" if isinstance(value, float) else str(value)
        return text.replace("_", r"\_").replace("%", r"\%").replace("&", r"\&")

    lines = [r"\begin{tabular}{" + "l" * len(frame.columns) + "}", r"\toprule",
             " & ".join(cell(c) for c in frame.columns) + r" \\", r"\midrule"]
    lines += [" & ".join(cell(v) for v in row) + r" \\" for row in frame.itertuples(index=False)]
    return "\n".join([*lines, r"\bottomrule", r"\end{tabular}"]) + "\n"
