"""The sections of an experiment config: ``data``, ``model``, ``training``, ``grid``, ``word2vec``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, create_model, field_validator, model_validator

from embedlab.data.datasets import dataset_card, dataset_ids, trains_on_phrases
from embedlab.data.word2vec import Word2VecParams
from embedlab.experiments.config.base import Section
from embedlab.experiments.config.compat import flat_model_keys_error
from embedlab.experiments.config.references import UserDatasetConfig, resolve_vectors_ref
from embedlab.models.family import EmbeddingMode, ModelSettings
from embedlab.models.registry import families

_W2V = Word2VecParams()  # gensim's settings have their defaults stated once, there
DEFAULT_MAX_RUNS = 20_000  # grid.max_runs; the largest shipped config lists fewer than 600 runs


class DataConfig(Section):
    """Which dataset, and how it is split into train and test."""

    dataset: str | UserDatasetConfig = "mr"
    protocol: Literal["holdout", "cv", "official"] | None = Field(
        None, description="null (default): the dataset's own (official where it has a test split, else cv)")
    test_fraction: float = Field(0.1, gt=0, lt=1)
    folds: int = Field(10, ge=2, le=100)
    split_seed: int = Field(0, ge=0)
    subsample: int | None = Field(None, ge=20)
    max_length: int = Field(100, ge=5, le=5000)
    min_count: int = Field(1, ge=1)
    vocabulary: Literal["open", "train"] = Field(
        "open", description="open: a test word unseen in training but in the vectors is embedded with its "
                            "pretrained vector (pretrained conditions only); train: it maps to <unk>")
    padding: Literal["end", "kim"] = Field(
        "end", description="end: padding after the text; kim: (widest filter - 1) zeros on both sides "
                           "first, as Kim's code does")
    unknown_init: Literal["kim", "matched"] = Field(
        "kim", description="words without a pretrained vector: kim = U[-0.25, 0.25]; matched = "
                           "U[-a, a] with the pretrained vectors' standard deviation")
    training_examples: Literal["sentences", "phrases"] | None = Field(
        None, description="what a dataset with labelled phrases (SST-1, SST-2) trains on: phrases = every distinct "
                          "labelled phrase of the training trees (Kim 2014), sentences = the training sentences; "
                          "null (default): phrases where the dataset has them. Dev and test are sentences either way")
    rescale: Literal["none", "rand"] = Field(
        "none", description="none: pretrained vectors as they are; rand: scaled (one factor per run) so the "
                            "mean norm of the vocabulary's pretrained rows is a rand row's, 0.25*sqrt(d/3) "
                            "(directions and cosines unchanged)")

    def resolved(self) -> "DataConfig":
        """These settings with ``protocol`` and ``training_examples`` filled in: as written, else the
        dataset's own (a dataset without phrases trains on sentences whatever is asked)."""
        phrases = isinstance(self.dataset, str) and trains_on_phrases(self.dataset)
        examples = (self.training_examples or "phrases") if phrases else "sentences"
        protocol = self.protocol
        if protocol is None:
            protocol = dataset_card(self.dataset).protocol if isinstance(self.dataset, str) else "cv"
        return self.model_copy(update={"protocol": protocol, "training_examples": examples})

    def for_dataset(self, dataset: str) -> "DataConfig":
        """These settings for another dataset of a ``grid.dataset`` axis, resolved for it."""
        return self.model_copy(update={"dataset": dataset}).resolved()

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, value: "str | UserDatasetConfig") -> "str | UserDatasetConfig":
        if isinstance(value, str) and value not in dataset_ids():
            raise ValueError(f"unknown dataset {value!r}; known: {', '.join(dataset_ids())}")
        return value

    @model_validator(mode="after")
    def _protocol_fits_dataset(self) -> "DataConfig":
        if self.protocol == "official" and (isinstance(self.dataset, UserDatasetConfig)
                                            or dataset_card(self.dataset).protocol != "official"):
            raise ValueError(f"dataset {self.dataset!r} has no official test split; use protocol cv or holdout")
        if self.protocol not in (None, "official") and isinstance(self.dataset, str) \
                and trains_on_phrases(self.dataset):
            raise ValueError(f"dataset {self.dataset!r} has official train/dev/test sentences and training phrases; "
                             "use protocol official (or leave protocol unset)")
        return self


class _ModelSection(Section):
    """The ``model:`` section: the rand embedding's width, then one sub-section per model family
    (``model: {cnn: {num_filters: 200}, bilstm: {units: 64}}``), each with its own defaults. A run's
    identity includes only the sub-section of the model it trains."""

    embedding_dim: int | None = Field(
        None, ge=1, description="rand's width; null: the vectors' (capacity-matched), or 300 without vectors")

    @model_validator(mode="before")
    @classmethod
    def _flat_keys_moved(cls, value: Any) -> Any:
        problem = flat_model_keys_error(value)
        if problem:
            raise ValueError(problem)
        return value

    @property
    def explicit_dim(self) -> bool:
        return self.embedding_dim is not None

    def settings_of(self, model_name: str) -> ModelSettings:
        """The sub-section of one model family."""
        return getattr(self, model_name)


