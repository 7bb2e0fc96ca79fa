"""Run identity: ids of the shipped configs are pinned, settings added since v0.1 leave v0.1's ids
alone at their v0.1 value, and settings a condition does not use do not split runs."""

import hashlib
from pathlib import Path

import pytest
import yaml

from embedlab.experiments.config import ConfigError, ExperimentConfig, load_config

REPO = Path(__file__).resolve().parents[1]

# sha256 over the sorted run ids of each shipped config, as release 0.1 computed them (checked
# against a checkout of 4f13f8f). With v0.1's settings written out, today's code must give the same.
V01_IDS = {"binary_table2.yaml": "a185929285cd", "qi2018_learning_curve.yaml": "90a6cc3dbb19",
           "quickstart.yaml": "57b52e8aac13", "what_embeddings_learn.yaml": "bded07223917"}


# The same for today's shipped configs: a change here means every recorded run of that config is
# retrained, so it must be deliberate (update the digest in the commit that changes the identity).
CURRENT_IDS = {
    'architectures.yaml': '694a21d843f3',
    'kim2014_protocol.yaml': '413623e03b00',
    'binary_table2.yaml': '73369af9b914',  # release 0.3's kim2014_table2, renamed: ids kept
    'kim2014_table2.yaml': '34ab8c5728be',  # Kim's seven datasets (release 0.4)
    'kim_gap_mr.yaml': 'c7a8a06459b8',  # release 0.4: + scale variants, + kim_setup_kim_mr (earlier runs keep their ids: 80635bb2a6c5 without it)
    'modern_embeddings.yaml': '3c41ad63fb45',  # + MiniLM variants (63a6db65aed8 before minilm_rand); its 240 CNN runs kept their ids (281f20125591)
    'qi2018_learning_curve.yaml': 'e333e2070d16',
    'modern_learning_curve.yaml': '89401afe76b8',
    'quickstart.yaml': 'ad5a8c899d5e',
    'rescaled_vectors.yaml': '19ad9bc0bdb8',
    'vector_scale.yaml': '1fd38a66526b',  # release 0.4: + scale variants (earlier runs keep their ids)
    'sst_phrases.yaml': '264ea00df8ac',
    'tuned_mr.yaml': '7af305c62cf0',  # its untuned grid; the trials' ids are their drawn settings'
    'what_embeddings_learn.yaml': '51c5ba990f13',
    'what_modern_embeddings_learn.yaml': 'c2377d4b1f24',
}


def _digest(config: ExperimentConfig) -> str:
    return hashlib.sha256("".join(sorted(r.run_id for r in config.runs())).encode()).hexdigest()[:12]


@pytest.mark.parametrize("name", sorted(V01_IDS))
def test_v01_settings_keep_v01_run_ids(name):
    path = REPO / "configs" / name
    raw = yaml.safe_load(path.read_text())
    raw.setdefault("training", {}).update(batching="fixed", precision="float32")
    raw.setdefault("data", {}).update(vocabulary="train", padding="end", unknown_init="kim")
    raw.pop("variants", None)
    if name == "what_embeddings_learn.yaml":  # the vectors 0.1 shipped; since 0.2 both use Kim's word2vec
        raw["vectors"] = "glove-6b-50d"
    if name == "binary_table2.yaml":  # release 0.3's kim2014_table2, renamed
        raw["grid"]["vectors"] = ["glove-6b-100d-wink", "glove-6b-50d"]
    config = ExperimentConfig.model_validate(raw, context={"base_dir": path.parent})
    assert _digest(config) == V01_IDS[name]


@pytest.mark.parametrize("name", sorted(CURRENT_IDS))
def test_shipped_config_run_ids_are_pinned(name):
    assert _digest(load_config(REPO / "configs" / name)) == CURRENT_IDS[name]


def test_a_new_variant_keeps_the_other_variants_run_ids():
    config = load_config(REPO / "configs" / "kim_gap_mr.yaml")
    earlier = {r.run_id for name, runs in config.variant_runs().items() if name != "kim_setup_kim_mr" for r in runs}
    assert hashlib.sha256("".join(sorted(earlier)).encode()).hexdigest()[:12] == "80635bb2a6c5"


def test_minilm_rand_keeps_the_earlier_variants_run_ids():
    config = load_config(REPO / "configs" / "modern_embeddings.yaml")
    earlier = {r.run_id for name, runs in config.variant_runs().items() if name != "minilm_rand" for r in runs}
    assert hashlib.sha256("".join(sorted(earlier)).encode()).hexdigest()[:12] == "63a6db65aed8"


def test_unused_settings_do_not_split_runs(write_config):
    base = ("name: u\ndata: {dataset: mr, protocol: holdout}\nvectors: glove-6b-50d\n"
            "grid: {embedding: [rand, static]}\n")
    plain = {r.embedding: r.run_id for r in load_config(write_config(base)).runs()}
    train_vocab = {r.embedding: r.run_id for r in load_config(write_config(
        base.replace("protocol: holdout}", "protocol: holdout, vocabulary: train}"))).runs()}
    wide_rand = {r.embedding: r.run_id for r in load_config(write_config(base + "model: {embedding_dim: 300}\n")).runs()}
    assert train_vocab["rand"] == plain["rand"] and train_vocab["static"] != plain["static"]
    assert wide_rand["static"] == plain["static"] and wide_rand["rand"] != plain["rand"]


def test_an_embedding_dim_nothing_uses_is_refused(write_config):
    text = "name: u\ndata: {dataset: mr}\nvectors: glove-6b-50d\nmodel: {embedding_dim: 300}\ngrid: {embedding: [static]}\n"
    with pytest.raises(ConfigError, match="model.embedding_dim: 300 would not be used"):
        load_config(write_config(text))


def test_variants_share_runs_and_name_a_bad_key(write_config):
    text = ("name: v\ndata: {dataset: mr, protocol: cv, folds: 2}\nvectors: glove-6b-50d\n"
            "grid: {embedding: [rand, static]}\n"
            "variants:\n  defaults: {}\n  closed: {data.vocabulary: train}\n")
    config = load_config(write_config(text))
    per_variant = config.variant_runs()
    assert {k: len(v) for k, v in per_variant.items()} == {"defaults": 4, "closed": 4}
    assert len(config.runs()) == 6  # rand is the same run under both variants
    with pytest.raises(ConfigError, match=r"variants\.closed\.data\.vocabluary: unknown key \(allowed here: dataset"):
        load_config(write_config(text.replace("data.vocabulary", "data.vocabluary")))
    with pytest.raises(ConfigError, match="variants 'defaults' and 'same' give the same runs"):
        load_config(write_config(text + "  same: {data.vocabulary: open}\n"))


def test_a_run_id_hashes_only_its_own_models_settings(write_config):
    """Changing one family's settings leaves every other family's runs alone."""
    base = "name: m\ndata: {dataset: mr, protocol: holdout}\ngrid: {model: [cnn, bilstm], embedding: [rand]}\n"
    plain = {r.model_name: r.run_id for r in load_config(write_config(base)).runs()}
    wider = {r.model_name: r.run_id for r in load_config(write_config(base + "model: {bilstm: {units: 32}}\n")).runs()}
    assert wider["cnn"] == plain["cnn"] and wider["bilstm"] != plain["bilstm"]
