"""Model families by name: every module of this package that declares ``FAMILY``.

Discovery imports each module, so model modules import Keras inside their builders only.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from pathlib import Path

from embedlab.models.family import ModelFamily

_NOT_MODELS = {"family", "registry", "embedding", "layers", "optimizers", "hardware"}


@lru_cache(maxsize=1)
def families() -> dict[str, ModelFamily]:
    """``name → ModelFamily`` for every model module, in a stable (module name) order."""
    found: dict[str, ModelFamily] = {}
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if info.name in _NOT_MODELS or info.name.startswith("_"):
            continue
        family = getattr(importlib.import_module(f"embedlab.models.{info.name}"), "FAMILY", None)
        if isinstance(family, ModelFamily):
            if family.name in found:
                raise RuntimeError(f"two model modules declare the name {family.name!r}")
            found[family.name] = family
    return found


def get_family(name: str) -> ModelFamily:
    """The family of a model name.

    Raises:
        KeyError: Unknown name (the message lists the known ones).
    """
    known = families()
    if name not in known:
        raise KeyError(f"unknown model {name!r}; known: {', '.join(known)}")
    return known[name]


def model_names() -> tuple[str, ...]:
    return tuple(families())


def get_builder(model_name: str):
    """The builder function of a model name."""
    return get_family(model_name).builder
