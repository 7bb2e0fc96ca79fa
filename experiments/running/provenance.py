"""What a run records about where it ran: library versions, git commit, host."""

from __future__ import annotations

import hashlib
import os
import platform
import socket
import subprocess
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import embedlab.models  # noqa: F401 (sets the TensorFlow environment this module records)

_PACKAGES = ("embedlab", "tensorflow-cpu", "tensorflow", "keras", "numpy", "pandas", "scikit-learn",
             "gensim", "pydantic")


@lru_cache(maxsize=1)
def library_versions() -> dict[str, str]:
    """Library versions, and what else decides a run's last bits on a CPU: its model and whether
    TensorFlow ran its oneDNN kernels (``models`` turns them on unless the user opted out)."""
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    versions["cpu"] = cpu_model()
    versions["tf_onednn"] = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "TensorFlow's default")
    return versions


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (the platform's processor string elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git(source: Path | None, *args: str) -> subprocess.CompletedProcess | None:
    """``git args`` in the embedlab checkout (or ``source``); None where git fails or is missing."""
    try:
        done = subprocess.run(["git", *args], cwd=source or Path(__file__).resolve().parent, capture_output=True,
                              timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done if done.returncode == 0 else None


def git_state(source: Path | None = None) -> dict[str, object]:
    """The commit of the embedlab checkout (where installed in editable mode; or ``source``) and a
    dirty flag, read now (not cached: a long-lived process may outlive a commit)."""
    commit = _git(source, "rev-parse", "HEAD")
    status = _git(source, "status", "--porcelain", "--untracked-files=no") if commit else None
    if status is None:
        return {"commit": None, "dirty": None}
    return {"commit": commit.stdout.decode().strip(), "dirty": bool(status.stdout.strip())}


def code_state(source: Path | None = None) -> tuple[str | None, str]:
    """The commit and a digest of the uncommitted changes to Python files: the code a worker imports
    (a grid's own writes, e.g. a results.db tracked in the checkout, do not count)."""
    commit = _git(source, "rev-parse", "HEAD")
    # ':(top)': from the repository's root, whichever folder of it `source` is
    diff = _git(source, "diff", "--no-ext-diff", "HEAD", "--", ":(top)*.py") if commit else None
    if diff is None:
        return None, ""
    return commit.stdout.decode().strip(), hashlib.sha256(diff.stdout).hexdigest()


class CheckoutWatch:
    """A grid's checkout, read at its start and again before each run is recorded.

    Worker processes import the checkout's code when they start (and again when a crashed pool is
    restarted), so a commit or an edit of its code during a grid can run under the start's commit.
    From the first change on, runs are recorded dirty, and the log says so once.
    """

    def __init__(self, log=None, source: Path | None = None):
        self.source, self.log = source, log
        self.start = git_state(source)
        self._code = code_state(source)
        self.changed = False

    def check(self) -> bool:
        """True from the first time the commit or the uncommitted code differs from the start's."""
        now = code_state(self.source) if not self.changed and self._code[0] is not None else None
        if now is not None and now[0] is not None and now != self._code:  # (a failed read is no change)
            self.changed = True
            print("embedlab: the checkout's code changed during the grid (a commit or an edit of a .py file since "
                  "it started); runs recorded from now on are marked git_dirty", file=self.log or sys.stderr,
                  flush=True)
        return self.changed


def host() -> str:
    return socket.gethostname()
