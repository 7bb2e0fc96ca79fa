"""Reading YAML settings safely: bounded size and nesting, duplicate keys refused, errors naming the
file and line; and the command line's ``KEY=VALUE`` overrides applied to a mapping."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A config file is unreadable or invalid; the message names the file and the key."""


# Bounds on what a config may ask for, checked before anything is built from it: without them a
# typo'd or hostile file (a million seeds, settings nested thousands deep) ends in a traceback or
# gigabytes of run objects instead of an error line.
MAX_CONFIG_BYTES = 1_000_000
MAX_DEPTH = 50  # levels of nested mappings and lists; a real config needs about six
MAX_VALUES = 1_000_000  # values in the whole document, an alias counted each time it is used


def apply_overrides(raw: dict, overrides: dict[str, Any], where: str) -> dict:
    """A copy of a config mapping with dotted keys set (``training.max_epochs: 5``).

    A mapping given for a key whose value is a mapping (``data={}``) would replace that whole section,
    silently dropping the keys it does not repeat; that is refused (set keys one by one instead).
    ``variants: [NAME, ...]`` keeps only those of the config's variants (a 3-seed grid of some of a
    config's cells keeps the other settings, and so the run ids).

    Raises:
        ConfigError: A key walks into a value that is not a section, a mapping would drop keys of the
            section it replaces, or a list of variants names one the config lacks, none, or leaves
            out one another key sets (names ``where`` and the key).
    """

    result = copy.deepcopy(raw)
    overrides = dict(overrides or {})
    if isinstance(overrides.get("variants"), list):
        _keep_variants(result, overrides.pop("variants"), where, overrides)
    for dotted, value in overrides.items():
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


def _keep_variants(raw: dict, names: list, where: str, overrides: dict) -> None:
    variants = raw.get("variants")
    known = ", ".join(map(str, variants)) if isinstance(variants, dict) and variants else "none"
    unknown = [str(name) for name in names if not isinstance(variants, dict) or name not in variants]
    if unknown or not names:
        raise ConfigError(f"{where}: variants: " + (f"no variant {unknown[0]!r} in the config" if unknown
                                                    else "an empty list keeps no variant") + f" (variants: {known})")
    left_out = [str(key) for key in overrides
                if str(key).startswith("variants.") and str(key).split(".")[1] not in names]
    if left_out:
        raise ConfigError(f"{where}: variants: {left_out[0]} sets a variant the list leaves out; keep one")
    raw["variants"] = {name: value for name, value in variants.items() if name in names}


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
