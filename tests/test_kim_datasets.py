"""Kim (2014)'s seven datasets: the mirror-first fetch of files at public URLs, the readers of his
``label text`` files and of the SST trees (every error names the file and line), and the datasets
as built from the real files (``../shared/datasets``, the mirror CI points at)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from embedlab.data.fetch import Artifact, FetchError, fetch
from embedlab.data.kim2014 import DataFileError, distinct_phrases, parse_tree, read_labelled_lines

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "datasets"
needs_mirror = pytest.mark.skipif(not (SHARED / "SHA256SUMS").exists(), reason="../shared/datasets is not here")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _artifact(content: bytes, url: str = "file:///nonexistent/embedlab-test/x.all") -> Artifact:
    return Artifact("url", "test", "1", "test-x.all", hashlib.sha256(content).hexdigest(), url=url,
                    mirror_path="kim2014/x.all")


def _mirror(tmp_path, content: bytes) -> Path:
    folder = tmp_path / "mirror"
    (folder / "kim2014").mkdir(parents=True)
    (folder / "kim2014" / "x.all").write_bytes(content)
    return folder


def test_mirror_file_with_the_right_checksum_is_used(home, tmp_path, monkeypatch):
    content = b"1 a fine film\n0 a dull one\n"
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("EMBEDLAB_MIRROR", os.pathsep.join([str(empty), str(_mirror(tmp_path, content))]))
    path = fetch(_artifact(content), quiet=True)
    assert path.read_bytes() == content and path.parent == home / "downloads"


@pytest.mark.parametrize("damage", ["truncated", "edited"])
def test_damaged_mirror_file_is_one_error_naming_it_and_never_used(home, tmp_path, monkeypatch, damage):
    content = b"1 a fine film\n0 a dull one\n"
    artifact = _artifact(content)
    bad = content[:10] if damage == "truncated" else content.replace(b"fine", b"fina")
    monkeypatch.setenv("EMBEDLAB_MIRROR", str(_mirror(tmp_path, bad)))
    with pytest.raises(FetchError) as error:
        fetch(artifact, quiet=True)
    message = str(error.value)
    assert "x.all" in message and artifact.sha256 in message and "\n" not in message
    assert not (home / "downloads" / artifact.filename).exists()


def test_without_mirror_the_url_is_fetched_and_checked(home, tmp_path, monkeypatch):
    content = b"0 what is a url ?\n"
    published = tmp_path / "published.all"
    published.write_bytes(content)
    monkeypatch.delenv("EMBEDLAB_MIRROR", raising=False)
    assert fetch(_artifact(content, url=published.as_uri()), quiet=True).read_bytes() == content


def test_unreachable_url_says_how_to_use_a_mirror(home, monkeypatch):
    monkeypatch.delenv("EMBEDLAB_MIRROR", raising=False)
    with pytest.raises(FetchError) as error:
        fetch(_artifact(b"x"), quiet=True)
    assert "EMBEDLAB_MIRROR" in str(error.value) and "kim2014/x.all" in str(error.value)
    assert not any((home / "downloads").glob("test-*"))


def test_labelled_lines_errors_name_file_and_line():
    assert read_labelled_lines(b"1 yes\n0 no\n\n", "f.all", 2) == (["yes", "no"], [1, 0])
    with pytest.raises(DataFileError, match=r"^TREC\.train\.all: line 2: starts with 'What'"):
        read_labelled_lines(b"0 How ?\nWhat is it ?\n", "TREC.train.all", 6)
    with pytest.raises(DataFileError, match=r"^f\.all: line 1: label 7 is outside the dataset's 6 classes"):
        read_labelled_lines(b"7 What ?\n", "f.all", 6)
    with pytest.raises(DataFileError, match=r"line 1: label 1 has no text"):
        read_labelled_lines(b"1 \n", "f.all", 2)
    skipped: list[int] = []
    assert read_labelled_lines(b"1 \n0 ok\n", "f.all", 2, skipped) == (["ok"], [0]) and skipped == [1]


def test_tree_nodes_are_phrases_with_their_labels():
    nodes = parse_tree("(3 (2 The) (4 (3 gorgeously) (2 elaborate)))", "t.txt", 1)
    assert nodes[0] == ("The gorgeously elaborate", 3)
    assert set(nodes) == {("The gorgeously elaborate", 3), ("The", 2), ("gorgeously elaborate", 4),
                          ("gorgeously", 3), ("elaborate", 2)}


@pytest.mark.parametrize("line, problem", [
    ("(3 (2 The) (4 (3 gorgeously) (2 elaborate))", "never closed"),
    ("(3 (2 The) (2 film)))", "closes nothing"),
    ("(9 (2 The) (2 film))", "label is '9'"),
    ("(3 (2 The) (2 film)) (2 more)", "after the tree"),
])
def test_a_damaged_tree_is_one_error_naming_file_and_line(line, problem):
    with pytest.raises(DataFileError, match=rf"^train\.txt: line 4: .*{problem}"):
        distinct_phrases(b"(2 (2 a) (2 b))\n" * 3 + line.encode() + b"\n", "train.txt", binary=True)


def test_a_deeply_nested_tree_does_not_exhaust_the_stack():
    depth = 20_000
    line = "(2 " * depth + "word" + ")" * depth
    assert len(parse_tree(line, "t.txt", 1)) == depth


def test_sst2_phrases_drop_neutral_and_map_labels():
    raw = b"(3 (2 A) (4 (4 great) (2 film)))\n(1 (2 A) (0 (0 awful) (2 film)))\n"
    texts, labels, counts = distinct_phrases(raw, "t.txt", binary=True)
    assert dict(zip(texts, labels)) == {"a great film": 1, "great film": 1, "great": 1, "a awful film": 0,
                                        "awful film": 0, "awful": 0}
    assert counts["neutral_phrases_dropped"] == 2 and counts["distinct_phrases"] == 8


@needs_mirror
@pytest.mark.parametrize("dataset_id", ["kim_mr", "subj", "cr", "mpqa", "trec", "sst2", "sst1"])
def test_each_dataset_builds_from_the_mirror_with_its_card_counts(dataset_id, monkeypatch):
    from embedlab.data.datasets import dataset_card, load_dataset

    monkeypatch.setenv("EMBEDLAB_MIRROR", str(SHARED))
    dataset = load_dataset(dataset_id)
    card = dataset_card(dataset_id)
    counts = dataset.meta["counts"]
    for key, expected in card.expected_counts.items():
        assert counts[key] == expected, key
    assert set(np.unique(dataset.labels)) == set(range(len(card.classes)))


@needs_mirror
def test_sst_runs_train_on_phrases_and_keep_official_dev_and_test(monkeypatch):
    from embedlab.data.datasets import load_dataset
    from embedlab.experiments.config import ExperimentConfig
    from embedlab.experiments.running.prepare import split_indices

    monkeypatch.setenv("EMBEDLAB_MIRROR", str(SHARED))
    dataset = load_dataset("sst2")
    sizes = {}
    for examples in ("phrases", "sentences"):
        config = ExperimentConfig.model_validate({"name": "t", "data": {"dataset": "sst2", "training_examples": examples},
                                                  "grid": {"embedding": ["rand"]}})
        (run,) = config.runs()
        fit, dev, test = split_indices(run, dataset.labels, dataset.split)
        assert set(dataset.split[dev]) == {"dev"} and set(dataset.split[test]) == {"test"}
        sizes[examples] = (len(fit), len(dev), len(test))
    assert sizes == {"phrases": (76961, 872, 1821), "sentences": (6920, 872, 1821)}


def test_phrases_setting_resolves_per_dataset_and_keeps_other_ids():
    from embedlab.experiments.config import ExperimentConfig

    def runs(data):
        return ExperimentConfig.model_validate({"name": "t", "data": data, "grid": {"embedding": ["rand"],
                                                "dataset": ["sst2", "trec"]}}).runs()

    default = {r.data.dataset: r for r in runs({})}
    asked = {r.data.dataset: r for r in runs({"training_examples": "phrases"})}
    sentences = {r.data.dataset: r for r in runs({"training_examples": "sentences"})}
    assert default["sst2"].data.training_examples == "phrases" and default["trec"].data.training_examples == "sentences"
    assert asked["trec"].run_id == default["trec"].run_id == sentences["trec"].run_id
    assert asked["sst2"].run_id == default["sst2"].run_id != sentences["sst2"].run_id


def test_cross_validation_on_sst_is_refused_with_the_reason(write_config):
    from embedlab.experiments.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="use protocol official"):
        load_config(write_config("name: t\ndata: {dataset: sst1, protocol: cv}\ngrid: {embedding: [rand]}\n"))


@needs_mirror
def test_cli_lists_the_seven_datasets_and_sst_phrases(tmp_path):
    env = {**os.environ, "EMBEDLAB_MIRROR": str(SHARED)}
    listed = subprocess.run([sys.executable, "-m", "embedlab.experiments.cli", "data", "list"], env=env,
                            capture_output=True, text=True, check=True).stdout
    for name in ("kim_mr", "subj", "cr", "mpqa", "trec", "sst2", "sst1"):
        assert f"| {name} |" in listed
    info = subprocess.run([sys.executable, "-m", "embedlab.experiments.cli", "data", "info", "sst2"], env=env,
                          capture_output=True, text=True, check=True).stdout
    assert "76,961 distinct labelled phrases" in info and '"train": 6920' in info


def test_cli_bad_mirror_file_is_one_line_and_exit_2(tmp_path):
    mirror = tmp_path / "mirror" / "kim2014"
    mirror.mkdir(parents=True)
    (mirror / "TREC.train.all").write_bytes(b"0 What ?\n")  # the first file trec needs, edited
    env = {**os.environ, "EMBEDLAB_MIRROR": str(tmp_path / "mirror"), "EMBEDLAB_HOME": str(tmp_path / "home")}
    result = subprocess.run([sys.executable, "-m", "embedlab.experiments.cli", "data", "fetch", "trec"], env=env,
                            capture_output=True, text=True)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("embedlab: error:")]
    assert len(errors) == 1 and "TREC.train.all" in errors[0] and "c8183fd8" in errors[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "home" / "datasets" / "trec").exists()
