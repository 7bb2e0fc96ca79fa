"""Comparison tables from a results store, in Qi et al. (2018)'s std / pre style."""

from __future__ import annotations

import pandas as pd

from embedlab.experiments.store import ResultsStore

CONDITION_ORDER = ["rand", "static", "non-static", "multichannel"]
CONDITION_TITLES = {"rand": "rand (std)", "static": "static (pre)", "non-static": "non-static (pre)",
                    "multichannel": "multichannel (pre)"}
GROUP_KEYS = ["dataset", "vectors", "model", "train_size"]


def finished_runs(outdir) -> pd.DataFrame:
    frame = ResultsStore(outdir).frame()
    return frame[frame["status"] == "finished"].copy()


def summarise(runs: pd.DataFrame, metric: str = "accuracy") -> pd.DataFrame:
    """Mean, std and count of a metric per group and embedding condition."""
    grouped = runs.groupby(GROUP_KEYS + ["embedding"], dropna=False)[metric]
    return grouped.agg(["mean", "std", "count"]).reset_index()


def _cell(mean: float, std: float, count: int, gain: float | None) -> str:
    spread = f" ± {std * 100:.1f}" if count > 1 and pd.notna(std) else ""
    text = f"{mean * 100:.1f}{spread}"
    if gain is not None:
        text += f" ({gain * 100:+.1f})"
    return text


def comparison_markdown(runs: pd.DataFrame, metric: str = "accuracy") -> str:
    """The comparison table: one row per model (and dataset / vectors / size where they vary),
    one column per embedding condition, mean ± std over seeds/folds in %, the gain over rand in
    brackets."""
    if runs.empty:
        return "_no finished runs_\n"
    summary = summarise(runs, metric)
    conditions = [c for c in CONDITION_ORDER if c in set(summary["embedding"])]
    varying = [k for k in GROUP_KEYS if k != "model" and runs[k].nunique(dropna=False) > 1]
    keys = varying + ["model"]
    header = [*keys, *(CONDITION_TITLES[c] for c in conditions), "runs"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for group, rows in summary.groupby(GROUP_KEYS, dropna=False, sort=True):
        by_condition = rows.set_index("embedding")
        base = by_condition["mean"].get("rand")
        cells = []
        for condition in conditions:
            if condition not in by_condition.index:
                cells.append("–")
                continue
            row = by_condition.loc[condition]
            gain = row["mean"] - base if condition != "rand" and base is not None else None
            cells.append(_cell(row["mean"], row["std"], int(row["count"]), gain))
        values = dict(zip(GROUP_KEYS, group))
        label = [f"{values[k]:g}" if k == "train_size" else str(values[k]) for k in keys]
        counts = "/".join(str(int(by_condition.loc[c, "count"])) for c in conditions if c in by_condition.index)
        lines.append("| " + " | ".join([*label, *cells, counts]) + " |")
    return "\n".join(lines) + "\n"


def paired_gains_markdown(runs: pd.DataFrame, metric: str = "accuracy") -> str:
    """Each pretrained condition's gain over rand on runs paired by seed and fold: mean, bootstrap
    95% CI, paired t-test and Wilcoxon p-values."""
    from embedlab.experiments.stats import paired_gain

    if runs.empty or "rand" not in set(runs["embedding"]):
        return ""
    frame = runs.assign(fold=runs["fold"].fillna(-1))
    lines = ["| " + " | ".join(["dataset", "vectors", "model", "train_size", "condition", "pairs",
                               "gain (pts)", "95% CI", "t-test p", "Wilcoxon p"]) + " |", "|---" * 10 + "|"]
    for group, rows in frame.groupby(GROUP_KEYS, dropna=False, sort=True):
        base = rows[rows["embedding"] == "rand"].set_index(["seed", "fold"])[metric]
        for condition in CONDITION_ORDER[1:]:
            treated = rows[rows["embedding"] == condition].set_index(["seed", "fold"])[metric]
            shared = base.index.intersection(treated.index)
            if len(shared) == 0:
                continue
            gain = paired_gain(treated.loc[shared].to_numpy(), base.loc[shared].to_numpy())
            values = dict(zip(GROUP_KEYS, group))
            lines.append(f"| {values['dataset']} | {values['vectors']} | {values['model']} | {values['train_size']:g} "
                         f"| {condition} | {gain.n} | {gain.mean * 100:+.2f} | [{gain.ci_low * 100:+.2f}, "
                         f"{gain.ci_high * 100:+.2f}] | {_p(gain.t_p)} | {_p(gain.wilcoxon_p)} |")
    return "\n".join(lines) + "\n" if len(lines) > 2 else ""


def _p(value: float) -> str:
    return "–" if pd.isna(value) else f"{value:.3g}"


def coverage_markdown(runs: pd.DataFrame) -> str:
    """Vector coverage of the training vocabulary per dataset and vectors (mean over runs)."""
    with_vectors = runs.dropna(subset=["coverage_hits"])
    if with_vectors.empty:
        return ""
    table = with_vectors.groupby(["dataset", "vectors"]).agg(
        vocab=("vocab_size", "mean"), hits=("coverage_hits", "mean"), misses=("coverage_misses", "mean"),
        types=("coverage_type_share", "mean"), tokens=("coverage_token_share", "mean")).reset_index()
    lines = ["| dataset | vectors | vocabulary | with vector | random init | type coverage | token coverage |",
             "|---|---|---|---|---|---|---|"]
    for row in table.itertuples():
        lines.append(f"| {row.dataset} | {row.vectors} | {row.vocab:,.0f} | {row.hits:,.0f} | {row.misses:,.0f} "
                     f"| {row.types * 100:.1f}% | {row.tokens * 100:.1f}% |")
    return "\n".join(lines) + "\n"


def report_markdown(outdir, metric: str = "accuracy") -> str:
    """The full Markdown report of an output directory."""
    runs = finished_runs(outdir)
    frame = ResultsStore(outdir).frame()
    failed = int((frame["status"] == "failed").sum()) if not frame.empty else 0
    title = ", ".join(sorted(runs["experiment"].unique())) if not runs.empty else str(outdir)
    parts = [f"## {title}: test {metric.replace('_', '-')} (%)\n",
             "mean ± std over seeds/folds; (gain) = mean minus the rand (std) mean, in points.\n",
             comparison_markdown(runs, metric)]
    gains = paired_gains_markdown(runs, metric)
    if gains:
        parts += ["\n### Gains over rand, paired by seed/fold\n",
                  "95% CI: percentile bootstrap of the mean paired difference; p-values two-sided. "
                  "The exact Wilcoxon test needs at least 6 pairs to reach p < 0.05.\n", gains]
    coverage = coverage_markdown(runs)
    if coverage:
        parts += ["\n### Pretrained-vector coverage of the training vocabulary\n", coverage]
    if not runs.empty:
        seeds = sorted(int(s) for s in runs["seed"].unique())
        folds = sorted(int(f) for f in runs["fold"].dropna().unique())
        parts.append(f"\n{len(runs)} finished runs; seeds {seeds}" + (f"; folds {folds}" if folds else "")
                     + f"; {runs['n_test'].iloc[0]} test examples per run; "
                     f"mean train time {runs['train_seconds'].mean():.1f} s/run.")
    if failed:
        parts.append(f"\n**{failed} run(s) failed**: see `embedlab status`/the `error` column of results.db.")
    return "\n".join(parts) + "\n"
