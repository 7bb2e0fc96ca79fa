"""Bag-of-embeddings baseline: the mean of a sentence's word vectors, then a softmax layer."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from embedlab.models.family import ModelFamily, ModelSettings

if TYPE_CHECKING:
    import keras


class BagOfEmbeddingsSettings(ModelSettings):
    """Only the shared head's settings: the mean of the word vectors has none of its own."""


def build_bag_of_embeddings(sequence_length: int | None, num_classes: int, embedding_matrix: np.ndarray,
                            embedding: str = "rand", dropout: float = 0.5, max_norm: float = 3.0
                            ) -> "keras.Model":
    """Builds mean pooling over (masked) word vectors → dropout → softmax.

    Args:
        sequence_length (int | None): Padded input length; None for batches of varying length.
        num_classes (int): Output classes.
        embedding_matrix (np.ndarray): ``(vocab_size, dim)`` initial embedding table.
        embedding (str): ``rand``, ``static`` or ``non-static`` (one channel only).
        dropout (float): Dropout rate before the output layer.
        max_norm (float): Max-norm constraint on the output layer's weight vectors.

    Returns:
        keras.Model: Uncompiled model taking ``(batch, sequence_length)`` int ids.
    """
    from embedlab.models import import_keras_quietly
    from embedlab.models.embedding import classifier_model, embed_tokens

    keras = import_keras_quietly()
    if embedding == "multichannel":
        raise ValueError("the bag-of-embeddings model has one channel; multichannel is not supported")
    token_ids = keras.Input(shape=(sequence_length,), dtype="int32", name="token_ids")
    embedded, embedding_layers = embed_tokens(token_ids, embedding, embedding_matrix, mask_zero=True)
    features = keras.layers.GlobalAveragePooling1D(name="mean_pool")(embedded)
    return classifier_model(token_ids, features, embedding_layers, embedding_matrix, num_classes, dropout,
                            max_norm, name=f"bag_of_embeddings_{embedding}")


FAMILY = ModelFamily(
    name="boe", settings=BagOfEmbeddingsSettings, builder=build_bag_of_embeddings,
    modes=("rand", "static", "non-static"),
    description="bag of embeddings: the mean of the (masked) word vectors, dropout, softmax",
    # Release 0.1 hashed the CNN's default settings into every run's id, this model's included.
    identity_constants={"filter_sizes": [3, 4, 5], "num_filters": 100},
)
