"""A results.db written by release 0.1 opens, gains the columns added since, and keeps its rows."""

import sqlite3

import pandas as pd

from embedlab.experiments.running.store import ResultsStore

V01_COLUMNS = ["run_id TEXT PRIMARY KEY", "experiment TEXT NOT NULL",
               "status TEXT NOT NULL CHECK (status IN ('finished', 'failed'))", "dataset TEXT", "vectors TEXT",
               "model TEXT", "embedding TEXT", "seed INTEGER", "fold INTEGER", "train_size REAL", "accuracy REAL",
               "macro_f1 REAL", "loss REAL", "epochs INTEGER", "best_epoch INTEGER", "train_seconds REAL",
               "total_seconds REAL", "n_train INTEGER", "n_dev INTEGER", "n_test INTEGER", "vocab_size INTEGER",
               "sequence_length INTEGER", "coverage_hits INTEGER", "coverage_misses INTEGER",
               "coverage_type_share REAL", "coverage_token_share REAL", "config_hash TEXT", "config_json TEXT",
               "versions_json TEXT", "git_commit TEXT", "git_dirty INTEGER", "host TEXT", "started_at TEXT",
               "finished_at TEXT", "error TEXT"]


def test_v01_database_gains_new_columns(tmp_path):
    with sqlite3.connect(tmp_path / "results.db") as db:  # the schema release 0.1 wrote
        db.execute(f"CREATE TABLE runs ({', '.join(V01_COLUMNS)})")
        db.execute("INSERT INTO runs (run_id, experiment, status, accuracy) VALUES ('old', 'x', 'finished', 0.75)")
    store = ResultsStore(tmp_path)
    store.record({"run_id": "new", "experiment": "x", "status": "finished", "accuracy": 0.8,
                  "batching": "bucketed", "precision": "float32", "test_tokens_vectors_only": 12, "variant": "a"})
    frame = store.frame().set_index("run_id")
    assert frame.loc["old", "accuracy"] == 0.75 and pd.isna(frame.loc["old", "batching"])
    assert frame.loc["new", "batching"] == "bucketed" and frame.loc["new", "test_tokens_vectors_only"] == 12


def test_release_02_database_gains_this_releases_columns(tmp_path):
    """tests/data/results_release_0.2.db: the quickstart's DB as release 0.2 wrote it (commit dcafc43)."""
    import shutil
    from pathlib import Path

    from embedlab.experiments.running.records import RunResult

    shutil.copy(Path(__file__).parent / "data" / "results_release_0.2.db", tmp_path / "results.db")
    with sqlite3.connect(tmp_path / "results.db") as db:
        before = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    assert "parameters" not in before  # a column this release added
    store = ResultsStore(tmp_path)
    old = store.frame()
    assert len(old) == 9 and old["parameters"].isna().all()  # read-only: shown as empty
    store.record({"run_id": "new", "experiment": "quickstart", "status": "finished", **{
        name: 1 for name, kind in RunResult.columns().items() if kind != "TEXT"}, "batching": "bucketed"})
    with sqlite3.connect(tmp_path / "results.db") as db:
        after = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    assert set(RunResult.columns()) <= after
    frame = store.frame().set_index("run_id")
    assert frame.loc["new", "parameters"] == 1 and len(frame) == 10
    assert frame.drop(index="new")["accuracy"].tolist() == old.set_index("run_id")["accuracy"].tolist()
