"""Fetching with the real registry client: checksum failures, refetch, and no network."""

import io
import shutil
import tarfile
import zipfile

import pytest

from embedlab.data.datasets import VADER_SDIST
from embedlab.data.fetch import Artifact, FetchError, extract_member, fetch, sha256_of


@pytest.fixture
def isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDLAB_HOME", str(tmp_path / "home"))
    return tmp_path / "home"



def test_truncated_download_is_detected_deleted_and_refetched(mr, tmp_path, monkeypatch):
    from embedlab.data.cache import cache_dir

    cached = cache_dir("downloads") / VADER_SDIST.filename  # real file in the shared cache
    home = tmp_path / "home"
    (home / "downloads").mkdir(parents=True)
    truncated = home / "downloads" / VADER_SDIST.filename
    truncated.write_bytes(cached.read_bytes()[:100_000])
    monkeypatch.setenv("EMBEDLAB_HOME", str(home))
    path = fetch(VADER_SDIST, quiet=True)  # real `pip download` of the pinned sdist
    assert path == truncated and sha256_of(path) == VADER_SDIST.sha256


def test_checksum_that_never_matches_is_a_clear_error(mr, tmp_path, monkeypatch):
    from embedlab.data.cache import cache_dir

    cached = cache_dir("downloads") / VADER_SDIST.filename
    monkeypatch.setenv("EMBEDLAB_HOME", str(tmp_path / "home"))
    (tmp_path / "home" / "downloads").mkdir(parents=True)
    shutil.copy(cached, tmp_path / "home" / "downloads" / VADER_SDIST.filename)
    wrong = Artifact("pypi", "vaderSentiment", "3.3.2", VADER_SDIST.filename, "0" * 64, sdist=True)
    with pytest.raises(FetchError, match="sha256 never matched"):
        fetch(wrong, quiet=True)


def test_no_network_and_nothing_cached_names_package_and_version(isolated_home, monkeypatch):
    # A registry nobody listens on: pip fails at once, as it would offline.
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_FIND_LINKS", "")
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", "")
    with pytest.raises(FetchError) as caught:
        fetch(VADER_SDIST, quiet=True)
    assert "vaderSentiment==3.3.2" in str(caught.value)
    assert not (isolated_home / "downloads" / VADER_SDIST.filename).exists()


def test_extract_member_descends_into_nested_archives(tmp_path):
    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w:gz") as tar:
        data = b"hello"
        info = tarfile.TarInfo("inner/file.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    outer = tmp_path / "outer.whl"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.writestr("pkg/inner.tar.gz", inner.getvalue())
    assert extract_member(outer, ["pkg/inner.tar.gz", "inner/file.txt"]) == b"hello"
    with pytest.raises(FetchError, match="no member"):
        extract_member(outer, ["pkg/missing.txt"])
