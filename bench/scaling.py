"""What a user's own large dataset costs (issue: "what a 1M-sentence user dataset costs").

User CSVs of 10k, 100k and 1M sentences are built by sampling (with replacement, seeded) the real
sentences of the registry's binary sentiment datasets, and cached outside the repository. Each size
is measured in its own process, so its peak RSS is its own:

* load: ``load_user_dataset`` (the CSV reader a config's ``data.dataset: {path: ...}`` uses);
* tokenise: the suite's tokenizer over every text;
* vocabulary: ``Vocabulary.fit`` over every text and the encoding of all of them to ids;
* epoch: one epoch of Kim's CNN (rand, 50 d, no vector set loaded, batch 50, one TF thread) through ``train.train_run``,
  after the suite's own ``prepare_split`` (which loads, tokenises and indexes again, as a worker does).

Then a grid of 8 runs (rand / static / non-static / multichannel × 2 seeds, GloVe 50d, 2 epochs) on
the 100k file with 2 worker processes: wall time, and each worker's peak RSS against the
single-process figure (a worker holds the data once: the dataset, its tokens and the split's ids).
"""

from __future__ import annotations

import csv
import os
import resource
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZES = (10_000, 100_000, 1_000_000)
SOURCES = ("mr", "vader_tweets", "vader_amazon", "vader_nyt", "kim_mr", "cr", "mpqa", "sst2")


def user_csv(n: int) -> Path:
    """A CSV of ``n`` real sentences (text, label), sampled from SOURCES; built once, cached."""
    import numpy as np

    from embedlab.data.cache import cache_dir
    from embedlab.data.datasets import load_dataset

    path = cache_dir("bench") / f"user_{n}.csv"
    if path.exists():
        return path
    texts, labels = [], []
    for source in SOURCES:
        dataset = load_dataset(source)
        names = dataset.card.classes
        texts += list(dataset.texts)
        labels += [names[int(k)] for k in dataset.labels]
    pick = np.random.default_rng(n).integers(0, len(texts), n)
    partial = path.with_suffix(".partial")
    with partial.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows((texts[i], labels[i]) for i in pick)
    partial.replace(path)
    return path


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process, MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _config(path: Path, name: str, vectors: str | None = None, epochs: int = 1, **grid):
    """A holdout config on the user file; without ``vectors`` (rand only) no vector set is loaded, so
    the memory figures are the data's."""
    from embedlab.experiments.config import ExperimentConfig

    return ExperimentConfig.model_validate({
        "name": name, "data": {"dataset": {"path": str(path), "text": "text", "label": "label"},
                               "protocol": "holdout", "test_fraction": 0.1},
        "vectors": vectors, "model": {"embedding_dim": 50},
        "training": {"max_epochs": epochs, "patience": epochs, "batch_size": 50},
        "grid": {"embedding": ["rand"], **grid}})


def phase_size(n: int) -> dict:
    """The phases' seconds and memory for one file size (in a process of its own)."""
    from embedlab.data.text import Vocabulary, tokenize
    from embedlab.data.user_data import load_user_dataset
    from embedlab.experiments.running.prepare import prepare_split
    from embedlab.experiments.running.train import configure_threads, train_run

    path = user_csv(n)
    out = {"n": n, "file_mb": path.stat().st_size / 2**20, "start_rss_mb": rss_mb()[0]}

    def timed(name, work):
        clock = time.perf_counter()
        value = work()
        out[f"{name}_s"] = time.perf_counter() - clock
        out[f"{name}_rss_mb"], out[f"{name}_peak_mb"] = rss_mb()
        return value

    dataset = timed("load", lambda: load_user_dataset(path, "text", "label"))
    tokens = timed("tokenise", lambda: [tokenize(t) for t in dataset.texts])
    vocab = timed("vocabulary", lambda: Vocabulary().fit(tokens))
    timed("encode", lambda: vocab.encode(tokens, 100))
    out["vocabulary_words"] = len(vocab)
    del dataset, tokens, vocab
    configure_threads(1)
    run = _config(path, f"scale_{n}").runs()[0]
    prepared = timed("prepare", lambda: prepare_split(run))
    result = timed("train", lambda: train_run(run, prepared))
    out["epoch_s"] = result.history[0]["seconds"]
    out["n_train"] = result.n_train
    return out


def phase_grid(workers: int = 2) -> dict:
    """8 runs on the 100k file with ``workers`` processes."""
    import json

    from embedlab.experiments.running.runner import run_grid

    config = _config(user_csv(100_000), "scale_grid_100k", "glove-6b-50d", epochs=2,
                     embedding=["rand", "static", "non-static", "multichannel"], seed=[0, 1])
    out = REPO / "results" / "bench" / f"scale_grid_100k-{time.strftime('%Y%m%d-%H%M%S')}"
    started = time.perf_counter()
    outcome = run_grid(config, out, executor="processes", workers=workers, log=open(os.devnull, "w"))
    wall = time.perf_counter() - started
    timings = [json.loads(p.read_text())["timings"] for p in (out / "runs").glob("*/metrics.json")]
    return {"runs": int(outcome.finished), "failed": int(outcome.failed), "wall_s": wall, "workers": workers,
            "worker_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "parent_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "prepare_s": sum(t["prepare_seconds"] for t in timings) / len(timings),
            "fit_s": sum(t["fit_seconds"] for t in timings) / len(timings), "outdir": str(out.relative_to(REPO))}


def render(sizes: list[dict], grid: dict | None) -> list[str]:
    lines = ["| sentences | CSV | load | tokenise | vocabulary | encode | suite's prepare_split | one CNN epoch "
             "(rand 50 d) | RSS after load / tokens / prepare / epoch | peak RSS |", "|---|---|---|---|---|---|---|---|---|---|"]
    for s in sizes:
        lines.append(
            f"| {s['n']:,} | {s['file_mb']:.1f} MB | {s['load_s']:.2f} s | {s['tokenise_s']:.2f} s | {s['vocabulary_s']:.2f} s "
            f"| {s['encode_s']:.2f} s | {s['prepare_s']:.2f} s | {s['epoch_s']:.1f} s "
            f"| {s['load_rss_mb']:,.0f} / {s['tokenise_rss_mb']:,.0f} / {s['prepare_rss_mb']:,.0f} / {s['train_rss_mb']:,.0f} MB "
            f"| {s['train_peak_mb']:,.0f} MB |")
    if len(sizes) > 1:
        first, last = sizes[0], sizes[-1]
        factor = last["n"] / first["n"]
        growth = ", ".join(f"{name} {last[f'{name}_s'] / first[f'{name}_s']:.0f}×" for name in
                           ("load", "tokenise", "vocabulary", "encode", "prepare", "epoch"))
        lines += ["", f"Growth from {first['n']:,} to {last['n']:,} sentences ({factor:.0f}× the data): {growth}."]
    if grid:
        lines += ["", f"Grid of {grid['runs']} runs on the 100k file (rand / static / non-static / multichannel × 2 "
                  f"seeds, GloVe 50d, 2 epochs), {grid['workers']} worker processes: {grid['wall_s'] / 60:.1f} min wall, "
                  f"per run {grid['prepare_s']:.1f} s prepare + {grid['fit_s']:.1f} s fit; peak RSS of a worker "
                  f"{grid['worker_peak_mb']:,.0f} MB, of the parent {grid['parent_peak_mb']:,.0f} MB "
                  f"({grid['failed']} failed)."]
    return lines