def _model_config_class() -> type[_ModelSection]:
    """The ``model:`` schema, one field per model family the registry finds."""
    fields = {name: (family.settings, Field(default_factory=family.settings, description=family.description))
              for name, family in families().items()}
    return create_model("ModelConfig", __base__=_ModelSection, __module__=__name__, **fields)


ModelConfig = _model_config_class()


class TrainingConfig(Section):
    """Optimisation and early stopping."""

    optimizer: Literal["adam", "adadelta", "sgd", "rmsprop"] = "adam"
    learning_rate: float = Field(0.001, gt=0)
    batch_size: int = Field(50, ge=1)
    max_epochs: int = Field(25, ge=1)
    patience: int = Field(3, ge=0, description="epochs without dev improvement before stopping")
    dev_fraction: float = Field(0.1, gt=0, lt=1)
    deterministic: bool = True
    sparse_updates: bool = Field(True, description="adam: update only the embedding rows in the batch")
    threads: int = Field(1, ge=1, le=256, description="TF threads per run; results depend on it")
    save_embeddings: bool = Field(False, description="write the trained table to the run dir (analyses)")
    save_model: bool = Field(False, description="keep the trained model in the run dir (runs/ID/model/), ready "
                                                "for `embedlab predict`; not part of the run's id")
    batching: Literal["bucketed", "fixed"] = Field(
        "bucketed", description="bucketed: texts of similar length batched together, each batch padded to "
                                "its own longest text; fixed: every batch padded to the training split's longest")
    precision: Literal["float32", "mixed_bfloat16", "auto"] = Field(
        "float32", description="mixed_bfloat16: layers compute in bfloat16 (softmax and loss in float32); "
                               "auto: mixed_bfloat16 where the CPU computes bfloat16 natively and the "
                               "embedding is >= 200 d, else float32 (docs/PERFORMANCE.md); a CPU without "
                               "bfloat16 units trains float32 instead, warns once and records float32")


class GridConfig(Section):
    """Axes whose cartesian product is the set of runs."""

    model: list[str] = Field(default_factory=lambda: ["cnn"], min_length=1,
                             description="model families (embedlab/models/*.py): cnn, boe, bilstm, transformer")
    embedding: list[EmbeddingMode] = Field(min_length=1)
    seed: list[int] = Field(default_factory=lambda: [0], min_length=1)
    fold: list[int] | None = Field(None, min_length=1)
    seeds_on_one_split: list[int] | None = Field(
        None, min_length=1, description="seeds for the datasets of the grid evaluated on one split (official or "
                                        "holdout), where seeds are the only repetition; null: grid.seed. Kim's "
                                        "Table 2: one seed per CV fold, five on SST's and TREC's official splits")
    train_size: list[float] | None = Field(None, min_length=1)
    dataset: list[str] | None = Field(None, min_length=1, description="overrides data.dataset")
    vectors: list[str] | None = Field(None, min_length=1, description="overrides vectors")
    max_runs: int = Field(DEFAULT_MAX_RUNS, ge=1, description="the most runs the grid may list (the product of "
                          "its axes), so that a typo'd axis is an error, not millions of runs; raise it for a "
                          "bigger grid. Not part of any run's id")

    @field_validator("model")
    @classmethod
    def _known_models(cls, value: list[str]) -> list[str]:
        unknown = [m for m in value if m not in families()]
        if unknown:
            raise ValueError(f"unknown model(s) {unknown}; known: {', '.join(families())}")
        return value

    @field_validator("dataset")
    @classmethod
    def _known_datasets(cls, value: list[str] | None) -> list[str] | None:
        unknown = [d for d in value or [] if d not in dataset_ids()]
        if unknown:
            raise ValueError(f"unknown dataset(s) {unknown}; known: {', '.join(dataset_ids())}")
        return value

    @field_validator("vectors")
    @classmethod
    def _known_vectors_list(cls, value: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if value is None:
            return None
        return [resolve_vectors_ref(v, (info.context or {}).get("base_dir")) for v in value]

    @field_validator("seed", "fold", "seeds_on_one_split")
    @classmethod
    def _non_negative(cls, value: list[int] | None) -> list[int] | None:
        if value is not None and any(v < 0 for v in value):
            raise ValueError("must be ≥ 0")
        return value

    @field_validator("train_size")
    @classmethod
    def _fractions(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and any(not 0 < v <= 1 for v in value):
            raise ValueError("training sizes are fractions in (0, 1]")
        return value

    @model_validator(mode="after")
    def _no_duplicates(self) -> "GridConfig":
        for axis in ("model", "embedding", "seed", "fold", "train_size", "dataset", "vectors"):
            values = getattr(self, axis)
            if values is not None and len(set(values)) != len(values):
                raise ValueError(f"{axis} lists a value twice")
        return self


class Word2VecConfig(Section):
    """gensim Word2Vec settings for ``w2v:CORPUS:ALGO:DIM`` vectors (corpus, algorithm and size are
    in the id)."""

    window: int = Field(_W2V.window, ge=1)
    negative: int = Field(_W2V.negative, ge=0)
    min_count: int = Field(_W2V.min_count, ge=1)
    epochs: int = Field(_W2V.epochs, ge=1)
    seed: int = Field(_W2V.seed, ge=0)
    workers: int = Field(_W2V.workers, ge=1, description="1 keeps training reproducible")
