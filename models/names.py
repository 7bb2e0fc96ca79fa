"""Embedding-mode names, importable without Keras (config validation uses them). Model names come
from :func:`embedlab.models.registry.model_names`."""

from embedlab.models.family import EMBEDDING_MODES

__all__ = ["EMBEDDING_MODES"]
