"""Experiment configs: the YAML schema, its validation, and grid expansion into runs.

All validation happens here, before anything is fetched or trained: an unknown key, a wrong type,
an unknown dataset / vectors / model id or an impossible combination raises :class:`ConfigError`
naming the file and the key.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import typing

import yaml
from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, SerializeAsAny, ValidationError, ValidationInfo,
                      create_model, field_validator, model_validator)

from embedlab.data.datasets import (dataset_card, dataset_fingerprint, dataset_ids, load_dataset,
                                     trains_on_phrases)
from embedlab.data.vectors import vectors_card, vectors_fingerprint, vectors_ids
from embedlab.data.word2vec import parse_w2v_id

W2V_CORPORA = ("wikitext2", "train")
from embedlab.models.family import ModelSettings
from embedlab.models.registry import families, get_family


class ConfigError(ValueError):
    """A config file is unreadable or invalid; the message names the file and the key."""


# Bounds on what a config may ask for, checked before anything is built from it: without them a
# typo'd or hostile file (a million seeds, settings nested thousands deep) ends in a traceback or
# gigabytes of run objects instead of an error line.
MAX_CONFIG_BYTES = 1_000_000
MAX_DEPTH = 50  # levels of nested mappings and lists; a real config needs about six
MAX_VALUES = 1_000_000  # values in the whole document, an alias counted each time it is used
DEFAULT_MAX_RUNS = 20_000  # grid.max_runs; the largest shipped config lists fewer than 600 runs
MAX_NAME_LENGTH = 100  # a name becomes a folder name (results/<name>/, compare_<a>_vs_<b>/)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserDatasetConfig(_Section):
    """The user's own file: ``{path: reviews.csv, text: review, label: stars}``.

    A relative ``path`` is resolved against the config file's folder. The file is read during
    validation, so a missing column or a single-class file is reported before any training.
    """

    path: str
    text: str = "text"
    label: str = "label"

    @model_validator(mode="before")
    @classmethod
    def _resolve(cls, value: Any, info: ValidationInfo) -> Any:
        base = (info.context or {}).get("base_dir")
        if isinstance(value, dict) and isinstance(value.get("path"), str) and base is not None:
            candidate = Path(value["path"]).expanduser()
            if not candidate.is_absolute():
                value = {**value, "path": str((Path(base) / candidate).resolve())}
        return value

    @model_validator(mode="after")
    def _readable(self) -> "UserDatasetConfig":
        from embedlab.data.user_data import UserDataError

        try:
            load_user_data(self)
        except UserDataError as exc:
            raise ValueError(str(exc)) from None
        return self

    @property
    def name(self) -> str:
        return Path(self.path).stem


@lru_cache(maxsize=16)
def _load_user_data_cached(path: str, text: str, label: str, mtime: float, size: int):
    from embedlab.data.user_data import load_user_dataset

    return load_user_dataset(path, text, label)


def load_user_data(ref: UserDatasetConfig):
    """Loads (once per file version) a user dataset."""
    stat = Path(ref.path).stat() if Path(ref.path).exists() else None
    return _load_user_data_cached(ref.path, ref.text, ref.label, stat.st_mtime if stat else 0.0,
                                  stat.st_size if stat else 0)


def load_any_dataset(ref: "str | UserDatasetConfig"):
    """A registry dataset by id, or the user's file."""
    return load_user_data(ref) if isinstance(ref, UserDatasetConfig) else load_dataset(ref)


def _enough_per_class(dataset, data: "DataConfig") -> None:
    """A stratified split needs every class in the training, dev and test parts: at least 2 examples
    per class, and at least one per fold under cross-validation (else scikit-learn fails mid-grid)."""
    needed = max(3, data.folds if data.protocol == "cv" else 3)
    counts = dataset.meta["counts"]
    short = {c: counts[c] for c in dataset.card.classes if counts[c] < needed}
    if short:
        listed = ", ".join(f"{c!r} {n}" for c, n in short.items())
        raise ValueError(f"data.dataset: {dataset.card.origin}: class(es) {listed} have fewer than {needed} examples, "
                         f"too few for a stratified {data.protocol} split into train, dev and test "
                         f"({'folds: ' + str(data.folds) if data.protocol == 'cv' else 'holdout'}); add examples, "
                         "merge classes, or lower data.folds")


