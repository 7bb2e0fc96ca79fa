"""Small Keras layers the models share (registered, so a saved ``.keras`` model loads)."""

from __future__ import annotations

from embedlab.models import import_keras_quietly

keras = import_keras_quietly()


@keras.saving.register_keras_serializable(package="embedlab")
class Embedding(keras.layers.Embedding):
    """Keras' Embedding, looking up only the rows a batch needs (TF backend).

    Keras' lookup (``ops.take``) first reads the whole table as a dense tensor. Once a sparse
    update (LazyAdam's row scatter) has touched the table, TensorFlow keeps the variable in
    copy-on-read mode, so that dense read copied the whole table every step: 21 MB at 300 d on MR,
    3 ms of a 20 ms step (docs/PERFORMANCE.md, "bfloat16"). A sparse read (``ResourceGather``)
    gives the same rows and the same row-sparse gradient without the copy.
    """

    def call(self, inputs):
        table = self.embeddings.value
        if not hasattr(table, "sparse_read"):  # another backend: Keras' own lookup
            return super().call(inputs)
        import tensorflow as tf

        if inputs.dtype not in (tf.int32, tf.int64):
            inputs = tf.cast(inputs, tf.int32)
        return tf.cast(table.sparse_read(inputs), self.compute_dtype)


@keras.saving.register_keras_serializable(package="embedlab")
class MaskedGlobalMaxPooling1D(keras.layers.Layer):
    """Max over time of the unmasked steps only (Keras' GlobalMaxPooling1D ignores masks, so a
    padded step could win the max)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return keras.ops.max(inputs, axis=1)
        lowest = keras.ops.cast(-1e9, inputs.dtype)  # representable in float32 and bfloat16
        keep = keras.ops.expand_dims(keras.ops.cast(mask, "bool"), -1)
        return keras.ops.max(keras.ops.where(keep, inputs, lowest), axis=1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


@keras.saving.register_keras_serializable(package="embedlab")
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned vector per position (0 … ``max_positions`` - 1) to a sequence; keeps its mask."""

    def __init__(self, max_positions: int, **kwargs):
        super().__init__(**kwargs)
        self.max_positions = max_positions
        self.supports_masking = True

    def build(self, input_shape):
        self.positions = self.add_weight(name="positions", shape=(self.max_positions, input_shape[-1]),
                                         initializer=keras.initializers.RandomNormal(stddev=0.02))

    def call(self, inputs):
        length = keras.ops.shape(inputs)[1]
        return inputs + keras.ops.cast(self.positions[:length], inputs.dtype)[None]

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        return {**super().get_config(), "max_positions": self.max_positions}
