"""Config files and mappings into a validated :class:`ExperimentConfig`: the one way in."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import ValidationError

from embedlab.experiments.config.compat import move_flat_model_keys
from embedlab.experiments.config.experiment import ExperimentConfig
from embedlab.experiments.config.messages import validation_error_lines
from embedlab.experiments.config.reading import (ConfigError, NestingError, apply_overrides, check_shape,
                                                 parse_overrides, read_yaml_file)


def load_snapshot(path: str | Path) -> ExperimentConfig:
    """Reads an output folder's ``experiment.yaml`` (the config a grid ran), including snapshots that
    releases 0.1-0.2 wrote with one flat ``model:`` section (:func:`compat.move_flat_model_keys`)."""
    raw = read_yaml_file(Path(path)) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: not a config snapshot this embedlab can read (not a mapping)")
    raw = move_flat_model_keys(raw)
    try:
        return ExperimentConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: not a config snapshot this embedlab can read ("
                          + "; ".join(validation_error_lines(exc, ExperimentConfig)[:3]) + ")") from None


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
        lines = [f"{where}: {line}" for line in validation_error_lines(exc, ExperimentConfig)]
        # Say where a bad value came from when it was given on the command line.
        lines = [line + (" (given on the command line)" if any(f": {k}:" in line or f": {k}." in line
                                                                for k in given or {}) else "") for line in lines]
        raise ConfigError("\n".join(lines)) from None
