"""Comparison tables from a results store, in Qi et al. (2018)'s std / pre style."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from embedlab.experiments.reporting.published import KIM_2014_TABLE2, KIM_2014_MR, KIM_COLUMN
from embedlab.experiments.running.store import ResultsStore

CONDITION_ORDER = ["rand", "static", "non-static", "multichannel"]
CONDITION_TITLES = {"rand": "rand (std)", "static": "static (pre)", "non-static": "non-static (pre)",
                    "multichannel": "multichannel (pre)"}
GROUP_KEYS = ["variant", "dataset", "vectors", "model", "train_size"]


def finished_runs(outdir) -> pd.DataFrame:
    """Finished runs of the folder's current config, one row per run and config variant: a run that
    several variants share (same settings) appears under each. Rows of other settings the folder
    also holds (``run --new-settings``) are left out (see :func:`other_settings_runs`)."""
    store = ResultsStore(outdir)
    frame = store.frame()
    finished = frame[frame["status"] == "finished"].copy()
    grid = store.grid()
    if grid is not None:  # release 0.3+: the DB lists the current config's runs
        return finished.drop(columns=["variant"]).merge(grid[["run_id", "variant"]], on="run_id")
    membership = variant_membership(outdir)
    if not membership:
        return finished.assign(variant="–")
    parts = [finished[finished["run_id"].isin(ids)].assign(variant=name) for name, ids in membership.items()]
    return pd.concat(parts, ignore_index=True) if parts else finished.assign(variant="–")


def other_settings_runs(frame: pd.DataFrame, grid: pd.DataFrame | None) -> int:
    """Recorded runs (``frame``, all rows) that are not runs of the folder's current config
    (``grid``; None for folders of release <= 0.2, which have no such list)."""
    return 0 if grid is None else int((~frame["run_id"].isin(set(grid["run_id"]))).sum())


def variant_membership(outdir) -> dict[str, set[str]]:
    """``variant → run ids`` from OUTDIR/experiment.yaml ({} without variants)."""
    from embedlab.experiments.config import load_snapshot

    snapshot = Path(outdir) / "experiment.yaml"
    if not snapshot.exists():
        return {}
    config = load_snapshot(snapshot)
    if not config.variants:
        return {}
    return {name: {r.run_id for r in runs} for name, runs in config.variant_runs().items()}


def with_variant(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs with a ``variant`` column ("–" where the config has no variants)."""
    return runs if "variant" in runs.columns else runs.assign(variant="–")


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


def paired_gains(runs: pd.DataFrame, metric: str = "accuracy") -> pd.DataFrame:
    """Each pretrained condition's gain over rand per group, on runs paired by seed and fold.

    The test follows the design (:mod:`embedlab.experiments.reporting.stats`): runs paired by CV fold share
    most of their training data, so they get Nadeau & Bengio's corrected resampled t-test and its
    interval; runs paired by seed on one fixed split are independent, so they get the plain paired
    t-test and a percentile-bootstrap interval. Holm's adjustment is over all rows of the table.
    Columns: group keys, condition, pairs, gain, ci_low, ci_high, test, p, holm_p, wilcoxon_p,
    effect (the mean difference over its standard deviation, Cohen's d_z).
    """
    import numpy as np

    from embedlab.experiments.reporting.stats import corrected_resampled_t, holm, paired_gain

    if runs.empty or "rand" not in set(runs["embedding"]):
        return pd.DataFrame()
    frame = with_variant(runs).assign(fold=runs["fold"].fillna(-1))
    rows = []
    for group, part in frame.groupby(GROUP_KEYS, dropna=False, sort=True):
        base = part[part["embedding"] == "rand"].set_index(["seed", "fold"])[metric]
        cross_validated = bool((part["fold"] >= 0).any())
        for condition in CONDITION_ORDER[1:]:
            treated = part[part["embedding"] == condition].set_index(["seed", "fold"])[metric]
            shared = base.index.intersection(treated.index)
            if len(shared) == 0:
                continue
            gain = paired_gain(treated.loc[shared].to_numpy(), base.loc[shared].to_numpy())
            diffs = treated.loc[shared].to_numpy() - base.loc[shared].to_numpy()
            row = {**dict(zip(GROUP_KEYS, group)), "condition": condition, "pairs": gain.n, "gain": gain.mean,
                   "ci_low": gain.ci_low, "ci_high": gain.ci_high, "test": "paired t", "p": gain.t_p,
                   "wilcoxon_p": gain.wilcoxon_p,
                   "effect": gain.mean / diffs.std(ddof=1) if gain.n > 1 and diffs.std(ddof=1) > 0 else np.nan}
            variance = diffs.var(ddof=1) / len(diffs) if len(diffs) > 1 else np.nan
            if cross_validated:
                n_train = float((part["n_train"] + part["n_dev"]).mean())
                corrected = corrected_resampled_t(diffs, n_train, float(part["n_test"].mean()))
                row.update(ci_low=corrected.ci_low, ci_high=corrected.ci_high, test="corrected t", p=corrected.p)
                variance = corrected.se ** 2
            row["detectable"] = detectable_gain(variance, len(diffs))
            rows.append(row)
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


