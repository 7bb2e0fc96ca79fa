"""bench/seed_effect.py: the seed main effect on a CV difference, from a seeds × folds archive."""

import importlib.util
from pathlib import Path

import numpy as np

ROOT = Path(__file__).parents[1]


def _module():
    spec = importlib.util.spec_from_file_location("seed_effect", ROOT / "bench" / "seed_effect.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_seed_effect_of_every_complete_seeds_by_folds_condition_matches_its_mean_squares():
    module = _module()
    frame = module.seed_effects(ROOT / "docs" / "results" / "binary_table2_mr_seeds")
    glove = frame[frame["vectors"] == "glove-6b-100d-wink"].set_index("condition")
    assert {"static − rand", "non-static − rand"} <= set(glove.index)
    assert (frame["seeds"] == 3).all() and (frame["folds"] == 10).all()
    # the F test's statistic from the mean squares: seed means' spread over the residual's
    from embedlab.experiments.reporting.runs import finished_runs

    runs = finished_runs(ROOT / "docs" / "results" / "binary_table2_mr_seeds")
    runs = runs[runs["vectors"] == "glove-6b-100d-wink"]
    table = runs.pivot_table(index=["seed", "fold"], columns="embedding", values="accuracy")
    d = ((table["static"] - table["rand"]) * 100).unstack("fold").to_numpy()  # seeds × folds
    residual = d - d.mean(1, keepdims=True) - d.mean(0, keepdims=True) + d.mean()
    ms_seed = d.shape[1] * d.mean(1).var(ddof=1)
    ms_residual = (residual ** 2).sum() / ((d.shape[0] - 1) * (d.shape[1] - 1))
    assert np.isclose(glove.loc["static − rand", "F"], ms_seed / ms_residual)
    assert np.isclose(glove.loc["static − rand", "seed_var"], max(0.0, (ms_seed - ms_residual) / d.shape[1]))
    assert (frame["too_narrow"] >= 1).all()
    assert "| – | mr | glove-6b-100d-wink | cnn | static − rand | 3 × 10 |" in module.markdown(frame)


def test_a_wider_one_seed_interval_turns_a_supported_claim_inconclusive_and_factor_one_changes_nothing(tmp_path):
    module = _module()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "results").symlink_to(ROOT / "docs" / "results")
    claims = tmp_path / "docs" / "claims.yaml"
    claims.write_text("""claims:
  - {id: glove_multichannel, text: "MR, GloVe: multichannel > rand", results: docs/results/binary_table2, family: f,
     where: {dataset: mr, vectors: glove-6b-100d-wink}, a: {embedding: multichannel}, b: {embedding: rand}}
  - {id: w2v_static, text: "MR, word2vec: static > rand", results: docs/results/binary_table2, family: f,
     where: {dataset: mr, vectors: word2vec-googlenews-300d-26k}, a: {embedding: static}, b: {embedding: rand}}
""")
    same = module.widened(claims, 1.0).set_index("claim")
    assert (same["verdict"] == same["widened"]).all() and same.loc["glove_multichannel", "verdict"] == "SUPPORTED"
    wide = module.widened(claims, 3.0).set_index("claim")
    assert wide.loc["glove_multichannel", "widened"] == "INCONCLUSIVE"
    assert wide.loc["glove_multichannel", "widened_holm_p"] > wide.loc["glove_multichannel", "holm_p"]


def test_a_claim_gets_its_seed_effect_from_its_own_pairs_even_against_another_variants_rand():
    """Per claim: a claim on the same cells as a cell row gives the same figures, and MiniLM frozen
    (whose rand is the CNN's, another variant's) gets a row, which the cell table cannot give it."""
    module = _module()
    claims = ROOT / "docs" / "claims.yaml"
    per_claim = module.claim_seed_effects(claims, ROOT / "docs" / "results" / "binary_table2_mr_seeds").set_index("claim")
    cells = module.seed_effects(ROOT / "docs" / "results" / "binary_table2_mr_seeds")
    w2v = cells[(cells["vectors"] == "word2vec-googlenews-300d-26k") & (cells["condition"] == "static − rand")].iloc[0]
    for column in ("F", "p", "seed_var", "residual_var", "one_seed_se2", "too_narrow"):
        assert np.isclose(per_claim.loc["mr_w2v_static", column], w2v[column]), column
    minilm = module.claim_seed_effects(claims, ROOT / "docs" / "results" / "modern_embeddings_mr_seeds")
    assert "modern_minilm_frozen_mr" in set(minilm["claim"]) and (minilm["seeds"] == 3).all()
    assert module.seed_effects(ROOT / "docs" / "results" / "modern_embeddings_mr_seeds").empty
    assert "| modern_minilm_frozen_mr | 3 × 10 |" in module.markdown(minilm)
