"""Reading an output folder never needs write access: a finished folder made read-only (an archive, a
read-only mount, `chmod -R a-w`) still gives its status, report, comparison and results.

The store is in WAL mode, whose readers need a -shm file beside the database; after every writer
closed cleanly there is none, and in a folder that cannot be written SQLite cannot create one.
Tests run as root, which chmod does not stop, so the real case runs the CLI without the capability
that lets root ignore file permissions (setpriv); where that is unavailable it is skipped, and the
simulated case (the store told the folder is not writable) still checks the path that handles it.
"""

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from embedlab.experiments.running import store as store_module
from embedlab.experiments.running.store import ResultsStore

REPO = Path(__file__).resolve().parents[1]
RELEASE_02 = Path(__file__).parent / "data" / "results_release_0.2.db"
NO_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def _finished_folder(folder: Path) -> Path:
    """The quickstart's folder as this release leaves it: results.db in WAL mode, no -wal/-shm."""
    import yaml

    from embedlab.experiments.config import load_config

    folder.mkdir()
    shutil.copy(RELEASE_02, folder / "results.db")
    with sqlite3.connect(folder / "results.db") as db:
        assert db.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    config = load_config(REPO / "configs" / "quickstart.yaml")
    (folder / "experiment.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
    assert sorted(p.name for p in folder.iterdir()) == ["experiment.yaml", "results.db"]
    return folder


def _read_only(folder: Path) -> None:
    for path in [folder, *folder.iterdir()]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _as_unprivileged(command: list[str]) -> list[str]:
    """``command`` run so that file permissions apply to it (skips the test where they cannot)."""
    if os.geteuid() != 0:
        return command
    if shutil.which("setpriv") is None:
        pytest.skip("root ignores chmod, and setpriv (to drop that capability) is missing")
    return [*NO_DAC, *command]


def test_a_read_only_finished_folder_reads_like_any_other(tmp_path):
    folder = _finished_folder(tmp_path / "archived")
    _read_only(folder)
    try:
        probe = subprocess.run(_as_unprivileged(["touch", str(folder / "probe")]), capture_output=True)
        if probe.returncode == 0:
            pytest.skip("writes to a read-only folder are not refused here (setpriv could not drop the capability)")
        cli = [sys.executable, "-m", "embedlab.experiments.cli"]
        for args in (["status", folder], ["report", folder, "--no-files"],
                     ["compare", folder, folder, "--out", tmp_path / "cmp"]):
            done = subprocess.run(_as_unprivileged([*cli, *map(str, args)]), capture_output=True, text=True,
                                  timeout=300)
            assert done.returncode == 0, (args, done.stderr)
        assert "9 runs: 9 finished" in subprocess.run(_as_unprivileged([*cli, "status", str(folder)]),
                                                      capture_output=True, text=True, timeout=300).stdout
        api = subprocess.run(_as_unprivileged([sys.executable, "-c", f"import embedlab; print(len(embedlab.results("
                                               f"{str(folder)!r})))"]), capture_output=True, text=True, timeout=300)
        assert api.returncode == 0 and api.stdout.strip() == "9", api.stderr
        assert sorted(p.name for p in folder.iterdir()) == ["experiment.yaml", "results.db"]  # nothing written
    finally:
        folder.chmod(0o755)


def test_reading_never_opens_the_database_for_writing(tmp_path, monkeypatch):
    folder = _finished_folder(tmp_path / "out")
    before = (folder / "results.db").read_bytes()
    opened = []
    real_connect = sqlite3.connect

    def connect(target, *args, **kwargs):
        opened.append(str(target))
        return real_connect(target, *args, **kwargs)

    monkeypatch.setattr(store_module.sqlite3, "connect", connect)
    store = ResultsStore(folder)
    store.check()
    assert len(store.frame()) == 9 and len(store.statuses()) == 9 and store.live_claims() == set()
    assert store.grid() is None and store.own_claims() == set() and store.claim_holders() == {}
    assert opened and all(uri.startswith("file:") and "mode=ro" in uri for uri in opened), opened
    assert (folder / "results.db").read_bytes() == before


def test_a_folder_that_cannot_be_written_is_read_as_immutable(tmp_path, monkeypatch):
    folder = _finished_folder(tmp_path / "out")
    real_access = os.access
    def access(path, mode):  # the folder cannot be written; everything else as it is
        return False if Path(path) == folder and mode & os.W_OK else real_access(path, mode)

    monkeypatch.setattr(store_module.os, "access", access)
    store = ResultsStore(folder)
    assert store._read_uri().endswith("?mode=ro&immutable=1")
    assert len(store.frame()) == 9 and len(store.statuses()) == 9
    assert sorted(p.name for p in folder.iterdir()) == ["experiment.yaml", "results.db"]  # no -shm, no -wal
    # A -wal file with changes not yet in the database is read through SQLite's shared memory, not
    # ignored (immutable would skip it): the store then opens it as an ordinary reader.
    writer = sqlite3.connect(folder / "results.db")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("INSERT INTO runs (run_id, experiment, status) VALUES ('new', 'quickstart', 'finished')")
    writer.commit()
    try:
        assert (folder / "results.db-wal").stat().st_size > 0 and ResultsStore(folder)._read_uri().endswith("?mode=ro")
        assert len(ResultsStore(folder).frame()) == 10
    finally:
        writer.close()