def paired_gains_markdown(runs: pd.DataFrame, metric: str = "accuracy") -> str:
    """The paired gains (see :func:`paired_gains`) as a Markdown table, in points."""
    gains = paired_gains(runs, metric)
    if gains.empty:
        return ""
    lines = ["| " + " | ".join(["variant", "dataset", "vectors", "model", "train_size", "condition", "pairs",
                               "gain (pts)", "95% CI", "effect d_z", "test", "p", "Holm p", "Wilcoxon p",
                               "detectable (pts)"])
             + " |", "|---" * 15 + "|"]
    for row in gains.itertuples():
        survives = "**" if pd.notna(row.holm_p) and row.holm_p < 0.05 else ""
        lines.append(f"| {row.variant} | {row.dataset} | {row.vectors} | {row.model} | {row.train_size:g} | {row.condition} "
                     f"| {row.pairs} | {survives}{row.gain * 100:+.2f}{survives} | {_ci(row.ci_low, row.ci_high)} "
                     f"| {'–' if pd.isna(row.effect) else f'{row.effect:+.2f}'} | {row.test} "
                     f"| {_p(row.p)} | {_p(row.holm_p)} | {_p(row.wilcoxon_p)} "
                     f"| {'–' if pd.isna(row.detectable) else f'{row.detectable * 100:.2f}'} |")
    return "\n".join(lines) + "\n"


def encoder_gains(runs: pd.DataFrame, metric: str = "accuracy") -> pd.DataFrame:
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
    return paired_gains(pd.concat(frames, ignore_index=True), metric)