def dataset_name(ref: "str | UserDatasetConfig") -> str:
    return ref.name if isinstance(ref, UserDatasetConfig) else ref


@lru_cache(maxsize=64)
def _file_sha256(path: str, mtime: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _vectors_fingerprint(ref: str) -> str:
    if ref in vectors_ids():
        return vectors_fingerprint(ref)
    parsed = parse_w2v_id(ref)
    path = parsed[0] if parsed else ref
    if parsed and path in W2V_CORPORA:
        return ref  # content fixed by the pinned artifact (wikitext2) or by the run's split (train)
    return f"{ref}#sha256={_file_sha256(path, Path(path).stat().st_mtime)}"


def _vectors_dim(ref: str) -> int | None:
    """The width of a vectors reference, where it is known without loading them."""
    if ref in vectors_ids():
        return vectors_card(ref).dim
    parsed = parse_w2v_id(ref)
    return parsed[2] if parsed else None


def _fingerprint(ref: "str | UserDatasetConfig") -> str:
    if isinstance(ref, UserDatasetConfig):
        return "file:" + load_user_data(ref).meta["sha256"]
    return dataset_fingerprint(ref)


class DataConfig(_Section):
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


class _ModelSection(_Section):
    """The ``model:`` section: the rand embedding's width, then one sub-section per model family
    (``model: {cnn: {num_filters: 200}, bilstm: {units: 64}}``), each with its own defaults. A run's
    identity includes only the sub-section of the model it trains."""

    embedding_dim: int | None = Field(
        None, ge=1, description="rand's width; null: the vectors' (capacity-matched), or 300 without vectors")

    @model_validator(mode="before")
    @classmethod
    def _flat_keys_moved(cls, value: Any) -> Any:
        if isinstance(value, dict):
            moved = [k for k in ("filter_sizes", "num_filters", "dropout", "max_norm") if k in value]
            if moved:
                raise ValueError(f"{', '.join(moved)}: since release 0.3 each model has its own section; "
                                 f"write them as model.cnn.{moved[0]} (dropout and max_norm: under each model "
                                 "that should use them, e.g. model.cnn.dropout)")
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


class TrainingConfig(_Section):
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
                               "embedding is >= 200 d, else float32 (docs/PERFORMANCE.md)")


class GridConfig(_Section):
    """Axes whose cartesian product is the set of runs."""

    model: list[str] = Field(default_factory=lambda: ["cnn"], min_length=1,
                             description="model families (embedlab/models/*.py): cnn, boe, bilstm, transformer")
    embedding: list[Literal["rand", "static", "non-static", "multichannel"]] = Field(min_length=1)
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
        return [_resolve_vectors_ref(v, (info.context or {}).get("base_dir")) for v in value]

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


class Word2VecConfig(_Section):
    """gensim Word2Vec settings for ``w2v:CORPUS:ALGO:DIM`` vectors (corpus, algorithm and size are
    in the id)."""

    window: int = Field(5, ge=1)
    negative: int = Field(5, ge=0)
    min_count: int = Field(2, ge=1)
    epochs: int = Field(5, ge=1)
    seed: int = Field(1, ge=0)
    workers: int = Field(1, ge=1, description="1 keeps training reproducible")


