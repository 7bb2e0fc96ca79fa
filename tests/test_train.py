"""One real run on a slice of MR: determinism, and what a run records."""

import pytest

from embedlab.experiments.config import load_config
from embedlab.experiments.running.prepare import prepare_split
from embedlab.experiments.running.train import train_run

from conftest import TINY_CONFIG

pytestmark = pytest.mark.slow  # trains models (see conftest: the fast tier)


@pytest.fixture
def tiny_runs(write_config):
    return load_config(write_config(TINY_CONFIG)).runs()


def test_split_is_shared_by_conditions_and_vocab_is_from_training_only(tiny_runs):
    rand, static, _ = tiny_runs
    a, b = prepare_split(rand), prepare_split(static)
    assert (a.test_indices == b.test_indices).all() and len(a.test_indices) == 60
    assert len(a.y_fit) + len(a.y_dev) == 240
    assert a.coverage.hits == b.coverage.hits and b.coverage.type_share > 0.8
    # pretrained rows differ between rand and static; padding is zero in both
    rows = len(a.matrix)  # static adds test-only words with a vector (open vocabulary) after these
    assert not (a.matrix[2:] == b.matrix[2:rows]).all() and not a.matrix[0].any() and len(b.matrix) > rows


@pytest.mark.parametrize("model_name, embedding", [
    ("cnn", "rand"), ("cnn", "static"), ("cnn", "non-static"), ("cnn", "multichannel"),
    ("boe", "rand"), ("boe", "non-static"),
    ("bilstm", "rand"), ("bilstm", "multichannel"), ("transformer", "static"), ("transformer", "non-static"),
])
def test_same_run_twice_gives_bit_identical_metrics(tiny_runs, model_name, embedding):
    run = tiny_runs[0].with_model(model_name).model_copy(update={"embedding": embedding})
    first, second = train_run(run), train_run(run)
    assert first.values() | {"train_seconds": 0} == second.values() | {"train_seconds": 0}
    assert first.predictions == second.predictions
    assert [h["loss"] for h in first.history] == [h["loss"] for h in second.history]
    assert 0.3 < first.accuracy <= 1.0 and first.n_test == 60


def test_deterministic_false_really_turns_op_determinism_off():
    """One worker trains many runs: a ``deterministic: false`` run after a deterministic one must not
    inherit the process-wide setting."""
    from tensorflow.python.framework import config as tf_config

    from embedlab.experiments.running.worker import WORKER

    WORKER.seed(0, deterministic=True)
    assert tf_config.is_op_determinism_enabled()
    WORKER.seed(0, deterministic=False)
    assert not tf_config.is_op_determinism_enabled()
    WORKER.seed(0, deterministic=True)
    assert tf_config.is_op_determinism_enabled()


def test_new_models_freeze_static_embeddings_in_a_real_run(tiny_runs):
    import numpy as np

    for model_name in ("bilstm", "transformer"):
        run = tiny_runs[1].with_model(model_name).model_copy(update={"training": tiny_runs[1].training.model_copy(
            update={"save_embeddings": True})})
        assert run.embedding == "static"
        prepared = prepare_split(run)
        result = train_run(run, prepared)
        np.testing.assert_array_equal(result.embeddings["matrix"], prepared.matrix)
        assert result.trainable_parameters < result.parameters


def test_bfloat16_run_on_a_cpu_without_bf16_units_trains_and_records_float32(tiny_runs, monkeypatch):
    from embedlab.models import hardware

    monkeypatch.setattr(hardware, "cpu_flags", lambda: frozenset({"avx2"}))
    run = tiny_runs[0].model_copy(update={"training": tiny_runs[0].training.model_copy(
        update={"precision": "mixed_bfloat16"})})
    result = train_run(run)
    assert result.precision == "float32"
    assert result.values() | {"train_seconds": 0} == train_run(tiny_runs[0]).values() | {"train_seconds": 0}


def test_several_steps_per_execution_train_exactly_as_one(tiny_runs, monkeypatch):
    from embedlab.experiments.running import train

    run = tiny_runs[2].model_copy(update={"training": tiny_runs[2].training.model_copy(update={"max_epochs": 2})})
    batched = train_run(run)
    monkeypatch.setattr(train, "STEPS_PER_EXECUTION", 1)
    single = train_run(run)
    assert batched.values() | {"train_seconds": 0} == single.values() | {"train_seconds": 0}
    assert [h["loss"] for h in batched.history] == [h["loss"] for h in single.history]
    assert batched.predictions == single.predictions


def test_an_epoch_of_a_minute_or_more_prints_a_progress_line_and_a_fast_one_does_not():
    import io

    from embedlab.experiments.running.train import _SlowEpochProgress
    from embedlab.models import import_keras_quietly

    keras = import_keras_quietly()
    lines = io.StringIO()
    # the epoch timer's record: epoch 1 took 30 s, epoch 2 took 95 s
    slow = _SlowEpochProgress(keras, "mr minilm rand seed=0 fold=3", 10, [30.0, 95.0], stream=lines)
    slow.on_epoch_end(1, {"val_accuracy": 0.7125, "loss": 0.5})
    fast = _SlowEpochProgress(keras, "mr cnn rand seed=0 fold=3", 25, [30.0], stream=lines)  # the 60 s default
    fast.on_epoch_end(0, {"val_accuracy": 0.7})
    assert lines.getvalue().splitlines() == ["  mr minilm rand seed=0 fold=3: epoch 2/10 took 1.6 min, dev acc 0.7125"]
