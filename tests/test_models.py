"""Model builders: shapes, and that frozen means frozen, for every model family."""

import numpy as np
import pytest

from embedlab.models import import_keras_quietly
from embedlab.models.registry import families, get_builder

# Models embedding the suite's vocabulary ids (the MiniLM encoder has its own tests: test_minilm.py)
ALL_MODELS = sorted(name for name, family in families().items() if family.uses_word_vectors)
MULTICHANNEL_MODELS = [name for name in ALL_MODELS if "multichannel" in families()[name].modes]

keras = None  # imported by the fixture below, when a test of this module runs (not at collection)


@pytest.fixture(autouse=True, scope="module")
def _keras():
    global keras
    keras = import_keras_quietly()

VOCAB, DIM, LENGTH = 40, 8, 12


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, VOCAB, size=(n, LENGTH)).astype("int32")
    y = (x[:, 0] % 2).astype("int64")
    return x, y


def _matrix(seed=0):
    matrix = np.random.default_rng(seed).uniform(-0.25, 0.25, (VOCAB, DIM)).astype("float32")
    matrix[0] = 0
    return matrix


def _fit(model, epochs=2):
    x, y = _data()
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    model.fit(x, y, epochs=epochs, batch_size=16, verbose=0)


def _embedding_layers(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Embedding)]


@pytest.mark.slow  # fits (a few epochs on random ids)
@pytest.mark.parametrize("model_name", ALL_MODELS)
def test_static_embedding_is_frozen(model_name):
    keras.utils.set_random_seed(0)
    matrix = _matrix()
    model = get_builder(model_name)(sequence_length=LENGTH, num_classes=2, embedding_matrix=matrix,
                                    embedding="static")
    (embedding,) = _embedding_layers(model)
    np.testing.assert_array_equal(embedding.get_weights()[0], matrix)
    assert not any(w is embedding.embeddings for w in model.trainable_weights)
    before = [w.copy() for w in model.get_weights()]
    _fit(model)
    np.testing.assert_array_equal(embedding.get_weights()[0], matrix)
    # and the rest of the model did train
    assert any(not np.array_equal(b, a) for b, a in zip(before, model.get_weights()))


@pytest.mark.slow  # fits (a few epochs on random ids)
@pytest.mark.parametrize("model_name", ALL_MODELS)
@pytest.mark.parametrize("mode", ["rand", "non-static"])
def test_trainable_embedding_changes(model_name, mode):
    keras.utils.set_random_seed(0)
    matrix = _matrix()
    model = get_builder(model_name)(sequence_length=LENGTH, num_classes=2, embedding_matrix=matrix, embedding=mode)
    (embedding,) = _embedding_layers(model)
    assert any(w is embedding.embeddings for w in model.trainable_weights)
    _fit(model)
    assert not np.array_equal(embedding.get_weights()[0], matrix)


@pytest.mark.slow  # fits (a few epochs on random ids)
@pytest.mark.parametrize("model_name", MULTICHANNEL_MODELS)
def test_multichannel_has_one_frozen_and_one_tuned_channel(model_name):
    keras.utils.set_random_seed(0)
    matrix = _matrix()
    model = get_builder(model_name)(sequence_length=LENGTH, num_classes=3, embedding_matrix=matrix,
                                    embedding="multichannel")
    static, tuned = _embedding_layers(model)
    assert not static.trainable and tuned.trainable
    _fit(model)
    np.testing.assert_array_equal(static.get_weights()[0], matrix)
    assert not np.array_equal(tuned.get_weights()[0], matrix)
    assert model.output_shape == (None, 3)


def test_kim_cnn_architecture():
    model = get_builder("cnn")(sequence_length=LENGTH, num_classes=2, embedding_matrix=_matrix(),
                               embedding="rand")
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv1D)]
    assert [c.kernel_size[0] for c in convs] == [3, 4, 5] and all(c.filters == 100 for c in convs)
    dense = model.get_layer("classifier")
    assert isinstance(dense.kernel_constraint, keras.constraints.MaxNorm)
    assert model.get_layer("dropout").rate == 0.5


