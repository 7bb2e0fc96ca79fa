"""Config validation: every mistake is named with its key and its file, before any training."""

import subprocess
import sys
from pathlib import Path

import pytest

from embedlab.experiments.config import ConfigError, load_config

REPO = Path(__file__).resolve().parents[1]

VALID = """\
name: ok
data: {dataset: mr, protocol: holdout}
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
    changed = load_config(write_config(VALID.replace("{dataset: mr, protocol: holdout}", "{dataset: mr, protocol: holdout, split_seed: 1}"))).runs()
    assert first[0].run_id != changed[0].run_id


def test_protocol_defaults_to_the_datasets_own(write_config):
    def protocol(dataset):
        return load_config(write_config(f"name: p\ndata: {{dataset: {dataset}}}\ngrid: {{embedding: [rand]}}\n")).data_axis()[0].protocol

    assert protocol("mr") == "cv" and protocol("fine_foods") == "official"


def test_cv_protocol_expands_folds(write_config):
    config = load_config(write_config(VALID.replace("{dataset: mr, protocol: holdout}", "{dataset: mr, protocol: cv, folds: 4}")))
    assert sorted({r.fold for r in config.runs()}) == [0, 1, 2, 3]


@pytest.mark.parametrize("text, key, says", [
    (VALID + "epochs: 3\n", "epochs", "unknown key (allowed here: name, description, data"),
    (VALID.replace("{dataset: mr, protocol: holdout}", "{dataset: mr, tset_fraction: 0.2}"), "data.tset_fraction",
     "allowed here: dataset, protocol, test_fraction"),
    (VALID.replace("{dataset: mr, protocol: holdout}", "{dataset: imdb50k}"), "data.dataset", "unknown dataset 'imdb50k'"),
    (VALID + "vectors: word2vec-google\n", "vectors", "unknown vectors 'word2vec-google'"),
    (VALID.replace("[rand, static]", "[rand, nonstatic]"), "grid.embedding.1", "Input should be"),
    (VALID + "training: {batch_size: fifty}\n", "training.batch_size", "valid integer"),
    (VALID + "training: {max_epochs: 0}\n", "training.max_epochs", "greater than or equal to 1"),
    (VALID.replace("[rand, static]", "[]"), "grid.embedding", "at least 1"),
    ("name: x\ngrid: {embedding: [rand], seed: [-1]}\n", "grid.seed", "must be ≥ 0"),
    ("name: x\ngrid: {model: [boe], embedding: [multichannel]}\n", "(top level)", "does not support"),
    ("name: x\nvectors: null\ngrid: {embedding: [static]}\n", "(top level)", "vectors: null allows only"),
    ("data: {dataset: mr}\ngrid: {embedding: [rand]}\n", "name", "required key is missing"),
    ("name: x\n", "grid", "required key is missing"),
    (VALID + "model: {cnn: {filters: [3]}}\n", "model.cnn.filters", "allowed here: dropout, max_norm, filter_sizes, num_filters"),
    (VALID + "model: {num_filters: 8}\n", "model", "write them as model.cnn.num_filters"),
    (VALID + "model: {rnn: {units: 8}}\n", "model.rnn", "allowed here: embedding_dim, boe, "),
    (VALID.replace("{embedding: [rand, static]}", "{model: [lstm], embedding: [rand]}"), "grid.model",
     "unknown model(s) ['lstm']; known: boe, "),
    (VALID + "training: {lr: 0.1}\n", "training.lr", "allowed here: optimizer, learning_rate"),
    (VALID.replace("{embedding: [rand, static]}", "{embedding: [rand], seeds: [1]}"), "grid.seeds",
     "allowed here: model, embedding, seed"),
    (VALID + "word2vec: {size: 100}\n", "word2vec.size", "allowed here: window, negative"),
    (VALID + "training: {optimizer: adagrad}\n", "training.optimizer", "Input should be 'adam'"),
    (VALID + "model: {cnn: {dropout: 1.5}}\n", "model.cnn.dropout", "less than 1"),
    (VALID.replace("{dataset: mr, protocol: holdout}", "{dataset: mr, test_fraction: 1.0}"), "data.test_fraction", "less than 1"),
    (VALID.replace("{dataset: mr, protocol: holdout}", "{dataset: mr, folds: ten}"), "data.folds", "valid integer"),
    (VALID.replace("{dataset: mr, protocol: holdout}", "{dataset: mr, protocol: official}"), "data", "no official test split"),
    (VALID.replace("{dataset: mr, protocol: holdout}", "{dataset: mr, subsample: 5}"), "data.subsample", "greater than or equal to 20"),
    (VALID.replace("[rand, static]}", "[rand], train_size: [0.0, 0.5]}"), "grid.train_size", "fractions in (0, 1]"),
    (VALID.replace("[rand, static]}", "[rand], train_size: [1.5]}"), "grid.train_size", "fractions in (0, 1]"),
    (VALID.replace("[rand, static]}", "[rand], fold: [0]}"), "(top level)", "grid.fold needs data.protocol: cv"),
    (VALID.replace("{dataset: mr, protocol: holdout}", "{dataset: mr, protocol: cv, folds: 5}").replace(
        "[rand, static]}", "[rand], fold: [5]}"), "(top level)", "grid.fold 5 is outside 0..4"),
    (VALID.replace("[rand, static]}", "[rand], seed: [1, 1]}"), "grid", "seed lists a value twice"),
    (VALID.replace("{dataset: mr, protocol: holdout}", "{dataset: mr, max_length: 4}"), "data.max_length", "greater than or equal to 5"),
    ("name: has spaces\ngrid: {embedding: [rand]}\n", "name", "should match pattern"),
    ("name: x\ndata: [mr]\ngrid: {embedding: [rand]}\n", "data", "valid dictionary"),
    ("name: x\ngrid: {embedding: rand}\n", "grid.embedding", "valid list"),
    (VALID.replace("{dataset: mr, protocol: holdout}", "{dataset: {path: nowhere.csv}}"), "data.dataset", "no such file"),
])
def test_invalid_configs_name_key_and_file(write_config, text, key, says):
    path = write_config(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert f"{path}: {key}: " in message and says in message, message


def test_empty_and_binary_files(write_config, tmp_path):
    with pytest.raises(ConfigError, match="expected a mapping of settings at the top level, got NoneType"):
        load_config(write_config(""))
    binary = tmp_path / "weights.yaml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    with pytest.raises(ConfigError, match="not a UTF-8 text file"):
        load_config(binary)


def test_yaml_is_safe_loaded(write_config):
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write_config("name: !!python/object/apply:os.system ['echo hacked']\ngrid: {embedding: [rand]}\n"))


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


def test_dataset_and_vectors_axes_take_each_datasets_protocol(write_config):
    config = load_config(write_config(
        "name: many\ngrid: {embedding: [rand, static], dataset: [uci_yelp, fine_foods], "
        "vectors: [glove-6b-50d, glove-6b-100d-wink]}\n"))
    runs = config.runs()
    yelp = [r for r in runs if r.data.dataset == "uci_yelp"]
    foods = [r for r in runs if r.data.dataset == "fine_foods"]
    assert {r.data.protocol for r in yelp} == {"cv"} and len(yelp) == 10 * 2 * 2
    assert {r.data.protocol for r in foods} == {"official"} and {r.fold for r in foods} == {None}
    assert {r.vectors for r in runs} == {"glove-6b-50d", "glove-6b-100d-wink"}
    assert len({r.run_id for r in runs}) == len(runs)
    with pytest.raises(ConfigError, match="no official test split"):
        load_config(write_config("name: x\ndata: {protocol: official}\ngrid: {embedding: [rand], "
                                 "dataset: [fine_foods, mr]}\n"))


def test_saved_experiment_yaml_expands_to_the_same_runs(write_config):
    # `embedlab status` rebuilds the grid from OUTDIR/experiment.yaml; an unwritten protocol must stay
    # "the dataset's own" there, not become the first dataset's (fine_foods would get 10 CV folds).
    import yaml

    from embedlab.experiments.config import ExperimentConfig

    config = load_config(write_config("name: many\ngrid: {embedding: [rand], dataset: [mr, fine_foods]}\n"))
    saved = yaml.safe_load(yaml.safe_dump(config.model_dump(mode="json")))
    again = ExperimentConfig.model_validate(saved).runs()
    assert [r.run_id for r in again] == [r.run_id for r in config.runs()] and len(again) == 10 + 1


def test_a_key_written_twice_is_refused_with_both_lines(write_config):
    text = "name: twice\ndata: {dataset: mr}\ntraining:\n  max_epochs: 5\n  batch_size: 50\n  max_epochs: 7\ngrid: {embedding: [rand]}\n"
    with pytest.raises(ConfigError, match=r"key 'max_epochs' is written twice in one mapping \(line 4 and line 6\)"):
        load_config(write_config(text))


def test_command_line_overrides_are_validated_like_the_file_and_recorded(write_config):
    path = write_config(VALID)
    config = load_config(path, ["training.max_epochs=5", "grid.seed=[1, 2]", "data.subsample=500"])
    assert config.training.max_epochs == 5 and config.grid.seed == [1, 2] and config.data.subsample == 500
    assert config.overrides == ["training.max_epochs=5", "grid.seed=[1, 2]", "data.subsample=500"]
    assert len(config.runs()) == 4
    with pytest.raises(ConfigError, match=r"training\.max_epoch: unknown key \(allowed here: optimizer.*\(given on the command line\)"):
        load_config(path, ["training.max_epoch=5"])
    with pytest.raises(ConfigError, match="is not KEY=VALUE"):
        load_config(path, ["training.max_epochs"])
