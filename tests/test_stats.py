"""Statistics on hand-checked inputs, and the report's paired-gains table."""

import math

import numpy as np
import pandas as pd
import pytest

from embedlab.experiments.reporting.tables import (comparison_markdown, datasets_table_markdown, paired_gains,
                                         paired_gains_markdown)
from embedlab.experiments.reporting.stats import bootstrap_ci, paired_gain


def test_paired_test_on_known_values():
    # differences 1, 1, 2, 2: mean 1.5, sd 0.57735, t = 1.5 / (0.57735 / 2) = 5.196 with 3 df
    gain = paired_gain([1, 2, 3, 4], [0, 1, 1, 2])
    assert gain.n == 4 and gain.mean == 1.5
    assert gain.t_p == pytest.approx(0.013847, abs=1e-5)
    assert gain.wilcoxon_p == pytest.approx(0.125)  # exact: all 4 signs positive, 2 / 2**4
    assert (gain.ci_low, gain.ci_high) == (1.0, 2.0)


def test_no_variance_or_no_difference_gives_undefined_p_values():
    same = paired_gain([0.8, 0.8], [0.8, 0.8])
    assert same.mean == 0 and math.isnan(same.t_p) and math.isnan(same.wilcoxon_p)
    with pytest.raises(ValueError):
        paired_gain([1, 2], [1])
    single = paired_gain([0.8], [0.7])  # one pair (one official split, one seed): a gain, no interval
    assert single.mean == pytest.approx(0.1) and math.isnan(single.ci_low) and math.isnan(single.t_p)


def test_bootstrap_ci_contains_the_true_mean_on_synthetic_draws():
    rng = np.random.default_rng(1)
    covered = 0
    for trial in range(200):
        draws = rng.normal(0.02, 0.01, size=30)
        low, high = bootstrap_ci(draws, resamples=2000, seed=trial)
        covered += low <= 0.02 <= high
    assert 0.88 <= covered / 200 <= 0.99  # nominal 95%


def _runs(rows):
    frame = pd.DataFrame(rows, columns=["embedding", "seed", "accuracy"])
    return frame.assign(dataset="mr", vectors="glove-6b-50d", model="cnn", train_size=1.0, fold=None)


def test_report_pairs_runs_by_seed_and_shows_gain_in_brackets():
    runs = _runs([("rand", 1, 0.70), ("rand", 2, 0.72), ("rand", 3, 0.74),
                  ("static", 1, 0.75), ("static", 2, 0.76), ("static", 3, 0.80),
                  ("static", 4, 0.10)])  # seed 4 has no rand partner: not paired
    table = paired_gains_markdown(runs)
    assert "| static | 3 | **+5.00** | [+4.00, +6.00] | +5.00 | paired t, 3 seeds only (test sentences not resampled) |" in table  # no predictions: seeds only, named so
    assert table.rstrip().endswith("| 3.10 |")  # (t.975,2 + t.80,2) * 1 / sqrt(3) = 5.364 * 0.577 points
    summary = comparison_markdown(runs)
    assert "| cnn | 72.0 ± 2.0 |" in summary and "(-11.8)" in summary  # unpaired mean includes seed 4


def test_datasets_table_has_one_column_per_dataset_and_kims_mr_row(tmp_path):
    mr = _runs([("rand", 0, 0.70), ("rand", 1, 0.72), ("static", 0, 0.75), ("static", 1, 0.77)])
    imdb = mr.assign(dataset="uci_imdb", accuracy=mr["accuracy"] - 0.1)
    table = datasets_table_markdown(pd.concat([mr, imdb]))
    assert "| model | vectors | condition | mr | uci_imdb |" in table
    assert "| cnn | glove-6b-50d | rand | 71.0 ± 1.4 | 61.0 ± 1.4 |" in table
    assert "| cnn | glove-6b-50d | static | 76.0 ± 1.4 | 66.0 ± 1.4 |" in table
    assert "| Kim 2014 CNN | word2vec 300d | static | 81.0 | – |" in table
    assert "non-static" not in table  # Kim's rows only for the conditions that were run
    assert datasets_table_markdown(mr) == ""  # one dataset: the comparison table says it all
    gains = paired_gains(pd.concat([mr, imdb]))
    assert gains["dataset"].tolist() == ["mr", "uci_imdb"] and gains["gain"].round(4).tolist() == [0.05, 0.05]
    from embedlab.experiments.reporting.curves import plot_dataset_gains

    assert plot_dataset_gains(gains, tmp_path / "gains.png").read_bytes()[:4] == b"\x89PNG"


