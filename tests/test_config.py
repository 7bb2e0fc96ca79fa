"""Config validation: every mistake is named with its key and its file, before any training."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from embedlab.experiments.config import DEFAULT_MAX_RUNS, ConfigError, load_config

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


def _deep_flow_mapping(levels):
    return "{a: " * levels + "1" + "}" * levels


def _deep_block_mapping(levels):
    return "\n" + "".join(" " * (i + 1) + "a:" + (" 1" if i == levels - 1 else "") + "\n" for i in range(levels))


@pytest.mark.parametrize("extra, line", [
    (_deep_flow_mapping(500), "line 4"),
    ("[" * 50_000 + "]" * 50_000, "line 4"),
    (_deep_block_mapping(1_000), "line 54"),
])
def test_deeply_nested_settings_are_an_error_not_a_recursion_error(write_config, extra, line):
    path = write_config(VALID + "extra: " + extra + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: settings nested deeper than 50 levels ({line}")


def test_deeply_nested_settings_from_python_and_the_command_line(write_config):
    import embedlab

    deep = 1
    for _ in range(5_000):
        deep = {"a": deep}
    with pytest.raises(ConfigError, match=r"^config: settings nested deeper than 50 levels \(under key 'extra'\)"):
        embedlab.load_config({"name": "x", "grid": {"embedding": ["rand"]}, "extra": deep})
    with pytest.raises(ConfigError, match=r"^overrides: settings nested deeper than 50 levels"):
        embedlab.load_config(write_config(VALID), {"extra": deep})
    with pytest.raises(ConfigError, match=r"^command line: extra: settings nested deeper than 50 levels"):
        load_config(write_config(VALID), ["extra=" + "[" * 5_000 + "]" * 5_000])
    nested = {"name": "ok", "grid": {"embedding": ["rand"]}, "variants": {"v": {"model.cnn.filter_sizes": [3]}}}
    assert embedlab.load_config(nested).runs()  # real configs are a few levels deep


def test_a_config_file_over_a_megabyte_is_refused_before_it_is_parsed(write_config, monkeypatch):
    import yaml

    path = write_config(VALID + "description: '" + "x" * 1_000_001 + "'\n")
    monkeypatch.setattr(yaml, "load", lambda *a, **k: pytest.fail("parsed a file over the size limit"))
    with pytest.raises(ConfigError, match=r"1,000,0\d\d bytes, more than a config may hold \(1,000,000 bytes\)"):
        load_config(path)


def test_a_grid_beyond_max_runs_is_counted_not_expanded(write_config, monkeypatch):
    from embedlab.experiments.config import ExperimentConfig

    monkeypatch.setattr(ExperimentConfig, "_grid_runs", lambda self: pytest.fail("expanded a grid over the limit"))
    cv = VALID.replace("protocol: holdout", "protocol: cv")  # 10 folds

    def seeds(n):
        return "[" + ", ".join(map(str, range(n))) + "]"

    path = write_config(cv.replace("[rand, static]}", f"[rand, static], seed: {seeds(1_100)}}}"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (f"{path}: grid.max_runs: the grid lists 22,000 runs (grid.seed lists 1,100 values), "
                                 "more than grid.max_runs 20,000; list fewer values, or raise grid.max_runs if you "
                                 "mean it")
    # Variants are bounded together: 2 × 12,000 runs, each under the limit alone.
    path = write_config(cv.replace("[rand, static]}", f"[rand, static], seed: {seeds(600)}}}")
                        + "variants: {a: {}, b: {data.split_seed: 1}}\n")
    with pytest.raises(ConfigError, match=r"grid\.max_runs: the grid lists 24,000 runs \(2 variants\)"):
        load_config(path)


def test_max_runs_can_be_raised_and_is_not_part_of_run_ids(write_config):
    quickstart = REPO / "configs" / "quickstart.yaml"
    ids = [r.run_id for r in load_config(quickstart).runs()]
    assert [r.run_id for r in load_config(quickstart, ["grid.max_runs=9"]).runs()] == ids
    with pytest.raises(ConfigError, match=r"grid\.max_runs: the grid lists 9 runs .* more than grid\.max_runs 8"):
        load_config(quickstart, ["grid.max_runs=8"])
    for path in sorted((REPO / "configs").glob("*.yaml")):  # far below the default
        config = load_config(path)
        count = sum(v.planned_runs() for v in config._variant_configs.values()) or config.planned_runs()
        assert len(config.runs()) <= count < DEFAULT_MAX_RUNS // 20, path


def test_yaml_merge_keys_are_standard_yaml(write_config):
    config = load_config(write_config(VALID + "variants:\n"
                                              "  a: &base {training.max_epochs: 3, training.batch_size: 25}\n"
                                              "  b: {<<: *base, training.max_epochs: 4}\n"))
    variants = config._variant_configs
    assert (variants["a"].training.max_epochs, variants["a"].training.batch_size) == (3, 25)
    assert (variants["b"].training.max_epochs, variants["b"].training.batch_size) == (4, 25)
    with pytest.raises(ConfigError, match=r"key 'max_epochs' is written twice in one mapping \(line 6 and line 7\)"):
        load_config(write_config(VALID + "training:\n  <<: {batch_size: 25}\n  max_epochs: 3\n  max_epochs: 4\n"))


def test_an_override_that_replaces_a_section_or_repeats_a_key_is_refused(write_config):
    path = write_config(VALID)
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}: command line: data: a mapping here replaces "
                                          r"the whole section and would drop data\.dataset, data\.protocol; set "
                                          r"keys one by one"):
        load_config(path, ["data={}"])
    with pytest.raises(ConfigError, match=r"^command line: training\.max_epochs is given twice "
                                          r"\(training\.max_epochs=5 and training\.max_epochs=7\); keep one"):
        load_config(path, ["training.max_epochs=5", "training.max_epochs=7"])
    # A mapping that keeps every key, or replaces a plain value, loses nothing.
    config = load_config(path, ["data={dataset: mr, protocol: cv, folds: 5}"])
    assert config.data.folds == 5 and config.data.protocol == "cv"


def test_an_override_keeps_some_variants_and_their_run_ids():
    """``variants=[NAME, ...]``: a 3-seed grid as overrides of its one-seed config (README, "Three
    seeds on the same folds"); the variants kept keep their runs' ids; a name the config lacks, an
    empty list, or a setting of a variant left out is an error."""
    modern = REPO / "configs" / "modern_embeddings.yaml"
    full = {v: {r.run_id for r in runs} for v, runs in load_config(modern).variant_runs().items()}
    kept = load_config(modern, ["variants=[minilm_finetuned, word_vectors]"])
    ids = {v: {r.run_id for r in runs} for v, runs in kept.variant_runs().items()}
    assert list(ids) == ["word_vectors", "minilm_finetuned"] and all(ids[v] == full[v] for v in ids)
    assert 'variants=["minilm_finetuned", "word_vectors"]' in kept.overrides
    for overrides, says in (
            (["variants=[minilm_frnzen]"], r"variants: no variant 'minilm_frnzen' in the config \(variants: "
                                           r"word_vectors, minilm_frozen"),
            (["variants=[]"], r"variants: an empty list keeps no variant"),
            (["variants=[word_vectors]", "variants.minilm_rand.training.max_epochs=3"],
             r"variants: variants\.minilm_rand\.training\.max_epochs sets a variant the list leaves out")):
        with pytest.raises(ConfigError, match=r"command line: " + says):
            load_config(modern, overrides)


@pytest.mark.parametrize("name, says", [
    ("x" * 101, "name: 101 characters; a name becomes a folder name (results/<name>/), so at most 100"),
    ("..", "name: '..' starts with a dot"),
])
def test_a_name_must_work_as_a_folder_name(write_config, name, says):
    path = write_config(f"name: '{name}'\ngrid: {{embedding: [rand]}}\n")
    with pytest.raises(ConfigError, match=re.escape(f"{path}: {says}")):
        load_config(path)
    assert load_config(write_config(f"name: {'x' * 100}\ngrid: {{embedding: [rand]}}\n")).name == "x" * 100
    with pytest.raises(ConfigError, match=r"variants: name 101 characters"):
        load_config(write_config(VALID + f"variants: {{{'v' * 101}: {{}}}}\n"))
