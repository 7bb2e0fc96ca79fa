"""What a model module declares: its name, its settings schema, the embedding modes it supports,
its builder, and how its inputs are padded. Importable without Keras (configs validate with it).

A model is one module in ``embedlab/models/`` holding ``FAMILY = ModelFamily(...)``; the registry
(:mod:`embedlab.models.registry`) finds it by that attribute, so adding a model edits nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

# How a run initialises and trains its embedding table; the one list of names, used by configs, runs,
# reports and the DB (reports call them "conditions": rand = std, the others pre in Qi et al.).
EmbeddingMode = Literal["rand", "static", "non-static", "multichannel"]
EMBEDDING_MODES: tuple[str, ...] = get_args(EmbeddingMode)  # in the order reports list them
PRETRAINED_MODES = EMBEDDING_MODES[1:]  # every mode but rand starts from pretrained vectors


class ModelSettings(BaseModel):
    """Settings every model has: the shared classifier head (dropout, then a softmax layer whose
    weight vectors are max-norm constrained, Kim's s). A model subclasses it with its own keys."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dropout: float = Field(0.5, ge=0, lt=1, description="dropout rate before the softmax layer")
    max_norm: float = Field(3.0, gt=0, description="max-norm of the softmax layer's weight vectors")


@dataclass(frozen=True)
class ModelFamily:
    """A model as the suite sees it.

    Attributes:
        name: The id used in configs (``grid.model``) and in the ``model:`` section.
        settings: Its settings schema (a :class:`ModelSettings` subclass, defaults included).
        builder: ``builder(sequence_length, num_classes, embedding_matrix, embedding, **settings)``
            returning an uncompiled Keras model; it imports Keras itself.
        modes: Embedding modes it supports.
        description: One line for ``embedlab models`` and the docs.
        min_length: Shortest input it accepts, from its settings (a CNN's widest filter).
        window_padding: Whether it reads padding (a CNN max-pools over windows that include it): its
            bucketed batches then keep ``min_length`` zeros after every text, so they compute the
            same function as fixed padding. Masked models need none.
        max_length: Longest input it accepts, from its settings (None: any).
        identity_constants: Constants hashed into its run ids beside its settings: the CNN settings
            release 0.1 hashed into every model's ids (kept so recorded runs keep their ids), or the
            checksum of a pretrained encoder it loads.
        text_inputs: ``text_inputs(settings, embedding, texts) -> np.ndarray`` (one row per text)
            for a model that reads text its own way, e.g. a sub-word encoder with its own tokenizer;
            such a model uses no word vectors (a run's ``vectors`` is reset to None). None: the
            suite's vocabulary ids, and the run's word vectors.
    """

    name: str
    settings: type[ModelSettings]
    builder: Callable[..., Any]
    modes: tuple[str, ...] = EMBEDDING_MODES
    description: str = ""
    min_length: Callable[[Any], int] = lambda settings: 1
    window_padding: bool = False
    max_length: Callable[[Any], int | None] = lambda settings: None
    identity_constants: dict[str, Any] = field(default_factory=dict)
    text_inputs: Callable[..., Any] | None = None

    def build(self, settings: ModelSettings, **inputs):
        """Builds the Keras model of these settings (``inputs``: sequence_length, num_classes,
        embedding_matrix, embedding)."""
        return self.builder(**inputs, **dict(settings))

    def identity(self, settings: ModelSettings) -> dict[str, Any]:
        """The settings as hashed into a run id."""
        return {**self.identity_constants, **settings.model_dump(mode="json")}

    @property
    def uses_word_vectors(self) -> bool:
        """Whether its input is the suite's vocabulary ids, embedded with the run's word vectors."""
        return self.text_inputs is None

    def bucket_padding(self, settings: ModelSettings, pad_after: int = 0) -> tuple[int, int]:
        """``(min_length, pad_after)`` of its length-bucketed batches (see ``window_padding``)."""
        shortest = self.min_length(settings)
        return (shortest, max(shortest, pad_after)) if self.window_padding else (shortest, pad_after)
