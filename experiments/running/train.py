"""Training and evaluating one run: :func:`train_run` builds the model, fits it with early stopping
on the dev set and evaluates on the held-out test set (its data from :mod:`.prepare`).
"""

from __future__ import annotations

import dataclasses
import json
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from embedlab.data.batching import Batches
from embedlab.experiments.config import RunSpec, dataset_name
from embedlab.experiments.running.prepare import PreparedSplit, prepare_split
from embedlab.experiments.running.records import EXAMPLE_COLUMNS, RunResult
from embedlab.experiments.running.worker import WORKER
from embedlab.models import import_keras_quietly
from embedlab.models.hardware import trained_precision
from embedlab.models.registry import get_family


# Training steps per call into the traced step function: the same steps in the same order (bit-identical
# metrics, tested), with Keras' per-call Python overhead paid once per 8 batches: 6-8% of a 50-d MR epoch.
STEPS_PER_EXECUTION = 8

# An epoch at least this long gets a progress line of its own: a grid prints one line per finished
# run, and a MiniLM run on one slow core is silent for 30-60 min otherwise. Kim CNN epochs take
# seconds, so their grids stay one line per run.
SLOW_EPOCH_SECONDS = 60.0


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss."""


def _optimizer(keras, name: str, learning_rate: float, sparse_updates: bool):
    if name == "adadelta":  # Kim 2014's settings
        return keras.optimizers.Adadelta(learning_rate=learning_rate, rho=0.95, epsilon=1e-6)
    if name == "adam" and sparse_updates:
        from embedlab.models.optimizers import LazyAdam

        return LazyAdam(learning_rate=learning_rate)
    return {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD,
            "rmsprop": keras.optimizers.RMSprop}[name](learning_rate=learning_rate)


@contextmanager
def dtype_policy(keras, precision: str):
    """Builds layers under ``precision`` (``float32`` or ``mixed_bfloat16``), then restores float32.

    The policy is process-wide in Keras, and a worker trains many runs one after another."""
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy("float32")


def configure_threads(threads: int) -> None:
    """Sizes this process's TF thread pools (see :meth:`WorkerContext.configure_threads`)."""
    WORKER.configure_threads(threads)


