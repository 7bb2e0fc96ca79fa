"""The one typed record of what a finished run measured.

Its scalar fields are, each under the same name, a column of ``results.db`` (the store derives its
schema from them, and an older DB gains a new field's column when opened), a key of the run
folder's ``metrics.json`` and a row field of the report's frame. Adding a metric means adding a
field here and filling it in :func:`embedlab.experiments.running.train.train_run`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# Fields that are files of the run folder, not columns.
_PAYLOAD = {"payload": True}
_SQL_TYPES = {"float": "REAL", "int": "INTEGER", "str": "TEXT", "bool": "INTEGER"}


@dataclass(frozen=True)
class RunResult:
    """What one run measured.

    Attributes:
        accuracy, macro_f1, loss: Test-set metrics (loss: mean cross-entropy of the true class).
        dev_accuracy: Accuracy on the dev set at the kept epoch (what early stopping and tuning read).
        epochs, best_epoch: Epochs trained, and the one whose weights were kept (early stopping).
        train_seconds: Wall time of ``fit``.
        n_train, n_dev, n_test: Examples fitted on, used for early stopping, and tested on.
        vocab_size: Words of the vocabulary fitted on the training split.
        sequence_length: The training split's padded length (bucketed batches are each shorter).
        batching, precision: As resolved for the run.
        node: Where it trained: the host (and, on a Ray cluster, the node id).
        labels: The label mapping, class names in label-id order, as JSON (``["neg", "pos"]``).
        parameters, trainable_parameters: Weights of the model, and those training updates.
        test_tokens_in_training, test_tokens_vectors_only, test_tokens_unknown: How test tokens
            resolved: in the training vocabulary, only in the vectors, in neither.
        coverage_hits, coverage_misses, coverage_type_share, coverage_token_share: The vectors'
            coverage of the training vocabulary (None without vectors).
        known_row_norm, random_row_norm: Mean norm of the initial embedding table's rows with a
            pretrained vector (after ``data.rescale``) and of its randomly drawn rows (a rand run's
            every row; a pretrained run's words without a vector): the scale training starts from.
        history: Per-epoch rows (``history.csv``).
        predictions: Per test example columns (``predictions.csv``).
        timings: Seconds per phase (prepare, build, fit, predict), in ``metrics.json``.
        embeddings: ``{"words", "matrix"}`` of the tuned table, with ``training.save_embeddings``.
        model_files: The model folder's files (``run_dir/model/``), with ``training.save_model``.
    """

    accuracy: float
    macro_f1: float
    loss: float
    epochs: int
    best_epoch: int
    train_seconds: float
    n_train: int
    n_dev: int
    n_test: int
    vocab_size: int
    sequence_length: int
    batching: str
    precision: str
    labels: str | None = None
    node: str | None = None
    parameters: int | None = None
    trainable_parameters: int | None = None
    test_tokens_in_training: int | None = None
    test_tokens_vectors_only: int | None = None
    test_tokens_unknown: int | None = None
    coverage_hits: int | None = None
    coverage_misses: int | None = None
    coverage_type_share: float | None = None
    coverage_token_share: float | None = None
    known_row_norm: float | None = None
    random_row_norm: float | None = None
    dev_accuracy: float | None = None
    history: list[dict] = field(default_factory=list, metadata=_PAYLOAD)
    predictions: dict[str, list] = field(default_factory=dict, metadata=_PAYLOAD)
    timings: dict[str, float] = field(default_factory=dict, metadata=_PAYLOAD)
    embeddings: dict[str, Any] | None = field(default=None, metadata=_PAYLOAD, compare=False)
    model_files: dict[str, bytes] | None = field(default=None, metadata=_PAYLOAD, compare=False)

    # What a progress line and MLflow show of a run.
    HEADLINE = ("accuracy", "macro_f1", "loss", "epochs", "train_seconds")

    @classmethod
    def columns(cls) -> dict[str, str]:
        """``name → SQLite type`` of every scalar field, in declaration order."""
        return {f.name: _SQL_TYPES[str(f.type).split(" |")[0]] for f in dataclasses.fields(cls)
                if not f.metadata.get("payload")}

    def values(self) -> dict[str, Any]:
        """The scalar fields' values (one results.db row's measured part; metrics.json's keys)."""
        return {name: getattr(self, name) for name in self.columns()}


@dataclass(frozen=True)
class ExampleWords:
    """How one test example's words stood in a run, counted at training time and written as columns
    of the run's ``predictions.csv`` (:data:`EXAMPLE_COLUMNS`), so that the analysis by word
    frequency needs no dataset.

    Attributes:
        rarest (int): Training-split count of its rarest token (0: some token unseen in training).
        unseen_vectors (int): Its tokens unseen in training that the vectors have.
        unseen_nowhere (int): Its tokens in neither.
        tokens (int): Its length in tokens.
    """

    rarest: int
    unseen_vectors: int
    unseen_nowhere: int
    tokens: int


EXAMPLE_COLUMNS = tuple(f.name for f in dataclasses.fields(ExampleWords))


def read_predictions(run_dir) -> "pd.DataFrame":
    """A run's ``predictions.csv`` in test-example order, with ``correct`` (prediction == label):
    the one reader of the per-example record (calibration, word-frequency buckets, claims on
    subsets of the test set, the per-sentence statistics)."""
    from pathlib import Path

    import pandas as pd

    frame = pd.read_csv(Path(run_dir) / "predictions.csv").sort_values("index", ignore_index=True)
    return frame.assign(correct=frame["label"] == frame["predicted"])


def correct_per_example(run_dir) -> "np.ndarray":
    """1.0 where a run's test prediction was right and 0.0 where not, in test-example order: what
    the per-sentence statistics (seeds and test sentences random) read, one run at a time."""
    return read_predictions(run_dir)["correct"].to_numpy(float)
