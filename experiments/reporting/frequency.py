"""Gains by word frequency (Qi et al.'s Fig. 3 adapted to classification): test examples bucketed by
the training frequency of their rarest word, accuracy per condition per bucket."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from embedlab.experiments.reporting import compat
from embedlab.experiments.running.records import read_predictions
from embedlab.models.family import EMBEDDING_MODES, PRETRAINED_MODES

FREQUENCY_BUCKETS = [(0, 0, "0 (unseen)"), (1, 1, "1"), (2, 2, "2"), (3, 3, "3"), (4, 4, "4"),
                     (5, 9, "5-9"), (10, 99, "10-99"), (100, 999, "100-999"), (1000, np.inf, ">=1000")]
# Runs recorded since the open-vocabulary policy store per test example whether its unseen words have
# a pretrained vector: the "0 (unseen)" bucket then splits in two (rarest word unseen in training,
# and some unseen word in no vectors either / every unseen word in the vectors).
UNSEEN_NOWHERE, UNSEEN_IN_VECTORS = "0 (unseen, no vector)", "0 (unseen, in vectors)"
RAREST_ORDER = [UNSEEN_NOWHERE, UNSEEN_IN_VECTORS] + [label for _, _, label in FREQUENCY_BUCKETS]
UNSEEN_BUCKETS = [(0.0, 0.0, "0%"), (1e-9, 0.1, "(0, 10%]"), (0.1 + 1e-9, 0.25, "(10, 25%]"),
                  (0.25 + 1e-9, 1.0, "> 25%")]


def bucket(value: float, buckets) -> str:
    """The label of the bucket ``[low, high]`` holding ``value`` (buckets are checked in order)."""
    for low, high, label in buckets:
        if low <= value <= high:
            return label
    raise ValueError(f"{value} falls in no bucket")


FREQUENCY_KEYS = ["variant", "dataset", "vectors", "model", "train_size"]


@lru_cache(maxsize=256)
def _v01_buckets(config_text: str) -> pd.DataFrame:
    """Per test example of a v0.1 run: its rarest word's and its unseen words' buckets."""
    raw = compat.example_words_of_v01_run(config_text)
    return pd.DataFrame({"index": raw["index"], "rarest": [bucket(v, FREQUENCY_BUCKETS) for v in raw["rarest"]],
                         "unseen": [bucket(v, UNSEEN_BUCKETS) for v in raw["unseen_share"]]})


def _rarest_label(rarest: int, unseen_vectors: int, unseen_nowhere: int) -> str:
    if rarest > 0:
        return bucket(rarest, FREQUENCY_BUCKETS)
    return UNSEEN_NOWHERE if unseen_nowhere > 0 else UNSEEN_IN_VECTORS


def _token_counts(run_dir: Path, predictions: pd.DataFrame) -> list[int]:
    """Tokens per test example (the unseen share's denominator): recorded in predictions.csv since
    release 0.3 (older runs: :func:`compat.token_counts_of_older_run`)."""
    if "tokens" in predictions.columns:
        return predictions["tokens"].astype(int).tolist()
    return compat.token_counts_of_older_run(run_dir, predictions["index"])


def frequency_analysis(runs: pd.DataFrame, outdir: Path, by: str = "rarest") -> pd.DataFrame:
    """Accuracy per condition per bucket (``by`` = ``rarest`` or ``unseen``), with example counts."""
    parts = []
    for row in runs.itertuples():
        run_dir = Path(outdir) / "runs" / row.run_id
        predictions = read_predictions(run_dir)
        if "rarest" in predictions.columns:  # recorded at training time (ExampleWords; "tokens" since 0.3)
            merged = predictions.assign(rarest=[_rarest_label(*v) for v in predictions[
                ["rarest", "unseen_vectors", "unseen_nowhere"]].itertuples(index=False)])
            merged["unseen"] = [bucket((a + b) / max(n, 1), UNSEEN_BUCKETS) for a, b, n in zip(
                merged["unseen_vectors"], merged["unseen_nowhere"], _token_counts(run_dir, merged))]
        else:  # runs of v0.1: re-derived from the run's config
            merged = predictions.merge(_v01_buckets((run_dir / "config.yaml").read_text()), on="index")
        summary = merged.groupby(by)["correct"].agg(["mean", "size"]).reset_index()
        summary = summary.assign(embedding=row.embedding, model=row.model, dataset=row.dataset,
                                 variant=getattr(row, "variant", "–"),
                                 vectors=row.vectors, train_size=row.train_size, run_id=row.run_id,
                                 fold=getattr(row, "fold", None))
        parts.append(summary)
    if not parts:
        return pd.DataFrame()
    # rand runs are grouped with their vectors too: a rand run's embedding width follows the vectors'.
    frame = pd.concat(parts).assign(vectors=lambda f: f["vectors"].fillna("–"))
    # distinct test sets: CV folds test disjoint examples; seeds on one split test the same ones
    table = frame.groupby(FREQUENCY_KEYS + [by, "embedding"]).agg(
        accuracy=("mean", "mean"), examples=("size", "mean"),
        test_sets=("fold", lambda f: max(int(f.nunique()), 1))).reset_index()
    order = RAREST_ORDER if by == "rarest" else [label for _, _, label in UNSEEN_BUCKETS]
    order = [label for label in order if label in set(table[by])]
    table[by] = pd.Categorical(table[by], categories=order, ordered=True)
    return table.sort_values(FREQUENCY_KEYS + [by])


def _per_bucket(table: pd.DataFrame, by: str) -> tuple[pd.DataFrame, pd.Series]:
    """Accuracy per bucket with one column per condition, and the bucket's test examples."""
    table = table if "variant" in table.columns else table.assign(variant="–")
    keys = FREQUENCY_KEYS + [by]
    wide = table.pivot_table(index=keys, columns="embedding", values="accuracy", observed=True)
    return wide, table.groupby(keys, observed=True)["examples"].mean()


def _distinct_examples(table: pd.DataFrame, by: str) -> pd.Series:
    """Distinct test examples behind each bucket: per run, times the number of distinct test sets."""
    table = table if "variant" in table.columns else table.assign(variant="–")
    sets = table["test_sets"] if "test_sets" in table.columns else 1
    return table.assign(n=table["examples"] * sets).groupby(FREQUENCY_KEYS + [by], observed=True)["n"].max()


def wilson_half_width(accuracy: float, n: float) -> float:
    """Half the width of the 95% Wilson score interval of a proportion (scipy's binomtest), a
    cell's uncertainty from its number of test examples alone."""
    from scipy.stats import binomtest

    n = int(round(n))
    if n < 1 or not np.isfinite(accuracy):
        return float("nan")
    ci = binomtest(int(round(accuracy * n)), n).proportion_ci(confidence_level=0.95, method="wilson")
    return (ci.high - ci.low) / 2


# A bucket with fewer test examples per run than this is shown in parentheses: a gain of "+22 points"
# from a handful of sentences is noise (one sentence is ±100/n points), not a finding.
MIN_CELL_EXAMPLES = 30


def frequency_markdown(table: pd.DataFrame, by: str = "rarest") -> str:
    """Accuracy per bucket and condition, each with ± the half-width of its 95% Wilson interval over
    the bucket's distinct test examples, and each gain with ± 1.96 × the standard error of a
    difference of two independent proportions (conservative: both conditions see the same examples,
    so their errors are positively correlated). Buckets below :data:`MIN_CELL_EXAMPLES` test
    examples per run are put in parentheses."""
    if table.empty:
        return ""
    wide, examples = _per_bucket(table, by)
    distinct = _distinct_examples(table, by)
    conditions = [c for c in EMBEDDING_MODES if c in wide.columns]
    head = ["variant", "dataset", "vectors", "model", "size", "bucket", "test examples (per run / distinct)",
            *conditions, *(f"{c} gain" for c in conditions if c != "rand")]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for key, row in wide.iterrows():
        n = distinct.loc[key]
        cells = [str(key[0]), str(key[1]), str(key[2]), str(key[3]), f"{key[4]:g}", str(key[5]),
                 f"{examples.loc[key]:.0f} / {n:.0f}"]
        small = examples.loc[key] < MIN_CELL_EXAMPLES
        show = (lambda text: f"({text})") if small else (lambda text: text)  # noqa: E731
        cells += [show(f"{row[c] * 100:.1f} ±{wilson_half_width(row[c], n) * 100:.1f}") if pd.notna(row[c]) else "–"
                  for c in conditions]
        for c in conditions:
            if c == "rand":
                continue
            if "rand" not in row or pd.isna(row[c]) or pd.isna(row["rand"]):
                cells.append("–")
                continue
            half = 1.96 * np.sqrt((row[c] * (1 - row[c]) + row["rand"] * (1 - row["rand"])) / max(n, 1))
            cells.append(show(f"{(row[c] - row['rand']) * 100:+.1f} ±{half * 100:.1f}"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


FREQUENCY_GROUPS = {UNSEEN_NOWHERE: "rare (0-2)", UNSEEN_IN_VECTORS: "rare (0-2)", "0 (unseen)": "rare (0-2)", "1": "rare (0-2)", "2": "rare (0-2)", "3": "middle (3-9)",
                    "4": "middle (3-9)", "5-9": "middle (3-9)", "10-99": "frequent (>=10)",
                    "100-999": "frequent (>=10)", ">=1000": "frequent (>=10)"}


def pooled_frequency_markdown(table: pd.DataFrame) -> str:
    """The rarest-word gains pooled over datasets into three groups, each bucket weighted by the
    distinct test examples behind it (a 10-fold CV dataset tests each example once, so ten times one
    fold's; a dataset with one official split counts its test set once, not as often as the folds of
    another): single buckets of one dataset are too small to show a trend, the pool may. Empty unless
    ``table`` (from :func:`frequency_analysis` with ``by="rarest"``) covers more than one dataset."""
    if table.empty or table["dataset"].nunique() < 2 or "rand" not in set(table["embedding"]):
        return ""
    wide, _ = _per_bucket(table, "rarest")
    examples = _distinct_examples(table, "rarest").reindex(wide.index)
    conditions = [c for c in PRETRAINED_MODES if c in wide.columns]
    gains = wide[conditions].sub(wide["rand"], axis=0).mul(examples, axis=0).assign(examples=examples).reset_index()
    order = list(dict.fromkeys(FREQUENCY_GROUPS.values()))
    gains["group"] = pd.Categorical(gains["rarest"].astype(str).map(FREQUENCY_GROUPS), categories=order, ordered=True)
    pooled = gains.groupby(["variant", "vectors", "model", "train_size", "group"], observed=True).agg(
        {**{c: "sum" for c in conditions}, "examples": "sum", "dataset": "nunique"})
    lines = ["| variant | vectors | model | size | rarest word seen | datasets | distinct test examples | "
             + " | ".join(f"{c} gain" for c in conditions) + " |", "|---" * (7 + len(conditions)) + "|"]
    for (variant, vectors, model, size, group), row in pooled.iterrows():
        cells = [f"{row[c] / row['examples'] * 100:+.1f}" for c in conditions]
        lines.append(f"| {variant} | {vectors} | {model} | {size:g} | {group} | {int(row['dataset'])} | {row['examples']:.0f} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
