"""A small Transformer encoder: word vectors + learned positions, self-attention blocks with the
padding masked, mean pooling, and the shared softmax head."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from embedlab.models.family import EMBEDDING_MODES, ModelFamily, ModelSettings

if TYPE_CHECKING:
    import keras


class TransformerSettings(ModelSettings):
    """Sized to train on MR in a few minutes per run on one CPU thread. The model width is the
    embedding's (2 × for multichannel), so pretrained vectors enter unprojected."""

    blocks: int = Field(1, ge=1, le=2, description="encoder blocks (self-attention + feed-forward)")
    heads: int = Field(2, ge=1, description="attention heads")
    key_dim: int = Field(32, ge=1, description="query/key width per head")
    ff_dim: int = Field(128, ge=1, description="feed-forward hidden width")
    attention_dropout: float = Field(0.1, ge=0, lt=1, description="dropout inside the blocks")
    max_positions: int = Field(512, ge=8, description="longest input (position embeddings learned)")


def _encoder_block(keras, x, index: int, heads: int, key_dim: int, ff_dim: int, dropout: float):
    """Post-norm block (Vaswani et al.): x + attention → norm → x + feed-forward → norm. Keras
    passes the padding mask from the embedding to the attention and through the block."""
    width = x.shape[-1]
    attended = keras.layers.MultiHeadAttention(heads, key_dim, dropout=dropout, name=f"attention_{index}")(x, x)
    x = keras.layers.LayerNormalization(epsilon=1e-6, name=f"norm_attention_{index}")(
        keras.layers.Add(name=f"residual_attention_{index}")([x, keras.layers.Dropout(dropout)(attended)]))
    hidden = keras.layers.Dense(ff_dim, activation="relu", name=f"ff_in_{index}")(x)
    hidden = keras.layers.Dense(width, name=f"ff_out_{index}")(keras.layers.Dropout(dropout)(hidden))
    return keras.layers.LayerNormalization(epsilon=1e-6, name=f"norm_ff_{index}")(
        keras.layers.Add(name=f"residual_ff_{index}")([x, keras.layers.Dropout(dropout)(hidden)]))


def build_transformer(sequence_length: int | None, num_classes: int, embedding_matrix: np.ndarray,
                      embedding: str = "rand", blocks: int = 1, heads: int = 2, key_dim: int = 32,
                      ff_dim: int = 128, attention_dropout: float = 0.1, max_positions: int = 512,
                      dropout: float = 0.5, max_norm: float = 3.0) -> "keras.Model":
    """Builds embedding + positions → encoder blocks → masked mean → dropout → softmax.

    Args:
        sequence_length (int | None): Padded input length (≤ ``max_positions``); None for batches
            of varying length.
        num_classes (int): Output classes.
        embedding_matrix (np.ndarray): ``(vocab_size, dim)`` initial embedding table.
        embedding (str): Embedding mode; multichannel concatenates a frozen and a tuned copy on the
            feature axis (model width 2 × dim).
        blocks (int): Encoder blocks.
        heads (int): Attention heads.
        key_dim (int): Query/key width per head.
        ff_dim (int): Feed-forward hidden width.
        attention_dropout (float): Dropout on attention weights and inside the residual branches.
        max_positions (int): Longest input; positions are learned embeddings.
        dropout (float): Dropout rate before the output layer.
        max_norm (float): Max-norm constraint on the output layer's weight vectors.

    Returns:
        keras.Model: Uncompiled model taking ``(batch, sequence_length)`` int ids.
    """
    from embedlab.models import import_keras_quietly
    from embedlab.models.embedding import classifier_model, embed_tokens
    from embedlab.models.layers import PositionEmbedding

    keras = import_keras_quietly()
    if sequence_length is not None and sequence_length > max_positions:
        raise ValueError(f"sequence_length {sequence_length} is longer than max_positions {max_positions}")
    token_ids = keras.Input(shape=(sequence_length,), dtype="int32", name="token_ids")
    embedded, embedding_layers = embed_tokens(token_ids, embedding, embedding_matrix, mask_zero=True)
    x = PositionEmbedding(max_positions, name="positions")(embedded)
    for index in range(blocks):
        x = _encoder_block(keras, x, index, heads, key_dim, ff_dim, attention_dropout)
    features = keras.layers.GlobalAveragePooling1D(name="mean_pool")(x)
    return classifier_model(token_ids, features, embedding_layers, embedding_matrix, num_classes, dropout,
                            max_norm, name=f"transformer_{embedding}")


FAMILY = ModelFamily(
    name="transformer", settings=TransformerSettings, builder=build_transformer, modes=EMBEDDING_MODES,
    description="small Transformer encoder: learned positions, 1-2 self-attention blocks, padding masked, "
                "mean pooling, dropout, softmax",
    max_length=lambda settings: settings.max_positions,
)
