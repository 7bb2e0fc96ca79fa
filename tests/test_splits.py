import numpy as np
import pytest

from embedlab.data.splits import dev_split, holdout_split, kfold_split, subsample

LABELS = np.array([0] * 60 + [1] * 40)


def test_holdout_is_stratified_disjoint_and_seeded():
    train, test = holdout_split(LABELS, 0.1, seed=0)
    assert len(test) == 10 and set(train).isdisjoint(test) and len(train) + len(test) == 100
    assert (LABELS[test] == 1).sum() == 4
    assert np.array_equal(test, holdout_split(LABELS, 0.1, seed=0)[1])
    assert not np.array_equal(test, holdout_split(LABELS, 0.1, seed=1)[1])


def test_kfold_test_sets_partition_the_data():
    tests = [kfold_split(LABELS, 5, fold, seed=3)[1] for fold in range(5)]
    assert sorted(np.concatenate(tests).tolist()) == list(range(100))
    with pytest.raises(ValueError, match="outside"):
        kfold_split(LABELS, 5, 5, seed=3)


def test_subsample_fraction_count_and_too_small():
    idx = np.arange(100)
    assert len(subsample(idx, LABELS, 0.5, seed=0)) == 50
    assert len(subsample(idx, LABELS, 20, seed=0)) == 20
    assert len(subsample(idx, LABELS, 1.0, seed=0)) == 100
    with pytest.raises(ValueError, match="cannot hold"):
        subsample(idx, LABELS, 1, seed=0)


def test_dev_split_comes_from_training_indices():
    train, _ = holdout_split(LABELS, 0.2, seed=0)
    fit, dev = dev_split(train, LABELS, 0.1, seed=0)
    assert set(fit) | set(dev) == set(train) and set(fit).isdisjoint(dev)
