"""float32 against mixed bfloat16, side by side in one bench run (issue: "bfloat16 where it pays").

Three measurements, each through the suite's own training path (``train.train_run``: length-bucketed
batches, sparse Adam, early-stopping callbacks), one TF thread:

* epochs of Kim's CNN at 300 d on MR (rand, and non-static with Kim's word2vec subset at his scale);
* epochs of MiniLM fine-tuning on MR (the settings of ``configs/modern_embeddings.yaml``);
* the 300-d half of ``kim2014_table2`` as a grid: its MR part (4 conditions × 10 folds = 40 runs) in
  each precision on 2 worker processes, accuracies paired by (condition, fold).

An epoch's time is the median of the epochs after the first (the first traces the step functions).
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
PRECISIONS = ("float32", "mixed_bfloat16")
# Within noise: the paired 95% CI of the difference covers 0 and |mean difference| ≤ this (points).
NOISE_POINTS = 0.5


def kim_mr_300d(precision: str, **overrides):
    """``configs/kim2014_table2.yaml`` restricted to MR (Kim's 10,662 sentences), in ``precision``."""
    from embedlab.experiments.config import ExperimentConfig

    raw = yaml.safe_load((REPO / "configs" / "kim2014_table2.yaml").read_text())
    raw["name"] = f"kim_mr_300d_{precision}"
    raw["grid"] = {**raw["grid"], "dataset": ["kim_mr"], **overrides.pop("grid", {})}
    raw["training"] = {**raw["training"], "precision": precision, **overrides.pop("training", {})}
    return ExperimentConfig.model_validate({**raw, **overrides})


def minilm_finetune(precision: str, epochs: int):
    """MR holdout, MiniLM fine-tuned as ``configs/modern_embeddings.yaml``'s variant minilm_finetuned."""
    from embedlab.experiments.config import ExperimentConfig

    raw = yaml.safe_load((REPO / "configs" / "modern_embeddings.yaml").read_text())
    variant = raw["variants"]["minilm_finetuned"]
    training = {key.split(".", 1)[1]: value for key, value in variant.items() if key.startswith("training.")}
    return ExperimentConfig.model_validate({
        "name": f"minilm_{precision}", "data": {"dataset": "mr", "protocol": "holdout"},
        "training": {**raw["training"], **training, "precision": precision, "max_epochs": epochs, "patience": epochs},
        "grid": {"model": ["minilm"], "embedding": ["non-static"]}})


def epoch_seconds(run) -> dict:
    """Trains ``run`` through the suite's path; the median epoch after the first, and the epochs."""
    from embedlab.experiments.running.train import train_run

    result = train_run(run)
    seconds = [row["seconds"] for row in result.history]
    return {"epoch_s": statistics.median(seconds[1:]) if len(seconds) > 1 else seconds[0],
            "epochs": seconds, "precision": result.precision}


def phase_epochs() -> dict:
    """Seconds per epoch, float32 and mixed bfloat16 side by side (alternating, to share any drift)."""
    from embedlab.experiments.running.train import configure_threads

    configure_threads(1)
    cnn = {"training": {"max_epochs": 3, "patience": 3}, "grid": {"fold": [0], "seed": [0]}}
    out: dict = {}
    for label, embedding in (("cnn300/rand", "rand"), ("cnn300/non-static", "non-static")):
        for precision in PRECISIONS:
            config = kim_mr_300d(precision, training=dict(cnn["training"]),
                                 grid={**cnn["grid"], "embedding": [embedding]})
            out[f"{label}/{precision}"] = epoch_seconds(config.runs()[0])
    for precision in PRECISIONS:
        out[f"minilm/non-static/{precision}"] = epoch_seconds(minilm_finetune(precision, epochs=2).runs()[0])
    return out


def phase_grid(precision: str, workers: int) -> dict:
    """The 40-run MR grid in one precision, into a fresh folder; wall time and accuracies by fold."""
    from embedlab.experiments.running.runner import run_grid
    from embedlab.experiments.running.store import ResultsStore

    config = kim_mr_300d(precision)
    out = REPO / "results" / "bench" / f"{config.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    started = time.perf_counter()
    outcome = run_grid(config, out, executor="processes", workers=workers, log=open(os.devnull, "w"))
    wall = time.perf_counter() - started
    frame = ResultsStore(out).frame()
    return {"precision": precision, "recorded_precision": sorted(set(frame["precision"])), "wall_s": wall,
            "runs": int(outcome.finished), "failed": int(outcome.failed), "outdir": str(out.relative_to(REPO)),
            "train_s": float(frame["train_seconds"].sum()),
            "paired": frame[["embedding", "fold", "accuracy", "train_seconds"]].to_dict("records")}


def render(epochs: dict | None, grids: list[dict]) -> list[str]:
    import pandas as pd

    from bench import paired_row  # bench/bench.py: this script's folder is first on sys.path

    lines: list[str] = []
    if epochs:
        lines += ["| work (one TF thread, suite's training path) | float32 | mixed_bfloat16 | bf16 speed-up |",
                  "|---|---|---|---|"]
        for key, label in (("cnn300/rand", "Kim CNN, 300 d, rand, MR epoch"),
                           ("cnn300/non-static", "Kim CNN, 300 d word2vec, non-static, MR epoch"),
                           ("minilm/non-static", "MiniLM fine-tuning, MR epoch (batch 32)")):
            f32, bf16 = epochs[f"{key}/float32"], epochs[f"{key}/mixed_bfloat16"]
            lines.append(f"| {label} | {f32['epoch_s']:.2f} s | {bf16['epoch_s']:.2f} s "
                         f"| {f32['epoch_s'] / bf16['epoch_s']:.2f}× |")
    by_precision = {g["precision"]: g for g in grids}
    if set(by_precision) == set(PRECISIONS):
        f32, bf16 = (by_precision[p] for p in PRECISIONS)
        lines += ["", "kim2014_table2's MR part (Kim's word2vec 300 d; 4 conditions × 10 folds), 2 worker processes:",
                  "", "| precision | runs | wall | run time (sum) | recorded precision |", "|---|---|---|---|---|"]
        for g in (f32, bf16):
            lines.append(f"| {g['precision']} | {g['runs']} | {g['wall_s'] / 60:.1f} min | {g['train_s'] / 60:.1f} min "
                         f"| {', '.join(g['recorded_precision'])} |")
        lines.append(f"| speed-up | | {f32['wall_s'] / bf16['wall_s']:.2f}× | {f32['train_s'] / bf16['train_s']:.2f}× | |")
        merged = pd.DataFrame(f32["paired"]).merge(pd.DataFrame(bf16["paired"]), on=["embedding", "fold"],
                                                   suffixes=("_f32", "_bf16"))
        lines += ["", f"Accuracy paired by fold (%; within noise: the 95% CI covers 0 and |mean| ≤ {NOISE_POINTS}):", "",
                  "| condition | pairs | float32 | bf16 | bf16 − float32 | paired 95% CI | within noise? |",
                  "|---|---|---|---|---|---|---|"]
        groups = [*merged.groupby("embedding"), ("all", merged)]
        for name, group in groups:
            lines.append(paired_row(name, group["accuracy_f32"], group["accuracy_bf16"], NOISE_POINTS))
    return lines
