"""Config validation: every mistake is named with its key and its file, before any training."""

import subprocess
import sys
from pathlib import Path

import pytest

from embedlab.experiments.config import ConfigError, load_config

REPO = Path(__file__).resolve().parents[1]

VALID = """\
name: ok
data: {dataset: mr}
grid: {embedding: [rand, static]}
"""


def test_shipped_configs_are_valid():
    for path in sorted((REPO / "configs").glob("*.yaml")):
        config = load_config(path)
        assert config.runs(), path
        assert path.read_text().startswith("#"), f"{path} must start with a comment saying what it reproduces"


def test_quickstart_expands_to_nine_paired_runs():
    runs = load_config(REPO / "configs" / "quickstart.yaml").runs()
    assert len(runs) == 9 and len({r.run_id for r in runs}) == 9
    assert {r.embedding for r in runs} == {"rand", "static", "non-static"}


def test_run_ids_are_stable_and_change_with_settings(write_config):
    first = load_config(write_config(VALID)).runs()
    assert [r.run_id for r in first] == [r.run_id for r in load_config(write_config(VALID)).runs()]
    changed = load_config(write_config(VALID.replace("{dataset: mr}", "{dataset: mr, split_seed: 1}"))).runs()
    assert first[0].run_id != changed[0].run_id


def test_cv_protocol_expands_folds(write_config):
    config = load_config(write_config(VALID.replace("{dataset: mr}", "{dataset: mr, protocol: cv, folds: 4}")))
    assert sorted({r.fold for r in config.runs()}) == [0, 1, 2, 3]


@pytest.mark.parametrize("text, key, says", [
    (VALID + "epochs: 3\n", "epochs", "unknown key (allowed here: name, description, data"),
    (VALID.replace("{dataset: mr}", "{dataset: mr, tset_fraction: 0.2}"), "data.tset_fraction",
     "allowed here: dataset, protocol, test_fraction"),
    (VALID.replace("{dataset: mr}", "{dataset: imdb50k}"), "data.dataset", "unknown dataset 'imdb50k'"),
    (VALID + "vectors: word2vec-google\n", "vectors", "unknown vectors 'word2vec-google'"),
    (VALID.replace("[rand, static]", "[rand, nonstatic]"), "grid.embedding.1", "Input should be"),
    (VALID + "training: {batch_size: fifty}\n", "training.batch_size", "valid integer"),
    (VALID + "training: {max_epochs: 0}\n", "training.max_epochs", "greater than or equal to 1"),
    (VALID.replace("[rand, static]", "[]"), "grid.embedding", "at least 1"),
    ("name: x\ngrid: {embedding: [rand], seed: [-1]}\n", "grid.seed", "must be ≥ 0"),
    ("name: x\ngrid: {model: [boe], embedding: [multichannel]}\n", "(top level)", "does not support"),
    ("name: x\nvectors: null\ngrid: {embedding: [static]}\n", "(top level)", "vectors: null allows only"),
    ("data: {dataset: mr}\ngrid: {embedding: [rand]}\n", "name", "required key is missing"),
])
def test_invalid_configs_name_key_and_file(write_config, text, key, says):
    path = write_config(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert f"{path}: {key}: " in message and says in message, message


def test_unreadable_files(write_config, tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match=r"not valid YAML \(line 2"):
        load_config(write_config("name: x\ngrid: embedding: [rand]\n"))
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(write_config("- just\n- a list\n"))


def test_cli_reports_config_error_without_traceback(write_config):
    path = write_config(VALID + "epochs: 3\n")
    result = subprocess.run([sys.executable, "-m", "embedlab.experiments.cli", "run", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert f"{path}: epochs: unknown key" in result.stderr
    assert "Traceback" not in result.stderr
