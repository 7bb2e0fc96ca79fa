"""GloVe 6B 50d from the real wheel, the text reader on a small real file, and the matrix builder."""

import numpy as np
import pytest

from embedlab.data.text import Vocabulary
from embedlab.data.vectors import Vectors, build_embedding_matrix, read_glove_text, vector_coverage


def _neighbours(vectors, word, k=10):
    matrix = np.asarray(vectors.matrix[:50_000], dtype=np.float32)
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    scores = unit @ unit[vectors.index[word]]
    return [vectors.words[i] for i in np.argsort(-scores)[1 : k + 1]]


def test_glove50_is_the_real_glove(glove50):
    assert glove50.matrix.shape == (400_000, 50) and glove50.matrix.dtype == np.float32
    assert glove50.words[:4] == ["the", ",", ".", "of"]
    assert "better" in _neighbours(glove50, "good") and "movies" in _neighbours(glove50, "movie")


@pytest.fixture(scope="module")
def tiny_glove_text(glove50):
    """The first 200 lines of glove.6B.50d.txt, rebuilt in its real text format."""
    return "\n".join(w + " " + " ".join(f"{v:.5f}" for v in glove50.matrix[i]) for i, w in
                     enumerate(glove50.words[:200])) + "\n"


def test_read_glove_text_round_trips_real_vectors(tiny_glove_text, glove50):
    matrix, words = read_glove_text(tiny_glove_text)
    assert words == glove50.words[:200]
    np.testing.assert_allclose(matrix, glove50.matrix[:200], atol=1e-5)


def test_read_glove_text_names_a_malformed_line(tiny_glove_text):
    lines = tiny_glove_text.splitlines()
    lines[5] = lines[5].rsplit(" ", 1)[0]  # one value short
    with pytest.raises(ValueError, match="line 6: 49 values"):
        read_glove_text("\n".join(lines))


def test_embedding_matrix_rows_padding_unknowns_and_coverage(tiny_glove_text, glove50):
    matrix, words = read_glove_text(tiny_glove_text)
    vectors = Vectors(glove50.card, words, matrix)
    vocab = Vocabulary().fit([["the", "the", "of", "zzqxunseen"], ["the", "and"]])
    table, coverage = build_embedding_matrix(vocab, vectors, 50, seed=7)
    assert table.shape == (len(vocab), 50)
    assert not table[0].any()  # padding
    for word in ("the", "of", "and"):
        np.testing.assert_array_equal(table[vocab.index_[word]], matrix[words.index(word)])
    unknown = table[vocab.index_["zzqxunseen"]]
    assert np.abs(unknown).max() <= 0.25 and unknown.any()
    assert (coverage.hits, coverage.misses) == (3, 1)
    assert coverage.type_share == 0.75 and coverage.token_share == round(5 / 6, 4)
    again, _ = build_embedding_matrix(vocab, vectors, 50, seed=7)
    np.testing.assert_array_equal(table, again)
    assert vector_coverage(vocab, vectors) == coverage  # what rand runs record, without a matrix


def test_embedding_matrix_rejects_dimension_mismatch(glove50):
    vocab = Vocabulary().fit([["a"]])
    with pytest.raises(ValueError, match="does not match"):
        build_embedding_matrix(vocab, glove50, 100, seed=0)


def test_rescaling_gives_pretrained_rows_a_rand_rows_norm_and_keeps_their_directions():
    from embedlab.data.vectors import VectorsCard, rand_row_norm, rescale_pretrained_rows

    rng = np.random.default_rng(0)
    words = ["good", "bad", "film"]
    long_rows = rng.normal(size=(3, 256)).astype(np.float32) * 5  # norms ~80, like potion-8M's 73
    card = VectorsCard("toy", "toy", "test", "none", "none", 256, 3)
    vectors = Vectors(card, words, long_rows)
    vocab = Vocabulary().fit([["good", "bad", "film", "zzqxunseen"]])
    table, _ = build_embedding_matrix(vocab, vectors, 256, seed=1)
    unknown_before = table[vocab.index_["zzqxunseen"]].copy()
    factor = rescale_pretrained_rows(table, vocab, vectors, rand_row_norm(256))
    rows = [vocab.index_[w] for w in words]
    assert rand_row_norm(256) == pytest.approx(np.linalg.norm(rng.uniform(-0.25, 0.25, (20000, 256)), axis=1).mean(), rel=0.01)
    assert np.linalg.norm(table[rows], axis=1).mean() == pytest.approx(rand_row_norm(256), rel=1e-5)
    np.testing.assert_allclose(table[rows], long_rows * factor, rtol=1e-5)  # same directions
    np.testing.assert_array_equal(table[vocab.index_["zzqxunseen"]], unknown_before)  # random rows untouched
    assert not table[0].any()


def test_rescale_keeps_existing_run_ids_and_rand_runs_ignore_it(write_config):
    from embedlab.experiments.config import load_config

    text = """\
        name: scale
        data: {dataset: mr, protocol: holdout}
        grid: {model: [cnn], embedding: [rand, static]}
    """
    plain = load_config(write_config(text)).runs()
    scaled = load_config(write_config(text.replace("protocol: holdout", "protocol: holdout, rescale: rand"), "b.yaml")).runs()
    explicit = load_config(write_config(text.replace("protocol: holdout", "protocol: holdout, rescale: none"), "c.yaml")).runs()
    assert [r.run_id for r in plain] == [r.run_id for r in explicit]  # the default leaves ids alone
    assert plain[0].run_id == scaled[0].run_id and plain[1].run_id != scaled[1].run_id  # rand shared, static not