def test_corrected_resampled_t_against_a_hand_computed_example():
    from scipy import stats as st

    from embedlab.experiments.reporting.stats import corrected_resampled_t

    # 10 folds, n_test / n_train = 1/9: variance factor 1/10 + 1/9 = 0.2111…
    diffs = np.array([0.02, 0.01, 0.03, -0.01, 0.02, 0.00, 0.04, 0.01, 0.02, 0.01])
    result = corrected_resampled_t(diffs, n_train=900, n_test=100)
    se = np.sqrt(diffs.var(ddof=1) * (1 / 10 + 100 / 900))  # s = 0.0143372, se = 0.0065875
    assert abs(se - 0.0065875) < 1e-6
    assert abs(result.mean - 0.015) < 1e-12
    assert abs(result.p - 2 * st.t.sf(0.015 / se, 9)) < 1e-12 and 0.045 < result.p < 0.05  # 0.0488
    plain = st.ttest_rel(diffs, np.zeros(10)).pvalue  # the uncorrected test claims far more
    assert plain < 0.01 < result.p  # plain paired t: 0.0091
    assert result.ci_low < 0.015 < result.ci_high and abs((result.ci_high - result.ci_low) / 2 - st.t.ppf(0.975, 9) * se) < 1e-12
    assert np.isnan(corrected_resampled_t([0.01], 900, 100).p)


def test_holm_on_a_textbook_example():
    from embedlab.experiments.reporting.stats import holm

    # m = 4: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → monotone 0.06
    adjusted = holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02])
    with_nan = holm([0.02, float("nan"), 0.5])
    assert np.isnan(with_nan[1]) and np.allclose(with_nan[[0, 2]], [0.04, 0.5])
    assert holm([0.6, 0.7]).max() == 1.0


def test_cv_pairs_get_the_corrected_test_and_holm_runs_over_the_table():
    rng = np.random.default_rng(0)
    rows = []
    for fold in range(10):
        base = 0.75 + rng.normal(0, 0.01)
        rows += [("rand", fold, base), ("static", fold, base + 0.01 + rng.normal(0, 0.01)),
                 ("non-static", fold, base + 0.03 + rng.normal(0, 0.01))]
    frame = pd.DataFrame(rows, columns=["embedding", "fold", "accuracy"]).assign(
        seed=0, dataset="mr", vectors="glove-6b-50d", model="cnn", train_size=1.0, n_train=8590, n_dev=955, n_test=1060)
    gains = paired_gains(frame).set_index("condition")
    assert set(gains["test"]) == {"corrected resampled t, 10 folds"}
    from scipy import stats as st

    for condition in ("static", "non-static"):
        diffs = (frame[frame.embedding == condition]["accuracy"].to_numpy()
                 - frame[frame.embedding == "rand"]["accuracy"].to_numpy())
        assert gains.loc[condition, "p"] > st.ttest_1samp(diffs, 0).pvalue  # the correction widens
    ordered = gains["p"].sort_values()
    assert np.isclose(gains.loc[ordered.index[0], "holm_p"], min(1, 2 * ordered.iloc[0]))


