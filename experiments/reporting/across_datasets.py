"""Conditions compared over many datasets (Demšar 2006): Friedman's test on average ranks, the
Nemenyi critical difference, and its diagram from five datasets up."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from embedlab.experiments.reporting.runs import CONDITION_ORDER, with_variant
from embedlab.experiments.reporting.tables import format_p

def across_datasets_markdown(runs: pd.DataFrame, metric: str = "accuracy", figures_dir: Path | None = None) -> str:
    """Demšar (2006)'s comparison over datasets, per variant, model and vector set: Wilcoxon
    signed-rank of the per-dataset mean gains over rand (Holm-adjusted), and for three or more
    conditions the Friedman test, Nemenyi's critical difference and a critical-difference diagram.
    The unit is the dataset (its mean over folds/seeds), not the fold. Empty below 2 datasets."""
    from embedlab.experiments.reporting.stats import compare_over_datasets, holm

    full = with_variant(runs[runs["train_size"] == 1.0])
    if full.empty or full["dataset"].nunique() < 2:
        return ""
    full = full.assign(vectors=full["vectors"].fillna("–"))
    parts = []
    for (variant, model, vectors), rows in full.groupby(["variant", "model", "vectors"], sort=True):
        scores = rows.pivot_table(index="dataset", columns="embedding", values=metric, aggfunc="mean")
        scores = scores[[c for c in CONDITION_ORDER if c in scores.columns]].dropna()
        if len(scores) < 2 or scores.shape[1] < 2:
            continue
        result = compare_over_datasets(scores)
        ranks = ", ".join(f"{c} {result.average_ranks[c]:.2f}" for c in result.conditions)
        label = f"{model}, {vectors}" + ("" if variant == "–" else f", {variant}")
        text = f"- **{label}**, {len(result.datasets)} datasets: average rank (1 = best) {ranks}."
        if result.conditions[0] == "rand" and result.wilcoxon_p:
            adjusted = holm(list(result.wilcoxon_p.values()))
            tests = "; ".join(f"{c} p = {format_p(p)} (Holm {format_p(a)})" for (c, p), a in zip(result.wilcoxon_p.items(), adjusted))
            text += f" Wilcoxon signed-rank of the per-dataset gains over rand: {tests}."
        if result.nemenyi_p is not None:
            text += (f" Friedman p = {format_p(result.friedman_p)}; Nemenyi critical difference {result.critical_difference:.2f} "
                     "ranks at 0.05.")
            # Below 5 datasets the critical difference spans (nearly) the whole rank range: a diagram
            # would only draw the test's lack of power.
            if figures_dir is not None and len(result.datasets) >= CD_DIAGRAM_MIN_DATASETS:
                path = _cd_diagram(result, figures_dir / f"cd_{variant}_{model}_{vectors}.png".replace("–", "none"), label)
                text += f"\n\n  ![critical difference diagram]({path.name})"
        parts.append(text)
    if not parts:
        return ""
    return ("Over datasets (Demšar 2006): each dataset counts once, by its mean over folds/seeds. With few "
            "datasets these tests have little power: a Wilcoxon p below 0.05 needs at least 6 datasets. "
            "In the diagrams (drawn from 5 datasets up), conditions joined by a bar are not significantly "
            "different (Nemenyi, 0.05).\n\n"
            + "\n".join(parts) + "\n")


CD_DIAGRAM_MIN_DATASETS = 5


def _cd_diagram(result, path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import scikit_posthocs

    fig, ax = plt.subplots(figsize=(7, 2.4))
    # The CD is in the title: the library's own CD bar is drawn over the rank axis' labels.
    scikit_posthocs.critical_difference_diagram(pd.Series(result.average_ranks), result.nemenyi_p, ax=ax)
    ax.set_title(f"{title}: average rank over {len(result.datasets)} datasets (CD {result.critical_difference:.2f})",
                 fontsize=9, pad=24)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
