"""Paired significance of a gain (pre minus std) over runs that share a seed/fold."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class PairedGain:
    """The gain of one condition over another on paired runs.

    Attributes:
        n (int): Number of pairs.
        mean (float): Mean of the paired differences.
        ci_low, ci_high (float): Bootstrap 95% CI of the mean difference (percentile method; NaN with
            fewer than 2 pairs).
        t_p (float): Two-sided paired t-test p-value (NaN with fewer than 2 pairs or no variance).
        wilcoxon_p (float): Two-sided Wilcoxon signed-rank p-value (NaN where undefined).
    """

    n: int
    mean: float
    ci_low: float
    ci_high: float
    t_p: float
    wilcoxon_p: float


def bootstrap_ci(differences: np.ndarray, confidence: float = 0.95, resamples: int = 10_000,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean of ``differences`` (seeded, so reports are stable)."""
    differences = np.asarray(differences, dtype=float)
    if len(differences) < 2:  # one pair says nothing about spread: no interval rather than a zero-width one
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = differences[rng.integers(0, len(differences), size=(resamples, len(differences)))].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def paired_gain(treatment: np.ndarray, baseline: np.ndarray) -> PairedGain:
    """Compares paired scores (same seed/fold in the same position).

    Args:
        treatment (np.ndarray): Scores of the condition (e.g. static).
        baseline (np.ndarray): Scores of the baseline (e.g. rand), paired by position.
    """
    treatment, baseline = np.asarray(treatment, dtype=float), np.asarray(baseline, dtype=float)
    if treatment.shape != baseline.shape:
        raise ValueError("paired scores must have the same length")
    differences = treatment - baseline
    n = len(differences)
    t_p = float("nan")
    if n >= 2 and np.ptp(differences) > 0:
        t_p = float(stats.ttest_rel(treatment, baseline).pvalue)
    low, high = bootstrap_ci(differences)
    return PairedGain(n, float(differences.mean()) if n else float("nan"), low, high, t_p, wilcoxon_p(differences))


def wilcoxon_p(differences) -> float:
    """Two-sided Wilcoxon signed-rank p of paired differences (NaN below 2 or when all are zero)."""
    differences = np.asarray(differences, dtype=float)
    if len(differences) >= 2 and np.any(differences != 0):
        return float(stats.wilcoxon(differences).pvalue)
    return float("nan")


@dataclass(frozen=True)
class CorrectedT:
    """Nadeau & Bengio (2003)'s corrected resampled t-test of a mean paired difference.

    Attributes:
        n (int): Number of pairs (folds or resamples).
        mean (float): Mean of the paired differences.
        ci_low, ci_high (float): 95% interval from the corrected standard error (NaN below 2 pairs).
        p (float): Two-sided p-value (NaN below 2 pairs or without variance).
        se (float): The corrected standard error of the mean (NaN below 2 pairs).
    """

    n: int
    mean: float
    ci_low: float
    ci_high: float
    p: float
    se: float = float("nan")


