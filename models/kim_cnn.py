"""Kim (2014)'s CNN for sentence classification."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field, field_validator

from embedlab.models.family import EMBEDDING_MODES, ModelFamily, ModelSettings

if TYPE_CHECKING:
    import keras


class KimCnnSettings(ModelSettings):
    """Kim 2014's settings by default: windows of 3, 4 and 5 tokens, 100 feature maps each."""

    filter_sizes: tuple[int, ...] = Field((3, 4, 5), min_length=1, description="window widths, in tokens")
    num_filters: int = Field(100, ge=1, description="feature maps per width")

    @field_validator("filter_sizes")
    @classmethod
    def _positive_widths(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(w < 1 for w in value):
            raise ValueError("filter widths must be ≥ 1")
        return value


def build_kim_cnn(sequence_length: int | None, num_classes: int, embedding_matrix: np.ndarray,
                  embedding: str = "rand", filter_sizes: tuple[int, ...] = (3, 4, 5),
                  num_filters: int = 100, dropout: float = 0.5, max_norm: float = 3.0) -> "keras.Model":
    """Builds Kim's CNN: windows of several widths, ReLU, 1-max pooling, dropout, softmax.

    Args:
        sequence_length (int | None): Padded input length (at least the widest filter); None for
            batches of varying length (each then padded to at least the widest filter).
        num_classes (int): Output classes.
        embedding_matrix (np.ndarray): ``(vocab_size, dim)`` initial embedding table.
        embedding (str): Embedding mode (see :func:`embedlab.models.embedding.embed_tokens`).
        filter_sizes (tuple[int, ...]): Convolution window widths, in tokens.
        num_filters (int): Feature maps per width.
        dropout (float): Dropout rate on the penultimate layer.
        max_norm (float): Max-norm constraint on the output layer's weight vectors (Kim's s = 3).

    Returns:
        keras.Model: Uncompiled model taking ``(batch, sequence_length)`` int ids.
    """
    from embedlab.models import import_keras_quietly
    from embedlab.models.embedding import classifier_model, embed_tokens

    keras = import_keras_quietly()
    if sequence_length is not None and sequence_length < max(filter_sizes):
        raise ValueError(f"sequence_length {sequence_length} is shorter than the widest filter {max(filter_sizes)}")
    token_ids = keras.Input(shape=(sequence_length,), dtype="int32", name="token_ids")
    embedded, embedding_layers = embed_tokens(token_ids, embedding, embedding_matrix)
    pooled = [
        keras.layers.GlobalMaxPooling1D(name=f"max_pool_{width}")(
            keras.layers.Conv1D(num_filters, width, activation="relu", name=f"conv_{width}")(embedded))
        for width in filter_sizes
    ]
    features = keras.layers.Concatenate(name="features")(pooled) if len(pooled) > 1 else pooled[0]
    return classifier_model(token_ids, features, embedding_layers, embedding_matrix, num_classes, dropout,
                            max_norm, name=f"kim_cnn_{embedding}")


FAMILY = ModelFamily(
    name="cnn", settings=KimCnnSettings, builder=build_kim_cnn, modes=EMBEDDING_MODES,
    description="Kim 2014's CNN: convolutions of several widths, 1-max pooling, dropout, softmax",
    min_length=lambda settings: max(settings.filter_sizes),
    window_padding=True,  # max-pooling sees windows over padding: see ModelFamily.window_padding
)
