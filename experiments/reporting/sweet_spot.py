"""Qi et al. (2018)'s sweet spot as a tested claim, not an argmax.

On a learning curve every size's runs are scored on the same test sentences, with a few seeds per
size. For each pretrained condition this module gives, per size, the gain over rand with an
interval that includes the test set's sampling error (seeds and sentences both random); where the
gain peaks, as the share of resamples (seeds per size, sentences shared) whose largest gain is at
each size; and two contrasts with the same test: peak vs the smallest size and peak vs all the data.
"No distinguishable peak" is said when neither contrast is significant.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from embedlab.experiments.running.records import correct_per_example

KEYS = ["dataset", "vectors", "model", "embedding"]


@dataclass(frozen=True)
class SweetSpot:
    """One condition's curve: per-size gains with 95% intervals (points), where the peak falls
    across resamples, and the peak's contrasts with the smallest and the largest size."""

    key: tuple
    sizes: list[float]
    examples: list[float]
    gains: list[float]
    lows: list[float]
    highs: list[float]
    peak_share: dict[float, float]
    peak: float
    versus_smallest: tuple[float, float, float, float] | None  # gain difference, low, high, p
    versus_full: tuple[float, float, float, float] | None


def gain_tables(runs: pd.DataFrame, outdir: Path) -> dict[tuple, dict[float, np.ndarray]]:
    """Per condition and size: seeds × test sentences of (pretrained right) − (rand right), paired
    by seed. Sizes whose test sentences differ (they should not on one split) are left out."""
    runs = runs.assign(vectors=runs["vectors"].fillna("–"))
    rand = runs[runs["embedding"] == "rand"].set_index(["dataset", "vectors", "model", "train_size", "seed"])
    tables: dict[tuple, dict[float, np.ndarray]] = {}
    for key, rows in runs[runs["embedding"] != "rand"].groupby(KEYS):
        dataset, vectors, model, _ = key
        by_size = {}
        for size, part in rows.groupby("train_size"):
            pairs = [(r.run_id, rand.loc[(dataset, vectors, model, size, r.seed), "run_id"]) for r in part.itertuples()
                     if (dataset, vectors, model, size, r.seed) in rand.index]
            if pairs:
                runs_dir = Path(outdir) / "runs"
                by_size[float(size)] = np.vstack([correct_per_example(runs_dir / a) - correct_per_example(runs_dir / b)
                                                  for a, b in pairs])
        widths = {m.shape[1] for m in by_size.values()}
        if len(by_size) >= 2 and len(widths) == 1:
            tables[key] = by_size
    return tables


def sweet_spots(runs: pd.DataFrame, outdir: Path, resamples: int = 2000, seed: int = 0) -> list[SweetSpot]:
    """The tested sweet spot of every pretrained condition of a learning-curve grid."""
    from embedlab.experiments.reporting.stats import seeds_and_sentences

    examples = runs.groupby("train_size")["n_train"].mean()
    spots = []
    for key, by_size in gain_tables(runs, outdir).items():
        sizes = sorted(by_size)
        intervals = [seeds_and_sentences([(by_size[s], 1.0)]) for s in sizes]
        shares = _peak_shares([by_size[s] for s in sizes], resamples, seed)
        peak = sizes[int(np.argmax([i.mean for i in intervals]))]

        def contrast(other: float):
            if other == peak:
                return None
            c = seeds_and_sentences([(by_size[peak], 1.0), (by_size[other], -1.0)])
            return c.mean * 100, c.ci_low * 100, c.ci_high * 100, c.p

        spots.append(SweetSpot(key, sizes, [float(examples.get(s, np.nan)) for s in sizes],
                               [i.mean * 100 for i in intervals], [i.ci_low * 100 for i in intervals],
                               [i.ci_high * 100 for i in intervals], dict(zip(sizes, shares)), peak,
                               contrast(sizes[0]), contrast(sizes[-1])))
    return spots


def _peak_shares(tables: list[np.ndarray], resamples: int, seed: int) -> list[float]:
    """Share of resamples whose largest gain is at each size: sentences resampled once for all
    sizes (one test set), seeds per size."""
    rng = np.random.default_rng(seed)
    examples = tables[0].shape[1]
    sentences = rng.multinomial(examples, np.full(examples, 1 / examples), size=resamples) / examples
    gains = np.column_stack([
        ((rng.multinomial(len(m), np.full(len(m), 1 / len(m)), size=resamples) / len(m)) @ m * sentences).sum(axis=1)
        for m in tables])
    counts = np.bincount(gains.argmax(axis=1), minlength=len(tables))
    return list(counts / resamples)


def sweet_spot_markdown(spots: list[SweetSpot]) -> str:
    """One line per condition: the peak, how often resampling puts it there, and its two tests."""
    lines = []
    for spot in spots:
        dataset, vectors, model, embedding = spot.key
        shares = ", ".join(f"{s:g}: {spot.peak_share[s] * 100:.0f}%" for s in spot.sizes)
        tests = []
        for name, result in (("the smallest size", spot.versus_smallest), ("all the data", spot.versus_full)):
            if result is not None:
                diff, low, high, p = result
                tests.append(f"peak − {name} {diff:+.1f} [{low:+.1f}, {high:+.1f}], p = {p:.3g}")
        significant = [r for r in (spot.versus_smallest, spot.versus_full) if r is not None and r[3] < 0.05]
        verdict = ("the gain at the peak exceeds " + " and ".join(
            n for n, r in (("the smallest size's", spot.versus_smallest), ("full size's", spot.versus_full))
            if r is not None and r[3] < 0.05)) if significant else "no distinguishable peak"
        lines.append(f"- {dataset} / {model} / {embedding} ({vectors}): largest mean gain at {spot.peak:g} of the data; "
                     f"resampling puts the peak at {shares}. {'; '.join(tests) or 'peak at an end of the curve'}: "
                     f"**{verdict}** (unadjusted p; seeds and test sentences random).")
    return ("Where the gain peaks, tested (seeds per size and the shared test sentences both random): the share "
            "of resamples whose largest gain falls at each size, and the peak's gain against the smallest "
            "size's and against all the data's.\n\n" + "\n".join(lines) + "\n")
