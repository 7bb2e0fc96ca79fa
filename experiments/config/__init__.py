"""Experiment configs: reading YAML safely, the schema and its validation, what datasets and vectors
a config refers to, and the grid expanded into runs with their identities.

All validation happens here, before anything is fetched or trained: an unknown key, a wrong type, an
unknown dataset / vectors / model id or an impossible combination raises :class:`ConfigError` naming
the file and the key. The modules, from the bottom up: ``reading`` (YAML, overrides), ``messages``
(validation errors as lines), ``references`` (datasets and vectors), ``sections`` (``data``, ``model``,
``training``, ``grid``, ``word2vec``), ``compat`` (what older releases wrote), ``run_spec`` (one run
and its id), ``experiment`` (a whole config and its grid), ``loading`` (files into configs).
"""

from embedlab.experiments.config.compat import LEGACY_EMBEDDING_DIM, LEGACY_VALUES
from embedlab.experiments.config.run_spec import NOT_IN_IDENTITY
from embedlab.experiments.config.experiment import ExperimentConfig
from embedlab.experiments.config.loading import load_config, load_snapshot, validate_mapping
from embedlab.experiments.config.messages import validation_error_lines
from embedlab.experiments.config.reading import (MAX_CONFIG_BYTES, MAX_DEPTH, ConfigError, DuplicateKeyError,
                                                 NestingError, apply_overrides, check_shape, parse_overrides,
                                                 read_yaml_file)
from embedlab.experiments.config.references import (UserDatasetConfig, VectorsRef, dataset_name,
                                                    load_any_dataset, load_user_data)
from embedlab.experiments.config.run_spec import RunSpec
from embedlab.experiments.config.sections import (DEFAULT_MAX_RUNS, DataConfig, GridConfig, ModelConfig, TrainingConfig,
                                                  Word2VecConfig)

__all__ = ["ConfigError", "DEFAULT_MAX_RUNS", "NOT_IN_IDENTITY", "DataConfig", "DuplicateKeyError", "ExperimentConfig", "GridConfig", "LEGACY_EMBEDDING_DIM",
           "LEGACY_VALUES", "MAX_CONFIG_BYTES", "MAX_DEPTH", "ModelConfig", "NestingError", "RunSpec",
           "TrainingConfig", "UserDatasetConfig", "VectorsRef", "Word2VecConfig", "apply_overrides", "check_shape", "dataset_name",
           "load_any_dataset", "load_config", "load_snapshot", "load_user_data", "parse_overrides", "read_yaml_file",
           "validate_mapping", "validation_error_lines"]
