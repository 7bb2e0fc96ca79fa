"""The user's own labelled texts: CSV, TSV or JSON Lines, with a text and a label column.

Labels may be any strings or numbers; they are mapped to integers in sorted order and the mapping is
recorded (``Dataset.meta["label_mapping"]``). Every problem is a :class:`UserDataError` that says
what is wrong and where (file, column, line).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import numpy as np

from embedlab.data.datasets import Dataset, DatasetCard


class UserDataError(ValueError):
    """A user dataset file cannot be used; the message says why and where."""


def _format_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".tsv", ".tab"):
        return "tsv"
    if suffix == ".csv":
        return "csv"
    raise UserDataError(f"{path}: unknown format {suffix!r}; use .csv, .tsv or .jsonl")


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserDataError(f"{path}: line {line}: bytes that are not UTF-8 ({raw[exc.start:exc.start + 4]!r}); "
                            "re-save the file as UTF-8") from None


def _records(path: Path, text: str, fmt: str) -> list[tuple[int, dict]]:
    """(line number, record) pairs."""
    if fmt == "jsonl":
        out = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserDataError(f"{path}: line {number}: not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise UserDataError(f"{path}: line {number}: expected a JSON object per line")
            out.append((number, record))
        return out
    # A long review is a legitimate field: no field can be longer than the file, whatever the csv
    # module's default limit (128 KB). newline="": CR-only, LF and CRLF line ends all end a row (and
    # a line break inside a quoted field is kept), as when csv reads a file opened with newline="".
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="\t" if fmt == "tsv" else ",")
    try:
        return [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise UserDataError(f"{path}: line {reader.line_num}: {exc}") from None


def load_user_dataset(path: str | Path, text_column: str, label_column: str) -> Dataset:
    """Reads a user dataset.

    Args:
        path (str | Path): A ``.csv``, ``.tsv`` or ``.jsonl`` file.
        text_column (str): Column (or JSON key) holding the text.
        label_column (str): Column (or JSON key) holding the label.

    Returns:
        Dataset: Texts, integer labels, and meta with the label mapping and what was dropped.

    Raises:
        UserDataError: Missing or empty file, unknown format, undecodable bytes, missing column,
            fewer than two classes.
    """
    path = Path(path)
    if not path.is_file():
        raise UserDataError(f"{path}: no such file")
    raw = path.read_bytes()
    if not raw.strip():
        raise UserDataError(f"{path}: the file is empty")
    records = _records(path, _decode(path, raw), _format_of(path))
    if not records:
        raise UserDataError(f"{path}: no rows below the header")
    for column in (text_column, label_column):
        if column not in records[0][1]:
            raise UserDataError(f"{path}: no column {column!r} (columns: {', '.join(map(str, records[0][1]))})")
    texts, raw_labels, dropped = [], [], []
    for number, record in records:
        value, label = record.get(text_column), record.get(label_column)
        if value is None or not str(value).strip() or label is None or str(label).strip() == "":
            dropped.append(number)
            continue
        texts.append(str(value).strip())
        raw_labels.append(str(label).strip())
    classes = sorted(set(raw_labels), key=lambda v: (not _is_number(v), float(v) if _is_number(v) else 0, v))
    if len(classes) < 2:
        raise UserDataError(f"{path}: column {label_column!r} has {len(classes)} distinct label(s) "
                            f"({', '.join(classes) or 'none'}); a classifier needs at least 2")
    mapping = {c: i for i, c in enumerate(classes)}
    labels = np.array([mapping[v] for v in raw_labels], dtype=np.int64)
    card = DatasetCard(id=f"file:{path.name}", name=f"user data {path.name}", origin=str(path.resolve()),
                       citation="", license="", classes=tuple(classes), protocol="cv")
    meta = {"label_mapping": mapping, "empty_or_unlabelled_dropped": len(dropped), "dropped_lines": dropped,
            "counts": {"total": len(texts), **{c: int((labels == i).sum()) for c, i in mapping.items()}},
            "sha256": hashlib.sha256(raw).hexdigest()}
    return Dataset(card, texts, labels, None, meta)


def _is_number(value: str) -> bool:
    try:
        float(value)
        return True
    except ValueError:
        return False


def describe_user_dataset(dataset: Dataset) -> str:
    """One line for ``embedlab validate``: examples per class and the rows dropped, with their lines."""
    counts = dataset.meta["counts"]
    per_class = ", ".join(f"{c} {counts[c]:,}" for c in dataset.card.classes)
    line = f"{dataset.card.origin}: {counts['total']:,} examples ({per_class})"
    dropped = dataset.meta.get("dropped_lines") or []
    if dropped:
        line += f"; {len(dropped)} row(s) without text or label dropped (line {_shown(dropped)})"
    return line


def dropped_rows_line(dataset: Dataset) -> str | None:
    """One line for ``embedlab run`` when rows of the file are not trained on (None when none is):
    how many of how many, why, and where."""
    dropped = dataset.meta.get("dropped_lines") or []
    if not dropped:
        return None
    kept = dataset.meta["counts"]["total"]
    return (f"{dataset.card.origin}: {len(dropped):,} of {kept + len(dropped):,} rows dropped, without text or "
            f"label (line {_shown(dropped)}); the runs train and test on the other {kept:,}")


def _shown(lines: list[int]) -> str:
    return ", ".join(map(str, lines[:10])) + (f", … {len(lines) - 10} more" if len(lines) > 10 else "")
