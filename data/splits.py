"""Seeded, stratified train / dev / test index splits."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split


def holdout_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One stratified train/test split. Returns sorted index arrays ``(train, test)``."""
    idx = np.arange(len(labels))
    train, test = train_test_split(idx, test_size=test_fraction, random_state=seed, stratify=labels)
    return np.sort(train), np.sort(test)


def kfold_split(labels: np.ndarray, folds: int, fold: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Fold ``fold`` (0-based) of a stratified, shuffled K-fold. Returns ``(train, test)``."""
    if not 0 <= fold < folds:
        raise ValueError(f"fold {fold} is outside 0..{folds - 1}")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    train, test = list(splitter.split(np.zeros(len(labels)), labels))[fold]
    return train, test


def official_split(split: np.ndarray, phrases: bool = False
                   ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """The dataset's own ``(train, dev, test)``; ``dev`` is None where the dataset has none.

    Args:
        split (np.ndarray): Each example's split: ``train``, ``dev``, ``test`` or ``train_phrase``
            (SST: a labelled phrase of a training tree, trained on instead of the sentences).
        phrases (bool): Train on the ``train_phrase`` examples rather than the ``train`` sentences.
    """
    train = np.flatnonzero(split == ("train_phrase" if phrases else "train"))
    dev = np.flatnonzero(split == "dev")
    return train, (dev if len(dev) else None), np.flatnonzero(split == "test")


def subsample(indices: np.ndarray, labels: np.ndarray, size: float | int, seed: int) -> np.ndarray:
    """A stratified subset of ``indices``: a fraction (float ≤ 1) or a count (int).

    Smaller subsets of the same seed are not nested; each size is its own seeded draw.
    """
    count = round(size * len(indices)) if isinstance(size, float) else int(size)
    if count >= len(indices):
        return indices
    n_classes = len(np.unique(labels[indices]))
    if count < n_classes:
        raise ValueError(f"a subset of {count} examples cannot hold all {n_classes} classes")
    kept, _ = train_test_split(indices, train_size=count, random_state=seed, stratify=labels[indices])
    return np.sort(kept)


def dev_split(indices: np.ndarray, labels: np.ndarray, dev_fraction: float, seed: int
              ) -> tuple[np.ndarray, np.ndarray]:
    """Carves a stratified dev set (for early stopping) out of training indices."""
    fit, dev = train_test_split(indices, test_size=dev_fraction, random_state=seed, stratify=labels[indices])
    return np.sort(fit), np.sort(dev)
