"""all-MiniLM-L6-v2 as a Keras 3 encoder, its weights loaded from the safetensors file
(:mod:`embedlab.data.encoders`): BERT embeddings, 6 post-norm blocks of 12-head self-attention and
an exact-GELU feed-forward, padding masked, mean pooling. Checked against a NumPy forward pass.

As a model family (``minilm``) it reads text with its own WordPiece tokenizer, so it takes no word
vectors, and has three conditions: ``static`` (the encoder frozen: its pooled sentence embedding,
computed once per dataset and cached, feeds the suite's head, so a run trains only the head),
``non-static`` (the encoder fine-tuned end to end with the head; give it a small learning rate and
few epochs) and ``rand`` (the same architecture and tokenizer from BERT's random initialisation,
trained on the task: what the architecture brings without pretraining). The encoder has no dropout
of its own (BERT's 0.1 is left out); the head has the suite's dropout and max-norm softmax.
"""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np
from pydantic import Field

from embedlab.data.cache import atomic_dir, embedlab_home, verified
from embedlab.data.encoders import MINILM_WHEEL, load_minilm
from embedlab.models.family import ModelFamily, ModelSettings

HIDDEN = 384  # all-MiniLM-L6-v2's width


class MiniLMSettings(ModelSettings):
    """The head's settings (dropout 0.1, as BERT classifiers use) and the WordPiece length."""

    dropout: float = Field(0.1, ge=0, lt=1, description="dropout rate before the softmax layer")
    max_length: int = Field(128, ge=8, le=512, description="WordPiece tokens per text, [CLS] and [SEP] included")