def _resolve_vectors_ref(value: str, base_dir: Path | None) -> str:
    """Validates a vectors reference and makes file paths absolute; see :func:`resolve_vectors`."""
    if value in vectors_ids():
        return value
    parsed = parse_w2v_id(value)
    if parsed is not None:
        corpus, algo, dim = parsed
        if corpus in W2V_CORPORA:
            return value
        path = Path(corpus).expanduser()
        path = path if path.is_absolute() or base_dir is None else (base_dir / path).resolve()
        if not path.is_file():
            raise ValueError(f"word2vec corpus {corpus!r} is neither one of {', '.join(W2V_CORPORA)} "
                             "nor an existing text file")
        return f"w2v:{path}:{algo}:{dim}"
    if value.startswith("w2v:"):
        raise ValueError(f"{value!r} is not a word2vec id; the form is w2v:CORPUS:sg|cbow:DIM, "
                         "e.g. w2v:wikitext2:sg:100")
    path = Path(value).expanduser()
    path = path if path.is_absolute() or base_dir is None else (base_dir / path).resolve()
    if path.is_file():
        from embedlab.data.word2vec import check_vectors_file

        check_vectors_file(path)  # a bad file is an error now, not in every run
        return str(path)
    raise ValueError(f"unknown vectors {value!r}: not a registry id ({', '.join(vectors_ids())}), not "
                     "w2v:CORPUS:sg|cbow:DIM, and no such file")


