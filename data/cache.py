"""Where downloaded and derived files live, and how derived files are checked.

A derived cache folder (converted vectors, a parsed dataset) is written whole or not at all
(:func:`atomic_dir`) and carries ``MANIFEST.json``: the size and sha256 of each of its files. A
loader calls :func:`verified` before reading one; a folder whose files no longer match (a file
truncated, edited, half-deleted) is removed and rebuilt from the verified download.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

MANIFEST = "MANIFEST.json"


def embedlab_home() -> Path:
    """Returns the cache root: ``$EMBEDLAB_HOME`` or ``~/.cache/embedlab``."""
    root = os.environ.get("EMBEDLAB_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "embedlab")
    return Path(root)


def cache_dir(*parts: str) -> Path:
    """Returns (and creates) a folder under the cache root."""
    path = embedlab_home().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def sha256_of(path: Path) -> str:
    """The sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: Path) -> None:
    """Records the size and sha256 of every file in ``folder``."""
    entries = {p.name: {"size": p.stat().st_size, "sha256": sha256_of(p)}
               for p in sorted(folder.iterdir()) if p.is_file() and p.name != MANIFEST}
    (folder / MANIFEST).write_text(json.dumps(entries, indent=2))


def manifest_problem(folder: Path) -> str | None:
    """What is wrong with a cache folder against its manifest (None: every file matches)."""
    try:
        entries = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return f"{MANIFEST} unreadable"
    for name, expected in entries.items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        if path.stat().st_size != expected["size"]:
            return f"{name} has {path.stat().st_size:,} bytes, expected {expected['size']:,}"
        if sha256_of(path) != expected["sha256"]:
            return f"{name} does not match its checksum"
    return None


def verified(folder: Path, check: Callable[[Path], str | None]) -> bool:
    """Whether a derived cache folder can be used; a damaged one is removed (so it is rebuilt).

    A folder written before manifests existed (release <= 0.2) is checked structurally with
    ``check`` (returns a problem or None) and, if sound, given a manifest.
    """
    if not folder.is_dir():
        return False
    if (folder / MANIFEST).is_file():
        problem = manifest_problem(folder)
    else:
        try:
            problem = check(folder)
        except Exception as exc:  # noqa: BLE001 (any failure to read it means: rebuild)
            problem = f"{type(exc).__name__}: {exc}"
        if problem is None:
            write_manifest(folder)
    if problem is None:
        return True
    print(f"embedlab: cache {folder} is damaged ({problem}); rebuilding it from the verified download",
          file=sys.stderr, flush=True)
    _rmtree(folder)
    return False


_TEMPORARY = re.compile(r"^\.(?:.+)\.(\d+)\.[^.]+$|^\.fetch-(\d+)-")


def vectors_folder_problem(folder: Path) -> str | None:
    """Structural check of a converted vectors folder: one row of vectors.npy per line of words.txt."""
    import numpy as np

    words = (folder / "words.txt").read_text(encoding="utf-8").count("\n")
    rows = np.load(folder / "vectors.npy", mmap_mode="r").shape[0]
    return None if rows == words else f"vectors.npy has {rows:,} rows but words.txt {words:,} words"


def remove_stale_temporaries(parent: Path) -> None:
    """Removes temporary folders that a process killed mid-write left in ``parent`` (their names
    carry the writer's PID; those of live processes are left alone)."""
    if not parent.is_dir():
        return
    for path in parent.iterdir():
        match = _TEMPORARY.match(path.name)
        if not match or not path.is_dir():
            continue
        pid = int(match.group(1) or match.group(2))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            _rmtree(path)
        except PermissionError:
            pass


@contextmanager
def atomic_dir(final: Path, manifest: bool = True):
    """Yields a temporary folder that is renamed to ``final`` only if the block succeeds, with a
    manifest of its files (:func:`write_manifest`) unless ``manifest`` is False.

    A derived cache entry is therefore either complete or absent, never half-written.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(final.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.{os.getpid()}.", dir=final.parent))
    # mkdtemp creates 0700; a finished folder gets the permissions any folder gets here (umask).
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)
    try:
        yield tmp
        if manifest:
            write_manifest(tmp)
        if final.exists():  # another process finished first; keep theirs
            _rmtree(tmp)
        else:
            os.replace(tmp, final)
    except BaseException:
        _rmtree(tmp)
        raise


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
