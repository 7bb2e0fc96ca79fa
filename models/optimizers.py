"""Adam that updates only the embedding rows a batch touches ("lazy" Adam), TF backend.

Keras 3's Adam turns an embedding's sparse gradient (``tf.IndexedSlices``) into a dense update of
the whole table — moments and weights of every row, every step. On CPU that makes a trainable
embedding 2-5× slower than a frozen one (../shared/TF_NOTES.md). This subclass keeps dense
variables on the normal path and, for sparse gradients, updates the first/second moments and the
weights of the touched rows only (as TF1's LazyAdamOptimizer did): rows absent from a batch keep
their moments instead of decaying them. Dense variables are updated exactly as by Keras' Adam.
"""

from __future__ import annotations

import keras
import tensorflow as tf


class LazyAdam(keras.optimizers.Adam):
    """Adam with row-sparse updates for sparse gradients.

    Args:
        learning_rate (float): Step size.
        **kwargs: Passed to :class:`keras.optimizers.Adam` (``amsgrad`` is not supported).
    """

    def __init__(self, learning_rate: float = 0.001, **kwargs):
        if kwargs.get("amsgrad"):
            raise ValueError("LazyAdam does not support amsgrad")
        super().__init__(learning_rate=learning_rate, **kwargs)

    def update_step(self, gradient, variable, learning_rate):
        if not isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        lr = tf.cast(learning_rate, dtype)
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        alpha = lr * tf.sqrt(1 - tf.pow(beta_2, step)) / (1 - tf.pow(beta_1, step))

        # A word can occur several times in a batch: sum its gradient rows first.
        rows, positions = tf.unique(gradient.indices)
        grad = tf.math.unsorted_segment_sum(tf.cast(gradient.values, dtype), positions, tf.shape(rows)[0])

        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        m_rows = beta_1 * tf.gather(m.value, rows) + (1 - beta_1) * grad
        v_rows = beta_2 * tf.gather(v.value, rows) + (1 - beta_2) * tf.square(grad)
        self.assign(m, tf.IndexedSlices(m_rows, rows))
        self.assign(v, tf.IndexedSlices(v_rows, rows))
        self.assign_sub(variable, tf.IndexedSlices(alpha * m_rows / (tf.sqrt(v_rows) + self.epsilon), rows))
