"""A bidirectional LSTM over the word vectors, pooled over time, with the shared softmax head."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field

from embedlab.models.family import EMBEDDING_MODES, ModelFamily, ModelSettings

if TYPE_CHECKING:
    import keras


class BiLstmSettings(ModelSettings):
    """Sized to train on MR in a few minutes per run on one CPU thread."""

    units: int = Field(64, ge=1, description="LSTM units per direction")
    pooling: Literal["max", "mean"] = Field("max", description="pooling of the hidden states over time "
                                                               "(padding masked)")


def build_bilstm(sequence_length: int | None, num_classes: int, embedding_matrix: np.ndarray,
                 embedding: str = "rand", units: int = 64, pooling: str = "max", dropout: float = 0.5,
                 max_norm: float = 3.0) -> "keras.Model":
    """Builds embedding → BiLSTM (padding masked) → max or mean over time → dropout → softmax.

    Args:
        sequence_length (int | None): Padded input length; None for batches of varying length.
        num_classes (int): Output classes.
        embedding_matrix (np.ndarray): ``(vocab_size, dim)`` initial embedding table.
        embedding (str): Embedding mode; multichannel concatenates a frozen and a tuned copy on the
            feature axis (the LSTM reads 2 × dim features per token).
        units (int): LSTM units per direction (the features are 2 × units).
        pooling (str): ``max`` or ``mean`` over the unmasked time steps.
        dropout (float): Dropout rate before the output layer.
        max_norm (float): Max-norm constraint on the output layer's weight vectors.

    Returns:
        keras.Model: Uncompiled model taking ``(batch, sequence_length)`` int ids.
    """
    from embedlab.models import import_keras_quietly
    from embedlab.models.embedding import classifier_model, embed_tokens
    from embedlab.models.layers import MaskedGlobalMaxPooling1D

    keras = import_keras_quietly()
    token_ids = keras.Input(shape=(sequence_length,), dtype="int32", name="token_ids")
    embedded, embedding_layers = embed_tokens(token_ids, embedding, embedding_matrix, mask_zero=True)
    states = keras.layers.Bidirectional(keras.layers.LSTM(units, return_sequences=True), name="bilstm")(embedded)
    pool = MaskedGlobalMaxPooling1D(name="max_pool") if pooling == "max" else \
        keras.layers.GlobalAveragePooling1D(name="mean_pool")
    return classifier_model(token_ids, pool(states), embedding_layers, embedding_matrix, num_classes, dropout,
                            max_norm, name=f"bilstm_{embedding}")


FAMILY = ModelFamily(
    name="bilstm", settings=BiLstmSettings, builder=build_bilstm, modes=EMBEDDING_MODES,
    description="bidirectional LSTM, padding masked, max- or mean-pooled over time, dropout, softmax",
)
