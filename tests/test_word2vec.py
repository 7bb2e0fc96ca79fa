"""Word2vec pretrained by the suite, on a small real corpus (MR training sentences)."""

import numpy as np
import pytest

from embedlab.data.text import tokenize
from embedlab.data.word2vec import Word2VecParams, parse_w2v_id, train_word2vec
from embedlab.experiments.config import ConfigError, load_config

pytestmark = pytest.mark.slow  # trains models (see conftest: the fast tier)


def test_parse_ids():
    assert parse_w2v_id("w2v:wikitext2:sg:100") == ("wikitext2", "sg", 100)
    assert parse_w2v_id("w2v:train:cbow:50") == ("train", "cbow", 50)
    assert parse_w2v_id("glove-6b-50d") is None and parse_w2v_id("w2v:x:skipgram:5") is None


def test_training_is_cached_and_reproducible(mr, tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_HOME", str(tmp_path))
    sentences = [tokenize(t) for t in mr.texts[:3000]]
    params = Word2VecParams(epochs=3, min_count=3)
    first = train_word2vec(sentences, "sg", 20, params, "mr-sample")
    assert first.dim == 20 and "good" in first.index and len(first.words) > 1000
    cached = list((tmp_path / "vectors" / "w2v").iterdir())
    again = train_word2vec(sentences, "sg", 20, params, "mr-sample")  # from the cache
    assert list((tmp_path / "vectors" / "w2v").iterdir()) == cached
    np.testing.assert_array_equal(first.matrix, again.matrix)
    for path in cached:  # retrain from scratch: same vectors (workers=1, stable hash)
        import shutil

        shutil.rmtree(path)
    retrained = train_word2vec(sentences, "sg", 20, params, "mr-sample")
    np.testing.assert_array_equal(first.matrix, retrained.matrix)


def test_train_corpus_uses_only_the_training_split(write_config, monkeypatch):
    """w2v:train vectors never see a test sentence: the corpus passed to gensim is the train split."""
    from embedlab.experiments.running import prepare as prepare_module

    seen = {}

    def fake_train(sentences, algo, dim, params, name, **kwargs):
        seen["sentences"] = sentences
        raise RuntimeError("stop here")

    monkeypatch.setattr(prepare_module, "train_word2vec", fake_train)
    config = load_config(write_config(
        "name: w\ndata: {dataset: mr, protocol: holdout, subsample: 200, test_fraction: 0.25}\nvectors: w2v:train:sg:10\n"
        "grid: {embedding: [static]}\n"))
    run = config.runs()[0]
    with pytest.raises(RuntimeError, match="stop here"):
        prepare_module.prepare_split(run)
    dataset, tokens = prepare_module.tokenized_dataset(run.data.dataset)
    from embedlab.data.splits import holdout_split, subsample

    pool = subsample(np.arange(len(dataset.labels)), dataset.labels, 200, 0)
    _, test = holdout_split(dataset.labels[pool], 0.25, 0)
    test_sentences = {" ".join(tokens[i]) for i in pool[test]}
    assert len(seen["sentences"]) == 150
    assert not test_sentences & {" ".join(s) for s in seen["sentences"]}


def test_bad_vector_references_are_config_errors(write_config):
    for ref, says in (("w2v:nowhere.txt:sg:50", "neither one of wikitext2, train"),
                      ("w2v:wikitext2:skipgram:50", "not a word2vec id"),
                      ("missing.vec", "no such file")):
        with pytest.raises(ConfigError, match=says):
            load_config(write_config(f"name: v\nvectors: '{ref}'\ngrid: {{embedding: [static]}}\n"))
