"""Bad folders and arguments give one line naming the file, exit code 2, no traceback, nothing written."""

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
RELEASE_02 = Path(__file__).parent / "data" / "results_release_0.2.db"


def _cli(*args, cwd=None, env=None):
    return subprocess.run([sys.executable, "-m", "embedlab.experiments.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300, cwd=cwd, env=env)


def _main(capsys, *args):
    """The CLI in this process (no interpreter start-up): its exit code and stderr, as _cli gives them."""
    from types import SimpleNamespace

    from embedlab.experiments.cli import main

    capsys.readouterr()
    code = main([str(a) for a in args])
    return SimpleNamespace(returncode=code, stderr=capsys.readouterr().err)


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


def _quickstart_folder(folder: Path) -> Path:
    """An output folder of the quickstart as release 0.2 wrote it, with today's config snapshot (so
    `run` into it reads the database rather than refusing other settings)."""
    import yaml

    from embedlab.experiments.config import load_config

    folder.mkdir()
    shutil.copy(RELEASE_02, folder / "results.db")
    config = load_config(REPO / "configs" / "quickstart.yaml")
    (folder / "experiment.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
    return folder


def _damage_page(db: Path, table: str) -> None:
    """Garbage over the root page of a table or index (the runs table, its primary-key index, claims)."""
    with sqlite3.connect(db) as connection:
        page = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    with open(db, "r+b") as handle:
        handle.seek((page - 1) * 4096)
        handle.write(b"\xff" * 4096)


@pytest.mark.parametrize("table", ["runs", "sqlite_autoindex_runs_1", "claims"])
def test_every_command_refuses_a_damaged_page_wherever_it_is(tmp_path, capsys, table):
    folder = _quickstart_folder(tmp_path / "out")
    _damage_page(folder / "results.db", table)
    before = sorted((p.name, p.read_bytes()) for p in folder.iterdir() if p.is_file())
    for args in (["status", folder], ["report", folder, "--no-files"], ["report", folder],
                 ["compare", folder, folder, "--out", tmp_path / "cmp"],
                 ["run", REPO / "configs" / "quickstart.yaml", "--out", folder, "--executor", "local"]):
        _one_error_line(_main(capsys, *args), f"{folder / 'results.db'}: the database is damaged")
    assert sorted((p.name, p.read_bytes()) for p in folder.iterdir() if p.is_file()) == before
    assert not (folder / "report").exists() and not (tmp_path / "cmp").exists()


def _deep_config(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("name: deep\ngrid: {embedding: [rand]}\nextra: " + "{a: " * 500 + "1" + "}" * 500 + "\n")
    return path


@pytest.mark.parametrize("make, overrides, says", [
    (_deep_config, [], "deep.yaml: settings nested deeper than 50 levels (line 3"),
    (lambda tmp: REPO / "configs" / "quickstart.yaml", ["name=" + "x" * 300], "name: 300 characters"),
    (lambda tmp: REPO / "configs" / "quickstart.yaml", ["data={}"], "command line: data: a mapping here replaces"),
    (lambda tmp: REPO / "configs" / "quickstart.yaml", ["grid.seed=[1]", "grid.seed=[2]"],
     "command line: grid.seed is given twice"),
    (lambda tmp: REPO / "configs" / "quickstart.yaml", ["grid.max_runs=5"], "grid.max_runs: the grid lists 9 runs"),
])
def test_bad_configs_and_overrides_are_one_line_and_write_nothing(tmp_path, make, overrides, says):
    config = make(tmp_path)
    _one_error_line(_cli("validate", config, *overrides), says)
    _one_error_line(_cli("run", config, "--out", tmp_path / "out", *overrides), says)
    assert not (tmp_path / "out").exists()


def test_a_failed_first_fetch_leaves_no_output_folder(tmp_path):
    import os

    env = {**os.environ, "EMBEDLAB_HOME": str(tmp_path / "home"), "PIP_CONFIG_FILE": "/dev/null",
           "PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_RETRIES": "0", "PIP_FIND_LINKS": "",
           "PIP_EXTRA_INDEX_URL": "", "EMBEDLAB_MIRROR": ""}  # a registry nobody listens on: offline
    done = _cli("run", REPO / "configs" / "quickstart.yaml", "--out", tmp_path / "results" / "out", env=env)
    assert done.returncode == 2 and "embedlab: error: could not download" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "results").exists()
