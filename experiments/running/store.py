"""The results store: one SQLite database per output directory, one row per run.

A row is written once, in a single transaction, after the run's directory is complete; so a run is
either recorded as finished (or failed) with all its files, or not at all.

Runners claim a run (table ``claims``) before training it, so two ``embedlab run`` processes on
one directory never train the same run. A runner refreshes its claims' heartbeat every
:data:`HEARTBEAT_SECONDS`; a claim is stale, and taken over, when its heartbeat is older than
:data:`CLAIM_TIMEOUT_SECONDS` (whatever host it came from, and even if its PID now names another
process) or, on this host, as soon as its process is gone.

Table ``grid`` lists the runs of the config the folder holds now (with the axes they vary on), so
``status`` and ``report`` work from the database alone and never show rows of other settings.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from embedlab.experiments.running.records import RunResult

DB_NAME = "results.db"

# The run's identity and provenance, then what it measured (one column per RunResult field).
_COLUMNS = {
    "run_id": "TEXT PRIMARY KEY",
    "experiment": "TEXT NOT NULL",
    "status": "TEXT NOT NULL CHECK (status IN ('finished', 'failed'))",
    "dataset": "TEXT", "vectors": "TEXT", "model": "TEXT", "embedding": "TEXT",
    "seed": "INTEGER", "fold": "INTEGER", "train_size": "REAL", "variant": "TEXT",
    **RunResult.columns(),
    "total_seconds": "REAL",
    "config_hash": "TEXT", "config_json": "TEXT", "versions_json": "TEXT",
    "git_commit": "TEXT", "git_dirty": "INTEGER", "host": "TEXT",
    "started_at": "TEXT", "finished_at": "TEXT", "error": "TEXT",
}


HEARTBEAT_SECONDS = 20
CLAIM_TIMEOUT_SECONDS = 120
GRID_COLUMNS = ("run_id", "variant", "dataset", "vectors", "model", "embedding", "seed", "fold", "train_size")


def _alive(host: str, pid: int, heartbeat: float | None, now: float | None = None) -> bool:
    """Whether a claim's runner is still at work: its heartbeat is recent, and, on this host, its
    process exists. A PID alone is no proof: after a crash the number may name another process."""
    now = time.time() if now is None else now
    if heartbeat is not None and now - heartbeat > CLAIM_TIMEOUT_SECONDS:
        return False
    # heartbeat None: a claim of release <= 0.2, which had none; its PID is all there is to go by.
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class StoreError(RuntimeError):
    """results.db cannot be read or written; the message names the file and what to do."""


class MissingResultsError(StoreError, FileNotFoundError):
    """A folder that should be an output folder has no results.db (also a FileNotFoundError, which
    the Python API raised for it before)."""


def require_results(outdir: str | Path) -> Path:
    """The path of an output folder's results.db, which must exist: reading a folder that has none
    (a typo) must not look like a folder without finished runs.

    Raises:
        MissingResultsError: Names the folder.
    """
    path = Path(outdir) / DB_NAME
    if not path.is_file():
        raise MissingResultsError(f"{outdir}: no {DB_NAME} (not an output folder of embedlab run)")
    return path


def _explain(path: Path, exc: Exception) -> StoreError:
    text = str(exc)
    if "not a database" in text or "file is encrypted" in text:
        why = "not an SQLite database (overwritten or damaged)"
    elif "malformed" in text:
        why = f"the database is damaged ({text})"
    elif "full" in text or "disk I/O" in text:
        why = f"the disk is full or failing ({text})"
    elif "readonly" in text or "unable to open" in text or "read-only" in text:
        why = f"the folder or file cannot be written ({text})"
    else:
        why = text
    return StoreError(f"{path}: {why}; nothing was changed. Restore the file from a copy, or record into "
                      "another folder (--out)")


def _add_missing_columns(connection: sqlite3.Connection) -> None:
    """Schema migration: a DB written by an earlier version gains the columns added since (NULL in
    its old rows), so old and new runs live in one table."""
    present = {row[1] for row in connection.execute("PRAGMA table_info(runs)")}
    for name, kind in _COLUMNS.items():
        if name not in present:
            connection.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind.split(' CHECK')[0]}")


LOCK_RETRIES = 5


def _locked(exc: Exception) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


def _guarded(method):
    """SQLite and pandas database errors of a store method become one StoreError naming the file.

    Each method is one transaction, so one that met "database is locked" changed nothing and is
    retried: SQLite's busy timeout covers most contention, but not all of it (a journal-mode switch
    or a read snapshot made stale by another writer fails at once), and two runners on one folder
    must not stop each other.
    """
    import functools

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        for attempt in range(LOCK_RETRIES):
            try:
                return method(self, *args, **kwargs)
            except (sqlite3.DatabaseError, pd.errors.DatabaseError) as exc:
                cause = (exc.__cause__ or exc.__context__) if isinstance(exc, pd.errors.DatabaseError) else exc
                if attempt + 1 < LOCK_RETRIES and _locked(cause):
                    time.sleep(0.2 * 2 ** attempt)
                    continue
                raise _explain(self.path, exc) from None

    return wrapper


def _has_runs_table(connection: sqlite3.Connection) -> bool:
    """False for a file another runner has created but not yet given its tables (readers then see
    an empty store rather than "no such table")."""
    return connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'").fetchone() is not None


class ResultsStore:
    """Reads and writes ``OUTDIR/results.db``.

    Args:
        outdir (str | Path): The experiment's output directory (created if missing).
    """

    def __init__(self, outdir: str | Path):
        self.outdir = Path(outdir)
        self._verified = False  # PRAGMA quick_check passed on this object's first connection

    @property
    def path(self) -> Path:
        return self.outdir / DB_NAME

    def _connect(self) -> sqlite3.Connection:
        """A read-write connection (for commands that record), with the schema created or migrated."""
        self.outdir.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=60)
        try:
            self._verify(connection)
            if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                connection.execute("PRAGMA journal_mode=WAL")  # persistent: set once, by the creator
            if not self._schema_current(connection):
                with connection:  # one write transaction: no reader sees half the tables
                    connection.execute("BEGIN IMMEDIATE")
                    self._create_schema(connection)
        except BaseException:
            connection.close()
            raise
        return connection

    @staticmethod
    def _schema_current(connection: sqlite3.Connection) -> bool:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"runs", "claims", "grid"} <= tables:
            return False
        runs = {row[1] for row in connection.execute("PRAGMA table_info(runs)")}
        claims = {row[1] for row in connection.execute("PRAGMA table_info(claims)")}
        return set(_COLUMNS) <= runs and "heartbeat" in claims

    @staticmethod
    def _create_schema(connection: sqlite3.Connection) -> None:
        columns = ", ".join(f"{name} {kind}" for name, kind in _COLUMNS.items())
        connection.execute(f"CREATE TABLE IF NOT EXISTS runs ({columns})")
        _add_missing_columns(connection)
        connection.execute("CREATE TABLE IF NOT EXISTS claims (run_id TEXT PRIMARY KEY, host TEXT, pid INTEGER, "
                           "claimed_at TEXT, heartbeat REAL)")
        if "heartbeat" not in {row[1] for row in connection.execute("PRAGMA table_info(claims)")}:
            connection.execute("ALTER TABLE claims ADD COLUMN heartbeat REAL")  # claims of release <= 0.2
        connection.execute(f"CREATE TABLE IF NOT EXISTS grid ({', '.join(GRID_COLUMNS)}, "
                           "PRIMARY KEY (run_id, variant))")

    @_guarded
    def check(self) -> None:
        """Opens the file read-only and checks every page (see :meth:`_verify`), for a command that
        would otherwise write something (a report folder) before its first read."""
        if self.path.exists():
            with self._read():
                pass

    @_guarded
    def statuses(self) -> dict[str, str]:
        """``run_id → status`` for every recorded run."""
        if not self.path.exists():
            return {}
        with self._read() as connection:
            if not _has_runs_table(connection):
                return {}
            return dict(connection.execute("SELECT run_id, status FROM runs"))

    @_guarded
    def claim(self, run_id: str, skip_statuses: set[str]) -> bool:
        """Claims a run for this process; False if it is recorded (with a status in ``skip_statuses``)
        or claimed by another live process."""
        me = (socket.gethostname(), os.getpid())
        connection = self._connect()
        try:
            with connection:
                connection.execute("BEGIN IMMEDIATE")  # one claimant at a time
                row = connection.execute("SELECT status FROM runs WHERE run_id = ?", (run_id,)).fetchone()
                if row is not None and row[0] in skip_statuses:
                    return False
                holder = connection.execute("SELECT host, pid, heartbeat FROM claims WHERE run_id = ?",
                                            (run_id,)).fetchone()
                if holder is not None and tuple(holder[:2]) != me and _alive(*holder):
                    return False
                connection.execute("INSERT OR REPLACE INTO claims (run_id, host, pid, claimed_at, heartbeat) "
                                   "VALUES (?, ?, ?, ?, ?)",
                                   (run_id, *me, datetime.now(timezone.utc).isoformat(timespec="seconds"), time.time()))
                return True
        finally:
            connection.close()

    @_guarded
    def release(self, run_id: str) -> None:
        connection = self._connect()
        try:
            with connection:
                connection.execute("DELETE FROM claims WHERE run_id = ? AND pid = ?", (run_id, os.getpid()))
        finally:
            connection.close()

    @_guarded
    def heartbeat(self) -> None:
        """Refreshes the heartbeat of every claim this process holds (the runner calls it every
        :data:`HEARTBEAT_SECONDS` while it trains)."""
        connection = self._connect()
        try:
            with connection:
                connection.execute("UPDATE claims SET heartbeat = ? WHERE host = ? AND pid = ?",
                                   (time.time(), socket.gethostname(), os.getpid()))
        finally:
            connection.close()

    @_guarded
    def own_claims(self) -> set[str]:
        """Run ids this process has claimed and not recorded."""
        if not self.path.exists():
            return set()
        with self._read() as connection:
            if not _has_runs_table(connection):
                return set()
            rows = connection.execute("SELECT run_id FROM claims WHERE host = ? AND pid = ?",
                                      (socket.gethostname(), os.getpid())).fetchall()
        return {row[0] for row in rows}

    def live_claims(self) -> set[str]:
        """Run ids that a live runner is training now."""
        return set(self.claim_holders())

    @_guarded
    def claim_holders(self) -> dict[str, tuple[str, int, float | None]]:
        """``run_id → (host, pid, heartbeat)`` of each claim whose runner is alive (this one's too)."""
        if not self.path.exists():
            return {}
        with self._read() as connection:
            columns = {row[1] for row in connection.execute("PRAGMA table_info(claims)")}
            if not columns:
                return {}
            beat = "heartbeat" if "heartbeat" in columns else "NULL"
            rows = connection.execute(f"SELECT run_id, host, pid, {beat} FROM claims").fetchall()
        return {run_id: (host, pid, heartbeat) for run_id, host, pid, heartbeat in rows
                if _alive(host, pid, heartbeat)}

    @_guarded
    def set_grid(self, rows: list[dict]) -> None:
        """Records the runs of the config this folder now holds (replacing the previous list)."""
        connection = self._connect()
        try:
            with connection:
                connection.execute("DELETE FROM grid")
                connection.executemany(f"INSERT OR REPLACE INTO grid VALUES ({', '.join('?' for _ in GRID_COLUMNS)})",
                                       [tuple(row.get(c) for c in GRID_COLUMNS) for row in rows])
        finally:
            connection.close()

    @_guarded
    def grid(self) -> pd.DataFrame | None:
        """The runs of the folder's current config, one row per run and variant; None for a folder
        written before release 0.3 (no such table)."""
        if not self.path.exists():
            return None
        with self._read() as connection:
            if not connection.execute("SELECT name FROM sqlite_master WHERE name = 'grid'").fetchone():
                return None
            frame = pd.read_sql_query("SELECT * FROM grid", connection)
        return frame if not frame.empty else None

    def _read(self):
        """A read-only connection: a report or status never changes the database, and never needs
        write access to it (an archived or read-only folder reads like any other)."""
        from contextlib import closing

        connection = sqlite3.connect(self._read_uri(), uri=True, timeout=60)
        try:
            self._verify(connection)
        except BaseException:
            connection.close()
            raise
        return closing(connection)

    def _read_uri(self) -> str:
        """How a reader opens the file: read-only, and immutable where the folder cannot be written.

        A reader of a WAL database needs its -shm file, which SQLite creates when it is missing; in a
        folder that cannot be written it cannot, and the open fails. With no -wal content left (every
        writer closed cleanly) the file alone is the whole database and nobody can be writing it
        there, so it is opened as immutable, which needs neither file.

        Raises:
            StoreError: The folder cannot be written and a -wal file holds changes, but its -shm file
                is missing (SQLite then needs to write to read them).
        """
        from urllib.parse import quote

        uri = f"file:{quote(str(self.path))}?mode=ro"
        if os.access(self.outdir, os.W_OK):
            return uri
        wal, shm = (self.path.with_name(DB_NAME + suffix) for suffix in ("-wal", "-shm"))
        if not (wal.exists() and wal.stat().st_size > 0):
            return uri + "&immutable=1"
        if not shm.exists():
            raise StoreError(f"{self.path}: {wal.name} holds changes not yet in {DB_NAME}, and without {shm.name} "
                             "SQLite reads them only where it can write; copy the folder somewhere writable and "
                             "read the copy")
        return uri

    def _verify(self, connection: sqlite3.Connection) -> None:
        """Checks every page of the file (``PRAGMA quick_check``) on this object's first connection,
        for reading and writing commands alike: damage in an index or the claims table is otherwise
        met only by the queries that happen to touch it, so one command refused a file that another
        reported on. Linear in the file's size (milliseconds for the largest shipped grid).

        Raises:
            sqlite3.DatabaseError: "malformed" with SQLite's first finding (see :func:`_explain`).
        """
        if self._verified:
            return
        rows = [row[0] for row in connection.execute("PRAGMA quick_check(3)")]
        if rows != ["ok"]:  # findings come one per line, under a "*** in database main ***" heading
            findings = [line for row in rows for line in str(row).splitlines() if not line.startswith("***")]
            raise sqlite3.DatabaseError(f"database disk image is malformed: {'; '.join(findings[:3])}")
        self._verified = True

    @_guarded
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
            with connection:  # one transaction: the row and the end of the claim
                connection.execute(f"INSERT OR REPLACE INTO runs ({names}) VALUES ({marks})", list(row.values()))
                connection.execute("DELETE FROM claims WHERE run_id = ?", (row["run_id"],))
        finally:
            connection.close()

    @_guarded
    def frame(self) -> pd.DataFrame:
        """All rows as a DataFrame (empty, with the columns, if nothing is recorded)."""
        if not self.path.exists():
            return pd.DataFrame(columns=list(_COLUMNS))
        # Read-only: a report or status never changes the database (an archived results.db in
        # docs/results/ stays byte-identical); columns an older DB lacks are added here as empty.
        with self._read() as connection:
            if not _has_runs_table(connection):
                return pd.DataFrame(columns=list(_COLUMNS))
            frame = pd.read_sql_query("SELECT * FROM runs ORDER BY started_at", connection)
        for name in _COLUMNS:
            if name not in frame.columns:
                frame[name] = None
        return frame
