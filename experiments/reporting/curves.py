"""Learning curves (Qi et al. 2018, Q2): accuracy per condition against training size, the gain of
each pretrained condition over rand and where it peaks (the "sweet spot"), and the gain figures by
dataset and by model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from embedlab.models.family import PRETRAINED_MODES


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
        conditions = [c for c in PRETRAINED_MODES if c in set(part["condition"])]
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
        conditions = [c for c in PRETRAINED_MODES if c in set(part["condition"])]
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
