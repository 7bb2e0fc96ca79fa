"""Shared fixtures. Real artifacts are fetched once into the user's cache ($EMBEDLAB_HOME or
~/.cache/embedlab) and reused by every test and every later test run."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as embedlab.models sets it (why: there)

REPO = Path(__file__).resolve().parents[1]
# Kim's datasets are in no registry: read them from the shared mirror beside the checkout, as CI does.
if (REPO.parent / "shared" / "datasets").is_dir():
    os.environ.setdefault("EMBEDLAB_MIRROR", str(REPO.parent / "shared" / "datasets"))


# Fixtures that fetch real data (the first time) and so put a test in the slow tier.
FETCHING_FIXTURES = {"mr", "glove50", "mr_sample"}


def pytest_collection_modifyitems(config, items):
    """The fast tier (``pytest -m "not slow"``) needs no training and no network: a test that uses
    a fetching fixture is slow, as is every test of a module marked ``pytestmark = pytest.mark.slow``."""
    for item in items:
        if FETCHING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


# TF's thread pools are sized when a test first imports Keras (embedlab.models.import_keras_quietly
# reads this), as each worker process sizes them: in-process runs are then bit-identical to the
# processes and Ray executors' runs. A session that trains nothing never imports TensorFlow.
os.environ.setdefault("EMBEDLAB_TF_THREADS", "1")


@pytest.fixture(scope="session")
def mr():
    from embedlab.data.datasets import load_dataset

    return load_dataset("mr")


@pytest.fixture(scope="session")
def glove50():
    from embedlab.data.vector_sets import load_vectors

    return load_vectors("glove-6b-50d")


@pytest.fixture(scope="session")
def mr_sample(mr):
    """300 real MR sentences, balanced, in a fixed order."""
    rng = np.random.default_rng(0)
    picked = np.concatenate([rng.choice(np.flatnonzero(mr.labels == k), 150, replace=False) for k in (0, 1)])
    return [mr.texts[i] for i in picked], mr.labels[picked]


@pytest.fixture
def write_config(tmp_path):
    """Writes a YAML config into tmp_path and returns its path."""

    def write(text: str, name: str = "config.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


TINY_CONFIG = """\
    # Tiny real run for tests: 300 MR sentences, one epoch.
    name: tiny
    data: {dataset: mr, protocol: holdout, test_fraction: 0.2, subsample: 300, split_seed: 0}
    vectors: glove-6b-50d
    model: {cnn: {num_filters: 8}}
    training: {max_epochs: 1, patience: 1, batch_size: 50}
    grid:
      model: [cnn]
      embedding: [rand, static, non-static]
      seed: [1]
"""
