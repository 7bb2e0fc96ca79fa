"""Bad folders and arguments give one line naming the file, exit code 2, no traceback, nothing written."""

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RELEASE_02 = Path(__file__).parent / "data" / "results_release_0.2.db"


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "embedlab.experiments.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300, cwd=cwd)


def _one_error_line(done, *says):
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    for text in says:
        assert text in done.stderr, done.stderr


def test_a_results_db_that_is_not_sqlite(tmp_path):
    (tmp_path / "results.db").write_bytes(b"this is not a database" * 100)
    _one_error_line(_cli("report", tmp_path, "--no-files"), f"{tmp_path / 'results.db'}: not an SQLite database")
    _one_error_line(_cli("compare", tmp_path, tmp_path), "not an SQLite database")


def test_a_results_db_with_a_damaged_page(tmp_path):
    shutil.copy(RELEASE_02, tmp_path / "results.db")
    shutil.copy(REPO / "docs" / "results" / "quickstart" / "experiment.yaml", tmp_path / "experiment.yaml")
    with sqlite3.connect(tmp_path / "results.db") as db:
        pages = db.execute("PRAGMA page_count").fetchone()[0]
    with open(tmp_path / "results.db", "r+b") as handle:  # every page but the header's
        handle.seek(4096)
        handle.write(b"\xff" * 4096 * (pages - 1))
    before = (tmp_path / "results.db").read_bytes()
    _one_error_line(_cli("status", tmp_path), "the database is damaged")
    assert (tmp_path / "results.db").read_bytes() == before


def test_workers_zero_and_an_output_path_that_cannot_be_a_folder(tmp_path):
    done = _cli("run", REPO / "configs" / "quickstart.yaml", "--workers", "0")
    assert done.returncode == 2 and "--workers: 0: at least 1 worker is needed" in done.stderr
    (tmp_path / "afile").write_text("")
    done = _cli("run", REPO / "configs" / "quickstart.yaml", "--out", tmp_path / "afile" / "out")
    _one_error_line(done, f"{tmp_path / 'afile' / 'out'}: Not a directory")


def test_overrides_may_follow_options(tmp_path):
    done = _cli("validate", REPO / "configs" / "quickstart.yaml", "training.max_epochs=5")
    assert done.returncode == 0 and "with training.max_epochs=5" in done.stdout
    from embedlab.experiments.cli import build_parser, main

    assert main(["validate", str(REPO / "configs" / "quickstart.yaml"), "grid.seed=[1]"]) == 0
    done = _cli("run", REPO / "configs" / "quickstart.yaml", "--out", tmp_path / "x", "--workers", "1",
                "training.max_epoch=5")
    _one_error_line(done, "training.max_epoch: unknown key")  # the override was read, and validated
    done = _cli("run", REPO / "configs" / "quickstart.yaml", "--bogus")
    assert done.returncode == 2 and "unrecognized arguments: --bogus" in done.stderr


def test_a_reuse_folder_without_results_is_refused_before_anything_runs(tmp_path):
    done = _cli("run", REPO / "configs" / "quickstart.yaml", "--out", tmp_path / "out", "--reuse", tmp_path / "typo")
    _one_error_line(done, f"{tmp_path / 'typo'}: no results.db here, so nothing to reuse")
    assert not (tmp_path / "out").exists()
