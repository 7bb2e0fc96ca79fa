"""Paper-style analyses of an output directory's runs.

- Learning curve (Qi et al. 2018, Q2): accuracy per condition against training size, the gain of
  each pretrained condition over rand, and where that gain peaks (the "sweet spot").
- Frequency analysis (Qi et al.'s Fig. 3 adapted to classification): test examples bucketed by the
  training frequency of their rarest word, accuracy per condition per bucket.
- What the spaces encode (from runs saved with ``training.save_embeddings``): nearest neighbours of
  probe words (Kim's Table 3), word-pair similarity (WordSim-353, SimLex-999, MEN) and a
  cross-validated polarity probe against AFINN-165 and VADER.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

FREQUENCY_BUCKETS = [(0, 0, "0 (unseen)"), (1, 1, "1"), (2, 2, "2"), (3, 3, "3"), (4, 4, "4"),
                     (5, 9, "5-9"), (10, 99, "10-99"), (100, 999, "100-999"), (1000, np.inf, ">=1000")]
# Runs recorded since the open-vocabulary policy store per test example whether its unseen words have
# a pretrained vector: the "0 (unseen)" bucket then splits in two (rarest word unseen in training,
# and some unseen word in no vectors either / every unseen word in the vectors).
UNSEEN_NOWHERE, UNSEEN_IN_VECTORS = "0 (unseen, no vector)", "0 (unseen, in vectors)"
RAREST_ORDER = [UNSEEN_NOWHERE, UNSEEN_IN_VECTORS] + [label for _, _, label in FREQUENCY_BUCKETS]
UNSEEN_BUCKETS = [(0.0, 0.0, "0%"), (1e-9, 0.1, "(0, 10%]"), (0.1 + 1e-9, 0.25, "(10, 25%]"),
                  (0.25 + 1e-9, 1.0, "> 25%")]
PROBE_WORDS = ("good", "bad", "n't", "great", "boring", "funny", "cat", "dog", "movie", "love", "awful")


def bucket(value: float, buckets) -> str:
    """The label of the bucket ``[low, high]`` holding ``value`` (buckets are checked in order)."""
    for low, high, label in buckets:
        if low <= value <= high:
            return label
    raise ValueError(f"{value} falls in no bucket")


# ---------------------------------------------------------------- learning curve

def learning_curve(runs: pd.DataFrame, metric: str = "accuracy") -> pd.DataFrame:
    """Per (dataset, vectors, model, train_size, embedding): mean, std, n and a 95% t-interval."""
    from scipy import stats

    grouped = runs.groupby(["dataset", "vectors", "model", "train_size", "embedding"])[metric]
    table = grouped.agg(["mean", "std", "count"]).reset_index()
    half = [stats.t.ppf(0.975, n - 1) * s / np.sqrt(n) if n > 1 else np.nan
            for s, n in zip(table["std"], table["count"])]
    table["ci95"] = half
    table["n_train"] = runs.groupby(["dataset", "vectors", "model", "train_size", "embedding"])["n_train"].mean().values
    return table


def gains_by_size(curve: pd.DataFrame) -> pd.DataFrame:
    """Gain of each pretrained condition over rand at each training size, with rand's accuracy."""
    keys = ["dataset", "vectors", "model", "train_size"]
    base = curve[curve["embedding"] == "rand"].set_index(keys)[["mean", "n_train"]]
    rows = []
    for _, row in curve[curve["embedding"] != "rand"].iterrows():
        key = tuple(row[k] for k in keys)
        if key in base.index:
            rows.append({**dict(zip(keys, key)), "embedding": row["embedding"], "n_train": base.loc[key, "n_train"],
                         "rand": base.loc[key, "mean"], "pretrained": row["mean"],
                         "gain": row["mean"] - base.loc[key, "mean"]})
    # Typed columns even when empty (a grid without rand has no gains, and the report says so).
    return pd.DataFrame(rows, columns=[*keys, "embedding", "n_train", "rand", "pretrained", "gain"])


