"""The open-vocabulary policy on real MR sentences and a small real vectors file: a test-only word with
a vector gets exactly that vector (and keeps it through fine-tuning), one without maps to <unk>, the
mapping does not depend on the test set or its labels."""

import numpy as np
import pytest

from embedlab.data.text import UNK_ID, tokenize
from embedlab.experiments.running import prepare
from embedlab.experiments.config import ExperimentConfig

pytestmark = pytest.mark.slow  # trains models (see conftest: the fast tier)

RARE_WITH_VECTOR, RARE_WITHOUT = "zqxjvkw", "qqxqqx"


@pytest.fixture
def setup(tmp_path, mr_sample, glove50):
    """300 MR sentences as a user CSV, and a GloVe-format file with their words plus a made-up one."""
    import pandas as pd

    texts, labels = mr_sample
    test = np.arange(240, 300)  # the split used below: the last 60 are the test set
    texts = list(texts)
    texts[250] = f"{texts[250]} {RARE_WITH_VECTOR} {RARE_WITHOUT}"  # only in a test sentence
    csv = tmp_path / "reviews.csv"
    pd.DataFrame({"text": texts, "label": labels}).to_csv(csv, index=False)
    words = sorted({t for text in texts for t in tokenize(text)} & set(glove50.index))
    special = np.linspace(-1, 1, 50).astype(np.float32)
    lines = [f"{w} " + " ".join(f"{v:.6f}" for v in glove50.matrix[glove50.index[w]]) for w in words]
    lines.append(f"{RARE_WITH_VECTOR} " + " ".join(f"{v:.6f}" for v in special))
    vectors = tmp_path / "tiny.glove.txt"
    vectors.write_text("\n".join(lines) + "\n")
    return csv, vectors, special, test


def _run(csv, vectors, embedding="static", vocabulary="open"):
    raw = {"name": "o", "data": {"dataset": {"path": str(csv)}, "protocol": "holdout", "vocabulary": vocabulary},
           "vectors": str(vectors), "model": {"cnn": {"num_filters": 4}},
           "training": {"max_epochs": 1, "save_embeddings": True}, "grid": {"embedding": [embedding]}}
    return ExperimentConfig.model_validate(raw).runs()[0]


def _fixed_split(monkeypatch, test):
    fit, dev = np.arange(0, 216), np.arange(216, 240)
    monkeypatch.setattr(prepare, "split_indices", lambda run, labels, official: (fit, dev, test))


def _ids_of(prepared, row, vocab_word):
    return prepared.vocab.index_.get(vocab_word), prepared.x_test[row]


def test_test_only_word_gets_its_vector_and_unknown_gets_unk(setup, monkeypatch):
    csv, vectors, special, test = setup
    _fixed_split(monkeypatch, test)
    prepared = prepare.prepare_split(_run(csv, vectors))
    row = list(test).index(250)
    word_id = prepared.vocab.index_[RARE_WITH_VECTOR]
    assert word_id in prepared.x_test[row] and word_id >= len(prepared.vocab.counts_) - 0  # after training words
    np.testing.assert_allclose(prepared.matrix[word_id], special, atol=1e-6)
    assert RARE_WITHOUT not in prepared.vocab.index_ and UNK_ID in prepared.x_test[row]
    words = prepared.test_words
    assert RARE_WITH_VECTOR in words.vectors_only and words.unknown_tokens >= 1
    closed = prepare.prepare_split(_run(csv, vectors, vocabulary="train"))
    assert RARE_WITH_VECTOR not in closed.vocab.index_ and len(closed.matrix) < len(prepared.matrix)
    rand = prepare.prepare_split(_run(csv, vectors, embedding="rand"))  # rand has no vectors to open with
    assert RARE_WITH_VECTOR not in rand.vocab.index_


def test_mapping_depends_neither_on_test_labels_nor_on_the_test_set(setup, monkeypatch, mr_sample):
    csv, vectors, special, test = setup
    _fixed_split(monkeypatch, test)
    first = prepare.prepare_split(_run(csv, vectors))
    flipped = prepare.tokenized_dataset(_run(csv, vectors).data.dataset)[0]
    original = flipped.labels.copy()
    flipped.labels[test] = 1 - flipped.labels[test]  # test labels changed in place: nothing may move
    try:
        second = prepare.prepare_split(_run(csv, vectors))
    finally:
        flipped.labels[:] = original
    assert first.vocab.words_ == second.vocab.words_ and np.array_equal(first.matrix, second.matrix)
    assert np.array_equal(first.x_test, second.x_test)
    _fixed_split(monkeypatch, test[::2])  # another test set: shared words keep the same vector
    third = prepare.prepare_split(_run(csv, vectors))
    for word in set(first.test_words.vectors_only) & set(third.test_words.vectors_only):
        np.testing.assert_array_equal(first.matrix[first.vocab.index_[word]], third.matrix[third.vocab.index_[word]])


@pytest.mark.slow
def test_fine_tuning_leaves_test_only_rows_untouched(setup, monkeypatch):
    csv, vectors, special, test = setup
    _fixed_split(monkeypatch, test)
    run = _run(csv, vectors, embedding="non-static")
    prepared = prepare.prepare_split(run)
    from embedlab.experiments.running.train import train_run

    result = train_run(run, prepared)
    tuned = result.embeddings["matrix"]
    word_id = prepared.vocab.index_[RARE_WITH_VECTOR]
    np.testing.assert_array_equal(tuned[word_id], prepared.matrix[word_id])
    assert not np.array_equal(tuned[2], prepared.matrix[2])  # a training word did move
    assert result.test_tokens_vectors_only >= 1
