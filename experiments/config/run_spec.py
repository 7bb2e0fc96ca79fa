"""One fully resolved run and its identity: the hash of its settings and of its data and vectors'
content, which names its folder and row and lets a grid resume."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import Field, SerializeAsAny, model_validator

from embedlab.experiments.config.base import Section
from embedlab.experiments.config.compat import LEGACY_EMBEDDING_DIM, LEGACY_VALUES
from embedlab.experiments.config.references import VectorsRef, dataset_content_fingerprint, dataset_name
from embedlab.experiments.config.sections import DataConfig, TrainingConfig, Word2VecConfig
from embedlab.models.family import EmbeddingMode, ModelSettings
from embedlab.models.registry import families, get_family

# Settings that never change a run's result: left out of its id (keeping a model does not retrain it).
NOT_IN_IDENTITY: set[tuple[str, str]] = {("training", "save_model")}


class RunSpec(Section):
    """One fully resolved training run (``training.precision`` is never ``auto`` here)."""

    experiment: str
    data: DataConfig
    vectors: str | None
    word2vec: Word2VecConfig | None = None
    model_name: str
    model: SerializeAsAny[ModelSettings] = Field(description="the settings of model_name's family")
    embedding_dim: int | None = Field(None, description="rand's width (None: the vectors', else 300)")
    training: TrainingConfig
    embedding: EmbeddingMode
    seed: int
    fold: int | None
    train_size: float
    variant: str | None = Field(None, exclude=True, description="the config variant it was listed under (a label)")

    @model_validator(mode="before")
    @classmethod
    def _typed_model_settings(cls, value: Any) -> Any:
        """A run read back from its config.yaml: its model settings as its family's schema."""
        if isinstance(value, dict) and isinstance(value.get("model"), dict) and value.get("model_name") in families():
            value = {**value, "model": get_family(value["model_name"]).settings(**value["model"])}
        return value

    def identity(self) -> dict[str, Any]:
        """Everything that determines the run's result, including the data and vectors' content.

        A setting added after runs were first recorded is left out while it has the value that
        reproduces the behaviour from before it existed, so those runs keep their ids and results.
        """
        settings = self.model_dump(mode="json", exclude={"experiment", "model", "embedding_dim"})
        for (section, key), legacy in LEGACY_VALUES.items():
            if settings[section] is not None and settings[section].get(key, legacy) == legacy:
                settings[section].pop(key, None)
        for section, key in NOT_IN_IDENTITY:
            settings[section].pop(key, None)
        # Only this model's own settings: adding a model or a setting to another model leaves it alone.
        settings["model"] = get_family(self.model_name).identity(self.model)
        dim = self.embedding_dim
        if dim is None:
            settings["model"]["embedding_dim"] = LEGACY_EMBEDDING_DIM
        elif self.vectors is not None:  # v0.1 ignored the setting here: say that it is now used
            settings["model"]["embedding_dim"] = f"{dim} (rand)"
        else:
            settings["model"]["embedding_dim"] = dim
        settings["data_fingerprint"] = dataset_content_fingerprint(self.data.dataset)
        settings["vectors_fingerprint"] = VectorsRef.of(self.vectors).fingerprint() if self.vectors else None
        return settings

    def with_model(self, model_name: str, settings: ModelSettings | None = None) -> "RunSpec":
        """This run with another model (its family's default settings unless given)."""
        return self.model_copy(update={"model_name": model_name,
                                       "model": settings or get_family(model_name).settings()})

    @property
    def run_id(self) -> str:
        canonical = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        parts = [dataset_name(self.data.dataset), self.model_name, self.embedding, f"seed={self.seed}"]
        if self.variant is not None:
            parts.insert(0, f"[{self.variant}]")
        if self.fold is not None:
            parts.append(f"fold={self.fold}")
        if self.train_size != 1.0:
            parts.append(f"size={self.train_size:g}")
        return " ".join(parts)