def sweet_spot_sentences(gains: pd.DataFrame) -> list[str]:
    """Where each condition's gain is largest, and whether it shrinks with more data, in words."""
    sentences = []
    for (dataset, vectors, model, embedding), rows in gains.groupby(["dataset", "vectors", "model", "embedding"]):
        rows = rows.sort_values("train_size")
        best = rows.loc[rows["gain"].idxmax()]
        smallest, largest = rows.iloc[0], rows.iloc[-1]
        if best["train_size"] == smallest["train_size"]:
            trend = "so it shrinks as data grows"
        elif best["train_size"] == largest["train_size"]:
            trend = "so it grows with the data instead of shrinking"
        else:
            trend = "so it rises, peaks in between and falls again: a sweet spot"
        sentences.append(
            f"{dataset} / {model} / {embedding} ({vectors}): the gain over rand is largest, "
            f"{best['gain'] * 100:+.1f} points, at {best['train_size']:g} of the training data "
            f"({best['n_train']:.0f} examples, where rand reaches {best['rand'] * 100:.1f}%); it is "
            f"{smallest['gain'] * 100:+.1f} at the smallest size and {largest['gain'] * 100:+.1f} with all "
            f"the data, {trend}.")
    return sentences


def plot_learning_curve(curve: pd.DataFrame, gains: pd.DataFrame, path: Path, spots=None) -> Path:
    """Accuracy, gain and gain-vs-baseline panels per dataset. ``spots`` (from
    :func:`embedlab.experiments.reporting.sweet_spot.sweet_spots`) give the gain panel its 95% bands with the
    test set's sampling error; the gain-vs-baseline panel marks each size as a labelled point (no
    line: rand's accuracy need not grow with the size, and a line would run backwards)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(curve.groupby(["dataset", "vectors", "model"]))
    fig, axes = plt.subplots(len(groups), 3, figsize=(15, 4.2 * len(groups)), squeeze=False)
    for row, ((dataset, vectors, model), rows) in enumerate(groups):
        ax_acc, ax_gain, ax_spot = axes[row]
        for embedding, part in rows.groupby("embedding"):
            part = part.sort_values("n_train")
            x, y, ci = part["n_train"], part["mean"] * 100, part["ci95"].fillna(0) * 100
            ax_acc.plot(x, y, marker="o", label=embedding)
            ax_acc.fill_between(x, y - ci, y + ci, alpha=0.2)
        ax_acc.set(xscale="log", xlabel="training examples (log scale)", ylabel="test accuracy (%)",
                   title=f"{dataset}, {model}, {vectors}: accuracy (95% CI)")
        ax_acc.legend()
        part_gains = gains[(gains["dataset"] == dataset) & (gains["vectors"] == vectors) & (gains["model"] == model)]
        bands = {spot.key[3]: spot for spot in spots or () if spot.key[:3] == (dataset, vectors, model)}
        for embedding, part in part_gains.groupby("embedding"):
            part = part.sort_values("n_train")
            line, = ax_gain.plot(part["n_train"], part["gain"] * 100, marker="o", label=f"{embedding} − rand")
            if embedding in bands:
                spot = bands[embedding]
                x = part.set_index("train_size").loc[spot.sizes, "n_train"]
                ax_gain.fill_between(x, spot.lows, spot.highs, alpha=0.15, color=line.get_color())
            ax_spot.scatter(part["rand"] * 100, part["gain"] * 100, color=line.get_color(), label=f"{embedding} − rand")
            for row in part.itertuples():
                label = "all" if row.train_size >= 1 else f"1/{round(1 / row.train_size)}"
                ax_spot.annotate(label, (row.rand * 100, row.gain * 100), fontsize=7,
                                 xytext=(3, 3), textcoords="offset points", color=line.get_color())
        ax_gain.axhline(0, color="grey", lw=0.8)
        ax_gain.set(xscale="log", xlabel="training examples (log scale)", ylabel="gain (accuracy points)",
                    title="gain over rand" + (" (95% band: seeds + test sentences)" if bands else ""))
        ax_spot.axhline(0, color="grey", lw=0.8)
        ax_spot.set(xlabel="rand (std) accuracy (%)", ylabel="gain (accuracy points)",
                    title="gain vs rand's accuracy (label: data fraction)")
        ax_gain.legend()
        ax_spot.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_dataset_gains(gains: pd.DataFrame, path: Path) -> Path:
    """Bar chart of each pretrained condition's paired gain over rand per dataset, with 95% CIs;
    one panel per vector set (``gains`` as from ``report.paired_gains``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gains = gains if "variant" in gains.columns else gains.assign(variant="–")
    panels = list(gains.groupby(["variant", "vectors", "model"]))  # a config's variants: a panel each
    fig, axes = plt.subplots(len(panels), 1, figsize=(max(8, 1.3 * gains["dataset"].nunique() + 3),
                                                      3.8 * len(panels)), squeeze=False)
    for ax, ((variant, vectors, model), part) in zip(axes[:, 0], panels):
        datasets = sorted(part["dataset"].unique())
        conditions = [c for c in ("static", "non-static", "multichannel") if c in set(part["condition"])]
        width = 0.8 / max(len(conditions), 1)
        for k, condition in enumerate(conditions):
            rows = part[part["condition"] == condition].set_index("dataset").reindex(datasets)
            x = np.arange(len(datasets)) + (k - (len(conditions) - 1) / 2) * width
            error = np.vstack([rows["gain"] - rows["ci_low"], rows["ci_high"] - rows["gain"]]) * 100
            ax.bar(x, rows["gain"] * 100, width, yerr=np.nan_to_num(error), capsize=3, label=f"{condition} − rand")
        ax.axhline(0, color="grey", lw=0.8)
        pairs = part.groupby("dataset")["pairs"].min()
        ax.set_xticks(np.arange(len(datasets)),
                      [d if pairs[d] > 1 else f"{d}\n(1 pair, no CI)" for d in datasets])
        ax.set(xlabel="dataset", ylabel="gain over rand (accuracy points)",
               title=f"{model}, {vectors}" + ("" if variant == "–" else f", {variant}")
               + ": gain of pretrained embeddings (95% CI)")
        ax.legend()
    return _saved(fig, path)


def plot_model_gains(gains: pd.DataFrame, path: Path) -> Path:
    """Bar chart of each pretrained condition's paired gain over rand per model family, with 95%
    CIs; one panel per (dataset, vectors) (``gains`` as from ``report.paired_gains``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = list(gains.groupby(["dataset", "vectors"], dropna=False))
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 3.8 * len(panels)), squeeze=False)
    for ax, ((dataset, vectors), part) in zip(axes[:, 0], panels):
        models = list(dict.fromkeys(part["model"]))
        conditions = [c for c in ("static", "non-static", "multichannel") if c in set(part["condition"])]
        width = 0.8 / max(len(conditions), 1)
        for k, condition in enumerate(conditions):
            rows = part[part["condition"] == condition].groupby("model").first().reindex(models)
            x = np.arange(len(models)) + (k - (len(conditions) - 1) / 2) * width
            error = np.vstack([rows["gain"] - rows["ci_low"], rows["ci_high"] - rows["gain"]]) * 100
            ax.bar(x, rows["gain"] * 100, width, yerr=np.nan_to_num(error), capsize=3, label=f"{condition} − rand")
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xticks(np.arange(len(models)), models)
        ax.set(xlabel="model", ylabel="gain over rand (accuracy points)",
               title=f"{dataset}, {vectors}: gain of pretrained embeddings by model (95% CI)")
        ax.legend()
    return _saved(fig, path)


def _saved(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- frequency analysis


FREQUENCY_KEYS = ["variant", "dataset", "vectors", "model", "train_size"]


@lru_cache(maxsize=256)
def _test_buckets(config_text: str) -> pd.DataFrame:
    """Per test example of a run: rarest word's training frequency and share of unseen words."""
    import yaml

    from embedlab.experiments.config import RunSpec
    from embedlab.experiments.running.train import _tokenized, split_indices

    run = RunSpec.model_validate(yaml.safe_load(config_text))
    dataset, tokens = _tokenized(run.data.dataset)
    fit, dev, test = split_indices(run, dataset.labels, dataset.split)
    counts: dict[str, int] = {}
    for i in np.concatenate([fit, dev]):
        for token in tokens[i]:
            counts[token] = counts.get(token, 0) + 1
    rows = []
    for i in test:
        frequencies = [counts.get(t, 0) for t in tokens[i]] or [0]
        unseen = sum(f == 0 for f in frequencies) / len(frequencies)
        rows.append({"index": int(i), "rarest": bucket(min(frequencies), FREQUENCY_BUCKETS),
                     "unseen": bucket(unseen, UNSEEN_BUCKETS)})
    return pd.DataFrame(rows)


def _rarest_label(rarest: int, unseen_vectors: int, unseen_nowhere: int) -> str:
    if rarest > 0:
        return bucket(rarest, FREQUENCY_BUCKETS)
    return UNSEEN_NOWHERE if unseen_nowhere > 0 else UNSEEN_IN_VECTORS


@lru_cache(maxsize=64)
def _dataset_token_counts(dataset_ref_json: str) -> dict[int, int]:
    import json

    from embedlab.experiments.config import DataConfig
    from embedlab.experiments.running.train import _tokenized

    _, tokens = _tokenized(DataConfig.model_validate(json.loads(dataset_ref_json)).dataset)
    return {i: len(t) for i, t in enumerate(tokens)}


def _token_counts(run_dir: Path, predictions: pd.DataFrame) -> list[int]:
    """Tokens per test example (the unseen share's denominator): recorded in predictions.csv since
    release 0.3; for older runs, from the dataset's tokenisation."""
    import json

    import yaml

    if "tokens" in predictions.columns:
        return predictions["tokens"].astype(int).tolist()
    data = yaml.safe_load((run_dir / "config.yaml").read_text())["data"]
    counts = _dataset_token_counts(json.dumps({"dataset": data["dataset"]}, sort_keys=True))
    return [counts[int(i)] for i in predictions["index"]]


def frequency_analysis(runs: pd.DataFrame, outdir: Path, by: str = "rarest") -> pd.DataFrame:
    """Accuracy per condition per bucket (``by`` = ``rarest`` or ``unseen``), with example counts."""
    parts = []
    for row in runs.itertuples():
        run_dir = Path(outdir) / "runs" / row.run_id
        predictions = pd.read_csv(run_dir / "predictions.csv")
        if "rarest" in predictions.columns:  # recorded at training time
            merged = predictions.assign(rarest=[_rarest_label(*v) for v in predictions[
                ["rarest", "unseen_vectors", "unseen_nowhere"]].itertuples(index=False)])
            merged["unseen"] = [bucket((a + b) / max(n, 1), UNSEEN_BUCKETS) for a, b, n in zip(
                merged["unseen_vectors"], merged["unseen_nowhere"], _token_counts(run_dir, merged))]
        else:  # runs of v0.1: re-derived from the run's config
            merged = predictions.merge(_test_buckets((run_dir / "config.yaml").read_text()), on="index")
        merged["correct"] = merged["label"] == merged["predicted"]
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
    conditions = [c for c in ("rand", "static", "non-static", "multichannel") if c in wide.columns]
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
    conditions = [c for c in ("static", "non-static", "multichannel") if c in wide.columns]
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


# ---------------------------------------------------------------- embedding spaces

def load_space(run_dir: Path) -> tuple[list[str], np.ndarray]:
    words = (run_dir / "vocab.txt").read_text(encoding="utf-8").split("\n")[:-1]
    return words, np.load(run_dir / "embedding.npy")


def pretrained_space(vectors_id: str, words: list[str]) -> tuple[list[str], np.ndarray]:
    """The pretrained vectors restricted to a task vocabulary (words without a vector left out)."""
    from embedlab.data.vector_sets import is_subword, load_vectors

    vectors = load_vectors(vectors_id)
    if is_subword(vectors_id):  # every word has a vector, made from its sub-tokens
        vectors = vectors.for_words(words)
    kept = [w for w in words if w in vectors.index]
    return kept, np.asarray(vectors.matrix[[vectors.index[w] for w in kept]], dtype=np.float32)


def nearest_neighbours(words: list[str], matrix: np.ndarray, probe: str, k: int = 5) -> list[str]:
    index = {w: i for i, w in enumerate(words)}
    if probe not in index:
        return []
    norms = np.linalg.norm(matrix, axis=1)
    norms[norms == 0] = 1
    unit = matrix / norms[:, None]
    scores = unit @ unit[index[probe]]
    order = [i for i in np.argsort(-scores) if words[i] not in (probe, "<pad>", "<unk>")]
    return [words[i] for i in order[:k]]


POLARITY_PAIRS = (("good", "bad"), ("great", "awful"), ("best", "worst"), ("funny", "boring"))


def _cosine(words: list[str], matrix: np.ndarray, first: str, second: str) -> str:
    index = {w: i for i, w in enumerate(words)}
    if first not in index or second not in index:
        return "–"
    a, b = matrix[index[first]], matrix[index[second]]
    return f"{float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))):.3f}"


def _keyed_vectors(words: list[str], matrix: np.ndarray):
    from gensim.models import KeyedVectors

    keep = [i for i, w in enumerate(words) if w not in ("<pad>", "<unk>")]
    kv = KeyedVectors(vector_size=matrix.shape[1])
    kv.add_vectors([words[i] for i in keep], matrix[keep])
    return kv


def word_pair_scores(words: list[str], matrix: np.ndarray) -> dict[str, tuple[float, float]]:
    """Spearman ρ and OOV share (%) on each word-pair set, via gensim's ``evaluate_word_pairs``."""
    import logging

    from embedlab.data.lexicons import word_pair_files

    logging.getLogger("gensim").setLevel(logging.ERROR)
    kv = _keyed_vectors(words, matrix)
    scores = {}
    for name, path in word_pair_files().items():
        _, spearman, oov = kv.evaluate_word_pairs(path, restrict_vocab=len(kv), case_insensitive=True)
        scores[name] = (float(spearman.statistic if hasattr(spearman, "statistic") else spearman[0]), float(oov))
    return scores


def polarity_probe(words: list[str], matrix: np.ndarray, lexicon: dict[str, float],
                   vocabulary: set[str] | None = None, seed: int = 0) -> dict[str, float]:
    """Cross-validated logistic regression predicting a word's polarity (sign of its lexicon
    score) from its vector; only words of ``vocabulary`` (the task's) with a non-zero score."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    index = {w: i for i, w in enumerate(words)}
    chosen = [w for w, s in lexicon.items() if s != 0 and w in index and (vocabulary is None or w in vocabulary)]
    y = np.array([lexicon[w] > 0 for w in chosen], dtype=int)
    if len(chosen) < 20 or len(set(y)) < 2:
        return {"words": len(chosen), "accuracy": float("nan"), "majority": float("nan")}
    x = matrix[[index[w] for w in chosen]]
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    accuracy = cross_val_score(LogisticRegression(max_iter=2000, C=1.0), x, y, cv=folds).mean()
    return {"words": len(chosen), "accuracy": float(accuracy), "majority": float(max(y.mean(), 1 - y.mean()))}


def spaces_of(runs: pd.DataFrame, outdir: Path) -> dict[str, tuple[list[str], np.ndarray]]:
    """The embedding spaces an output directory holds: one learned space per condition (first seed
    saved), plus the pretrained space restricted to the same vocabulary."""
    spaces: dict[str, tuple[list[str], np.ndarray]] = {}
    for row in runs.sort_values("seed").itertuples():
        run_dir = Path(outdir) / "runs" / row.run_id
        if row.embedding in spaces or not (run_dir / "embedding.npy").exists():
            continue
        spaces[f"{row.embedding} (trained)" if row.embedding != "static" else "static"] = load_space(run_dir)
        if "pretrained" not in spaces and row.vectors:
            spaces["pretrained"] = pretrained_space(row.vectors, spaces[next(iter(spaces))][0])
    spaces.pop("static", None)  # frozen: identical to the pretrained rows
    order = ["pretrained", "non-static (trained)", "multichannel (trained)", "rand (trained)"]
    return {name: spaces[name] for name in order if name in spaces}


def restrict(space: tuple[list[str], np.ndarray], keep: set[str]) -> tuple[list[str], np.ndarray]:
    words, matrix = space
    rows = [i for i, w in enumerate(words) if w in keep]
    return [words[i] for i in rows], matrix[rows]


def spaces_markdown(spaces: dict[str, tuple[list[str], np.ndarray]]) -> str:
    """Neighbours, word-pair similarity and polarity-probe tables for each space."""
    from embedlab.data.lexicons import afinn_lexicon, vader_lexicon

    if not spaces:
        return ""
    # Compare like with like: every space on the same words (task words that have a pretrained vector).
    common = set.intersection(*(set(words) for words, _ in spaces.values())) - {"<pad>", "<unk>"}
    spaces = {name: restrict(space, common) for name, space in spaces.items()}
    names = list(spaces)
    task_vocabulary = common
    lines = [f"All spaces restricted to the {len(common):,} task-vocabulary words that have a pretrained vector.\n",
             "#### Nearest neighbours (cosine), Kim 2014 Table 3 style\n",
             "| probe | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for probe in PROBE_WORDS:
        cells = [", ".join(nearest_neighbours(*spaces[n], probe)) or "(not in vocabulary)" for n in names]
        lines.append(f"| {probe} | " + " | ".join(cells) + " |")
    lines += ["", "Cosine similarity of opposite-polarity pairs (Kim: training on sentiment pulls them apart):\n",
              "| pair | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for first, second in POLARITY_PAIRS:
        lines.append(f"| {first} – {second} | " + " | ".join(
            _cosine(*spaces[n], first, second) for n in names) + " |")
    lines += ["", "#### General similarity: Spearman ρ with human judgements (OOV share of pairs)\n",
              "| set | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    pair_scores = {n: word_pair_scores(*spaces[n]) for n in names}
    for set_name in next(iter(pair_scores.values())):
        lines.append(f"| {set_name} | " + " | ".join(
            f"{pair_scores[n][set_name][0]:.3f} ({pair_scores[n][set_name][1]:.0f}% OOV)" for n in names) + " |")
    lines += ["", "#### Sentiment: 5-fold CV accuracy of a linear probe predicting a word's polarity "
              "(task-vocabulary words with a non-zero lexicon score)\n",
              "| lexicon | words | majority | " + " | ".join(names) + " |", "|---" * (len(names) + 3) + "|"]
    for lexicon_name, lexicon in (("AFINN-165", afinn_lexicon()), ("VADER", vader_lexicon())):
        probes = {n: polarity_probe(*spaces[n], lexicon, task_vocabulary) for n in names}
        first = probes[names[0]]
        lines.append(f"| {lexicon_name} | {first['words']} | {first['majority'] * 100:.1f} | " + " | ".join(
            f"{probes[n]['accuracy'] * 100:.1f}" for n in names) + " |")
    return "\n".join(lines) + "\n"
