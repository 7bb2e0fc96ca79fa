"""Which test a comparison of runs gets, decided in one place from how the runs were repeated, so
that the same runs are tested the same way wherever they reappear (gain tables, Kim's Table 2,
claims).

- Cross-validation (one score per fold, and per seed when the CV is repeated with several seeds):
  folds share most of their training data, so the paired differences get Nadeau & Bengio's
  corrected resampled t; with several seeds, which re-train on the same partition, the corrected
  variance of the fold means plus the seed effect's share (:func:`stats.corrected_seeds_by_folds`;
  Bouckaert & Frank's repeated k-fold form assumes a new partition per repetition).
- Seeds on one split: every seed shares one test set, so a test over seeds alone leaves the test
  set's sampling error out; accuracy gets the seeds × sentences test (two-way random effects on the
  runs' per-example correctness, :func:`stats.seeds_and_sentences`).
- Seeds on one split for a metric that is not a per-example mean (macro-F1), or runs without their
  predictions: the paired t over seeds, named as such ("seeds only").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from embedlab.experiments.reporting import stats
from embedlab.experiments.running.records import correct_per_example


@dataclass(frozen=True)
class DesignTest:
    """A difference (a − b, or runs − a published value) as the design's test gives it, in the
    metric's units (fractions): the estimate, its 95% and 90% intervals (the 90% one is what a TOST
    reads), the two-sided p, the standard error, the repetitions it rests on and the test's name."""

    mean: float
    low: float
    high: float
    low90: float
    high90: float
    p: float
    se: float
    pairs: int
    name: str

    def in_points(self) -> "DesignTest":
        """The same test with the difference in accuracy points (× 100); p and pairs unchanged."""
        return replace(self, mean=self.mean * 100, low=self.low * 100, high=self.high * 100,
                       low90=self.low90 * 100, high90=self.high90 * 100, se=self.se * 100)

    @property
    def detectable(self) -> float:
        """The smallest difference the test would find with 80% power at 0.05 (2.8 × SE)."""
        return 2.8 * self.se


def _cross_validated(rows: pd.DataFrame) -> bool:
    folds = rows["fold"].fillna(-1)
    return bool((folds >= 0).all() and folds.nunique() > 1)


def seeds_by_folds(rows: pd.DataFrame) -> tuple[int, int, bool] | None:
    """Seeds and folds that cross-validated runs (columns ``seed``, ``fold``) span, and whether they
    fill the seeds × folds table once (each seed re-trained on every fold); None for runs that are
    not cross-validated (seeds on one split)."""
    if not _cross_validated(rows):
        return None
    seeds, folds = rows["seed"].nunique(), rows["fold"].nunique()
    return seeds, folds, len(rows) == seeds * folds and not rows.duplicated(["seed", "fold"]).any()


def _corrected(differences: np.ndarray, rows: pd.DataFrame) -> DesignTest:
    n_train, n_test = float((rows["n_train"] + rows["n_dev"]).mean()), float(rows["n_test"].mean())
    folds, seeds = rows["fold"].nunique(), rows["seed"].nunique()
    table = (pd.DataFrame({"seed": rows["seed"].to_numpy(), "fold": rows["fold"].to_numpy(), "d": differences})
             .pivot_table(index="seed", columns="fold", values="d"))
    if seeds > 1 and not table.isna().any().any():  # seeds re-train on the same folds (one split_seed)
        t95 = stats.corrected_seeds_by_folds(table.to_numpy(), n_train, n_test)
        t90 = stats.corrected_seeds_by_folds(table.to_numpy(), n_train, n_test, confidence=0.90)
        name = f"corrected t, {seeds} seeds × {folds} folds on one partition"
    else:
        t95 = stats.corrected_resampled_t(differences, n_train, n_test)
        t90 = stats.corrected_resampled_t(differences, n_train, n_test, confidence=0.90)
        name = (f"corrected resampled t, {folds} folds" if seeds == 1
                else f"corrected resampled t, {len(differences)} seed × fold pairs (incomplete)")
    return DesignTest(t95.mean, t95.ci_low, t95.ci_high, t90.ci_low, t90.ci_high, t95.p, t95.se, len(differences),
                      name)