def train_run(run: RunSpec, prepared: PreparedSplit | None = None, tensorboard_dir: str | None = None) -> RunResult:
    """Trains and evaluates one run.

    Args:
        run (RunSpec): The resolved run.
        prepared (PreparedSplit | None): Pre-built data, else built here.
        tensorboard_dir (str | None): Also write per-epoch scalars there (Keras' TensorBoard
            callback), in a sub-folder named by the run's settings.

    Returns:
        RunResult: Test metrics, sizes, coverage, per-epoch history and per-example predictions.

    Raises:
        NonFiniteLossError: The loss became NaN or infinite.
    """
    keras = import_keras_quietly()
    import tensorflow as tf

    clock = time.perf_counter()
    WORKER.configure_threads(run.training.threads)  # before anything starts TF (a frozen encoder may, in prepare)
    prepared = prepared or prepare_split(run)
    timings = {"prepare_seconds": time.perf_counter() - clock}
    clock = time.perf_counter()
    WORKER.seed(run.seed, run.training.deterministic)
    if run.training.precision not in ("float32", "mixed_bfloat16"):
        raise ValueError(f"training.precision {run.training.precision!r} is not resolved (RunSpec from config.runs())")
    precision = trained_precision(run.training.precision)  # the grid warned once if this falls back
    sequences = np.issubdtype(prepared.x_fit.dtype, np.integer)  # not e.g. a frozen encoder's features
    batching = run.training.batching if sequences else "fixed"
    family = get_family(run.model_name)
    batches = Batches(tf, batching == "bucketed", *family.bucket_padding(run.model, prepared.pad_after))
    with dtype_policy(keras, precision):
        model = family.build(
            run.model, sequence_length=None if batches.bucketed else prepared.x_fit.shape[1],
            num_classes=prepared.num_classes, embedding_matrix=prepared.matrix, embedding=run.embedding)
    model.compile(optimizer=_optimizer(keras, run.training.optimizer, run.training.learning_rate,
                                       run.training.sparse_updates),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=STEPS_PER_EXECUTION)

    timings["build_seconds"] = time.perf_counter() - clock
    epoch_times: list[float] = []
    timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: epoch_times.append(time.perf_counter()),
        on_epoch_end=lambda epoch, logs: epoch_times.__setitem__(-1, time.perf_counter() - epoch_times[-1]))
    stopper = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=run.training.patience,
                                            restore_best_weights=True)
    callbacks = [timer, stopper, _StopOnNonFiniteLoss(keras),
                 _SlowEpochProgress(keras, run.label, run.training.max_epochs, epoch_times)]
    if tensorboard_dir:
        callbacks.append(keras.callbacks.TensorBoard(log_dir=str(Path(tensorboard_dir) / tensorboard_name(run)),
                                                     write_graph=False, profile_batch=0))
    started = time.perf_counter()
    history = model.fit(
        batches.fit(prepared.x_fit, prepared.y_fit, run.training.batch_size, seed=run.seed),
        validation_data=batches.evaluate(prepared.x_dev, prepared.y_dev)[0],
        epochs=run.training.max_epochs, shuffle=False, verbose=0,
        callbacks=callbacks)
    train_seconds = time.perf_counter() - started
    losses = history.history["loss"]
    if not np.all(np.isfinite(losses)):
        raise NonFiniteLossError(f"training loss became non-finite at epoch {len(losses)}: {losses[-1]}")

    clock = time.perf_counter()
    test_data, order = batches.evaluate(prepared.x_test, prepared.y_test)
    probabilities = np.empty((len(order), prepared.num_classes), dtype=np.float32)
    probabilities[order] = model.predict(test_data, verbose=0)
    timings["predict_seconds"] = time.perf_counter() - clock
    timings["fit_seconds"] = train_seconds
    predicted = probabilities.argmax(axis=1)
    true_probability = probabilities[np.arange(len(predicted)), prepared.y_test]
    epochs = len(losses)
    history_rows = [
        {"epoch": e + 1, **{k: float(v[e]) for k, v in history.history.items()},
         "seconds": round(epoch_times[e], 3)}
        for e in range(epochs)
    ]
    predictions = {"index": prepared.test_indices.tolist(), "label": prepared.y_test.tolist(),
                   "predicted": predicted.tolist(), "confidence": probabilities.max(axis=1).round(5).tolist()}
    if prepared.test_words is not None:  # what the frequency analysis needs, recorded at training time
        for column in EXAMPLE_COLUMNS:
            predictions[column] = [getattr(example, column) for example in prepared.test_words.per_example]
    embeddings = None
    if run.training.save_embeddings and family.uses_word_vectors:  # multichannel's tuned channel
        tables = [layer for layer in model.layers if isinstance(layer, keras.layers.Embedding)]
        embeddings = {"words": prepared.vocab.words_, "matrix": tables[-1].get_weights()[0]}
    coverage = prepared.coverage
    result = RunResult(
        accuracy=float(accuracy_score(prepared.y_test, predicted)),
        macro_f1=float(f1_score(prepared.y_test, predicted, average="macro")),
        loss=float(-np.mean(np.log(np.clip(true_probability, 1e-7, 1.0)))),
        epochs=epochs, best_epoch=int(stopper.best_epoch) + 1, train_seconds=round(train_seconds, 3),
        n_train=int(len(prepared.y_fit)), n_dev=int(len(prepared.y_dev)), n_test=int(len(prepared.y_test)),
        vocab_size=prepared.training_vocab_size or len(prepared.vocab),
        sequence_length=int(prepared.x_fit.shape[1]) if sequences else 0, batching=batching,
        precision=precision,
        labels=json.dumps(list(prepared.label_names)),
        parameters=int(model.count_params()),
        trainable_parameters=int(sum(np.prod(w.shape) for w in model.trainable_weights)),
        **(prepared.test_words.counts() if prepared.test_words is not None else {}),
        **({f"coverage_{k}": v for k, v in coverage.as_dict().items()} if coverage is not None else {}),
        known_row_norm=_rounded(prepared.row_norms[0]), random_row_norm=_rounded(prepared.row_norms[1]),
        dev_accuracy=float(history.history["val_accuracy"][stopper.best_epoch]),
        history=history_rows, predictions=predictions, embeddings=embeddings,
        timings={k: round(v, 4) for k, v in timings.items()})
    if run.training.save_model:
        from embedlab.experiments.running.model_folder import model_files

        from embedlab.experiments.running.model_folder import fit_temperature

        dev_data, dev_order = batches.evaluate(prepared.x_dev, prepared.y_dev)
        dev_probabilities = np.empty((len(dev_order), prepared.num_classes), dtype=np.float32)
        dev_probabilities[dev_order] = model.predict(dev_data, verbose=0)
        result = dataclasses.replace(result, model_files=model_files(
            model, run, prepared, list(prepared.label_names), result.values(), prepared.vectors,
            temperature=fit_temperature(dev_probabilities, prepared.y_dev)))
    keras.backend.clear_session()
    return result


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _StopOnNonFiniteLoss(keras):
    """Keras' TerminateOnNaN, without its print: its "Batch 4: Invalid loss, terminating training"
    went to stdout, into the report that `embedlab run` prints (the run is recorded as failed with a
    NonFiniteLossError instead)."""

    class StopOnNonFiniteLoss(keras.callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            loss = (logs or {}).get("loss")
            if loss is not None and not np.isfinite(float(loss)):
                self.model.stop_training = True

    return StopOnNonFiniteLoss()


def _SlowEpochProgress(keras, label: str, max_epochs: int, epoch_times: list[float],
                       min_seconds: float = SLOW_EPOCH_SECONDS, stream=None):
    """One stderr line per epoch that took ``min_seconds`` or more: which run, which epoch of how
    many, its dev accuracy and time, so a long run shows it is alive (workers share the driver's stderr).

    ``epoch_times`` is the run's epoch timer (a callback placed before this one fills in each
    finished epoch's seconds), so the line and the recorded history report the same time."""
    import sys

    class SlowEpochProgress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seconds = epoch_times[-1]
            if seconds >= min_seconds:
                dev = (logs or {}).get("val_accuracy")
                dev_text = "" if dev is None else f", dev acc {float(dev):.4f}"
                print(f"  {label}: epoch {epoch + 1}/{max_epochs} took {seconds / 60:.1f} min{dev_text}",
                      file=stream or sys.stderr, flush=True)

    return SlowEpochProgress()


def tensorboard_name(run: RunSpec) -> str:
    """A run's TensorBoard sub-folder: its settings in words, then its id (unique)."""
    parts = [run.variant, dataset_name(run.data.dataset), run.model_name, run.embedding,
             (run.vectors or "").rsplit("/", 1)[-1] if run.embedding != "rand" else None, f"seed{run.seed}",
             None if run.fold is None else f"fold{run.fold}", None if run.train_size == 1.0 else f"size{run.train_size:g}"]
    return "_".join(p for p in parts if p) + "_" + run.run_id[:8]
