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


@pytest.mark.parametrize("content, says", [
    (b"", "the vectors file is empty"),
    (b"good 0.1 0.2 0.3\nbad 0.1 0.2\n", "line 2: 2 values after the word, expected 3"),
    (b"2 3\ngood 0.1 0.2 0.3\nbad 0.1 x 0.3\n", "line 3: a value is not a number"),
    (bytes(range(128, 256)) * 4, "line 1: not UTF-8 text"),
    (bytes(range(256)) * 4, "line 1: a word without numbers after it"),
])
def test_bad_vectors_files_are_refused_at_validation(write_config, tmp_path, content, says):
    (tmp_path / "v.vec").write_bytes(content)
    path = write_config("name: v\ndata: {dataset: mr}\nvectors: v.vec\ngrid: {embedding: [static]}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert f"{path}: vectors: {tmp_path / 'v.vec'}: {says}" in str(caught.value)


def test_too_few_examples_per_class_and_dropped_rows_are_reported(write_config, tmp_path, capsys):
    from embedlab.experiments.cli import main

    rows = ["text,label"] + [f"review number {i},{'pos' if i % 2 else 'neg'}" for i in range(40)]
    rows += ["lonely review,meh", ",pos", "no label here,"]
    (tmp_path / "r.csv").write_text("\n".join(rows) + "\n")
    path = write_config("name: u\ndata: {dataset: {path: r.csv}, protocol: cv, folds: 5}\nvectors: null\n"
                        "grid: {embedding: [rand]}\n")
    with pytest.raises(ConfigError, match=r"class\(es\) 'meh' 1 have fewer than 5 examples"):
        load_config(path)
    (tmp_path / "r.csv").write_text("\n".join(rows[:-3] + rows[-2:]) + "\n")
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert "40 examples (neg 20, pos 20); 2 row(s) without text or label dropped (line 42, 43)" in out


@pytest.mark.slow  # trains
def test_status_and_report_work_from_the_db_after_the_csv_moved(write_config, reviews_csv, tmp_path):
    from embedlab.experiments.reporting.report import report_markdown
    from embedlab.experiments.running.runner import run_grid
    from embedlab.experiments.reporting.status import grid_status

    config = load_config(write_config(f"name: moved\ndata: {{dataset: {{path: {reviews_csv}, text: review, label: stars}}, protocol: holdout}}\n"
                                      "vectors: null\nmodel: {cnn: {num_filters: 4}}\ntraining: {max_epochs: 1}\n"
                                      "grid: {embedding: [rand], seed: [1, 2]}\n"))
    out = tmp_path / "out"
    run_grid(config, out, executor="local")
    reviews_csv.rename(reviews_csv.with_suffix(".moved"))
    assert "2 runs: 2 finished" in grid_status(out)
    report = report_markdown(out)
    assert "2 finished runs" in report and "Accuracy by word frequency" in report
    labels = json.loads(__import__("sqlite3").connect(out / "results.db").execute("SELECT labels FROM runs").fetchone()[0])
    assert labels == ["1", "5"]


def test_run_says_how_many_rows_it_drops_and_why(write_config, tmp_path):
    import io
    import sqlite3
    import time

    from embedlab.experiments.running.runner import run_grid
    from embedlab.experiments.running.store import ResultsStore

    labels = ["" if i % 7 == 0 else ("pos" if i % 2 else "neg") for i in range(120)]  # 18 without a label
    rows = ["text,label"] + [f"review number {i},{label}" for i, label in enumerate(labels)]
    (tmp_path / "r.csv").write_text("\n".join(rows) + "\n")
    config = load_config(write_config("name: u\ndata: {dataset: {path: r.csv}, protocol: holdout}\nvectors: null\n"
                                      "grid: {embedding: [rand]}\n"))
    store = ResultsStore(tmp_path / "out")
    store._connect().close()
    with sqlite3.connect(store.path) as db:  # another runner holds the run: nothing trains here
        db.execute("INSERT INTO claims VALUES (?, 'elsewhere', 1, 'now', ?)", (config.runs()[0].run_id, time.time()))
    log = io.StringIO()
    run_grid(config, tmp_path / "out", executor="local", log=log)
    assert (f"embedlab: {tmp_path / 'r.csv'}: 18 of 120 rows dropped, without text or label (line 2, 9, 16, 23, 30, "
            "37, 44, 51, 58, 65, … 8 more); the runs train and test on the other 102\n") in log.getvalue()


def test_a_field_over_128_kb_and_cr_only_line_ends_are_read(tmp_path):
    review = "a long and winding review " * 8_000  # 208 KB in one field
    path = tmp_path / "long.csv"
    path.write_text(f'text,label\n"{review}",pos\nshort,neg\n')
    dataset = load_user_dataset(path, "text", "label")
    assert dataset.texts[0] == review.strip() and len(dataset) == 2
    old_mac = tmp_path / "cr.csv"  # classic Mac OS line ends, and a quoted line break kept inside a field
    old_mac.write_bytes(b'text,label\rgood film,pos\r"two\rlines",neg\r\rbad film,neg\r')
    dataset = load_user_dataset(old_mac, "text", "label")
    assert dataset.texts == ["good film", "two\rlines", "bad film"] and dataset.labels.tolist() == [1, 0, 0]
    tsv = tmp_path / "cr.tsv"
    tsv.write_bytes(b"text\tlabel\r\ngood\tpos\r\nbad\tneg\r\n")
    assert load_user_dataset(tsv, "text", "label").texts == ["good", "bad"]