def _correctness(rows: pd.DataFrame, runs_dir: Path | None) -> np.ndarray | None:
    """Seeds × test examples of 0/1 correctness from the runs' predictions (None where missing)."""
    if runs_dir is None or not all((runs_dir / r / "predictions.csv").is_file() for r in rows["run_id"]):
        return None
    return np.vstack([correct_per_example(runs_dir / run_id) for run_id in rows["run_id"]])


def _seeds_and_sentences(groups, pairs: int, name: str) -> DesignTest:
    result = stats.seeds_and_sentences(groups)
    return DesignTest(result.mean, result.ci_low, result.ci_high, result.ci90_low, result.ci90_high, result.p,
                      result.se, pairs, name)


def _seeds_only(differences: np.ndarray) -> DesignTest:
    gain = stats.paired_gain(differences, np.zeros_like(differences))
    n = len(differences)
    se = float(differences.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
    half90 = float(scipy_stats.t.ppf(0.95, n - 1) * se) if n > 1 else float("nan")
    return DesignTest(gain.mean, gain.ci_low, gain.ci_high, gain.mean - half90, gain.mean + half90, gain.t_p, se, n,
                      f"paired t, {n} seeds only (test sentences not resampled)")


def paired_difference(a: pd.DataFrame, b: pd.DataFrame, metric: str, runs_dir: Path | None,
                      versus: tuple[pd.DataFrame, pd.DataFrame] | None = None,
                      runs_dir_b: Path | None = None) -> DesignTest:
    """a − b over runs paired row by row (same seed and fold), or, with ``versus = (a2, b2)``, the
    contrast (a − b) − (a2 − b2) of two gains measured on the same test sentences (a sweet spot).

    Args:
        a, b (pd.DataFrame): Paired runs (``run_id``, ``seed``, ``fold``, sizes and ``metric``).
        metric (str): ``accuracy`` or ``macro_f1``.
        runs_dir (Path | None): The folder of the runs' files (their per-example predictions).
        versus: The second gain of a contrast (one split only).
        runs_dir_b (Path | None): The folder of ``b``'s runs where it is another output folder's
            (``embedlab compare``); default ``runs_dir``.
    """
    if versus is None and _cross_validated(a):
        return _corrected(a[metric].to_numpy(float) - b[metric].to_numpy(float), a)
    sides = [(a, b, 1.0)] + ([(versus[0], versus[1], -1.0)] if versus is not None else [])
    if metric == "accuracy":
        groups = []
        for first, second, weight in sides:
            right_a, right_b = _correctness(first, runs_dir), _correctness(second, runs_dir_b or runs_dir)
            if right_a is None or right_b is None:
                break
            groups.append((right_a - right_b, weight))
        else:
            seeds = " + ".join(str(len(first)) for first, _, _ in sides)
            name = (f"contrast of two gains, seeds × sentences t, {seeds} seeds" if versus is not None
                    else f"seeds × sentences t, {seeds} seeds")
            return _seeds_and_sentences(groups, len(a), name)
    if versus is not None:
        raise ValueError("a contrast of two gains needs the runs' per-example predictions (accuracy)")
    return _seeds_only(a[metric].to_numpy(float) - b[metric].to_numpy(float))


def difference_from(rows: pd.DataFrame, value: float, metric: str, runs_dir: Path | None) -> DesignTest:
    """The runs' mean ``metric`` minus a fixed ``value`` (e.g. a published accuracy)."""
    if _cross_validated(rows):
        return _corrected(rows[metric].to_numpy(float) - value, rows)
    right = _correctness(rows, runs_dir) if metric == "accuracy" else None
    if right is not None:
        test = _seeds_and_sentences([(right, 1.0)], len(rows), f"seeds × sentences t, {len(rows)} seeds")
        return DesignTest(test.mean - value, test.low - value, test.high - value, test.low90 - value,
                          test.high90 - value, float("nan"), test.se, test.pairs, test.name)
    return _seeds_only(rows[metric].to_numpy(float) - value)