def encoder_gains_markdown(runs: pd.DataFrame, metric: str = "accuracy") -> str:
    gains = encoder_gains(runs, metric)
    if gains.empty:
        return ""
    lines = ["| model | condition | against | dataset | train_size | pairs | gain (pts) | 95% CI | test | p | Holm p |",
             "|---" * 11 + "|"]
    for row in gains.itertuples():
        survives = "**" if pd.notna(row.holm_p) and row.holm_p < 0.05 else ""
        lines.append(f"| {row.model} | {row.condition} | {row.vectors} | {row.dataset} | {row.train_size:g} "
                     f"| {row.pairs} | {survives}{row.gain * 100:+.2f}{survives} | {_ci(row.ci_low, row.ci_high)} "
                     f"| {row.test} | {_p(row.p)} | {_p(row.holm_p)} |")
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
            cells.append(f"{bold}{row['gain'] * 100:+.1f}{bold} {_ci(row['ci_low'], row['ci_high'])}")
        cells.append(f"{part['total_seconds'].mean():.0f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _ci(low: float, high: float) -> str:
    return "–" if pd.isna(low) else f"[{low * 100:+.2f}, {high * 100:+.2f}]"


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


def published_markdown(runs: pd.DataFrame, metric: str) -> str:
    """Kim (2014)'s MR row next to ours, where the dataset and model match."""
    mr = runs[(runs["dataset"] == "mr") & (runs["model"] == "cnn") & (runs["train_size"] == 1.0)]
    if mr.empty or metric != "accuracy":
        return ""
    lines = ["| source | vectors | protocol | " + " | ".join(CONDITION_TITLES[c] for c in CONDITION_ORDER) + " |",
             "|---" * 7 + "|",
             "| Kim 2014, Table 2 | word2vec GoogleNews 300d | 10-fold CV, 10,662 sentences | "
             + " | ".join(f"{KIM_2014_MR[c] * 100:.1f}" for c in CONDITION_ORDER) + " |"]
    for (variant, vectors), rows in with_variant(mr).groupby(["variant", "vectors"]):
        means = rows.groupby("embedding")[metric].mean()
        folds = rows["fold"].nunique()
        protocol = f"{folds}-fold CV" if folds > 1 else "one holdout split"
        sentences = int((rows["n_train"] + rows["n_dev"] + rows["n_test"]).max())  # what the runs really used
        source = "embedlab" if variant == "–" else f"embedlab ({variant})"
        lines.append(f"| {source} | {vectors} | {protocol}, {sentences:,} sentences | " + " | ".join(
            f"{means[c] * 100:.1f}" if c in means else "–" for c in CONDITION_ORDER) + " |")
    return ("\n".join(lines) + "\n\nWhat can differ from Kim: the vectors (GloVe 6B, or Kim's GoogleNews "
            "word2vec restricted to a 26k-word subset, where he had all 3M words); MR as rebuilt here has "
            "10,605 of the 10,662 sentences; the suite's defaults use Adam with early stopping instead of "
            "Adadelta for 25 epochs (configs/kim2014_protocol.yaml runs his; configs/kim_gap_mr.yaml measures "
            "each difference).\n")


KIM_FACTORS = {
    "defaults": "embedlab's defaults",
    "train_vocabulary": "test words unseen in training → <unk> (v0.1)",
    "glove_100d": "GloVe 6B 100d instead of 50d",
    "kim_word2vec": "Kim's GoogleNews word2vec (26k-word subset, 300 d; rand 300 d too)",
    "kim_optimiser": "Adadelta (lr 1.0, ρ 0.95), 25 epochs, best dev epoch",
    "kim_padding": "Kim's two-sided zero padding",
    "rand_300d": "rand at 300 d (pretrained unchanged)",
    "matched_unknowns": "unknown words U[-a, a] with the vectors' variance",
    "kim_setup": "all of Kim's factors at once",
}


def gap_markdown(runs: pd.DataFrame, metric: str = "accuracy") -> str:
    """The MR decomposition (configs/kim_gap_mr.yaml): per variant each condition's mean, the paired
    change against the ``defaults`` variant with its 95% CI (t-interval over folds), static's gain over
    rand, and what remains of the gap to Kim's published row. Empty unless a ``defaults`` variant of MR
    runs exists."""
    from embedlab.experiments.reporting.stats import corrected_resampled_t

    runs = with_variant(runs)
    mr = runs[(runs["dataset"] == "mr") & (runs["model"] == "cnn") & (runs["train_size"] == 1.0)]
    if metric != "accuracy" or "defaults" not in set(mr["variant"]):
        return ""
    frame = mr.assign(fold=mr["fold"].fillna(-1))
    score = frame.set_index(["variant", "embedding", "seed", "fold"])[metric].sort_index() * 100
    conditions = [c for c in CONDITION_ORDER if c in set(frame["embedding"])]

    n_train, n_test = float((frame["n_train"] + frame["n_dev"]).mean()), float(frame["n_test"].mean())

    def interval(diff) -> str:
        if len(diff) and not diff.any():
            return "same runs"  # the variant does not change this condition's settings
        test = corrected_resampled_t(diff, n_train, n_test)
        if test.n < 2:
            return f"{test.mean:+.1f}"
        mark = "*" if test.p < 0.05 else ""
        return f"{test.mean:+.1f}{mark} [{test.ci_low:+.1f}, {test.ci_high:+.1f}]"

    def paired(variant_a, cond_a, variant_b, cond_b):
        a, b = score.loc[(variant_a, cond_a)], score.loc[(variant_b, cond_b)]
        shared = a.index.intersection(b.index)
        return (a.loc[shared] - b.loc[shared]).to_numpy()

    header = ["variant", "what changes", *(f"{c}" for c in conditions)]
    header += [f"{c}: change vs defaults [95% CI]" for c in conditions]
    header += ["static − rand [95% CI]" if {"static", "rand"} <= set(conditions) else None]
    header += [f"gap to Kim, {c}" for c in conditions]
    header = [h for h in header if h]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    order = [v for v in KIM_FACTORS if v in set(frame["variant"])] + sorted(set(frame["variant"]) - set(KIM_FACTORS))
    for variant in order:
        present = [c for c in conditions if (variant, c) in score.index.droplevel([2, 3])]
        means = {c: score.loc[(variant, c)].mean() for c in present}
        cells = [variant, KIM_FACTORS.get(variant, "")]
        cells += [f"{means[c]:.1f}" if c in means else "–" for c in conditions]
        cells += ["–" if variant == "defaults" or c not in means or (("defaults", c) not in score.index.droplevel([2, 3]))
                  else interval(paired(variant, c, "defaults", c)) for c in conditions]
        if {"static", "rand"} <= set(conditions):
            cells.append(interval(paired(variant, "static", variant, "rand")) if {"static", "rand"} <= set(present) else "–")
        cells += [f"{(KIM_2014_MR[c] * 100 - means[c]):+.1f}" if c in means else "–" for c in conditions]
        lines.append("| " + " | ".join(cells) + " |")
    return ("MR, 10-fold CV, CNN. Each variant changes one factor from embedlab's defaults toward Kim's "
            "setup (`kim_setup`: all at once). Accuracy %, mean over folds; changes and static − rand are "
            "paired by fold, with the 95% interval of Nadeau & Bengio's corrected resampled t-test (folds "
            "share training data, so the plain t-interval would be too narrow); * = p < 0.05 under that "
            "test, not adjusted for the table's many comparisons. Gap to Kim = Kim's published accuracy "
            "minus ours (positive: we are below). Kim: rand 76.1, static 81.0, non-static 81.5.\n\n" + "\n".join(lines) + "\n")


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
            tests = "; ".join(f"{c} p = {_p(p)} (Holm {_p(a)})" for (c, p), a in zip(result.wilcoxon_p.items(), adjusted))
            text += f" Wilcoxon signed-rank of the per-dataset gains over rand: {tests}."
        if result.nemenyi_p is not None:
            text += (f" Friedman p = {_p(result.friedman_p)}; Nemenyi critical difference {result.critical_difference:.2f} "
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


def report_sections(outdir, metric: str = "accuracy", figures_dir: Path | None = None) -> list[tuple[str, str]]:
    """The report as (title, markdown body) sections, from the units of
    :mod:`embedlab.experiments.reporting.sections` in their order; figures are written to ``figures_dir``."""
    from embedlab.experiments.reporting.sections import SECTIONS, ReportContext

    outdir = Path(outdir)
    store = ResultsStore(outdir)
    frame, grid = store.frame(), store.grid()
    other_settings = other_settings_runs(frame, grid)
    if grid is not None:
        frame = frame[frame["run_id"].isin(set(grid["run_id"]))]
    failed = int((frame["status"] == "failed").sum()) if not frame.empty else 0
    context = ReportContext(finished_runs(outdir), metric, outdir, figures_dir, failed, other_settings)
    sections = (unit(context) for unit in SECTIONS)
    return [(section.title, section.markdown) for section in sections if section is not None]


def report_markdown(outdir, metric: str = "accuracy", figures_dir: Path | None = None) -> str:
    """The full Markdown report of an output directory."""
    runs = finished_runs(outdir)
    title = ", ".join(sorted(runs["experiment"].unique())) if not runs.empty else str(outdir)
    body = "\n".join(f"### {name}\n\n{text}" for name, text in report_sections(outdir, metric, figures_dir))
    return f"## {title}\n\n{body}\n"


def write_report(outdir, metric: str = "accuracy") -> Path:
    """Writes OUTDIR/report/: report.md, report.html (self-contained), the summary as CSV and LaTeX,
    and the figures as PNG. Returns the folder."""
    from embedlab.experiments.reporting.html import markdown_to_html

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
