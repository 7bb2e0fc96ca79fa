"""What a config's ``data.dataset`` and ``vectors`` refer to: resolved, fingerprinted by content,
and checked for use (a user's file is read during validation, so its problems surface before any
training)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationInfo, model_validator

from embedlab.data.datasets import dataset_fingerprint, load_dataset
from embedlab.data.vector_sets import is_subword, vectors_card, vectors_fingerprint, vectors_ids
from embedlab.data.word2vec import parse_w2v_id
from embedlab.experiments.config.base import Section

W2V_CORPORA = ("wikitext2", "train")


class UserDatasetConfig(Section):
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


def dataset_name(ref: "str | UserDatasetConfig") -> str:
    return ref.name if isinstance(ref, UserDatasetConfig) else ref


@lru_cache(maxsize=64)
def _file_sha256(path: str, mtime: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass(frozen=True)
class VectorsRef:
    """A resolved ``vectors`` value (as stored in configs and run ids), parsed once: which kind of
    vectors it names and what the rest of the suite asks of it.

    Attributes:
        text (str): The value: a registry id, ``w2v:CORPUS:ALGO:DIM`` or a file's absolute path.
        kind (str): ``registry`` (word vectors), ``subword`` (a sub-word set), ``word2vec`` (trained
            by the suite) or ``file`` (the user's vectors file).
        corpus, algorithm, dim: The word2vec recipe (``word2vec`` only).
    """

    text: str
    kind: Literal["registry", "subword", "word2vec", "file"]
    corpus: str | None = None
    algorithm: str | None = None
    dim: int | None = None

    @staticmethod
    @lru_cache(maxsize=256)
    def of(text: str) -> "VectorsRef":
        """The reference of a resolved value (see :func:`resolve_vectors_ref` for the user's)."""
        if text in vectors_ids():
            return VectorsRef(text, "subword" if is_subword(text) else "registry")
        parsed = parse_w2v_id(text)
        if parsed is not None:
            return VectorsRef(text, "word2vec", *parsed)
        return VectorsRef(text, "file")

    @property
    def in_registry(self) -> bool:
        """Fetched from a package registry (and cached), word or sub-word vectors."""
        return self.kind in ("registry", "subword")

    def fingerprint(self) -> str:
        """What identifies the vectors' content in a run id."""
        if self.in_registry:
            return vectors_fingerprint(self.text)
        if self.kind == "word2vec" and self.corpus in W2V_CORPORA:
            return self.text  # content fixed by the pinned artifact (wikitext2) or by the run's split (train)
        path = self.corpus if self.kind == "word2vec" else self.text
        return f"{self.text}#sha256={_file_sha256(path, Path(path).stat().st_mtime)}"

    def width(self) -> int | None:
        """The vectors' width where it is known without loading them."""
        return vectors_card(self.text).dim if self.in_registry else self.dim


def dataset_content_fingerprint(ref: "str | UserDatasetConfig") -> str:
    if isinstance(ref, UserDatasetConfig):
        return "file:" + load_user_data(ref).meta["sha256"]
    return dataset_fingerprint(ref)


def resolve_vectors_ref(value: str, base_dir: Path | None) -> str:
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
