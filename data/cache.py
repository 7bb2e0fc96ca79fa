"""Where downloaded and derived files live."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


def embedlab_home() -> Path:
    """Returns the cache root: ``$EMBEDLAB_HOME`` or ``~/.cache/embedlab``."""
    root = os.environ.get("EMBEDLAB_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "embedlab")
    return Path(root)


def cache_dir(*parts: str) -> Path:
    """Returns (and creates) a folder under the cache root."""
    path = embedlab_home().joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def atomic_dir(final: Path):
    """Yields a temporary folder that is renamed to ``final`` only if the block succeeds.

    A derived cache entry is therefore either complete or absent, never half-written.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    # mkdtemp creates 0700; a finished folder gets the permissions any folder gets here (umask).
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)
    try:
        yield tmp
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