def corrected_resampled_t(differences, n_train: float, n_test: float, confidence: float = 0.95) -> CorrectedT:
    """Corrected resampled t-test for paired scores from cross-validation or repeated holdout.

    Folds share most of their training data, so their scores are correlated and the plain paired
    t-test's variance ``s²/J`` is too small (its type-I error far above nominal; Dietterich 1998).
    Nadeau & Bengio (2003, "Inference for the Generalization Error", Machine Learning 52) inflate it
    to ``s² (1/J + n_test/n_train)``, with J the number of folds and n_test / n_train the test and
    training set sizes of one fold; the statistic keeps J - 1 degrees of freedom (Bouckaert & Frank
    2004). scipy has no such test; this is the formula as published.

    Args:
        differences: Per-fold paired differences (treatment minus baseline).
        n_train (float): Training examples per fold (for 10-fold CV about 9 × n_test).
        n_test (float): Test examples per fold.
        confidence (float): Level of the interval.
    """
    differences = np.asarray(differences, dtype=float)
    n = len(differences)
    mean = float(differences.mean()) if n else float("nan")
    if n < 2:
        return CorrectedT(n, mean, float("nan"), float("nan"), float("nan"))
    variance = differences.var(ddof=1) * (1 / n + n_test / n_train)
    if variance == 0:
        return CorrectedT(n, mean, mean, mean, float("nan"), 0.0)
    se = float(np.sqrt(variance))
    t = mean / se
    p = float(2 * stats.t.sf(abs(t), n - 1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * se)
    return CorrectedT(n, mean, mean - half, mean + half, p, se)


def corrected_seeds_by_folds(differences, n_train: float, n_test: float, confidence: float = 0.95) -> CorrectedT:
    """Corrected t for seeds × folds on **one** partition (every seed trains on the same folds).

    Bouckaert & Frank (2004)'s corrected repeated k-fold t assumes each repetition draws a new
    partition; when the repetitions only change the training seed, the fold-to-fold part of the
    error is not averaged down by more seeds, while the seed's own effect (shared by all its folds)
    is. So the variance of the mean difference is estimated in two parts, as a two-way layout
    (seed, fold): Nadeau & Bengio's corrected variance of the k fold means (over seeds),
    ``s²(fold means) (1/k + n_test/n_train)``, plus the seed main effect's share,
    ``max(0, MS_seed − MS_residual) / (k · r)``; Satterthwaite's degrees of freedom combine the
    parts' k − 1 and r − 1. With one seed it is :func:`corrected_resampled_t`.

    Args:
        differences: Seeds × folds paired differences (treatment minus baseline), complete.
        n_train (float): Training examples per fold.
        n_test (float): Test examples per fold.
        confidence (float): Level of the interval.
    """
    d = np.asarray(differences, dtype=float)
    seeds, folds = d.shape
    if seeds < 2 or folds < 2:
        return corrected_resampled_t(d.ravel(), n_train, n_test, confidence)
    mean = float(d.mean())
    fold_part = float(d.mean(axis=0).var(ddof=1) * (1 / folds + n_test / n_train))
    ms_seed, ms_residual = _row_and_residual_mean_squares(d)
    seed_part = max(0.0, ms_seed - ms_residual) / (folds * seeds)
    variance = fold_part + seed_part
    if variance == 0:
        return CorrectedT(d.size, mean, mean, mean, float("nan"), 0.0)
    df = variance ** 2 / (fold_part ** 2 / (folds - 1) + seed_part ** 2 / (seeds - 1))
    se = float(np.sqrt(variance))
    p = float(2 * stats.t.sf(abs(mean) / se, df))
    half = float(stats.t.ppf(0.5 + confidence / 2, df) * se)
    return CorrectedT(d.size, mean, mean - half, mean + half, p, se)


def holm(p_values) -> np.ndarray:
    """Holm–Bonferroni adjusted p-values (Holm 1979, "A simple sequentially rejective multiple test
    procedure", Scand. J. Statist. 6): the i-th smallest of m p-values is multiplied by (m - i + 1),
    made monotone, and capped at 1. Rejecting where the adjusted p < alpha controls the family-wise
    error rate at alpha. NaNs are kept and not counted. (scipy has only FDR procedures; statsmodels'
    ``multipletests(method="holm")`` gives the same numbers.)"""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    valid = np.flatnonzero(~np.isnan(p))
    order = valid[np.argsort(p[valid], kind="stable")]
    m = len(order)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running
    return adjusted


# ---------------------------------------------------------------- across datasets (Demšar 2006)


def nemenyi_critical_difference(k: int, n: int, alpha: float = 0.05) -> float:
    """Nemenyi's critical difference of average ranks for k methods on n datasets (Demšar 2006,
    "Statistical Comparisons of Classifiers over Multiple Data Sets", JMLR 7, eq. 6 and Table 5):
    ``q_alpha * sqrt(k (k + 1) / (6 n))``, with q_alpha the studentized range quantile over sqrt(2)."""
    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    return float(q * np.sqrt(k * (k + 1) / (6 * n)))


def friedman_from_ranks(average_ranks, n: int) -> tuple[float, float]:
    """Friedman's chi-square and Iman & Davenport's F from average ranks (Demšar 2006, eqs. 3-4), for
    checking against published tables; :func:`compare_over_datasets` uses scipy on the scores."""
    ranks = np.asarray(average_ranks, dtype=float)
    k = len(ranks)
    chi2 = 12 * n / (k * (k + 1)) * (np.sum(ranks ** 2) - k * (k + 1) ** 2 / 4)
    return float(chi2), float((n - 1) * chi2 / (n * (k - 1) - chi2))


@dataclass(frozen=True)
class AcrossDatasets:
    """Conditions compared over datasets, one score per (dataset, condition).

    Attributes:
        datasets, conditions (list[str]): The rows and columns compared.
        average_ranks (dict[str, float]): Mean rank per condition over datasets (1 = best).
        friedman_p (float): Friedman test p-value (scipy, ties corrected); NaN with < 3 conditions.
        critical_difference (float): Nemenyi CD at 0.05 (two average ranks further apart differ).
        nemenyi_p (pd.DataFrame | None): Nemenyi post-hoc p-values (scikit-posthocs).
        wilcoxon_p (dict[str, float]): Per condition but the first, Wilcoxon signed-rank p of its
            per-dataset differences to the first condition (the two-condition test of Demšar 2006).
    """

    datasets: list
    conditions: list
    average_ranks: dict
    friedman_p: float
    critical_difference: float
    nemenyi_p: object
    wilcoxon_p: dict


def compare_over_datasets(scores) -> AcrossDatasets:
    """Demšar (2006)'s procedure on a (datasets × conditions) table of mean scores, higher = better:
    Wilcoxon signed-rank tests against the first column, and for three or more conditions the
    Friedman test with the Nemenyi post-hoc test (scikit-posthocs) and its critical difference."""
    import pandas as pd
    import scikit_posthocs

    scores = pd.DataFrame(scores).dropna()
    ranks = scores.rank(axis=1, ascending=False)
    k, n = scores.shape[1], scores.shape[0]
    first = scores.columns[0]
    wilcoxon_p = {}
    for column in scores.columns[1:]:
        differences = scores[column] - scores[first]
        wilcoxon_p[column] = float(stats.wilcoxon(differences).pvalue) if n >= 2 and differences.any() else float("nan")
    friedman_p, nemenyi = float("nan"), None
    if k >= 3 and n >= 2:
        friedman_p = float(stats.friedmanchisquare(*(scores[c] for c in scores.columns)).pvalue)
        nemenyi = scikit_posthocs.posthoc_nemenyi_friedman(scores.to_numpy())
        nemenyi.index = nemenyi.columns = list(scores.columns)
    return AcrossDatasets(list(scores.index), list(scores.columns), ranks.mean().to_dict(), friedman_p,
                          nemenyi_critical_difference(k, n) if k >= 2 and n >= 1 else float("nan"), nemenyi,
                          wilcoxon_p)


@dataclass(frozen=True)
class SeedsAndSentences:
    """An estimate over seeds evaluated on one shared test set, with an interval that includes the
    test set's sampling error: mean, standard error, Satterthwaite degrees of freedom, the interval
    at the asked level, the 90% interval (what a TOST equivalence test at 0.05 reads) and the
    two-sided p of "zero"."""

    mean: float
    se: float
    df: float
    ci_low: float
    ci_high: float
    ci90_low: float
    ci90_high: float
    p: float


def _row_and_residual_mean_squares(table: np.ndarray) -> tuple[float, float]:
    """Two-way layout without replication (rows × columns, one value per cell): the rows' mean
    square and the residual (interaction) mean square."""
    rows, columns = table.shape
    row_means, column_means = table.mean(axis=1), table.mean(axis=0)
    residual = table - row_means[:, None] - column_means[None, :] + table.mean()
    return float(columns * row_means.var(ddof=1)), float((residual ** 2).sum() / ((rows - 1) * (columns - 1)))


def seeds_and_sentences(groups, confidence: float = 0.95) -> SeedsAndSentences:
    """A weighted sum of seed-means over one shared test set, with seeds *and* sentences as random.

    All seeds share one test set, so a t-test or bootstrap over seeds alone leaves the test set's
    sampling error out (nominal 95% intervals then cover far less often). Each group is a seeds ×
    sentences table with one score per cell; as a two-way random-effects model (sentence, seed,
    residual), the variance of the estimate ``D = Σ w_g · mean_g`` is estimated without bias from
    mean squares: the per-sentence contrast ``x_i = Σ w_g · (mean over g's seeds on sentence i)``
    carries the sentence effects and residuals, ``var(x) / N``; each group adds its seed
    variance, ``w_g² (MS_seed − MS_residual) / (N · S_g)`` (floored at 0). The interval uses
    Satterthwaite's degrees of freedom. (A two-level bootstrap that resamples seeds and sentences
    counts the residual twice and over-covers; this does not: see tests/test_stats.py's simulation.)

    Args:
        groups: ``[(matrix, weight), ...]``; each matrix is seeds × test examples (0/1 correctness,
            or a paired per-seed difference of two conditions' correctness). One group with weight
            1 is a mean accuracy; ``[(gain at size A, 1), (gain at size B, -1)]`` contrasts two
            sizes' gains (different seeds' runs, the same test sentences).
        confidence (float): Level of the interval.
    """
    tables = [(np.asarray(m, dtype=float), float(w)) for m, w in groups]
    examples = tables[0][0].shape[1]
    if any(m.shape[1] != examples for m, _ in tables):
        raise ValueError("every group must be scored on the same test examples")
    contrast = sum(w * m.mean(axis=0) for m, w in tables)  # per sentence
    sentence_part = float(contrast.var(ddof=1) / examples)
    seed_parts, seed_dfs = [], []
    for m, w in tables:
        seeds = len(m)
        if seeds < 2:
            continue
        ms_seed, ms_residual = _row_and_residual_mean_squares(m)
        seed_parts.append(w * w * max(0.0, ms_seed - ms_residual) / (examples * seeds))
        seed_dfs.append(seeds - 1)
    variance = sentence_part + sum(seed_parts)
    mean = float(contrast.mean())
    if variance <= 0:
        return SeedsAndSentences(mean, 0.0, float("inf"), mean, mean, mean, mean, float("nan"))
    denominator = sentence_part ** 2 / (examples - 1) + sum(v * v / d for v, d in zip(seed_parts, seed_dfs))
    df = variance ** 2 / denominator if denominator > 0 else float(examples - 1)
    se = float(np.sqrt(variance))
    half = float(stats.t.ppf(0.5 + confidence / 2, df)) * se
    half90 = float(stats.t.ppf(0.95, df)) * se
    p = float(2 * stats.t.sf(abs(mean) / se, df))
    return SeedsAndSentences(mean, se, float(df), mean - half, mean + half, mean - half90, mean + half90, p)


def equivalent(ci90_low: float, ci90_high: float, margin: float) -> bool:
    """TOST at 0.05 (Schuirmann 1987): both one-sided tests reject exactly when the 90% interval of
    the difference lies inside ``(-margin, margin)``."""
    return -margin < ci90_low and ci90_high < margin
