"""Analyses: bucketing at the edges, learning-curve gains and sweet spot, neighbours and probes on
real GloVe vectors, and the report files."""

import numpy as np
import pandas as pd
import pytest

from embedlab.experiments.reporting import curves, frequency, spaces



@pytest.mark.parametrize("count, label", [(0, "0 (unseen)"), (1, "1"), (4, "4"), (5, "5-9"), (9, "5-9"),
                                          (10, "10-99"), (99, "10-99"), (100, "100-999"), (999, "100-999"),
                                          (1000, ">=1000"), (10**6, ">=1000")])
def test_frequency_bucket_edges(count, label):
    assert frequency.bucket(count, frequency.FREQUENCY_BUCKETS) == label


@pytest.mark.parametrize("share, label", [(0.0, "0%"), (0.05, "(0, 10%]"), (0.1, "(0, 10%]"),
                                          (0.11, "(10, 25%]"), (0.25, "(10, 25%]"), (0.5, "> 25%"), (1.0, "> 25%")])
def test_unseen_share_bucket_edges(share, label):
    assert frequency.bucket(share, frequency.UNSEEN_BUCKETS) == label


def _curve_runs():
    rows = []
    for size, n, rand, static in ((0.1, 100, 0.60, 0.70), (0.5, 500, 0.72, 0.76), (1.0, 1000, 0.78, 0.79)):
        for seed in (1, 2):
            rows.append(("rand", size, n, seed, rand + 0.01 * seed))
            rows.append(("static", size, n, seed, static + 0.01 * seed))
    frame = pd.DataFrame(rows, columns=["embedding", "train_size", "n_train", "seed", "accuracy"])
    return frame.assign(dataset="mr", vectors="glove-6b-50d", model="cnn")


def test_learning_curve_gains_and_sweet_spot_in_words(tmp_path):
    curve = curves.learning_curve(_curve_runs())
    gains = curves.gains_by_size(curve)
    assert gains.sort_values("train_size")["gain"].round(4).tolist() == [0.10, 0.04, 0.01]
    (sentence,) = curves.sweet_spot_sentences(gains)
    assert "largest, +10.0 points, at 0.1 of the training data (100 examples" in sentence
    assert "so it shrinks as data grows" in sentence  # largest at the smallest size
    path = curves.plot_learning_curve(curve, gains, tmp_path / "curve.png")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_neighbours_word_pairs_and_polarity_probe_on_real_glove(glove50):
    words = glove50.words[:20000]
    matrix = np.asarray(glove50.matrix[:20000])
    assert "better" in spaces.nearest_neighbours(words, matrix, "good", k=5)
    scores = spaces.word_pair_scores(words, matrix)
    assert 0.35 < scores["WordSim-353"][0] < 0.65  # DATA_SOURCES.md: .503 on the full 400k
    lexicon = {"good": 3, "great": 3, "excellent": 3, "bad": -3, "awful": -3, "terrible": -3}
    lexicon.update({w: 2 for w in ("nice", "happy", "love", "best", "wonderful", "fine", "beautiful", "win")})
    lexicon.update({w: -2 for w in ("hate", "worst", "sad", "poor", "ugly", "lose", "wrong", "fail")})
    probe = spaces.polarity_probe(words, matrix, lexicon)
    assert probe["words"] == 22 and probe["accuracy"] > probe["majority"]


@pytest.mark.slow  # trains
def test_report_files_from_a_real_run(write_config, tmp_path):
    from conftest import TINY_CONFIG

    from embedlab.experiments.config import load_config
    from embedlab.experiments.reporting.report import write_report
    from embedlab.experiments.running.runner import run_grid

    text = TINY_CONFIG.replace("training: {max_epochs: 1", "training: {save_embeddings: true, max_epochs: 1")
    out = tmp_path / "out"
    run_grid(load_config(write_config(text)), out, executor="local")
    folder = write_report(out)
    markdown = (folder / "report.md").read_text()
    for heading in ("Comparison", "Against the published numbers", "Accuracy by word frequency",
                    "What the embedding spaces encode", "Pretrained-vector coverage"):
        assert f"### {heading}" in markdown
    assert "| good |" in markdown and "| AFINN-165 |" in markdown
    assert "| dataset | vectors | model | size | bucket | test examples (per run / distinct) |" in markdown
    assert "| mr | glove-6b-50d | cnn | 1 | 0 (unseen, in vectors) |" in markdown  # recorded at training
    html = (folder / "report.html").read_text()
    assert html.startswith("<!doctype html>") and "<table>" in html and "<h3>Comparison" in html
    assert (folder / "summary.csv").exists() and "\\toprule" in (folder / "summary.tex").read_text()


def test_pooled_frequency_gains_weight_buckets_by_examples():
    rows = []
    for dataset, rare_gain, examples in (("a", 0.10, 30), ("b", 0.00, 10)):
        for bucket, n, gain in (("0 (unseen)", examples, rare_gain), ("10-99", 20, -0.02)):
            rows.append((dataset, bucket, "rand", 0.70, n))
            rows.append((dataset, bucket, "static", 0.70 + gain, n))
    table = pd.DataFrame(rows, columns=["dataset", "rarest", "embedding", "accuracy", "examples"])
    table = table.assign(vectors="glove-6b-50d", model="cnn", train_size=1.0)
    pooled = frequency.pooled_frequency_markdown(table)
    assert "| glove-6b-50d | cnn | 1 | rare (0-2) | 2 | 40 | +7.5 |" in pooled  # (30 * 10 + 10 * 0) / 40
    assert "| glove-6b-50d | cnn | 1 | frequent (>=10) | 2 | 40 | -2.0 |" in pooled
    # Weighted by distinct test examples: dataset a's 10 CV folds test 10x its per-run examples,
    # b's one official split only its own: (300 * 10 + 10 * 0) / 310.
    folds = table.assign(test_sets=table["dataset"].map({"a": 10, "b": 1}))
    assert "| rare (0-2) | 2 | 310 | +9.7 |" in frequency.pooled_frequency_markdown(folds)
    assert frequency.pooled_frequency_markdown(table[table["dataset"] == "a"]) == ""


def test_small_frequency_buckets_are_marked_not_read():
    rows = []
    for bucket, n in (("0 (unseen, in vectors)", 3), ("10-99", 30)):  # 3 sentences: one is ±33 points
        rows.append(("a", bucket, "rand", 0.50, n))
        rows.append(("a", bucket, "static", 0.72, n))
    table = pd.DataFrame(rows, columns=["dataset", "rarest", "embedding", "accuracy", "examples"])
    text = frequency.frequency_markdown(table.assign(vectors="v", model="cnn", train_size=1.0, variant="–"))
    assert "| 0 (unseen, in vectors) | 3 / 3 | (50.0 ±" in text and "(+22.0 ±" in text
    # hand-checked: Wilson 95% for 15/30 is 0.5 ± 0.168; for 22/30 (72% of 30 rounds to 22) ± 0.151;
    # the gain's ± is 1.96 * sqrt((0.72 * 0.28 + 0.5 * 0.5) / 30) = 0.240
    assert "| 10-99 | 30 / 30 | 50.0 ±16.8 | 72.0 ±15.1 | +22.0 ±24.0 |" in text
    folds = table.assign(vectors="v", model="cnn", train_size=1.0, variant="–", test_sets=10)
    assert "| 10-99 | 30 / 300 |" in frequency.frequency_markdown(folds)  # 10 CV folds: disjoint test sets
