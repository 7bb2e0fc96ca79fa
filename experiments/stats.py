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
