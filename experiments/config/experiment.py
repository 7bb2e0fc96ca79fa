"""A whole experiment: :class:`ExperimentConfig`, its checks across sections, and its grid
expanded into :class:`RunSpec` runs."""

from __future__ import annotations

import itertools
import re
from typing import Any

from pydantic import Field, PrivateAttr, ValidationError, ValidationInfo, field_validator, model_validator

from embedlab.data.datasets import dataset_card
from embedlab.experiments.config.messages import validation_error_lines
from embedlab.experiments.config.reading import apply_overrides
from embedlab.experiments.config.references import (UserDatasetConfig, VectorsRef, load_user_data,
                                                    resolve_vectors_ref)
from embedlab.experiments.config.run_spec import RunSpec
from embedlab.experiments.config.sections import (DataConfig, GridConfig, ModelConfig, TrainingConfig,
                                                  Word2VecConfig)
from embedlab.experiments.config.base import Section
from embedlab.experiments.config.tuning import TuneConfig
from embedlab.models.registry import get_family

MAX_NAME_LENGTH = 100
UNTUNED, TRIAL_PREFIX = "untuned", "trial."  # the variants a tuning search lists (running/tuning.py)  # a name becomes a folder name (results/<name>/, compare_<a>_vs_<b>/)


def _enough_per_class(dataset, data: DataConfig) -> None:
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



class ExperimentConfig(Section):
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
    tune: TuneConfig | None = Field(None, description="tune every condition with the same budget of trials "
                                    "(configs/tuned_mr.yaml); the grid's settings are the untuned baseline")
    overrides: list[str] = Field(default_factory=list, description="KEY=VALUE settings given on the command "
                                 "line (already applied above); recorded in the output folder's snapshot")
    _variant_configs: dict[str, "ExperimentConfig"] = PrivateAttr(default_factory=dict)

    @field_validator("vectors")
    @classmethod
    def _known_vectors(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        return resolve_vectors_ref(value, (info.context or {}).get("base_dir"))

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
    def _tunable(self, info: ValidationInfo) -> "ExperimentConfig":
        if self.tune is None:
            return self
        if self.variants and any(not (n == UNTUNED or n.startswith(TRIAL_PREFIX)) for n in self.variants):
            raise ValueError("tune: cannot be combined with variants (each trial of the search is a variant of "
                             "its own); tune the variants as separate configs")
        if self.variants:  # the trials of a search under way: their settings were checked before
            return self
        base = self.model_dump(mode="json", exclude={"variants", "tune"})
        for key, distribution in self.tune.space.items():
            try:
                ExperimentConfig.model_validate(apply_overrides(base, {key: distribution.example()}, f"tune.space.{key}"),
                                                context=info.context)
            except ValidationError as exc:
                lines = validation_error_lines(exc, ExperimentConfig)
                raise ValueError(f"tune.space.{key}: not a setting this config can take ({lines[0]})") from None
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
        base = self.model_dump(mode="json", exclude={"variants", "tune"})  # a trial's config tunes nothing
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
                raise ValueError("; ".join(f"variants.{name}.{line}" for line in validation_error_lines(exc, ExperimentConfig))) from None
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
                    word2vec=self.word2vec if vectors and VectorsRef.of(vectors).kind == "word2vec" and not own_inputs else None,
                    training=self.training_for(None if own_inputs else vectors), model_name=model, embedding=embedding,
                    seed=seed, fold=fold, train_size=size))
        return list({run.run_id: run for run in runs}.values())  # a model without word vectors: once per vectors

    def training_for(self, vectors: str | None) -> TrainingConfig:
        """``training`` with ``precision: auto`` resolved for the embedding width these vectors give."""
        if self.training.precision != "auto":
            return self.training
        from embedlab.models.hardware import auto_precision

        width = VectorsRef.of(vectors).width() if vectors else self.model.embedding_dim
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
