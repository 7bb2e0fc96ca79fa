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
    assert rows.loc["rand", "diff"] == 0 and rows.loc["rand", "test"] == "paired t"
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