class ExperimentConfig(_Section):
    """A whole experiment file."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="also the output folder's name: results/<name>/")
    description: str = ""
    data: DataConfig = Field(default_factory=DataConfig)
    vectors: str | None = "glove-6b-50d"
    model: ModelConfig = Field(default_factory=ModelConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    word2vec: Word2VecConfig = Field(default_factory=Word2VecConfig)
    grid: GridConfig
    variants: dict[str, dict[str, Any]] | None = Field(
        None, description="named variants of this config, each a mapping of dotted keys to the values that "
                          "differ (e.g. {kim_optimiser: {training.optimizer: adadelta}}); runs of all variants, "
                          "a run shared by several trained once")
    overrides: list[str] = Field(default_factory=list, description="KEY=VALUE settings given on the command "
                                 "line (already applied above); recorded in the output folder's snapshot")
    _variant_configs: dict[str, "ExperimentConfig"] = PrivateAttr(default_factory=dict)

    @field_validator("vectors")
    @classmethod
    def _known_vectors(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        return _resolve_vectors_ref(value, (info.context or {}).get("base_dir"))

    @field_validator("name")
    @classmethod
    def _usable_as_folder_name(cls, value: str) -> str:
        _check_folder_name(value)
        return value

    @model_validator(mode="after")
    def _combinations(self) -> "ExperimentConfig":
        word_vector_models = [m for m in self.grid.model if get_family(m).uses_word_vectors]
        if None in self.vectors_axis() and word_vector_models and any(m != "rand" for m in self.grid.embedding):
            raise ValueError("vectors: null allows only embedding 'rand'; static, non-static and "
                             "multichannel need pretrained vectors")
        for model in self.grid.model:
            family = get_family(model)
            unsupported = [m for m in self.grid.embedding if m not in family.modes]
            if unsupported:
                raise ValueError(f"grid: model {model!r} does not support embedding {unsupported} "
                                 f"(supported: {', '.join(family.modes)})")
            settings = self.model.settings_of(model)
            if not family.uses_word_vectors and self.training.save_model:
                raise ValueError(f"training.save_model is not supported for model {model!r} yet (it reads text with "
                                 "its own tokenizer; a model folder holds the suite's vocabulary)")
            if self.data.max_length < family.min_length(settings):
                raise ValueError(f"data.max_length {self.data.max_length} is shorter than the shortest input model "
                                 f"{model!r} takes ({family.min_length(settings)} tokens, e.g. the widest filter)")
            longest = family.max_length(settings)
            if longest is not None and self.data.max_length > longest:
                raise ValueError(f"data.max_length {self.data.max_length} is longer than model {model!r} takes "
                                 f"({longest} tokens: model.{model}.max_positions)")
        for data in self.data_axis():
            if data.protocol == "official" and dataset_card(data.dataset).protocol != "official":
                raise ValueError(f"dataset {data.dataset!r} has no official test split; use protocol cv or holdout")
            if isinstance(data.dataset, UserDatasetConfig):
                _enough_per_class(load_user_data(data.dataset), data)
        if self.grid.fold is not None:
            if any(d.protocol != "cv" for d in self.data_axis()):
                raise ValueError("grid.fold needs data.protocol: cv (for every dataset of the grid)")
            if max(self.grid.fold) >= self.data.folds:
                raise ValueError(f"grid.fold {max(self.grid.fold)} is outside 0..{self.data.folds - 1}")
        if self.model.explicit_dim and "rand" not in self.grid.embedding and None not in self.vectors_axis():
            raise ValueError(f"model.embedding_dim: {self.model.embedding_dim} would not be used: only rand runs "
                             "take it, and pretrained conditions take the vectors' width; remove it or add rand")
        return self

    @model_validator(mode="after")
    def _bounded_grid(self) -> "ExperimentConfig":
        if not self.variants:  # with variants, their runs are the grid (counted in _expand_variants)
            _check_run_count(self.planned_runs(), self.grid.max_runs, self._longest_axis())
        return self

    @model_validator(mode="after")
    def _expand_variants(self, info: ValidationInfo) -> "ExperimentConfig":
        if not self.variants:
            return self
        base = self.model_dump(mode="json", exclude={"variants"})
        for name, overrides in self.variants.items():
            if not re.match(r"^[A-Za-z0-9_.-]+$", name):
                raise ValueError(f"variants: name {name!r} may only hold letters, digits, _ . -")
            try:
                _check_folder_name(name)
            except ValueError as exc:
                raise ValueError(f"variants: name {exc}") from None
            try:
                variant = ExperimentConfig.model_validate(apply_overrides(base, overrides, f"variants.{name}"),
                                                          context=info.context)
            except ValidationError as exc:
                raise ValueError("; ".join(f"variants.{name}.{line}" for line in validation_error_lines(exc))) from None
            self._variant_configs[name] = variant
        # Counted before any variant is expanded into runs: each is bounded alone, but not their sum.
        _check_run_count(sum(v.planned_runs() for v in self._variant_configs.values()), self.grid.max_runs,
                         f"{len(self.variants)} variants")
        seen: dict[tuple, str] = {}
        for name, variant in self._variant_configs.items():
            ids = tuple(r.run_id for r in variant.runs())
            if ids in seen:
                raise ValueError(f"variants {seen[ids]!r} and {name!r} give the same runs")
            seen[ids] = name
        return self

    def planned_runs(self) -> int:
        """How many runs the grid lists, from the lengths of its axes alone (cheap for any grid):
        what :meth:`runs` expands before merging runs that turn out identical, so never fewer."""
        per_split = (len(self.vectors_axis()) * len(self.grid.model) * len(self.grid.train_size or [1.0])
                     * len(self.grid.embedding))
        return sum(per_split * len(self._folds(data)) * len(self._seeds(data)) for data in self.data_axis())

    def _folds(self, data: "DataConfig") -> list[int | None]:
        """The folds a dataset's runs iterate: ``grid.fold``, else all of a CV split's, else one split."""
        if self.grid.fold is not None:
            return self.grid.fold
        return list(range(data.folds)) if data.protocol == "cv" else [None]

    def _seeds(self, data: "DataConfig") -> list[int]:
        """The seeds of a dataset's runs: ``grid.seed``, or ``grid.seeds_on_one_split`` where the
        dataset is evaluated on one split (seeds are then its only repetition)."""
        return self.grid.seed if data.protocol == "cv" else (self.grid.seeds_on_one_split or self.grid.seed)

    def _longest_axis(self) -> str:
        lengths = {axis: len(getattr(self.grid, axis) or []) for axis in
                   ("model", "embedding", "seed", "fold", "seeds_on_one_split", "train_size", "dataset", "vectors")}
        axis = max(lengths, key=lengths.get)
        return f"grid.{axis} lists {lengths[axis]:,} values"

    def data_axis(self) -> list[DataConfig]:
        """Data settings per dataset of the grid (just ``data`` without a ``grid.dataset`` axis)."""
        if self.grid.dataset is None:
            return [self.data.resolved()]
        return [self.data.for_dataset(d) for d in self.grid.dataset]

    def vectors_axis(self) -> list[str | None]:
        return self.grid.vectors if self.grid.vectors is not None else [self.vectors]

    def runs(self) -> list["RunSpec"]:
        """Expands the grid into runs, in a stable order (slowest-varying axis first; variants first of
        all). A run that several variants share (same settings, same id) is listed once, under the
        first; :meth:`variant_runs` gives every variant's full list."""
        if self._variant_configs:
            unique: dict[str, RunSpec] = {}
            for runs in self.variant_runs().values():
                for run in runs:
                    unique.setdefault(run.run_id, run)
            return list(unique.values())
        return self._grid_runs()

    def variant_runs(self) -> dict[str | None, list["RunSpec"]]:
        """Each variant's runs (``{None: runs}`` without variants)."""
        if not self._variant_configs:
            return {None: self._grid_runs()}
        return {name: [r.model_copy(update={"variant": name}) for r in config._grid_runs()]
                for name, config in self._variant_configs.items()}

    def _grid_runs(self) -> list["RunSpec"]:
        sizes = self.grid.train_size or [1.0]
        runs = []
        for data in self.data_axis():
            for vectors, model, size, fold, seed, embedding in itertools.product(
                    self.vectors_axis(), self.grid.model, sizes, self._folds(data), self._seeds(data),
                    self.grid.embedding):
                pretrained = embedding != "rand"
                own_inputs = not get_family(model).uses_word_vectors  # e.g. an encoder with its own tokenizer
                runs.append(RunSpec(
                    experiment=self.name, vectors=None if own_inputs else vectors,
                    # settings a condition does not use are reset, so runs that differ only there are one run
                    data=data if pretrained else data.model_copy(update={"vocabulary": "train", "unknown_init": "kim",
                                                                       "rescale": "none"}),
                    model=self.model.settings_of(model), embedding_dim=None if pretrained else self.model.embedding_dim,
                    word2vec=self.word2vec if vectors and vectors.startswith("w2v:") and not own_inputs else None,
                    training=self.training_for(None if own_inputs else vectors), model_name=model, embedding=embedding,
                    seed=seed, fold=fold, train_size=size))
        return list({run.run_id: run for run in runs}.values())  # a model without word vectors: once per vectors

    def training_for(self, vectors: str | None) -> TrainingConfig:
        """``training`` with ``precision: auto`` resolved for the embedding width these vectors give."""
        if self.training.precision != "auto":
            return self.training
        from embedlab.experiments.hardware import auto_precision

        width = _vectors_dim(vectors) if vectors else self.model.embedding_dim
        return self.training.model_copy(update={"precision": auto_precision(width)})


