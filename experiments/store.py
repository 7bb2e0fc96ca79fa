"""The results store: one SQLite database per output directory, one row per run.

A row is written once, in a single transaction, after the run's directory is complete; so a run is
either recorded as finished (or failed) with all its files, or not at all.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd

DB_NAME = "results.db"

_COLUMNS = {
    "run_id": "TEXT PRIMARY KEY",
    "experiment": "TEXT NOT NULL",
    "status": "TEXT NOT NULL CHECK (status IN ('finished', 'failed'))",
    "dataset": "TEXT", "vectors": "TEXT", "model": "TEXT", "embedding": "TEXT",
    "seed": "INTEGER", "fold": "INTEGER", "train_size": "REAL",
    "accuracy": "REAL", "macro_f1": "REAL", "loss": "REAL",
    "epochs": "INTEGER", "best_epoch": "INTEGER", "train_seconds": "REAL", "total_seconds": "REAL",
    "n_train": "INTEGER", "n_dev": "INTEGER", "n_test": "INTEGER", "vocab_size": "INTEGER",
    "sequence_length": "INTEGER",
    "coverage_hits": "INTEGER", "coverage_misses": "INTEGER",
    "coverage_type_share": "REAL", "coverage_token_share": "REAL",
    "config_hash": "TEXT", "config_json": "TEXT", "versions_json": "TEXT",
    "git_commit": "TEXT", "git_dirty": "INTEGER", "host": "TEXT",
    "started_at": "TEXT", "finished_at": "TEXT", "error": "TEXT",
}


class ResultsStore:
    """Reads and writes ``OUTDIR/results.db``.

    Args:
        outdir (str | Path): The experiment's output directory (created if missing).
    """

    def __init__(self, outdir: str | Path):
        self.outdir = Path(outdir)

    @property
    def path(self) -> Path:
        return self.outdir / DB_NAME

    def _connect(self) -> sqlite3.Connection:
        self.outdir.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=60)
        connection.execute("PRAGMA journal_mode=WAL")
        columns = ", ".join(f"{name} {kind}" for name, kind in _COLUMNS.items())
        connection.execute(f"CREATE TABLE IF NOT EXISTS runs ({columns})")
        return connection

    def statuses(self) -> dict[str, str]:
        """``run_id → status`` for every recorded run."""
        if not self.path.exists():
            return {}
        with self._connect() as connection:
            return dict(connection.execute("SELECT run_id, status FROM runs"))

    def record(self, row: dict) -> None:
        """Inserts or replaces one run's row (a retried failure is replaced by its new outcome)."""
        unknown = set(row) - set(_COLUMNS)
        if unknown:
            raise KeyError(f"not columns of runs: {sorted(unknown)}")
        row = {k: (json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v) for k, v in row.items()}
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        connection = self._connect()
        try:
            with connection:  # one transaction
                connection.execute(f"INSERT OR REPLACE INTO runs ({names}) VALUES ({marks})", list(row.values()))
        finally:
            connection.close()

    def frame(self) -> pd.DataFrame:
        """All rows as a DataFrame (empty, with the columns, if nothing is recorded)."""
        if not self.path.exists():
            return pd.DataFrame(columns=list(_COLUMNS))
        connection = self._connect()
        try:
            return pd.read_sql_query("SELECT * FROM runs ORDER BY started_at", connection)
        finally:
            connection.close()