def test_demsar_example_critical_difference_and_friedman():
    from embedlab.experiments.reporting.stats import friedman_from_ranks, nemenyi_critical_difference

    # Demšar (2006), section 3.2.4: four C4.5 variants on 14 data sets, average ranks 3.143, 2.000,
    # 2.893, 1.964: chi2_F = 9.28, F_F = 3.69; Nemenyi CD at 0.05 = 2.569 * sqrt(4*5 / (6*14)) = 1.25.
    chi2, f = friedman_from_ranks([3.143, 2.000, 2.893, 1.964], n=14)
    assert round(chi2, 2) == 9.28 and round(f, 2) == 3.69
    assert round(nemenyi_critical_difference(4, 14), 2) == 1.25
    assert round(nemenyi_critical_difference(4, 14, alpha=0.10), 2) == 1.12  # q_0.10 = 2.291


def test_compare_over_datasets_agrees_with_the_rank_formula():
    from embedlab.experiments.reporting.stats import compare_over_datasets, friedman_from_ranks

    rng = np.random.default_rng(1)
    scores = pd.DataFrame(rng.normal(0.75, 0.03, size=(8, 3)), columns=["rand", "static", "non-static"])
    scores["non-static"] += 0.05  # clearly best everywhere
    result = compare_over_datasets(scores)
    assert result.average_ranks["non-static"] == 1.0
    chi2, _ = friedman_from_ranks(list(result.average_ranks.values()), n=8)  # no ties: equal to scipy's
    from scipy import stats as st

    assert abs(st.chi2.sf(chi2, 2) - result.friedman_p) < 1e-12
    assert result.wilcoxon_p["non-static"] < 0.01 and result.nemenyi_p.shape == (3, 3)


def test_report_compares_conditions_over_datasets_with_a_cd_diagram(tmp_path):
    from embedlab.experiments.reporting.across_datasets import across_datasets_markdown

    rng = np.random.default_rng(0)
    rows = []
    for dataset in ("mr", "uci_imdb", "uci_yelp", "uci_amazon", "vader_nyt", "vader_tweets", "vader_amazon"):
        for fold in range(3):
            base = 0.75 + rng.normal(0, 0.02)
            rows += [(dataset, "rand", fold, base), (dataset, "static", fold, base + 0.01),
                     (dataset, "non-static", fold, base + 0.03)]
    runs = pd.DataFrame(rows, columns=["dataset", "embedding", "fold", "accuracy"]).assign(
        vectors="glove-6b-50d", model="cnn", train_size=1.0, seed=0)
    text = across_datasets_markdown(runs, "accuracy", tmp_path)
    # 7 datasets, every one ranks non-static > static > rand: exact Wilcoxon p = 2/2^7 = 0.0156
    assert "7 datasets: average rank (1 = best) rand 3.00, static 2.00, non-static 1.00" in text
    assert "static p = 0.0156 (Holm 0.0312)" in text and "Nemenyi critical difference 1.25" in text
    assert (tmp_path / "cd_none_cnn_glove-6b-50d.png").read_bytes()[:4] == b"\x89PNG"
    assert across_datasets_markdown(runs[runs.dataset == "mr"], "accuracy") == ""


@pytest.mark.slow  # a simulation of 3 × 1,500 test sets (~20 s); no training, no network
@pytest.mark.parametrize("seeds", [3, 5, 10])
def test_seeds_and_sentences_interval_covers_at_nominal_95(seeds):
    """Seeds evaluated on one test set: the interval must include the test set's sampling error.
    Simulated as Kim-style results: 1,000 test sentences of varying difficulty drawn from a
    population, seeds that shift a model's accuracy by ~0.7 points (sd, as measured on MR), and
    per-cell noise; the estimand is the population accuracy over sentences and seeds. Coverage of
    the nominal 95% interval must lie in 93-97% (a seeds-only interval covers ~75-90%)."""
    from scipy.special import expit

    from embedlab.experiments.reporting.stats import seeds_and_sentences

    rng = np.random.default_rng(seeds)
    mu, sentence_sd, seed_sd, cell_sd, sentences, sims = 1.2, 2.0, 0.05, 0.5, 1000, 1500
    truth = expit(mu + rng.normal(0, sentence_sd, 400_000) + rng.normal(0, np.hypot(seed_sd, cell_sd), 400_000)).mean()
    covered = 0
    for _ in range(sims):
        logits = (mu + rng.normal(0, sentence_sd, sentences)[None, :] + rng.normal(0, seed_sd, seeds)[:, None]
                  + rng.normal(0, cell_sd, (seeds, sentences)))
        correct = (rng.random((seeds, sentences)) < expit(logits)).astype(float)
        result = seeds_and_sentences([(correct, 1.0)])
        covered += result.ci_low <= truth <= result.ci_high
    assert 0.93 <= covered / sims <= 0.97, covered / sims