def test_bag_of_embeddings_rejects_multichannel():
    with pytest.raises(ValueError, match="multichannel is not supported"):
        get_builder("boe")(sequence_length=LENGTH, num_classes=2, embedding_matrix=_matrix(),
                           embedding="multichannel")


def test_cnn_rejects_sequences_shorter_than_its_widest_filter():
    with pytest.raises(ValueError, match="widest filter"):
        get_builder("cnn")(sequence_length=4, num_classes=2, embedding_matrix=_matrix())


@pytest.mark.parametrize("model_name", ["boe", "bilstm", "transformer"])
@pytest.mark.parametrize("pooling", ["max", "mean"])
def test_masked_models_ignore_padding(model_name, pooling):
    """Bucketed batches pad each batch to its own longest text: a masked model's output must not
    depend on how many padding ids follow a text."""
    if pooling == "mean" and model_name != "bilstm":
        pytest.skip("only the BiLSTM has a pooling setting")
    keras.utils.set_random_seed(0)
    options = {"pooling": pooling} if model_name == "bilstm" else {}
    model = get_builder(model_name)(sequence_length=None, num_classes=2, embedding_matrix=_matrix(),
                                    embedding="non-static", **options)
    short = np.array([[3, 4, 5, 0], [6, 7, 0, 0]], dtype="int32")
    padded = np.concatenate([short, np.zeros((2, 9), dtype="int32")], axis=1)
    np.testing.assert_allclose(model.predict(short, verbose=0), model.predict(padded, verbose=0), atol=1e-6)


def test_transformer_refuses_inputs_longer_than_its_positions():
    with pytest.raises(ValueError, match="longer than max_positions 8"):
        get_builder("transformer")(sequence_length=12, num_classes=2, embedding_matrix=_matrix(), max_positions=8)


def test_every_family_declares_a_consistent_plugin():
    """What the suite relies on: a settings schema with defaults, modes it supports, a builder
    that takes the settings as keyword arguments."""
    import inspect

    for name, family in families().items():
        settings = family.settings()
        assert set(family.modes) <= {"rand", "static", "non-static", "multichannel"}
        assert "rand" in family.modes or not family.uses_word_vectors, name  # rand is a learned word embedding
        parameters = inspect.signature(family.builder).parameters
        assert set(dict(settings)) <= set(parameters), name
        assert {"sequence_length", "num_classes", "embedding_matrix", "embedding"} <= set(parameters), name


def test_embedding_lookup_reads_rows_not_the_table():
    """The suite's Embedding gives Keras' rows and row-sparse gradient, through a sparse read: a dense
    read of a table that sparse updates touched copies the whole table every step."""
    import tensorflow as tf

    from embedlab.models.layers import Embedding

    ids = tf.constant(_data(n=4)[0])
    ours, theirs = Embedding(VOCAB, DIM), keras.layers.Embedding(VOCAB, DIM)
    ours.build((None, LENGTH))
    theirs.build((None, LENGTH))
    ours.set_weights([_matrix()])
    theirs.set_weights([_matrix()])

    def lookup(layer):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.square(layer(ids)))
        return tape.gradient(loss, layer.embeddings.value)

    ours_grad, theirs_grad = lookup(ours), lookup(theirs)
    np.testing.assert_array_equal(ours(ids), theirs(ids))
    assert isinstance(ours_grad, tf.IndexedSlices)
    np.testing.assert_array_equal(tf.convert_to_tensor(ours_grad), tf.convert_to_tensor(theirs_grad))
    graph_ops = {op.type for op in tf.function(ours).get_concrete_function(ids).graph.get_operations()}
    assert "ResourceGather" in graph_ops and "ReadVariableOp" not in graph_ops


def test_word_vector_models_use_the_sparse_read_embedding():
    from embedlab.models.layers import Embedding

    for name in ALL_MODELS:
        model = get_builder(name)(sequence_length=LENGTH, num_classes=2, embedding_matrix=_matrix(),
                                  embedding="multichannel" if name in MULTICHANNEL_MODELS else "rand")
        assert all(isinstance(layer, Embedding) for layer in _embedding_layers(model)), name
