"""Batches for Keras: tf.data pipelines of padded id matrices, fixed-width or bucketed by length.

Training, evaluation and prediction from a saved model all batch through :class:`Batches`, so a
saved model sees its inputs exactly as it did in training.
"""

from __future__ import annotations

import itertools

import numpy as np


def padded_batches(tf, x: np.ndarray, y: np.ndarray, batch_size: int, shuffle_seed: int | None):
    """A tf.data pipeline with autotune off: the default one stalls ~2-4 s per fit on CPU (TF_NOTES)."""
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(2).with_options(no_autotune(tf))


def no_autotune(tf):
    options = tf.data.Options()
    options.autotune.enabled = False
    return options


# A training epoch sorts its shuffled examples by length within pools of this many batches, so a
# batch holds texts of similar length while batch composition still changes every epoch.
POOL_BATCHES = 50


def text_lengths(x: np.ndarray) -> np.ndarray:
    """Tokens per row of a post-padded id matrix (up to its last non-padding id)."""
    nonzero = x != 0
    return np.where(nonzero.any(axis=1), x.shape[1] - np.argmax(nonzero[:, ::-1], axis=1), 0)


def batch_plan(lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Example positions of each batch, texts of similar length together.

    Without ``rng`` (evaluation) the examples are sorted by length. With it (training) they are
    shuffled, sorted by length within pools of :data:`POOL_BATCHES` batches, cut into batches, and
    the batches shuffled: the "sortish" sampler of fairseq and AllenNLP's bucket iterator.
    """
    if rng is None:
        order = np.argsort(lengths, kind="stable")
    else:
        shuffled = rng.permutation(len(lengths))
        pool = batch_size * POOL_BATCHES
        order = np.concatenate([chunk[np.argsort(lengths[chunk], kind="stable")]
                                for chunk in np.split(shuffled, range(pool, len(shuffled), pool))])
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def bucketed_batches(tf, x: np.ndarray, y: np.ndarray, batch_size: int, min_length: int,
                       shuffle_seed: int | None, pad_after: int = 0):
    """Batches padded to their own longest text plus ``pad_after`` zeros (at least ``min_length``
    columns, at most ``x``'s), from :func:`batch_plan`.

    Returns the dataset and, for evaluation (no shuffle), the example order it yields.
    """
    lengths = np.minimum(text_lengths(x) + pad_after, x.shape[1])
    epochs = itertools.count()

    def batches():
        rng = None if shuffle_seed is None else np.random.default_rng([shuffle_seed, next(epochs)])
        for index in batch_plan(lengths, batch_size, rng):
            width = max(int(lengths[index].max()), min_length)
            yield x[index, :width], y[index]

    signature = (tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((None,), tf.as_dtype(y.dtype)))
    dataset = tf.data.Dataset.from_generator(batches, output_signature=signature)
    # A known number of batches: Keras otherwise warns that the input "ran out of data" each fit.
    dataset = dataset.apply(tf.data.experimental.assert_cardinality(-(-len(x) // batch_size)))
    order = np.concatenate(batch_plan(lengths, batch_size, None)) if shuffle_seed is None else None
    return dataset.prefetch(2).with_options(no_autotune(tf)), order


class Batches:
    """Input pipelines for one batching scheme (``training.batching``): bucketed batches are padded
    to their own longest text plus ``pad_after`` zeros (at least ``min_length`` columns); fixed ones
    keep the matrix's width. Training and prediction from a saved model use the same."""

    def __init__(self, tf, bucketed: bool, min_length: int, pad_after: int):
        self.tf, self.bucketed, self.min_length = tf, bucketed, min_length
        self.pad_after = pad_after

    def fit(self, x, y, batch_size: int, seed: int):
        if self.bucketed:
            return bucketed_batches(self.tf, x, y, batch_size, self.min_length, seed, self.pad_after)[0]
        return padded_batches(self.tf, x, y, batch_size, shuffle_seed=seed)

    def evaluate(self, x, y, batch_size: int = 256):
        """(dataset, order): ``order[i]`` is the row of ``x`` of the dataset's i-th example."""
        if self.bucketed:
            return bucketed_batches(self.tf, x, y, batch_size, self.min_length, None, self.pad_after)
        return padded_batches(self.tf, x, y, batch_size, shuffle_seed=None), np.arange(len(x))