def _check_folder_name(name: str) -> None:
    """A config or variant name must work as a folder name on any file system.

    Raises:
        ValueError: Too long, or starting with a dot (``..`` would name the parent folder).
    """
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"{len(name)} characters; a name becomes a folder name (results/<name>/), so at most "
                         f"{MAX_NAME_LENGTH}")
    if name.startswith("."):
        raise ValueError(f"{name[:40]!r} starts with a dot; a name becomes a folder name (results/<name>/), "
                         "which must not be hidden or name a parent folder")


def _check_run_count(count: int, limit: int, biggest: str) -> None:
    """Refuses a grid of more than ``limit`` runs before a single run object exists.

    Raises:
        ValueError: Worded with the key ``grid.max_runs`` (see :func:`validation_error_lines`).
    """
    if count > limit:
        raise ValueError(f"grid.max_runs: the grid lists {count:,} runs ({biggest}), more than grid.max_runs "
                         f"{limit:,}; list fewer values, or raise grid.max_runs if you mean it")


# Settings added since run ids were first recorded (v0.1), with the value that gives v0.1's behaviour.
LEGACY_VALUES: dict[tuple[str, str], Any] = {
    ("training", "batching"): "fixed",
    ("training", "precision"): "float32",
    ("data", "vocabulary"): "train",
    ("data", "padding"): "end",
    ("data", "unknown_init"): "kim",
    ("data", "rescale"): "none",
    ("data", "training_examples"): "sentences",
}
# Settings that never change a run's result: left out of its id (keeping a model does not retrain it).
NOT_IN_IDENTITY: set[tuple[str, str]] = {("training", "save_model")}
# v0.1 hashed model.embedding_dim = 300 for every run (rand took the vectors' width whenever vectors
# were set); null means exactly that today.
LEGACY_EMBEDDING_DIM = 300