def test_seeds_and_sentences_contrast_and_equivalence():
    from embedlab.experiments.reporting.stats import equivalent, seeds_and_sentences

    rng = np.random.default_rng(0)
    a = (rng.random((5, 2000)) < 0.80).astype(float)
    b = (rng.random((5, 2000)) < 0.80).astype(float)
    same = seeds_and_sentences([(a, 1.0), (b, -1.0)])
    assert same.ci_low < 0 < same.ci_high and same.p > 0.01
    assert equivalent(same.ci90_low * 100, same.ci90_high * 100, margin=2.0)
    assert not equivalent(same.ci90_low * 100, same.ci90_high * 100, margin=0.1)
    one = seeds_and_sentences([(a, 1.0)])
    assert one.ci_low < a.mean() < one.ci_high and abs(one.se - np.sqrt(0.16 / 10000)) < 0.001  # 5 seeds x 2,000 independent cells


def test_seeds_times_folds_on_one_partition_get_the_fold_means_corrected_t_plus_the_seed_effect():
    """3 seeds × 10 folds, every seed on the same folds: the corrected variance of the 10 fold means
    plus the seed main effect's share, (MS_seed − MS_residual) / (k r), with Satterthwaite's degrees
    of freedom (checked by hand with scipy) — not Bouckaert & Frank's variance of 30 pairs × (1/30 +
    n_test/n_train), which would treat the three seeds' folds as three partitions."""
    from scipy import stats as scipy_stats

    from embedlab.experiments.reporting.design import paired_difference

    rng = np.random.default_rng(0)
    keys = pd.DataFrame([(fold, seed) for fold in range(10) for seed in range(3)], columns=["fold", "seed"])
    sizes = {"n_train": 8600, "n_dev": 950, "n_test": 1060}
    seed_effect = np.array([0.0, 0.01, -0.01])[keys["seed"]]
    b = keys.assign(run_id="b", accuracy=rng.normal(0.76, 0.01, len(keys)), **sizes)
    a = keys.assign(run_id="a", accuracy=b["accuracy"] + 0.015 + seed_effect + rng.normal(0, 0.01, len(keys)), **sizes)
    test = paired_difference(a, b, "accuracy", runs_dir=None)
    d = (a["accuracy"] - b["accuracy"]).to_numpy().reshape(10, 3).T  # seeds × folds
    fold_part = d.mean(0).var(ddof=1) * (1 / 10 + 1060 / (8600 + 950))
    residual = d - d.mean(1, keepdims=True) - d.mean(0, keepdims=True) + d.mean()
    ms_residual = (residual ** 2).sum() / (2 * 9)
    seed_part = max(0.0, 10 * d.mean(1).var(ddof=1) - ms_residual) / 30
    assert seed_part > 0  # the simulated seed effect is seen
    se = np.sqrt(fold_part + seed_part)
    df = (fold_part + seed_part) ** 2 / (fold_part ** 2 / 9 + seed_part ** 2 / 2)
    assert test.name == "corrected t, 3 seeds × 10 folds on one partition" and test.pairs == 30
    assert test.se == pytest.approx(se)
    assert test.p == pytest.approx(2 * scipy_stats.t.sf(abs(d.mean() / se), df))
    assert test.high - test.mean == pytest.approx(scipy_stats.t.ppf(0.975, df) * se)
    # with one seed it is the corrected resampled t over the folds
    from embedlab.experiments.reporting.stats import corrected_resampled_t, corrected_seeds_by_folds

    assert corrected_seeds_by_folds(d[:1], 9550, 1060).se == pytest.approx(corrected_resampled_t(d[0], 9550, 1060).se)
