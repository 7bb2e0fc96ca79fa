"""Tokenising (Kim 2014's ``clean_str``), vocabularies and padded index sequences."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

def decode_lines(raw: bytes, meta: dict | None = None) -> list[str]:
    """Decodes a text file line by line, UTF-8 where a line decodes and Latin-1 where it does not,
    so that one bad byte costs one line's accents, not the file (Kim's MR, Subj and TREC files are
    Latin-1). Repaired lines are counted in ``meta["non_utf8_lines_repaired"]``."""
    lines = []
    for line in raw.split(b"\n"):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            if meta is not None:
                meta["non_utf8_lines_repaired"] = meta.get("non_utf8_lines_repaired", 0) + 1
            lines.append(line.decode("latin-1"))
    return lines


PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1

_QUOTES = re.compile(r"''|``|[\u201c\u201d\u2018\u2019]")
_DISALLOWED = re.compile(r"[^A-Za-z0-9(),!?'`]")
_CLITICS = [(re.compile(rf"{c}\b"), f" {c}") for c in ("'s", "'ve", "n't", "'re", "'d", "'ll", "'m")]
_PUNCT = re.compile(r"([,!?()])")
_STRAY_APOSTROPHE = re.compile(r"(?:(?<=\s)|^)'+(?!(?:s|ve|re|d|ll|m)\b)|'+(?=\s|$)")
_SPACES = re.compile(r"\s+")


def clean_str(text: str) -> str:
    """Kim (2014)'s ``clean_str``: lower-case, split clitics, separate punctuation.

    Two deliberate additions, both for raw (not pre-tokenised) text: typographic and doubled quotes
    (``''like this''``) are dropped before the rules run, and apostrophes used as quote marks
    (``'word'``) are removed, so that ``''conan''`` becomes ``conan`` as in Kim's tokenised MR.

    Args:
        text (str): Raw sentence.

    Returns:
        str: Space-separated tokens.
    """
    text = _QUOTES.sub(" ", text)
    text = _DISALLOWED.sub(" ", text)
    text = text.replace("`", "'")
    for pattern, replacement in _CLITICS:
        text = pattern.sub(replacement, text)
    text = _PUNCT.sub(r" \1 ", text)
    text = _STRAY_APOSTROPHE.sub(" ", text)
    return _SPACES.sub(" ", text).strip().lower()


def tokenize(text: str) -> list[str]:
    """Splits a sentence into Kim-style tokens."""
    cleaned = clean_str(text)
    return cleaned.split(" ") if cleaned else []


class Vocabulary:
    """Word ↔ index mapping built from training tokens only.

    Index 0 is padding and index 1 the unknown word; the rest follow descending training frequency
    (ties by first appearance), so the layout is deterministic.

    Args:
        min_count (int): Minimum training frequency for a word to get its own index.
        max_size (int | None): Keep at most this many words (besides pad and unk).
    """

    def __init__(self, min_count: int = 1, max_size: int | None = None):
        self.min_count = min_count
        self.max_size = max_size

    def fit(self, token_lists: Iterable[Sequence[str]]) -> "Vocabulary":
        counts = Counter()
        for tokens in token_lists:
            counts.update(tokens)
        kept = [w for w, c in counts.most_common() if c >= self.min_count]
        if self.max_size is not None:
            kept = kept[: self.max_size]
        self.words_ = [PAD, UNK, *kept]
        self.index_ = {w: i for i, w in enumerate(self.words_)}
        self.counts_ = counts
        return self

    def __len__(self) -> int:
        return len(self.words_)

    @classmethod
    def from_words(cls, words: Sequence[str]) -> "Vocabulary":
        """A vocabulary with this id layout (line i = id i), as a saved model folder stores it."""
        vocab = cls()
        vocab.words_ = list(words)
        vocab.index_ = {w: i for i, w in enumerate(vocab.words_)}
        vocab.counts_ = Counter()
        return vocab

    def extended(self, words: Iterable[str]) -> "Vocabulary":
        """A copy with ``words`` appended after the fitted ones (counts unchanged: they were not seen
        in training). Used by the open-vocabulary policy for test words that have a pretrained vector."""
        copy = Vocabulary(self.min_count, self.max_size)
        copy.words_ = [*self.words_, *[w for w in words if w not in self.index_]]
        copy.index_ = {w: i for i, w in enumerate(copy.words_)}
        copy.counts_ = self.counts_
        return copy

    def encode(self, token_lists: Sequence[Sequence[str]], length: int, offset: int = 0) -> np.ndarray:
        """Maps token lists to an int32 matrix of ``length + 2 * offset`` columns: ``offset`` padding
        ids, the first ``length`` tokens, then padding (so ``offset`` zeros at least on both sides)."""
        out = np.zeros((len(token_lists), length + 2 * offset), dtype=np.int32)
        index = self.index_
        for row, tokens in enumerate(token_lists):
            ids = [index.get(t, UNK_ID) for t in tokens[:length]]
            out[row, offset: offset + len(ids)] = ids
        return out
