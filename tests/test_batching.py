"""Length-bucketed batches: every example once, seeded, similar lengths together, and for a masked
model exactly the function of fixed padding."""

import numpy as np
import pytest

from embedlab.data.batching import POOL_BATCHES, batch_plan, text_lengths


def test_text_lengths_count_up_to_the_last_token():
    x = np.array([[5, 6, 0, 0], [0, 0, 0, 0], [0, 3, 4, 0], [1, 1, 1, 1]])  # Kim padding: leading zeros
    assert text_lengths(x).tolist() == [2, 0, 3, 4]


def test_training_plan_covers_every_example_once_and_is_seeded():
    lengths = np.random.default_rng(0).integers(1, 60, size=1234)
    plan = batch_plan(lengths, 50, np.random.default_rng([7, 0]))
    assert sorted(np.concatenate(plan).tolist()) == list(range(1234))
    assert [b.tolist() for b in plan] == [b.tolist() for b in batch_plan(lengths, 50, np.random.default_rng([7, 0]))]
    other_epoch = batch_plan(lengths, 50, np.random.default_rng([7, 1]))
    assert [b.tolist() for b in plan] != [b.tolist() for b in other_epoch]
    # within a pool of POOL_BATCHES batches the texts are sorted, so a batch spans few lengths
    spread = np.mean([np.ptp(lengths[b]) for b in plan])
    assert spread < np.ptp(lengths) / 5 and POOL_BATCHES * 50 < 1234 * 10


def test_evaluation_plan_is_sorted_by_length():
    lengths = np.array([5, 1, 9, 3, 3, 7])
    plan = batch_plan(lengths, 4, None)
    assert np.concatenate(plan).tolist() == [1, 3, 4, 0, 5, 2]


@pytest.mark.slow
def test_masked_model_gives_the_same_function_with_either_padding(glove50):
    import tensorflow as tf

    from embedlab.data.batching import bucketed_batches, padded_batches
    from embedlab.models import import_keras_quietly
    from embedlab.models.registry import get_builder

    keras = import_keras_quietly()
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 30, size=200)
    x = np.zeros((200, 30), dtype=np.int32)
    for row, n in enumerate(lengths):
        x[row, :n] = rng.integers(2, 99, size=n)
    y = rng.integers(0, 2, size=200)
    matrix = rng.normal(size=(100, 8)).astype("float32")
    keras.utils.set_random_seed(0)
    model = get_builder("boe")(sequence_length=None, num_classes=2, embedding_matrix=matrix, embedding="static")
    fixed = model.predict(padded_batches(tf, x, y, 64, None), verbose=0)
    data, order = bucketed_batches(tf, x, y, 64, 1, None)
    bucketed = np.empty_like(fixed)
    bucketed[order] = model.predict(data, verbose=0)
    widths = [int(b[0].shape[1]) for b in data]
    assert max(widths) == 29 and min(widths) < 15  # batches really are padded to their own length
    np.testing.assert_allclose(bucketed, fixed, rtol=1e-5, atol=1e-6)
