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
    t_p = wilcoxon_p = float("nan")
    if n >= 2 and np.ptp(differences) > 0:
        t_p = float(stats.ttest_rel(treatment, baseline).pvalue)
    if n >= 2 and np.any(differences != 0):
        wilcoxon_p = float(stats.wilcoxon(differences).pvalue)
    low, high = bootstrap_ci(differences)
    return PairedGain(n, float(differences.mean()) if n else float("nan"), low, high, t_p, wilcoxon_p)


@dataclass(frozen=True)
class CorrectedT:
    """Nadeau & Bengio (2003)'s corrected resampled t-test of a mean paired difference.

    Attributes:
        n (int): Number of pairs (folds or resamples).
        mean (float): Mean of the paired differences.
        ci_low, ci_high (float): 95% interval from the corrected standard error (NaN below 2 pairs).
        p (float): Two-sided p-value (NaN below 2 pairs or without variance).
    """

    n: int
    mean: float
    ci_low: float
    ci_high: float
    p: float


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
        return CorrectedT(n, mean, mean, mean, float("nan"))
    se = float(np.sqrt(variance))
    t = mean / se
    p = float(2 * stats.t.sf(abs(t), n - 1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * se)
    return CorrectedT(n, mean, mean - half, mean + half, p)


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
