"""Calibration: does a condition's confidence mean what it says? Expected calibration error (ECE,
Guo et al. 2017) per condition, from the confidence each run recorded for its test predictions.

ECE = sum over confidence bins of (share of predictions in the bin) x |accuracy - mean confidence|,
15 equal-width bins over [0, 1], computed per run and averaged over the condition's runs (each run is
one model; pooling their predictions would mix models). A well-calibrated model's 0.9 is right 90%
of the time; a CNN trained to a one-hot target is usually overconfident.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from embedlab.experiments.running.records import read_predictions

BINS = 15
KEYS = ["variant", "dataset", "vectors", "model", "train_size", "embedding"]


def expected_calibration_error(confidence, correct, bins: int = BINS) -> float:
    """ECE of predictions with these confidences (max class probability) and correctness (0/1)."""
    confidence, correct = np.asarray(confidence, float), np.asarray(correct, float)
    if len(confidence) == 0:
        return float("nan")
    # Bin i holds confidences in (i/bins, (i+1)/bins]; a confidence of exactly 0 goes to the first.
    which = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    total = 0.0
    for b in np.unique(which):
        members = which == b
        total += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    return float(total)


def run_calibration(run_dir: Path) -> tuple[float, float, float] | None:
    """``(ECE, mean confidence, accuracy)`` of one run's test predictions; None without them."""
    path = Path(run_dir) / "predictions.csv"
    if not path.exists():
        return None
    frame = read_predictions(run_dir)
    correct = frame["correct"].to_numpy(float)
    return expected_calibration_error(frame["confidence"], correct), float(frame["confidence"].mean()), float(correct.mean())


def calibration_table(runs: pd.DataFrame, runs_dir: Path) -> pd.DataFrame:
    """Mean ECE, confidence and accuracy per condition (runs with predictions only)."""
    rows = []
    for row in runs.drop_duplicates(KEYS + ["run_id"]).itertuples(index=False):
        measured = run_calibration(Path(runs_dir) / row.run_id)
        if measured is not None:
            rows.append({**{k: getattr(row, k) for k in KEYS}, "ece": measured[0], "confidence": measured[1],
                         "accuracy": measured[2]})
    if not rows:
        return pd.DataFrame()
    frame = pd.DataFrame(rows)
    return frame.groupby(KEYS, sort=True, dropna=False).agg(
        runs=("ece", "size"), ece=("ece", "mean"), ece_sd=("ece", "std"), confidence=("confidence", "mean"),
        accuracy=("accuracy", "mean")).reset_index()


def calibration_markdown(runs: pd.DataFrame, runs_dir: Path) -> str:
    table = calibration_table(runs, runs_dir)
    if table.empty:
        return ""
    show_variant = table["variant"].ne("–").any()
    head = (["variant"] if show_variant else []) + ["dataset", "vectors", "model", "size", "condition", "runs",
                                                     "accuracy %", "mean confidence %", "ECE (pts) ± sd"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in table.itertuples(index=False):
        cells = ([str(r.variant)] if show_variant else []) + [
            str(r.dataset), str(r.vectors), str(r.model), f"{r.train_size:g}", str(r.embedding), str(r.runs),
            f"{100 * r.accuracy:.1f}", f"{100 * r.confidence:.1f}",
            f"{100 * r.ece:.1f}" + ("" if r.ece_sd != r.ece_sd else f" ± {100 * r.ece_sd:.1f}")]
        lines.append("| " + " | ".join(cells) + " |")
    return ("Expected calibration error (Guo et al. 2017; 15 equal-width confidence bins, per run, then the mean "
            "over runs): the gap between how sure a model is and how often it is right, in points. Mean "
            "confidence above accuracy: overconfident. `embedlab predict` divides its models' log-probabilities "
            "by a temperature fitted on the dev set (recorded in the model folder) to correct this.\n\n"
            + "\n".join(lines))
