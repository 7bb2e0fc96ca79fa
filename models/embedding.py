"""The embedding front end shared by all models."""

from __future__ import annotations

import keras
import numpy as np

from embedlab.models.family import EMBEDDING_MODES


def embed_tokens(token_ids, mode: str, matrix: np.ndarray, mask_zero: bool = False):
    """Embeds token ids according to an embedding mode.

    Args:
        token_ids (KerasTensor): ``(batch, length)`` int ids.
        mode (str): ``rand`` (matrix is random and trained), ``static`` (pretrained, frozen),
            ``non-static`` (pretrained, fine-tuned) or ``multichannel`` (a frozen and a fine-tuned
            copy, concatenated on the feature axis so that a following Conv1D sees two channels).
        matrix (np.ndarray): ``(vocab_size, dim)`` initial weights.
        mask_zero (bool): Let id 0 (padding) mask downstream layers that support masks.

    Returns:
        tuple[KerasTensor, list[keras.layers.Embedding]]: The embedded sequence and the embedding
        layers (whose weights are then set to ``matrix`` by :func:`load_embedding_weights`).
    """
    if mode not in EMBEDDING_MODES:
        raise ValueError(f"unknown embedding mode {mode!r}; expected one of {EMBEDDING_MODES}")
    vocab_size, dim = matrix.shape

    from embedlab.models.layers import Embedding

    def layer(name: str, trainable: bool) -> keras.layers.Embedding:
        return Embedding(vocab_size, dim, mask_zero=mask_zero, trainable=trainable, name=name)

    if mode == "multichannel":
        layers = [layer("embedding_static", False), layer("embedding_tuned", True)]
        return keras.layers.Concatenate(axis=-1, name="channels")([lay(token_ids) for lay in layers]), layers
    embedding = layer("embedding", trainable=(mode != "static"))
    return embedding(token_ids), [embedding]


def load_embedding_weights(layers, matrix: np.ndarray) -> None:
    """Sets every embedding layer's table to ``matrix`` (after the model is built)."""
    for embedding in layers:
        embedding.set_weights([matrix])


def classifier_model(token_ids, features, embedding_layers, embedding_matrix: np.ndarray, num_classes: int,
                     dropout: float, max_norm: float, name: str) -> keras.Model:
    """Closes a model: dropout → softmax layer with a max-norm constraint (Kim's s), then loads
    the embedding tables. Shared by every model so their heads cannot drift apart."""
    features = keras.layers.Dropout(dropout, name="dropout")(features)
    # float32 whatever the policy: the softmax and the loss stay exact under mixed bfloat16.
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="classifier", dtype="float32",
                                 kernel_constraint=keras.constraints.MaxNorm(max_norm))(features)
    model = keras.Model(token_ids, outputs, name=name)
    load_embedding_weights(embedding_layers, embedding_matrix)
    return model
