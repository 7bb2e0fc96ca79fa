"""Comparison tables from a results store, in Qi et al. (2018)'s std / pre style: per-condition
means, paired gains with their intervals, per-dataset and per-model tables, coverage and row norms."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from embedlab.experiments.reporting.published import KIM_2014_TABLE2, KIM_COLUMN
from embedlab.experiments.reporting.runs import CONDITION_ORDER, CONDITION_TITLES, GROUP_KEYS, with_variant

def summarise(runs: pd.DataFrame, metric: str = "accuracy") -> pd.DataFrame:
    """Mean, std and count of a metric per group and embedding condition."""
    runs = with_variant(runs)
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
    runs = with_variant(runs)
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
        label = [f"{values[k]:g}" if k == "train_size" else "–" if pd.isna(values[k]) else str(values[k]) for k in keys]
        counts = "/".join(str(int(by_condition.loc[c, "count"])) for c in conditions if c in by_condition.index)
        lines.append("| " + " | ".join([*label, *cells, counts]) + " |")
    return "\n".join(lines) + "\n"


def paired_gains(runs: pd.DataFrame, metric: str = "accuracy", outdir: Path | None = None) -> pd.DataFrame:
    """Each pretrained condition's gain over rand per group, on runs paired by seed and fold.

    The test follows the design (:mod:`embedlab.experiments.reporting.design`, the one place that
    decides it): runs paired by CV fold (and seed) get the corrected resampled t; runs paired by
    seed on one split get the seeds × sentences test from their predictions in ``outdir`` (without
    it, or for macro-F1, a paired t over seeds, named as such). Holm's adjustment is over all rows of
    the table. Columns: group keys, condition, pairs, gain, ci_low, ci_high, test, p, holm_p,
    wilcoxon_p, effect (the mean difference over its standard deviation, Cohen's d_z), detectable.
    """
    import numpy as np

    from embedlab.experiments.reporting.design import paired_difference
    from embedlab.experiments.reporting.stats import holm, wilcoxon_p

    if runs.empty or "rand" not in set(runs["embedding"]):
        return pd.DataFrame()
    runs_dir = Path(outdir) / "runs" if outdir is not None else None
    frame = with_variant(runs).assign(fold=runs["fold"].fillna(-1))
    rows = []
    for group, part in frame.groupby(GROUP_KEYS, dropna=False, sort=True):
        base = part[part["embedding"] == "rand"].drop_duplicates(["seed", "fold"]).set_index(["seed", "fold"])
        for condition in CONDITION_ORDER[1:]:
            treated = part[part["embedding"] == condition].drop_duplicates(["seed", "fold"]).set_index(["seed", "fold"])
            shared = base.index.intersection(treated.index)
            if len(shared) == 0:
                continue
            a, b = treated.loc[shared].reset_index(), base.loc[shared].reset_index()
            diffs = a[metric].to_numpy(float) - b[metric].to_numpy(float)
            test = paired_difference(a, b, metric, runs_dir)
            spread = diffs.std(ddof=1) if len(diffs) > 1 else np.nan
            rows.append({**dict(zip(GROUP_KEYS, group)), "condition": condition, "pairs": len(diffs),
                         "gain": test.mean, "ci_low": test.low, "ci_high": test.high, "test": test.name, "p": test.p,
                         "wilcoxon_p": wilcoxon_p(diffs),
                         "effect": diffs.mean() / spread if len(diffs) > 1 and spread > 0 else np.nan,
                         "detectable": detectable_gain(test.se ** 2, len(diffs))})
    gains = pd.DataFrame(rows)
    if not gains.empty:
        gains["holm_p"] = holm(gains["p"].to_numpy())
    return gains


def detectable_gain(variance_of_mean: float, n: int, power: float = 0.8) -> float:
    """The smallest mean gain the two-sided 0.05 t-test would detect with this power, given the
    observed spread (standard approximation ``(t_0.975 + t_power) * SE`` with n - 1 degrees of
    freedom): a power note for tables built on few pairs."""
    import numpy as np
    from scipy import stats

    if n < 2 or not np.isfinite(variance_of_mean):
        return float("nan")
    return float((stats.t.ppf(0.975, n - 1) + stats.t.ppf(power, n - 1)) * np.sqrt(variance_of_mean))


def paired_gains_markdown(runs: pd.DataFrame, metric: str = "accuracy", outdir: Path | None = None) -> str:
    """The paired gains (see :func:`paired_gains`) as a Markdown table, in points."""
    gains = paired_gains(runs, metric, outdir)
    if gains.empty:
        return ""
    lines = ["| " + " | ".join(["variant", "dataset", "vectors", "model", "train_size", "condition", "pairs",
                               "gain (pts)", "95% CI", "effect d_z", "test", "p", "Holm p", "Wilcoxon p",
                               "detectable (pts)"])
             + " |", "|---" * 15 + "|"]
    for row in gains.itertuples():
        survives = "**" if pd.notna(row.holm_p) and row.holm_p < 0.05 else ""
        lines.append(f"| {row.variant} | {row.dataset} | {row.vectors} | {row.model} | {row.train_size:g} | {row.condition} "
                     f"| {row.pairs} | {survives}{row.gain * 100:+.2f}{survives} | {format_ci(row.ci_low, row.ci_high)} "
                     f"| {'–' if pd.isna(row.effect) else f'{row.effect:+.2f}'} | {row.test} "
                     f"| {format_p(row.p)} | {format_p(row.holm_p)} | {format_p(row.wilcoxon_p)} "
                     f"| {'–' if pd.isna(row.detectable) else f'{row.detectable * 100:.2f}'} |")
    return "\n".join(lines) + "\n"


def encoder_gains(runs: pd.DataFrame, metric: str = "accuracy", outdir: Path | None = None) -> pd.DataFrame:
    """Gains of models without word vectors (a sentence encoder: no rand of its own) over every
    other model's rand runs on the same data, paired by fold and seed like :func:`paired_gains`
    (whose statistics it reuses): one row per encoder condition and rand baseline, the baseline
    named in ``vectors`` (rand takes that set's width)."""
    from embedlab.models.registry import families

    own = {name for name, family in families().items() if not family.uses_word_vectors}
    runs = with_variant(runs)
    encoders = runs[runs["model"].isin(own)]
    rands = runs[(runs["embedding"] == "rand") & ~runs["model"].isin(own)]
    if encoders.empty or rands.empty:
        return pd.DataFrame()
    # rand runs of two vector sets of one width are the same training (rand reads no vector): one
    # baseline, named after both, so Holm does not count it twice
    baselines: dict[tuple, tuple[str, list[str], pd.DataFrame]] = {}
    for (model, vectors), base in rands.groupby(["model", "vectors"], dropna=False):
        key = (model, tuple(base.sort_values(["dataset", "train_size", "seed", "fold"])[metric].round(6)))
        named = [vectors] if isinstance(vectors, str) else []
        if key in baselines:
            baselines[key][1].extend(named)
        else:
            baselines[key] = (model, named, base)
    frames = []
    for model, names, base in baselines.values():
        against = f"{model} rand" + (f" ({' / '.join(names)} width)" if names else "")
        for encoder, treated in encoders.groupby("model"):
            frames.append(pd.concat([base.assign(model=encoder), treated]).assign(variant="–", vectors=against))
    return paired_gains(pd.concat(frames, ignore_index=True), metric, outdir)


def encoder_gains_markdown(runs: pd.DataFrame, metric: str = "accuracy", outdir: Path | None = None) -> str:
    gains = encoder_gains(runs, metric, outdir)
    if gains.empty:
        return ""
    lines = ["| model | condition | against | dataset | train_size | pairs | gain (pts) | 95% CI | test | p | Holm p |",
             "|---" * 11 + "|"]
    for row in gains.itertuples():
        survives = "**" if pd.notna(row.holm_p) and row.holm_p < 0.05 else ""
        lines.append(f"| {row.model} | {row.condition} | {row.vectors} | {row.dataset} | {row.train_size:g} "
                     f"| {row.pairs} | {survives}{row.gain * 100:+.2f}{survives} | {format_ci(row.ci_low, row.ci_high)} "
                     f"| {row.test} | {format_p(row.p)} | {format_p(row.holm_p)} |")
    return "\n".join(lines) + "\n"


def models_table_markdown(runs: pd.DataFrame, gains: pd.DataFrame, metric: str = "accuracy") -> str:
    """One row per (dataset, vectors, model): rand's mean ± std, each pretrained condition's paired
    gain with its CI (bold: survives Holm), parameters and mean seconds per run."""
    conditions = [c for c in CONDITION_ORDER[1:] if c in set(gains["condition"])]
    header = ["dataset", "vectors", "model", "parameters (rand)", "rand (std)",
              *(f"{c} − rand [95% CI]" for c in conditions), "s/run"]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    keyed = gains.set_index(["dataset", "vectors", "model", "condition"])
    for (dataset, vectors, model), part in runs.groupby(["dataset", "vectors", "model"], dropna=False, sort=False):
        rand = part[part["embedding"] == "rand"]
        params = rand["parameters"].dropna() if "parameters" in rand else pd.Series(dtype=float)
        cells = [str(dataset), str(vectors), str(model), f"{params.iloc[0]:,.0f}" if len(params) else "–",
                 f"{rand[metric].mean() * 100:.1f} ± {rand[metric].std() * 100:.1f}" if len(rand) > 1 else "–"]
        for condition in conditions:
            key = (dataset, vectors, model, condition)
            if key not in keyed.index:
                cells.append("–")
                continue
            row = keyed.loc[key]
            row = row.iloc[0] if isinstance(row, pd.DataFrame) else row
            bold = "**" if pd.notna(row["holm_p"]) and row["holm_p"] < 0.05 else ""
            cells.append(f"{bold}{row['gain'] * 100:+.1f}{bold} {format_ci(row['ci_low'], row['ci_high'])}")
        cells.append(f"{part['total_seconds'].mean():.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def format_ci(low: float, high: float) -> str:
    return "–" if pd.isna(low) else f"[{low * 100:+.2f}, {high * 100:+.2f}]"


def format_p(value: float) -> str:
    return "–" if pd.isna(value) else f"{value:.3g}"


def coverage_markdown(runs: pd.DataFrame) -> str:
    """Vector coverage of the training vocabulary per dataset and vectors (mean over runs)."""
    with_vectors = runs.dropna(subset=["coverage_hits"])
    if with_vectors.empty:
        return ""
    table = with_vectors.groupby(["dataset", "vectors"]).agg(
        vocab=("vocab_size", "mean"), hits=("coverage_hits", "mean"), misses=("coverage_misses", "mean"),
        types=("coverage_type_share", "mean"), tokens=("coverage_token_share", "mean")).reset_index()
    header = "| dataset | vectors | vocabulary | with vector | random init | type coverage | token coverage |"
    norms = _row_norms(runs) if "known_row_norm" in runs.columns else None
    if norms is not None:
        header += " mean row norm: pretrained / unknown / rand |"
    lines = [header, "|---" * header.count(" |") + "|"]
    for row in table.itertuples():
        line = (f"| {row.dataset} | {row.vectors} | {row.vocab:,.0f} | {row.hits:,.0f} | {row.misses:,.0f} "
                f"| {row.types * 100:.1f}% | {row.tokens * 100:.1f}% |")
        if norms is not None:
            line += f" {norms.get((row.dataset, row.vectors), '–')} |"
        lines.append(line)
    note = ("\nMean row norm of the initial table (runs recorded since release 0.4): rows with a pretrained "
            "vector (after `data.rescale`), rows drawn at random for words without one, and a rand run's "
            "rows; Kim's rule gives the three one scale.\n") if norms else ""
    return "\n".join(lines) + "\n" + note


def _row_norms(runs: pd.DataFrame) -> dict | None:
    """``(dataset, vectors) → "known / unknown / rand"`` mean row norms, per rescale setting where
    a grid mixes them."""
    recorded = runs.dropna(subset=["random_row_norm"])
    if recorded.empty:
        return None

    def distinct(rows, column):  # one value per setting (e.g. data.rescale none and rand: "1.0, 2.5")
        values = sorted(set(rows[column].dropna().round(1)))
        return ", ".join(f"{v:.1f}" for v in values) or "–"

    cells = {}
    for key, rows in recorded.groupby(["dataset", "vectors"]):
        pretrained, rand = rows[rows["embedding"] != "rand"], rows[rows["embedding"] == "rand"]
        cells[key] = " / ".join([distinct(pretrained, "known_row_norm"), distinct(pretrained, "random_row_norm"),
                                 distinct(rand, "random_row_norm")])
    return cells


def datasets_table_markdown(runs: pd.DataFrame, metric: str = "accuracy") -> str:
    """Kim (2014) Table 2's layout: one row per model, vectors and condition, one column per dataset
    (mean ± std over folds/seeds at full training size), with Kim's published MR numbers as extra rows.
    Empty unless the runs cover more than one dataset."""
    full = runs[runs["train_size"] == 1.0]
    if full.empty or full["dataset"].nunique() < 2:
        return ""
    datasets = sorted(full["dataset"].unique())
    full = with_variant(full)
    variants = full["variant"].nunique() > 1  # a config with variants: one row per variant too
    summary = summarise(full.assign(vectors=full["vectors"].fillna("–")), metric).set_index(
        ["variant", "model", "vectors", "embedding", "dataset"])[["mean", "std", "count"]]
    lines = ["| " + ("variant | " if variants else "") + "model | vectors | condition | " + " | ".join(datasets) + " |",
             "|---" * (3 + variants + len(datasets)) + "|"]
    for (variant, model, vectors), rows in summary.groupby(level=["variant", "model", "vectors"], sort=True):
        present = set(rows.index.get_level_values("embedding"))
        for condition in (c for c in CONDITION_ORDER if c in present):
            cells = []
            for dataset in datasets:
                key = (variant, model, vectors, condition, dataset)
                cells.append(_cell(*rows.loc[key], gain=None) if key in rows.index else "–")
            lines.append("| " + (f"{variant} | " if variants else "") + f"{model} | {vectors} | {condition} | "
                         + " | ".join(cells) + " |")
    if any(d in KIM_COLUMN for d in datasets):
        for condition in (c for c in CONDITION_ORDER if c in set(full["embedding"])):
            cells = [f"{KIM_2014_TABLE2[KIM_COLUMN[d]][condition] * 100:.1f}" if d in KIM_COLUMN else "–"
                     for d in datasets]
            lines.append("| " + ("– | " if variants else "") + f"Kim 2014 CNN | word2vec 300d | {condition} | "
                         + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
