"""A named registry of specs (datasets, vectors) with one lookup error for unknown ids."""

from __future__ import annotations

from typing import Generic, TypeVar

Spec = TypeVar("Spec")


class Registry(dict[str, Spec], Generic[Spec]):
    """A ``dict`` of id → spec whose :meth:`spec` names the kind and the known ids on a miss.

    Args:
        kind (str): What the ids name ("dataset", "vectors"), for error messages.
        entries (dict): Initial entries.
    """

    def __init__(self, kind: str, entries: dict[str, Spec] | None = None):
        super().__init__(entries or {})
        self.kind = kind

    def ids(self) -> list[str]:
        return list(self)

    def spec(self, key: str) -> Spec:
        try:
            return self[key]
        except KeyError:
            raise KeyError(f"unknown {self.kind} {key!r}; known: {', '.join(self)}") from None