def random_minilm_weights(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """BERT's initialisation in the pretrained weights' shapes: matrices from a normal with sd 0.02
    truncated at 2 sd, biases and the (constant) token-type row zero, LayerNorm scales one. Draws
    from NumPy's global generator, which the run's seed sets (``WORKER.seed``)."""
    def draw(name: str, value: np.ndarray) -> np.ndarray:
        if name.endswith("LayerNorm.weight"):
            return np.ones_like(value)
        if name.endswith(".bias") or "token_type" in name:
            return np.zeros_like(value)
        return np.clip(np.random.standard_normal(value.shape), -2, 2).astype(np.float32) * np.float32(0.02)

    return {name: draw(name, np.asarray(value)) for name, value in sorted(weights.items())}


def _exact_gelu_in_float32(t):
    """Exact GELU, computed in float32 whatever the layer's dtype (a no-op cast in float32). Under
    mixed bfloat16 the CPU has no bf16 kernels for its erf and exp: emulated, they took 83 of a 611 ms
    fine-tuning step against 19 ms in float32 (docs/PERFORMANCE.md, "bfloat16")."""
    from embedlab.models import import_keras_quietly

    keras = import_keras_quietly()
    return keras.ops.cast(keras.activations.gelu(keras.ops.cast(t, "float32"), approximate=False), t.dtype)


def build_minilm_encoder(minilm, trainable: bool = False, pretrained: bool = True):
    """Builds the encoder with the pretrained weights (or BERT's random initialisation).

    Args:
        minilm (embedlab.data.encoders.MiniLM): Weights and shape.
        trainable (bool): False freezes every weight (the frozen-encoder condition).
        pretrained (bool): False: :func:`random_minilm_weights` instead of the pretrained ones.

    Returns:
        keras.Model: ``[input_ids, attention_mask]`` (int32, ``(batch, length)``) → ``(batch, 384)``
        mean-pooled sentence embeddings.
    """

    from embedlab.models import import_keras_quietly
    from embedlab.models.layers import PositionEmbedding

    keras = import_keras_quietly()
    w = minilm.weights if pretrained else random_minilm_weights(minilm.weights)
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
        inner = keras.layers.Dense(w[p + "intermediate.dense.weight"].shape[0], activation=_exact_gelu_in_float32,
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


def minilm_inputs(settings: MiniLMSettings, embedding: str, texts) -> "np.ndarray":
    """A dataset's inputs: cached frozen sentence embeddings (``static``) or WordPiece ids padded
    with [PAD] = 0 (``non-static``; batches are then trimmed to their longest text)."""
    if embedding == "static":
        return sentence_features(texts, settings.max_length)
    return load_minilm().encode(texts, settings.max_length)[0]


def build_minilm_classifier(sequence_length: int | None, num_classes: int, embedding_matrix, embedding: str,
                            dropout: float = 0.1, max_norm: float = 3.0, max_length: int = 128):
    """The suite's head (dropout, max-norm softmax) on MiniLM's pooled sentence embedding.

    Args:
        sequence_length (int | None): WordPiece length of ``non-static`` inputs (None: varying).
        num_classes (int): Output classes.
        embedding_matrix: Unused (the encoder brings its own embeddings).
        embedding (str): ``static`` (input: cached frozen features, ``(batch, 384)``),
            ``non-static`` (input: WordPiece ids; the encoder is trained with the head) or ``rand``
            (as non-static, from BERT's random initialisation).
        dropout (float): Dropout rate before the output layer.
        max_norm (float): Max-norm constraint on the output layer's weight vectors.
        max_length (int): WordPiece length (used when the inputs are made).

    Returns:
        keras.Model: Uncompiled classifier.
    """
    from embedlab.models import import_keras_quietly
    from embedlab.models.embedding import classifier_model

    keras = import_keras_quietly()
    if embedding == "static":
        inputs = keras.Input((HIDDEN,), dtype="float32", name="sentence_features")
        features = inputs
    elif embedding in ("non-static", "rand"):
        inputs = keras.Input((sequence_length,), dtype="int32", name="input_ids")
        mask = keras.layers.Lambda(lambda ids: keras.ops.cast(keras.ops.not_equal(ids, 0), "int32"),
                                   name="attention_mask_of_ids")(inputs)
        encoder = build_minilm_encoder(load_minilm(), trainable=True, pretrained=embedding == "non-static")
        features = encoder([inputs, mask])
    else:
        raise ValueError(f"minilm supports embedding static (frozen), non-static (fine-tuned) and rand (random "
                         f"initialisation), not {embedding!r}")
    return classifier_model(inputs, features, [], embedding_matrix, num_classes, dropout, max_norm,
                            name=f"minilm_{embedding}")


FAMILY = ModelFamily(
    name="minilm", settings=MiniLMSettings, builder=build_minilm_classifier, modes=("rand", "static", "non-static"),
    description="all-MiniLM-L6-v2 sentence encoder (own WordPiece tokenizer, no word vectors): static = frozen "
                "(cached features, head only), non-static = fine-tuned end to end, rand = the same architecture "
                "from random initialisation",
    identity_constants={"encoder_sha256": MINILM_WHEEL.sha256},
    text_inputs=minilm_inputs,
)


def _features_problem(folder) -> str | None:
    return None if (folder / "features.npy").stat().st_size > 128 else "features.npy empty"


def sentence_features(texts, max_length: int = 128, batch_size: int = 128) -> np.ndarray:
    """The frozen encoder's mean-pooled sentence embeddings of ``texts``, ``(len(texts), 384)``
    float32, cached on disk by content (texts, length, encoder, TF thread count), so a grid of the
    frozen condition runs the encoder once per dataset and then trains only heads.

    Texts are encoded in batches of similar length (each padded to its own longest): padding is
    masked, so a text's embedding does not depend on its batch (checked against the reference).
    The TF thread count is in the key because it changes float sums in the last digits.
    """
    import tensorflow as tf

    texts = [str(t) for t in texts]
    threads = tf.config.threading.get_intra_op_parallelism_threads()
    digest = hashlib.sha256(json.dumps([MINILM_WHEEL.sha256, max_length, threads, texts]).encode()).hexdigest()[:20]
    folder = embedlab_home() / "features" / "all-minilm-l6-v2" / digest
    if verified(folder, _features_problem):
        return np.load(folder / "features.npy")
    minilm = load_minilm()
    print(f"embedlab: encoding {len(texts):,} texts with all-MiniLM-L6-v2 (frozen; cached for later runs)",
          file=sys.stderr, flush=True)
    ids, mask = minilm.encode(texts, max_length)
    encoder = build_minilm_encoder(minilm)
    order = np.argsort(mask.sum(axis=1), kind="stable")
    features = np.empty((len(texts), minilm.hidden), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        width = int(mask[rows].sum(axis=1).max())
        features[rows] = np.asarray(encoder([ids[rows, :width], mask[rows, :width]], training=False))
    with atomic_dir(folder) as tmp:
        np.save(tmp / "features.npy", features)
    return features
