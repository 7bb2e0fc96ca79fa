"""Copies what a report is built from into the repository, so reports and docs/RESULTS.md can be
rebuilt on a new machine without retraining:

    .venv/bin/python bench/archive.py results/kim_gap_mr      # → docs/results/kim_gap_mr/

Kept: results.db (every run's row), experiment.yaml (the config snapshot, which lists variants) and
per run config.yaml, metrics.json, history.csv and predictions.csv. Left out: trained embedding
tables (embedding.npy, tens of MB each). `embedlab report docs/results/NAME` then works as on the
original folder, except for the analyses of saved embedding spaces.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KEEP = ("config.yaml", "metrics.json", "history.csv", "predictions.csv")


def archive(outdir: Path) -> Path:
    target = REPO / "docs" / "results" / outdir.name
    if target.exists():
        shutil.rmtree(target)
    (target / "runs").mkdir(parents=True)
    # A consistent copy of a WAL-mode database: SQLite's backup API, not a file copy.
    with sqlite3.connect(outdir / "results.db") as source, sqlite3.connect(target / "results.db") as copy:
        source.backup(copy)
    copy = sqlite3.connect(target / "results.db", isolation_level=None)  # autocommit: VACUUM needs it
    try:
        copy.execute("PRAGMA journal_mode=DELETE")
        copy.execute("DELETE FROM claims")
        copy.execute("VACUUM")
    finally:
        copy.close()
    shutil.copy(outdir / "experiment.yaml", target / "experiment.yaml")
    for run_dir in sorted((outdir / "runs").iterdir()):
        if run_dir.is_dir() and not run_dir.name.startswith("."):
            (target / "runs" / run_dir.name).mkdir()
            for name in KEEP:
                if (run_dir / name).exists():
                    shutil.copy(run_dir / name, target / "runs" / run_dir.name / name)
    return target


if __name__ == "__main__":
    for folder in sys.argv[1:]:
        print(archive(Path(folder)))
