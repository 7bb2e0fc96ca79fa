"""LazyAdam (the default optimiser path, ``sparse_updates: true``) against Keras' Adam."""

import numpy as np
import pytest

from embedlab.models import import_keras_quietly

keras = tf = LazyAdam = None  # imported by the fixture below when a test runs (not at collection)


@pytest.fixture(autouse=True, scope="module")
def _tensorflow():
    global keras, tf, LazyAdam
    keras = import_keras_quietly()
    import tensorflow as tf

    from embedlab.models.optimizers import LazyAdam

LR, B1, B2, EPS = 0.01, 0.9, 0.999, 1e-7


def _dense_steps(optimizer, grads):
    variable = keras.Variable(np.arange(6, dtype="float32").reshape(2, 3) / 10)
    for grad in grads:
        optimizer.apply_gradients([(tf.constant(grad), variable)])
    return variable.numpy()


def test_dense_variables_get_exactly_adams_updates():
    grads = [np.random.default_rng(k).normal(size=(2, 3)).astype("float32") for k in range(3)]
    np.testing.assert_array_equal(_dense_steps(LazyAdam(LR), grads),
                                  _dense_steps(keras.optimizers.Adam(LR), grads))


def test_embedding_rows_follow_the_lazy_formula_and_untouched_rows_stay():
    table = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    variable = keras.Variable(table.copy())
    optimizer = LazyAdam(LR, beta_1=B1, beta_2=B2, epsilon=EPS)
    g1 = np.random.default_rng(1).normal(size=(3, 4)).astype("float32")
    g2 = np.random.default_rng(2).normal(size=(1, 4)).astype("float32")
    # step 1 touches rows 1 and 3 (row 1 twice: its gradients add up), step 2 only row 3
    optimizer.apply_gradients([(tf.IndexedSlices(tf.constant(g1), tf.constant([1, 3, 1]), tf.constant([6, 4])), variable)])
    after_1 = variable.numpy().copy()
    optimizer.apply_gradients([(tf.IndexedSlices(tf.constant(g2), tf.constant([3]), tf.constant([6, 4])), variable)])
    after_2 = variable.numpy()

    expected, m, v = table.astype("float64"), np.zeros((6, 4)), np.zeros((6, 4))
    for step, rows, grads in ((1, [1, 3], {1: g1[0] + g1[2], 3: g1[1]}), (2, [3], {3: g2[0]})):
        alpha = LR * np.sqrt(1 - B2 ** step) / (1 - B1 ** step)
        for row in rows:
            m[row] = B1 * m[row] + (1 - B1) * grads[row]
            v[row] = B2 * v[row] + (1 - B2) * grads[row] ** 2
            expected[row] -= alpha * m[row] / (np.sqrt(v[row]) + EPS)
        if step == 1:
            np.testing.assert_allclose(after_1, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(after_2, expected, rtol=1e-5, atol=1e-6)
    untouched = [0, 2, 4, 5]
    np.testing.assert_array_equal(after_2[untouched], table[untouched])
    np.testing.assert_array_equal(after_2[1], after_1[1])  # not in step 2: no move, no moment decay applied
    # Keras' Adam densifies the same gradient and moves every row with a non-zero moment
    dense = keras.Variable(table.copy())
    adam = keras.optimizers.Adam(LR, beta_1=B1, beta_2=B2, epsilon=EPS)
    adam.apply_gradients([(tf.IndexedSlices(tf.constant(g1), tf.constant([1, 3, 1]), tf.constant([6, 4])), dense)])
    adam.apply_gradients([(tf.IndexedSlices(tf.constant(g2), tf.constant([3]), tf.constant([6, 4])), dense)])
    assert not np.allclose(dense.numpy()[1], after_1[1])  # Adam keeps moving row 1 on its moment
    np.testing.assert_array_equal(dense.numpy()[untouched], table[untouched])
