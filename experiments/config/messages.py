"""Pydantic's validation errors as one ``key: message`` line each, the key written as in the YAML."""

from __future__ import annotations

import re
import typing

from pydantic import BaseModel, ValidationError


_UNION_TAG = re.compile(r"^(str|int|float|bool|none|function-\w+\[.*\]|\w+\[.*\]|UserDatasetConfig)$")
_TYPE_MISMATCH = {"string_type", "model_type", "model_attributes_type", "dict_type", "none_required"}


def validation_error_lines(exc: ValidationError, schema: type[BaseModel]) -> list[str]:
    """One ``key: message`` line per problem; ``schema`` is the model validated (e.g.
    :class:`ExperimentConfig`), whose keys an unknown key's line lists."""
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
            allowed = _allowed_keys(error["loc"][:-1], schema)
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