class RunSpec(_Section):
    """One fully resolved training run (``training.precision`` is never ``auto`` here)."""

    experiment: str
    data: DataConfig
    vectors: str | None
    word2vec: Word2VecConfig | None = None
    model_name: str
    model: SerializeAsAny[ModelSettings] = Field(description="the settings of model_name's family")
    embedding_dim: int | None = Field(None, description="rand's width (None: the vectors', else 300)")
    training: TrainingConfig
    embedding: str
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
        settings["data_fingerprint"] = _fingerprint(self.data.dataset)
        settings["vectors_fingerprint"] = _vectors_fingerprint(self.vectors) if self.vectors else None
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


# The model keys of releases 0.1-0.2, when every model shared one CNN-shaped section.
_FLAT_MODEL_KEYS = {"filter_sizes": ("cnn",), "num_filters": ("cnn",), "dropout": ("cnn", "boe"),
                    "max_norm": ("cnn", "boe")}


def load_snapshot(path: str | Path) -> ExperimentConfig:
    """Reads an output folder's ``experiment.yaml`` (the config a grid ran), including snapshots that
    releases 0.1-0.2 wrote with one flat ``model:`` section: their keys meant the CNN's (and, for
    dropout and max-norm, the bag of embeddings'), and are moved there, which keeps their run ids."""
    raw = read_yaml_file(Path(path)) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: not a config snapshot this embedlab can read (not a mapping)")
    model = dict(raw.get("model") or {})
    for key, families_of_key in _FLAT_MODEL_KEYS.items():
        if key in model:
            value = model.pop(key)
            for family in families_of_key:
                model.setdefault(family, {})[key] = value
    raw["model"] = model
    try:
        return ExperimentConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: not a config snapshot this embedlab can read ("
                          + "; ".join(validation_error_lines(exc)[:3]) + ")") from None


def apply_overrides(raw: dict, overrides: dict[str, Any], where: str) -> dict:
    """A copy of a config mapping with dotted keys set (``training.max_epochs: 5``).

    A mapping given for a key whose value is a mapping (``data={}``) would replace that whole section,
    silently dropping the keys it does not repeat; that is refused (set keys one by one instead).

    Raises:
        ConfigError: A key walks into a value that is not a section, or a mapping would drop keys
            of the section it replaces (names ``where`` and the key).
    """
    import copy

    result = copy.deepcopy(raw)
    for dotted, value in (overrides or {}).items():
        node = result
        parts = str(dotted).split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise ConfigError(f"{where}: {dotted}: {part!r} is a value, not a section")
            node = child
        _check_replaced_section(node.get(parts[-1]), value, dotted, where)
        node[parts[-1]] = value
    return result


