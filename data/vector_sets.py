"""Every registry vector set by id, word sets (:mod:`embedlab.data.vectors`) and sub-word sets
(:mod:`embedlab.data.subword`) alike: the one place that knows both kinds."""

from __future__ import annotations

from embedlab.data.subword import SUBWORD_SPECS, SubwordVectors, load_subword
from embedlab.data.vectors import (Vectors, VectorsCard, load_word_vectors, vectors_cache_path, word_vectors_card,
                                   word_vectors_fingerprint, word_vectors_ids)

__all__ = ["is_subword", "load_vectors", "vectors_cache_path", "vectors_card", "vectors_fingerprint", "vectors_ids"]


def vectors_ids() -> list[str]:
    """Registry vector sets: word vectors, then sub-word sets."""
    return word_vectors_ids() + sorted(SUBWORD_SPECS)


def is_subword(vectors_id: str | None) -> bool:
    """Whether a vectors id names a sub-word set (every word has a vector, made from sub-tokens)."""
    return vectors_id in SUBWORD_SPECS


def vectors_card(vectors_id: str) -> VectorsCard:
    return SUBWORD_SPECS[vectors_id].card if is_subword(vectors_id) else word_vectors_card(vectors_id)


def vectors_fingerprint(vectors_id: str) -> str:
    """Identifies a set's content by its artifact's checksum."""
    if is_subword(vectors_id):
        return vectors_id + ":" + SUBWORD_SPECS[vectors_id].artifact.sha256[:16] + ":mean-of-subtokens"
    return word_vectors_fingerprint(vectors_id)


def load_vectors(vectors_id: str) -> "Vectors | SubwordVectors":
    """A registry set, fetched and cached on first use. A sub-word set comes back as
    :class:`~embedlab.data.subword.SubwordVectors` (``for_words(words)`` gives word vectors for any
    words)."""
    return load_subword(vectors_id) if is_subword(vectors_id) else load_word_vectors(vectors_id)
