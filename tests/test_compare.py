"""``embedlab compare``: folders matched run by run, paired where they share test splits."""

import shutil
import sqlite3
from pathlib import Path

import embedlab
from embedlab.experiments.cli import main

RELEASE_02 = Path(__file__).parent / "data" / "results_release_0.2.db"


def _folder(tmp_path, name, shift=0.0):
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(RELEASE_02, folder / "results.db")
    if shift:
        with sqlite3.connect(folder / "results.db") as db:
            db.execute("UPDATE runs SET accuracy = accuracy + ? WHERE embedding = 'static'", (shift,))
    return folder


def test_compare_pairs_runs_and_says_what_does_not_match(tmp_path, capsys):
    before, after = _folder(tmp_path, "before"), _folder(tmp_path, "after", shift=0.01)
    with sqlite3.connect(after / "results.db") as db:
        db.execute("DELETE FROM runs WHERE embedding = 'non-static' AND seed = 3")
    comparison = embedlab.compare(before, after)
    rows = comparison.rows.set_index("embedding")
    assert round(rows.loc["static", "diff"] * 100, 6) == 1.0 and rows.loc["static", "pairs"] == 3
    assert rows.loc["rand", "diff"] == 0 and rows.loc["rand", "test"].startswith("paired t, 3 seeds only")
    assert rows.loc["non-static", "note"] == "2 of 3 runs paired"
    assert main(["compare", str(before), str(after), "--out", str(tmp_path / "cmp")]) == 0
    out = capsys.readouterr().out
    assert "| mr | cnn | static | 1 | after | 73.8 ± 0.6 (3) | 74.8 ± 0.6 (3) | +1.00 |" in out
    assert {p.name for p in (tmp_path / "cmp").iterdir()} == {"compare.md", "compare.csv", "compare.html"}


def test_compare_refuses_to_pair_different_test_splits(tmp_path):
    before, after = _folder(tmp_path, "before"), _folder(tmp_path, "after")
    with sqlite3.connect(after / "results.db") as db:
        db.execute("""UPDATE runs SET config_json = replace(config_json, '"split_seed": 0', '"split_seed": 1')""")
    rows = embedlab.compare(before, after).rows
    assert (rows["pairs"] == 0).all() and (rows["note"] == "different test splits: not paired").all()


def test_results_flattens_each_runs_settings(tmp_path):
    frame = embedlab.results(_folder(tmp_path, "one"))
    assert len(frame) == 9 and set(frame["config.training.optimizer"]) == {"adam"}
    assert "accuracy" in frame.columns and "config.model.num_filters" in frame.columns


def test_the_api_refuses_a_folder_without_results_db_like_results_does(tmp_path):
    import pytest

    from embedlab.experiments.running.store import StoreError

    present = _folder(tmp_path, "present")
    missing = tmp_path / "missing"
    for call in (lambda: embedlab.results(missing), lambda: embedlab.report(missing),
                 lambda: embedlab.compare(missing, present), lambda: embedlab.compare(present, missing)):
        with pytest.raises(FileNotFoundError, match=f"^{missing}: no results.db") as caught:
            call()
        assert isinstance(caught.value, StoreError)  # the CLI's one-line error, exit 2
    assert not missing.exists()


def test_a_folder_with_variants_is_compared_variant_by_variant_not_pooled():
    results = Path(__file__).parents[1] / "docs" / "results"
    # vector_scale's as_shipped runs are binary_table2's (same run ids); rescaled is another condition
    frame = embedlab.compare(results / "binary_table2", results / "vector_scale").rows
    assert {"as_shipped", "rescaled", "matched_unknowns"} <= set(frame["variant"]) and (frame["n_b"] == 10).all()
    assert (frame.loc[frame["variant"] == "as_shipped", "diff"] == 0).all()
    w2v = frame.set_index(["variant", "dataset", "embedding", "vectors_a"]).loc[
        ("rescaled", "mr", "static", "word2vec-googlenews-300d-26k")]
    assert w2v["pairs"] == 10 and round(w2v["diff"] * 100, 2) == 2.87
    assert "| vectors |" in embedlab.compare(results / "binary_table2", results / "vector_scale").markdown


def test_a_tuning_folder_is_compared_by_its_dev_best_trial_per_fold_not_every_trial(tmp_path):
    from embedlab.experiments.reporting.compare import TUNED
    from embedlab.experiments.reporting.runs import finished_runs
    from embedlab.experiments.reporting.tuning import tuned_runs

    archive = Path(__file__).parents[1] / "docs" / "results" / "tuned_mr"  # 105 trial runs + 15 untuned
    copy = tmp_path / "tuned_mr_copy"
    shutil.copytree(archive, copy)
    frame = embedlab.compare(archive, copy).rows
    assert sorted(set(frame["variant"])) == sorted({TUNED, "untuned"}) and len(frame) == 6
    assert (frame["n_a"] == 5).all() and (frame["pairs"] == 5).all() and (frame["diff"] == 0).all()
    tuned = tuned_runs(finished_runs(archive)).groupby("embedding")["accuracy"].mean()
    picked = frame[frame["variant"] == TUNED].set_index("embedding")["mean_a"]
    assert (picked - tuned.loc[picked.index]).abs().max() < 1e-12


def test_seeds_on_one_split_get_the_reports_test_and_each_vector_set_its_own_row():
    """qi2018 (GloVe 50d) against modern_learning_curve (three vector sets, seeds 0-2 on the same
    MR split): one row per vector set, each with the seeds × sentences t the reports give these
    runs, paired over the 3 seeds the folders share (pooled, one run would pair with three)."""
    results = Path(__file__).parents[1] / "docs" / "results"
    rows = embedlab.compare(results / "qi2018_learning_curve", results / "modern_learning_curve").rows
    cell = rows[(rows["dataset"] == "mr") & (rows["embedding"] == "static") & (rows["train_size"] == 1)]
    assert sorted(cell["vectors_b"]) == ["glove-6b-100d-wink", "potion-base-8m", "wordllama-l2-supercat-256"]
    assert (cell["pairs"] == 3).all() and (cell["test"] == "seeds × sentences t, 3 seeds").all()
    assert (cell["ci_low"] < cell["diff"]).all() and (cell["diff"] < cell["ci_high"]).all()


def test_the_first_folders_vector_sets_also_get_one_row_each():
    results = Path(__file__).parents[1] / "docs" / "results"
    rows = embedlab.compare(results / "modern_learning_curve", results / "qi2018_learning_curve").rows
    cell = rows[(rows["dataset"] == "mr") & (rows["embedding"] == "static") & (rows["train_size"] == 1)]
    assert sorted(cell["vectors_a"]) == ["glove-6b-100d-wink", "potion-base-8m", "wordllama-l2-supercat-256"]
    assert (cell["vectors_b"] == "glove-6b-50d").all() and (cell["pairs"] == 3).all()
    assert (cell["test"] == "seeds × sentences t, 3 seeds").all()
