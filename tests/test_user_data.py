"""User datasets (CSV/TSV/JSONL) and user vector files, with the errors a user will meet."""

import json

import numpy as np
import pytest

from embedlab.data.user_data import UserDataError, load_user_dataset
from embedlab.experiments.config import ConfigError, load_config


@pytest.fixture
def reviews_csv(tmp_path, mr_sample):
    texts, labels = mr_sample
    path = tmp_path / "reviews.csv"
    import csv

    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review", "stars"])
        for text, label in zip(texts, labels):
            writer.writerow([text, "5" if label else "1"])
    return path


def test_csv_tsv_and_jsonl_load_with_label_mapping(tmp_path, reviews_csv, mr_sample):
    dataset = load_user_dataset(reviews_csv, "review", "stars")
    assert len(dataset) == 300 and dataset.meta["label_mapping"] == {"1": 0, "5": 1}
    assert dataset.card.classes == ("1", "5")
    texts, labels = mr_sample
    tsv = tmp_path / "r.tsv"
    tsv.write_text("text\tlabel\n" + "".join(f"{t}\t{'pos' if y else 'neg'}\n" for t, y in zip(texts, labels)))
    assert load_user_dataset(tsv, "text", "label").meta["counts"] == {"total": 300, "neg": 150, "pos": 150}
    jsonl = tmp_path / "r.jsonl"
    jsonl.write_text("".join(json.dumps({"t": t, "y": int(y)}) + "\n" for t, y in zip(texts, labels)))
    assert np.array_equal(load_user_dataset(jsonl, "t", "y").labels, labels)


@pytest.mark.parametrize("content, columns, message", [
    (b"", ("text", "label"), "the file is empty"),
    (b"text,label\n", ("text", "label"), "no rows below the header"),
    (b"text,label\ngood,1\n", ("review", "label"), "no column 'review' (columns: text, label)"),
    (b"text,label\ngood,1\nfine,1\n", ("text", "label"), "has 1 distinct label(s) (1)"),
    (b"text,label\ngood,1\nbad \xff\xfe,0\n", ("text", "label"), "line 3: bytes that are not UTF-8"),
])
def test_user_data_errors(tmp_path, content, columns, message):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(UserDataError) as caught:
        load_user_dataset(path, *columns)
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_missing_file_and_bad_jsonl_line(tmp_path):
    with pytest.raises(UserDataError, match="no such file"):
        load_user_dataset(tmp_path / "nope.csv", "text", "label")
    path = tmp_path / "x.jsonl"
    path.write_text('{"text": "a", "label": 1}\n{oops\n')
    with pytest.raises(UserDataError, match="line 2: not valid JSON"):
        load_user_dataset(path, "text", "label")


def test_config_with_user_data_is_validated_before_training(write_config, reviews_csv):
    ok = write_config(f"name: mine\ndata: {{dataset: {{path: {reviews_csv.name}, text: review, label: stars}}}}\n"
                      "grid: {embedding: [rand]}\n")
    runs = load_config(ok).runs()
    assert runs[0].data.dataset.path == str(reviews_csv) and runs[0].label.startswith("reviews cnn rand")
    bad = write_config("name: mine\ndata: {dataset: {path: reviews.csv, text: body}}\ngrid: {embedding: [rand]}\n")
    with pytest.raises(ConfigError, match=r"data\.dataset: .*no column 'body'"):
        load_config(bad)


def test_user_vector_files_in_all_text_formats(tmp_path, glove50):
    from embedlab.data.word2vec import load_user_vectors

    words = glove50.words[:100]
    rows = [" ".join(f"{v:.6f}" for v in glove50.matrix[i]) for i in range(100)]
    glove = tmp_path / "tiny.glove.txt"  # GloVe: no header
    glove.write_text("".join(f"{w} {r}\n" for w, r in zip(words, rows)))
    vec = tmp_path / "tiny.vec"  # word2vec text / fastText .vec: "count dim" header
    vec.write_text("100 50\n" + "".join(f"{w} {r}\n" for w, r in zip(words, rows)))
    for path in (glove, vec):
        loaded = load_user_vectors(path)
        assert loaded.words == words and loaded.dim == 50
        np.testing.assert_allclose(loaded.matrix, glove50.matrix[:100], atol=1e-5)
    from gensim.models import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(str(vec))
    binary = tmp_path / "tiny.bin"
    kv.save_word2vec_format(str(binary), binary=True)
    assert load_user_vectors(binary).words == words
    broken = tmp_path / "broken.vec"
    broken.write_text("3 50\nthe 0.1 0.2\n")
    with pytest.raises(ValueError, match="not a readable"):
        load_user_vectors(broken)


def test_wink_parser_on_its_real_format():
    import tempfile

    from embedlab.data.vectors import parse_wink_json

    def values(k):
        return [round(0.01 * k + j * 0.001, 5) for j in range(100)]

    doc = {"precision": 8, "l2NormIndex": 100, "wordIndex": 101, "size": 3, "dimensions": 100,
           "words": ["the", '"', ","],
           "vectors": {"the": values(0) + [1.0, 0], '"': values(1) + [1.0, 1], "<unk>": values(9) + [0, -1],
                       ",": values(2) + [1.0, 2]},
           "unkVector": [0] * 100 + [-1]}
    with tempfile.TemporaryFile() as handle:
        handle.write(json.dumps(doc, separators=(",", ":")).encode())
        handle.flush()
        matrix, words = parse_wink_json(handle.fileno())
    assert words == ["the", '"', ","] and matrix.shape == (3, 100)
    np.testing.assert_allclose(matrix[2], values(2), atol=1e-6)
