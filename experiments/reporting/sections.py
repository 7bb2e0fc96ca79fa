"""The report's sections, one unit each, listed once in report order (:data:`SECTIONS`).

A section takes the :class:`ReportContext` (the finished runs as a DataFrame of what they stored, the
metric, the output folder and where figures go) and returns a :class:`Section` — title, Markdown and
the figures it wrote — or None when the runs do not support it. A new section is one function here
plus its test; the statistics every section uses live in :mod:`embedlab.experiments.reporting.stats`, so a
test choice is made in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from embedlab.experiments.reporting import curves, frequency, spaces
from embedlab.experiments.reporting import across_datasets as over_datasets
from embedlab.experiments.reporting import published as published_numbers
from embedlab.experiments.reporting import tables
from embedlab.experiments.reporting.sweet_spot import sweet_spot_markdown, sweet_spots


@dataclass(frozen=True)
class ReportContext:
    """What every section reads.

    Attributes:
        runs (pd.DataFrame): Finished runs, one row per run and config variant.
        metric (str): ``accuracy`` or ``macro_f1``.
        outdir (Path): The output folder (run folders for per-example analyses).
        figures_dir (Path | None): Where figures go (None: no figures).
        failed (int): Runs recorded as failed.
        other_settings (int): Recorded runs of earlier settings, not shown (``run --new-settings``).
    """

    runs: pd.DataFrame
    metric: str
    outdir: Path
    figures_dir: Path | None
    failed: int = 0
    other_settings: int = 0
    tuning: tuple | None = None  # a tuning search's (tune section, variants, all runs); ``runs`` are the untuned


@dataclass(frozen=True)
class Section:
    title: str
    markdown: str
    figures: list[Path] = field(default_factory=list)


def comparison(ctx: ReportContext) -> Section:
    return Section("Comparison: test " + ctx.metric.replace("_", "-") + " (%)",
                   "mean ± std over seeds/folds; (gain) = mean minus the rand (std) mean, in points.\n\n"
                   + tables.comparison_markdown(ctx.runs, ctx.metric))


def tuning_search(ctx: ReportContext) -> Section | None:
    if ctx.tuning is None:
        return None
    from embedlab.experiments.reporting.tuning import tuning_markdown

    tune, variants, runs = ctx.tuning
    body, figures = tuning_markdown(runs, tune, variants, ctx.outdir, ctx.figures_dir)
    return Section("Tuning: expected best accuracy per budget, untuned vs tuned", body, figures) if body else None


def across_datasets(ctx: ReportContext) -> Section | None:
    by_dataset = tables.datasets_table_markdown(ctx.runs, ctx.metric)
    if not by_dataset:
        return None
    body = ("test " + ctx.metric.replace("_", "-") + " (%), mean ± std over folds/seeds, all training data; "
            "Kim's rows are his published CNN results (on his datasets).\n\n" + by_dataset)
    figures = []
    if ctx.figures_dir is not None:
        full = ctx.runs[ctx.runs["train_size"] == 1.0]
        path = curves.plot_dataset_gains(tables.paired_gains(full, ctx.metric, ctx.outdir), ctx.figures_dir / "gains_by_dataset.png")
        figures.append(path)
        body += (f"\n![gains by dataset]({path.name})\n\n*Figure: the gain of each pretrained condition "
                 "over rand (accuracy points, mean of the paired differences over folds/seeds, with its "
                 "95% CI) per dataset, one panel per vector set; above zero, pretraining helped.*\n")
    ranked = over_datasets.across_datasets_markdown(ctx.runs, ctx.metric, ctx.figures_dir)
    if ranked:
        body += "\n" + ranked
    return Section("Across datasets (Kim 2014, Table 2 layout)", body, figures)


def across_models(ctx: ReportContext) -> Section | None:
    """With several model families on the same data: does the gain from pretraining depend on the
    architecture? One row per model (its size and cost beside its gains), and a figure."""
    runs = ctx.runs[ctx.runs["train_size"] == 1.0]
    if runs.empty or runs["model"].nunique() < 2:
        return None
    gains = tables.paired_gains(runs, ctx.metric, ctx.outdir)
    if gains.empty:
        return None
    body = ("Each model's gain from pretrained embeddings over its own rand runs (points, paired by "
            "fold/seed; 95% CI and Holm p as in the paired-gains table), with its size and cost.\n\n"
            + tables.models_table_markdown(runs, gains, ctx.metric))
    figures = []
    if ctx.figures_dir is not None:
        path = curves.plot_model_gains(gains, ctx.figures_dir / "gains_by_model.png")
        figures.append(path)
        body += (f"\n![gains by model]({path.name})\n\n*Figure: the gain of each pretrained condition over "
                 "rand per model family (accuracy points, 95% CI); above zero, pretraining helped that model.*\n")
    return Section("Across model families", body, figures)


def encoders(ctx: ReportContext) -> Section | None:
    text = tables.encoder_gains_markdown(ctx.runs, ctx.metric, ctx.outdir)
    if not text:
        return None
    return Section("Sentence encoders against learned embeddings",
                   "A model that reads text with its own tokenizer (MiniLM) is paired by fold/seed with the rand "
                   "runs of each other model on the same data: each of its conditions (static = frozen encoder, "
                   "non-static = fine-tuned, rand = the same architecture from random initialisation) against "
                   "them, statistics as in the paired-gains table, Holm over this table. Its rand against the "
                   "other model's rand is what the architecture brings; its pretrained conditions against its "
                   "own rand (in the paired-gains table) what pretraining brings.\n\n" + text)


def published(ctx: ReportContext) -> Section | None:
    text = published_numbers.published_markdown(ctx.runs, ctx.metric)
    return Section("Against the published numbers", text) if text else None


def kim_table2(ctx: ReportContext) -> Section | None:
    text = published_numbers.kim_table2_markdown(ctx.runs, ctx.metric, ctx.outdir)
    return Section("Kim (2014), Table 2: ours beside his", text) if text else None


def gap_to_kim(ctx: ReportContext) -> Section | None:
    text = published_numbers.gap_markdown(ctx.runs, ctx.metric)
    return Section("The gap to Kim (2014) on MR, factor by factor", text) if text else None


def paired_gains(ctx: ReportContext) -> Section | None:
    text = tables.paired_gains_markdown(ctx.runs, ctx.metric, ctx.outdir)
    if not text:
        return None
    return Section("Gains over rand, paired by seed/fold",
                   "Pairs from cross-validation folds share most of their training data: their p-value "
                   "and 95% CI come from Nadeau & Bengio's corrected resampled t-test (with several seeds, which "
                   "re-train on the same folds: the fold means' corrected variance plus the seed effect's). Seeds on one fixed split share its test set: their test treats seeds and "
                   "test sentences as random (seeds × sentences t, from the runs' predictions), so the "
                   "interval includes the test set's sampling error. p-values are two-sided; Holm p adjusts them for all the "
                   "comparisons of this table, and gains in **bold** survive it at 0.05. Effect d_z = mean "
                   "difference / its standard deviation. The exact Wilcoxon test needs at least 6 pairs "
                   "to reach p < 0.05. Detectable = the smallest gain the test would find with 80% power "
                   "at the observed spread: with few pairs, a gain below it going unnoticed says "
                   "little.\n\n" + text)


def learning_curve(ctx: ReportContext) -> Section | None:
    runs = ctx.runs
    if runs.empty or runs["train_size"].nunique() < 2:
        return None
    curve = curves.learning_curve(runs, ctx.metric)
    size_gains = curves.gains_by_size(curve)
    if size_gains.empty:
        body = "_No rand runs: gains over rand (and the sweet spot) need them; accuracies are in the figure._\n\n"
    else:
        body = "\n".join(f"- {sentence}" for sentence in curves.sweet_spot_sentences(size_gains)) + "\n\n"
    spots = _sweet_spots(ctx)
    if spots:
        body += sweet_spot_markdown(spots) + "\n"
    body += "| dataset | model | size | examples | condition | rand | pretrained | gain |\n" + "|---" * 8 + "|\n"
    for row in size_gains.sort_values(["dataset", "model", "embedding", "train_size"]).itertuples():
        body += (f"| {row.dataset} | {row.model} | {row.train_size:g} | {row.n_train:.0f} | {row.embedding} "
                 f"| {row.rand * 100:.1f} | {row.pretrained * 100:.1f} | {row.gain * 100:+.1f} |\n")
    figures = []
    if ctx.figures_dir is not None:
        path = curves.plot_learning_curve(curve, size_gains, ctx.figures_dir / "learning_curve.png", spots)
        figures.append(path)
        body += (f"\n![learning curve]({path.name})\n\n*Figure: left, test accuracy against the number of "
                 "training examples (log scale) with 95% t-intervals over seeds; middle, the gain of each "
                 "pretrained condition over rand" + (", with 95% bands that include the test set's sampling "
                 "error" if spots else "") + "; right, the same gain against rand's accuracy, each point "
                 "labelled by its fraction of the data — the sweet spot is where the baseline is poor but "
                 "trainable.*\n")
    return Section("Learning curve (Qi et al. 2018, Q2)", body, figures)


def _sweet_spots(ctx: ReportContext) -> list:
    """The tested sweet spots, where the runs' predictions are at hand (not for older archives
    without per-sentence predictions)."""
    if not (ctx.outdir / "runs").exists():
        return []
    try:
        return sweet_spots(ctx.runs[ctx.runs["model"] != "minilm"], ctx.outdir)
    except (OSError, KeyError, ValueError):
        return []


def word_frequency(ctx: ReportContext) -> Section | None:
    runs = ctx.runs
    if runs.empty or not (ctx.outdir / "runs").exists():
        return None
    sizes = sorted(runs["train_size"].unique())
    chosen = runs[runs["train_size"].isin({sizes[0], sizes[-1]})]
    try:
        by_rarest = frequency.frequency_analysis(chosen, ctx.outdir, "rarest")
    except (OSError, ValueError) as exc:  # runs before release 0.3 need their dataset for this section
        return Section("Accuracy by word frequency (Qi et al. 2018, Fig. 3 adapted)",
                       f"_Not available: these runs were recorded before release 0.3 and the section needs "
                       f"their dataset, which cannot be read ({str(exc).splitlines()[0]})._\n")
    rarest = frequency.frequency_markdown(by_rarest, "rarest")
    if not rarest:
        return None
    unseen = frequency.frequency_markdown(frequency.frequency_analysis(chosen, ctx.outdir, "unseen"), "unseen")
    pooled = frequency.pooled_frequency_markdown(by_rarest)
    return Section("Accuracy by word frequency (Qi et al. 2018, Fig. 3 adapted)",
                   "Test examples bucketed by the training-set frequency of their rarest word "
                   "(accuracy %, mean over runs; gain = minus rand), at the smallest and largest "
                   f"training size. ± is the 95% interval's half-width from the bucket's distinct test "
                   "examples (Wilson for accuracies; for gains, the conservative interval of a difference "
                   f"of two proportions). Buckets with fewer than {frequency.MIN_CELL_EXAMPLES} test examples "
                   "per run are in parentheses: too few to read. An unseen rarest word is split by "
                   "whether the pretrained vectors have it (runs recorded since the open-vocabulary "
                   "policy).\n\n" + rarest
                   + ("\nPooled over datasets into rare / middle / frequent (gain in points, "
                      "weighted by the distinct test examples behind each bucket):\n\n" + pooled if pooled else "")
                   + "\nBy the share of an example's words never seen in training:\n\n" + unseen)


def embedding_spaces(ctx: ReportContext) -> Section | None:
    """The saved spaces analysed per vector set (a space is only compared with its own pretrained
    vectors and the learned spaces of the same grid cell); one sub-block each when there are several."""
    if ctx.runs.empty:
        return None
    blocks = []
    for vectors, runs in ctx.runs.groupby(ctx.runs["vectors"].fillna("–"), sort=True):
        found = spaces.spaces_of(runs, ctx.outdir)
        if found:
            blocks.append((vectors, spaces.spaces_markdown(found)))
    if not blocks:
        return None
    if len(blocks) == 1:
        return Section("What the embedding spaces encode", blocks[0][1])
    return Section("What the embedding spaces encode", "\n".join(
        f"#### Vectors: {vectors}\n\n" + text.replace("#### ", "##### ") for vectors, text in blocks))


def coverage(ctx: ReportContext) -> Section | None:
    text = tables.coverage_markdown(ctx.runs)
    return Section("Pretrained-vector coverage of the training vocabulary", text) if text else None


def calibration(ctx: ReportContext) -> Section | None:
    from embedlab.experiments.reporting.calibration import calibration_markdown

    text = calibration_markdown(ctx.runs, ctx.outdir / "runs")
    return Section("Calibration: confidence vs accuracy", text) if text else None


def runs_footer(ctx: ReportContext) -> Section | None:
    runs, footer = ctx.runs, ""
    if not runs.empty:
        unique = runs.drop_duplicates("run_id")  # a run shared by config variants counts once
        seeds = sorted(int(s) for s in unique["seed"].unique())
        folds = sorted(int(f) for f in unique["fold"].dropna().unique())
        footer = (f"{len(unique)} finished runs; seeds {seeds}" + (f"; folds {folds}" if folds else "")
                  + f"; test examples per run: {int(unique['n_test'].min())}–{int(unique['n_test'].max())}; "
                  f"mean train time {unique['train_seconds'].mean():.1f} s/run, "
                  f"{unique['total_seconds'].sum() / 60:.1f} min of training in all.")
    if ctx.failed:
        footer += f"\n\n**{ctx.failed} run(s) failed**: see `embedlab status` or the `error` column of results.db."
    if ctx.other_settings:
        footer += (f"\n\n{ctx.other_settings} recorded run(s) of earlier settings of this folder are not shown "
                   "(results.db keeps them; the report covers the settings in experiment.yaml).")
    return Section("Runs", footer) if footer else None


# Report order. Each entry returns a Section or None.
SECTIONS: list[Callable[[ReportContext], Section | None]] = [
    comparison, tuning_search, across_datasets, kim_table2, across_models, encoders, published, gap_to_kim, paired_gains, learning_curve,
    word_frequency, embedding_spaces, coverage, calibration, runs_footer,
]
