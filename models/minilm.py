"""all-MiniLM-L6-v2 as a Keras 3 encoder, its weights loaded from the safetensors file
(:mod:`embedlab.data.encoders`): BERT embeddings, 6 post-norm blocks of 12-head self-attention and
an exact-GELU feed-forward, padding masked, mean pooling. Checked against a NumPy forward pass.

Not yet a model family of the grid (no ``FAMILY``): the frozen-encoder and fine-tuned conditions
need an input pipeline of the encoder's own WordPiece ids (issue 16, part 2).
"""

from __future__ import annotations


def build_minilm_encoder(minilm, trainable: bool = False):
    """Builds the encoder with the pretrained weights.

    Args:
        minilm (embedlab.data.encoders.MiniLM): Weights and shape.
        trainable (bool): False freezes every weight (the frozen-encoder condition).

    Returns:
        keras.Model: ``[input_ids, attention_mask]`` (int32, ``(batch, length)``) → ``(batch, 384)``
        mean-pooled sentence embeddings.
    """
    import numpy as np

    from embedlab.models import import_keras_quietly
    from embedlab.models.layers import PositionEmbedding

    keras = import_keras_quietly()
    w = minilm.weights
    hidden, heads = minilm.hidden, minilm.heads
    d = hidden // heads
    ids = keras.Input((None,), dtype="int32", name="input_ids")
    mask = keras.Input((None,), dtype="int32", name="attention_mask")
    words = keras.layers.Embedding(*w["embeddings.word_embeddings.weight"].shape, name="word_embeddings")
    x = words(ids)
    positions = PositionEmbedding(512, name="position_embeddings")
    x = positions(x)
    x = keras.layers.Lambda(lambda t: t + w["embeddings.token_type_embeddings.weight"][0], name="token_type")(x)
    x = keras.layers.LayerNormalization(epsilon=1e-12, name="embeddings_norm")(x)
    attention_mask = keras.layers.Lambda(lambda m: keras.ops.cast(m[:, None, :], "bool") &
                                         keras.ops.ones_like(keras.ops.cast(m[:, :, None], "bool")),
                                         name="attention_mask_2d")(mask)
    loads = [(words, [w["embeddings.word_embeddings.weight"]]),
             (positions, [w["embeddings.position_embeddings.weight"]])]
    for layer in range(minilm.layers):
        p = f"encoder.layer.{layer}."
        attention = keras.layers.MultiHeadAttention(heads, d, name=f"attention_{layer}")
        attended = attention(x, x, attention_mask=attention_mask)
        norm_1 = keras.layers.LayerNormalization(epsilon=1e-12, name=f"attention_norm_{layer}")
        x = norm_1(x + attended)
        inner = keras.layers.Dense(w[p + "intermediate.dense.weight"].shape[0],
                                   activation=lambda t: keras.activations.gelu(t, approximate=False),
                                   name=f"intermediate_{layer}")
        outer = keras.layers.Dense(hidden, name=f"output_{layer}")
        norm_2 = keras.layers.LayerNormalization(epsilon=1e-12, name=f"output_norm_{layer}")
        x = norm_2(x + outer(inner(x)))

        def qkv(name):
            return [w[p + f"attention.self.{name}.weight"].T.reshape(hidden, heads, d),
                    w[p + f"attention.self.{name}.bias"].reshape(heads, d)]

        loads += [(attention, [*qkv("query"), *qkv("key"), *qkv("value"),
                               w[p + "attention.output.dense.weight"].T.reshape(heads, d, hidden),
                               w[p + "attention.output.dense.bias"]]),
                  (norm_1, [w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]]),
                  (inner, [w[p + "intermediate.dense.weight"].T, w[p + "intermediate.dense.bias"]]),
                  (outer, [w[p + "output.dense.weight"].T, w[p + "output.dense.bias"]]),
                  (norm_2, [w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]])]
    weights = keras.layers.Lambda(lambda m: keras.ops.cast(m, x.dtype)[..., None], name="pool_weights")(mask)
    pooled = keras.layers.Lambda(lambda args: keras.ops.sum(args[0] * args[1], axis=1)
                                 / keras.ops.maximum(keras.ops.sum(args[1], axis=1), 1e-9), name="mean_pool")([x, weights])
    model = keras.Model([ids, mask], pooled, name="all_minilm_l6_v2")
    model.get_layer("embeddings_norm").set_weights([w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"]])
    for layer, values in loads:
        layer.set_weights([np.asarray(v, dtype=np.float32) for v in values])
    model.trainable = trainable
    return model