def _check_replaced_section(old: Any, new: Any, dotted: str, where: str) -> None:
    """Refuses a mapping that replaces a section and leaves out some of its keys."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return
    dropped = [str(key) for key in old if key not in new]
    if dropped:
        shown = ", ".join(f"{dotted}.{key}" for key in dropped[:5]) + (" …" if len(dropped) > 5 else "")
        raise ConfigError(f"{where}: {dotted}: a mapping here replaces the whole section and would drop {shown}; "
                          f"set keys one by one instead ({dotted}.KEY=VALUE)")


class DuplicateKeyError(ValueError):
    """A YAML mapping lists a key twice."""


class NestingError(ValueError):
    """A YAML document or a config mapping is nested too deeply, or holds too many values."""


_MERGE_TAG = "tag:yaml.org,2002:merge"


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key written twice in one mapping is an error (PyYAML
    silently keeps the last value, so a typo'd duplicate would change an experiment unnoticed), and
    that nesting is bounded while the document is composed (composing recurses once per level, so a
    file nested a few hundred levels deep would otherwise end in a RecursionError)."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH + 1:  # + 1: a scalar may sit inside MAX_DEPTH collections
                mark = self.peek_event().start_mark
                raise NestingError(f"settings nested deeper than {MAX_DEPTH} levels (line {mark.line + 1}, "
                                   f"column {mark.column + 1})")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue  # `<<: *defaults` (standard YAML): the mapping's own keys override merged ones
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:
                continue  # an unhashable key: PyYAML's own check below names it
            if duplicate:
                raise DuplicateKeyError(f"key {key!r} is written twice in one mapping (line {seen[key] + 1} and "
                                        f"line {key_node.start_mark.line + 1}); keep one")
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def _load_yaml(text: str) -> Any:
    """A YAML document, safe-loaded with :class:`_UniqueKeyLoader` and checked by :func:`check_shape`.

    Raises:
        DuplicateKeyError, NestingError, yaml.YAMLError: What is wrong, without the file's name.
    """
    try:
        value = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a safe loader)
    except RecursionError:  # belt and braces: the loader bounds nesting before Python's stack does
        raise NestingError("settings nested too deeply to read") from None
    check_shape(value)
    return value


def check_shape(value: Any) -> None:
    """Bounds a loaded document (or a mapping given from Python) iteratively, before anything
    recursive (validation, deep copies, JSON) walks it: at most :data:`MAX_DEPTH` levels and
    :data:`MAX_VALUES` values (a YAML alias counted each time it is used, so a "billion laughs"
    document stops here).

    Raises:
        NestingError: Names the top-level key under which the bound was passed.
    """
    stack = [(value, 1, None)]
    count = 0
    while stack:
        node, depth, top = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise NestingError(f"more than {MAX_VALUES:,} values (an alias counts each time it is used)")
        if not isinstance(node, (dict, list, tuple)):
            continue
        if depth > MAX_DEPTH:
            raise NestingError(f"settings nested deeper than {MAX_DEPTH} levels (under key {top!r})")
        items = node.items() if isinstance(node, dict) else ((top, item) for item in node)
        stack.extend((child, depth + 1, key if top is None else top) for key, child in items)


def parse_overrides(items) -> dict[str, Any]:
    """``["training.max_epochs=5", "grid.seed=[1,2]"]`` → ``{dotted key: YAML-parsed value}``.

    Raises:
        ConfigError: An item without ``=``, a key given twice, or a value that is not YAML (or is
            nested too deeply).
    """
    parsed: dict[str, Any] = {}
    for item in items:
        key, sep, value = str(item).partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"command line: {item!r} is not KEY=VALUE (e.g. training.max_epochs=5)")
        if key in parsed:  # the last one would silently win
            raise ConfigError(f"command line: {key} is given twice ({key}={json.dumps(parsed[key])} and {item}); "
                              "keep one")
        try:
            parsed[key] = _load_yaml(value) if value.strip() else None
        except (DuplicateKeyError, NestingError) as exc:
            raise ConfigError(f"command line: {key}: {exc}") from None
        except yaml.YAMLError:
            raise ConfigError(f"command line: {key}: {value[:80]!r} is not a YAML value") from None
    return parsed


def read_yaml_file(path: Path) -> Any:
    """The YAML document of a config file, read within :data:`MAX_CONFIG_BYTES` and the bounds of
    :func:`check_shape`.

    Raises:
        ConfigError: Missing, too large, not UTF-8, not YAML, a key twice, nested too deeply.
    """
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    size = path.stat().st_size
    if size > MAX_CONFIG_BYTES:  # checked before reading: a 1 GB file would be parsed for minutes
        raise ConfigError(f"{path}: {size:,} bytes, more than a config may hold ({MAX_CONFIG_BYTES:,} bytes); "
                          "is it the right file?")
    try:
        return _load_yaml(path.read_text(encoding="utf-8"))
    except (DuplicateKeyError, NestingError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1}, column {where.column + 1})" if where else ""
        raise ConfigError(f"{path}: not valid YAML{line}: {getattr(exc, 'problem', exc)}") from None


def load_config(path: str | Path, overrides=()) -> ExperimentConfig:
    """Reads and validates a YAML experiment config, with ``KEY=VALUE`` overrides applied first
    (validated exactly like the file's own settings).

    Raises:
        ConfigError: Missing file, bad YAML, or invalid content; the message names file and key.
    """
    path = Path(path)
    raw = read_yaml_file(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level, got {type(raw).__name__}")
    changes = parse_overrides(overrides)
    if changes:
        raw = apply_overrides(raw, changes, f"{path}: command line")  # what it meets depends on the file
        raw["overrides"] = [f"{k}={json.dumps(v)}" for k, v in changes.items()]
    return validate_mapping(raw, str(path), path.parent, given=changes)


def validate_mapping(raw: dict, where: str, base_dir: Path, given: dict | None = None) -> ExperimentConfig:
    """Validates a config mapping (a file's, or one given from Python); the one place a mapping
    becomes an :class:`ExperimentConfig`.

    Args:
        raw (dict): The settings, overrides already applied.
        where (str): What the messages name: the file, or ``config`` for a mapping.
        base_dir (Path): Where relative paths in the settings are resolved.
        given (dict | None): Overrides given on the command line; lines about them say so.

    Raises:
        ConfigError: One line per problem, naming ``where`` and the key.
    """
    try:
        check_shape(raw)
        return ExperimentConfig.model_validate(raw, context={"base_dir": base_dir})
    except NestingError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{where}: settings nested too deeply to validate") from None
    except ValidationError as exc:
        lines = [f"{where}: {line}" for line in validation_error_lines(exc)]
        # Say where a bad value came from when it was given on the command line.
        lines = [line + (" (given on the command line)" if any(f": {k}:" in line or f": {k}." in line
                                                                for k in given or {}) else "") for line in lines]
        raise ConfigError("\n".join(lines)) from None


_UNION_TAG = re.compile(r"^(str|int|float|bool|none|function-\w+\[.*\]|\w+\[.*\]|UserDatasetConfig)$")
_TYPE_MISMATCH = {"string_type", "model_type", "model_attributes_type", "dict_type", "none_required"}


def validation_error_lines(exc: ValidationError, schema: type[BaseModel] | None = None) -> list[str]:
    """One ``key: message`` line per problem; ``schema`` (default :class:`ExperimentConfig`) is the
    model validated, whose keys an unknown key's line lists."""
    errors = exc.errors()
    # A union (e.g. dataset: id | {path, ...}) reports each branch; keep the informative branch.
    for error in errors:
        error["loc"] = tuple(p for p in error["loc"] if not _UNION_TAG.match(str(p)))
    keyed: dict[tuple, list] = {}
    for error in errors:
        keyed.setdefault(error["loc"], []).append(error)
    errors = [e for group in keyed.values() for e in
              ([x for x in group if x["type"] not in _TYPE_MISMATCH] or group[:1])]
    lines = []
    for error in errors:
        key = ".".join(str(p) for p in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        named = re.match(r"^([a-z_]+\.[a-z_.]+): (.*)$", message, re.S)
        if key == "(top level)" and named:  # a check across sections that names its key itself
            key, message = named.groups()
        if error["type"] == "extra_forbidden":
            allowed = _allowed_keys(error["loc"][:-1], schema or ExperimentConfig)
            message = f"unknown key (allowed here: {', '.join(allowed)})"
        elif error["type"] == "missing":
            message = "required key is missing"
        lines.append(f"{key}: {message}")
    return lines


def _allowed_keys(loc: tuple, model: type[BaseModel]) -> list[str]:
    for part in loc:
        if isinstance(part, int):  # an item of a list of sections (a claims file's `claims`)
            continue
        annotation = model.model_fields[str(part)].annotation
        if typing.get_origin(annotation) is list:
            annotation = typing.get_args(annotation)[0]
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return [name for name, field in model.model_fields.items() if not field.exclude]
