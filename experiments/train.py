"""Training and evaluating one run.

:func:`prepare_split` turns a :class:`RunSpec` into padded index matrices (the same split, vocabulary
and embedding matrix for every run that shares them, so grids pair runs fairly); :func:`train_run`
builds the model, fits it with early stopping on the dev set and evaluates on the held-out test set.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from embedlab.data.datasets import Dataset
from embedlab.data.splits import dev_split, holdout_split, kfold_split, official_split, subsample
from embedlab.data.text import Vocabulary, tokenize
from embedlab.data.vectors import (Coverage, Vectors, build_embedding_matrix, load_vectors, vector_coverage,
                                   vectors_ids)
from embedlab.data.word2vec import (Word2VecParams, file_sentences, load_user_vectors, parse_w2v_id,
                                    train_word2vec, wikitext2_sentences)
from embedlab.experiments.config import RunSpec, dataset_name, load_any_dataset
from embedlab.models import get_builder, import_keras_quietly


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss."""


@dataclass
class PreparedSplit:
    """Everything a run trains and evaluates on.

    Attributes:
        x_fit, y_fit: Examples the weights are fitted on.
        x_dev, y_dev: Dev set for early stopping (carved from the training split).
        x_test, y_test: Held-out test set.
        test_indices: Positions of the test examples in the dataset (for per-example analyses).
        vocab: Vocabulary fitted on the training split (fit + dev) only.
        matrix: Initial embedding table.
        coverage: Pretrained-vector coverage of the vocabulary (None for rand without vectors).
        num_classes: Number of classes.
    """

    x_fit: np.ndarray
    y_fit: np.ndarray
    x_dev: np.ndarray
    y_dev: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    test_indices: np.ndarray
    vocab: Vocabulary
    matrix: np.ndarray
    coverage: Coverage | None
    num_classes: int


@lru_cache(maxsize=8)
def _tokenized(dataset_ref) -> tuple[Dataset, list[list[str]]]:
    dataset = load_any_dataset(dataset_ref)
    return dataset, [tokenize(t) for t in dataset.texts]


def split_indices(run: RunSpec, labels: np.ndarray, official: np.ndarray | None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The run's (fit, dev, test) example indices.

    The test split depends only on ``data`` settings (``split_seed``), so every condition and seed
    is evaluated on the same test examples; the training subset (``train_size``) and the dev split
    depend on the run's seed.
    """
    pool = np.arange(len(labels))
    if run.data.subsample is not None:
        pool = subsample(pool, labels, run.data.subsample, run.data.split_seed)
    if run.data.protocol == "official":
        train, test = official_split(official)
        if run.data.subsample is not None:
            train, test = np.intersect1d(train, pool), np.intersect1d(test, pool)
    elif run.data.protocol == "cv":
        train, test = kfold_split(labels[pool], run.data.folds, run.fold, run.data.split_seed)
        train, test = pool[train], pool[test]
    else:
        train, test = holdout_split(labels[pool], run.data.test_fraction, run.data.split_seed)
        train, test = pool[train], pool[test]
    if run.train_size < 1.0:
        train = subsample(train, labels, run.train_size, run.seed)
    fit, dev = dev_split(train, labels, run.training.dev_fraction, run.seed)
    return fit, dev, test


def prepare_split(run: RunSpec) -> PreparedSplit:
    """Splits, tokenises and indexes the data of one run, and builds its embedding matrix.

    The test split depends only on ``data`` settings (``split_seed``), so every condition and seed
    is evaluated on the same test examples; the training subset (``train_size``) and the dev split
    depend on the run's seed.
    """
    dataset, tokens = _tokenized(run.data.dataset)
    labels = dataset.labels
    fit, dev, test = split_indices(run, labels, dataset.split)
    train = np.sort(np.concatenate([fit, dev]))

    vocab = Vocabulary(min_count=run.data.min_count).fit(tokens[i] for i in train)
    longest = max(len(tokens[i]) for i in train)
    length = max(min(longest, run.data.max_length), max(run.model.filter_sizes))
    encode = lambda idx: vocab.encode([tokens[i] for i in idx], length)  # noqa: E731

    vectors = resolve_vectors(run, [tokens[i] for i in train], train_key=hash(train.tobytes()))
    dim = vectors.dim if vectors is not None else run.model.embedding_dim
    use_pretrained = run.embedding != "rand"
    matrix, coverage = build_embedding_matrix(vocab, vectors if use_pretrained else None, dim, seed=run.seed)
    if not use_pretrained and vectors is not None:
        coverage = vector_coverage(vocab, vectors)  # rand runs report what the vectors would have covered
    return PreparedSplit(encode(fit), labels[fit], encode(dev), labels[dev], encode(test), labels[test],
                         test, vocab, matrix, coverage, len(dataset.card.classes))


_vectors_memo: dict = {}


def resolve_vectors(run: RunSpec, train_tokens: list[list[str]], train_key: int) -> Vectors | None:
    """The run's vectors: a registry id, a user file, or word2vec trained by the suite.

    ``w2v:train:…`` trains on ``train_tokens`` — the run's training split only, so test sentences
    never shape the vectors. Results are memoised in-process (and cached on disk by content).
    """
    ref = run.vectors
    if ref is None:
        return None
    if ref in vectors_ids():
        return load_vectors(ref)
    parsed = parse_w2v_id(ref)
    if parsed is None:
        return load_user_vectors(ref)
    corpus, algo, dim = parsed
    params = Word2VecParams(**run.word2vec.model_dump()) if run.word2vec else Word2VecParams()
    memo_key = (ref, params, train_key if corpus == "train" else None)
    if memo_key not in _vectors_memo:
        if corpus == "train":
            sentences, name = train_tokens, f"{dataset_name(run.data.dataset)} training split"
        elif corpus == "wikitext2":
            sentences, name = wikitext2_sentences(), "wikitext2"
        else:
            sentences, name = file_sentences(corpus), corpus
        _vectors_memo[memo_key] = train_word2vec(sentences, algo, dim, params, name)
    return _vectors_memo[memo_key]


def _optimizer(keras, name: str, learning_rate: float, sparse_updates: bool):
    if name == "adadelta":  # Kim 2014's settings
        return keras.optimizers.Adadelta(learning_rate=learning_rate, rho=0.95, epsilon=1e-6)
    if name == "adam" and sparse_updates:
        from embedlab.models.optimizers import LazyAdam

        return LazyAdam(learning_rate=learning_rate)
    return {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD,
            "rmsprop": keras.optimizers.RMSprop}[name](learning_rate=learning_rate)


def _pipeline(tf, x: np.ndarray, y: np.ndarray, batch_size: int, shuffle_seed: int | None):
    """A tf.data pipeline with autotune off: the default one stalls ~2-4 s per fit on CPU (TF_NOTES)."""
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.batch(batch_size).prefetch(2).with_options(options)


_determinism_enabled = False
_threads_configured: int | None = None


def configure_threads(threads: int) -> None:
    """Sizes TF's intra- and inter-op thread pools, once per process, before TF starts its runtime.

    The thread count is part of a run's settings because it changes results: TF sums in another
    order with 1 thread than with 2, and over several epochs that can move a prediction. With the
    same count, every executor (local, processes, ray) gives bit-identical runs.
    """
    global _threads_configured
    import warnings

    import_keras_quietly()
    import tensorflow as tf

    if _threads_configured == threads:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        _threads_configured = threads
    except RuntimeError:  # TF already running in this process (e.g. an interactive session)
        current = tf.config.threading.get_intra_op_parallelism_threads()
        if current != threads:
            warnings.warn(f"TensorFlow already runs with {current or 'default'} threads; training.threads="
                          f"{threads} cannot apply in this process, so results may differ in the last digits",
                          stacklevel=2)
        _threads_configured = threads


def _seed_everything(seed: int, deterministic: bool) -> None:
    global _determinism_enabled
    keras = import_keras_quietly()
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if deterministic and not _determinism_enabled:
        tf.config.experimental.enable_op_determinism()
        _determinism_enabled = True


def train_run(run: RunSpec, prepared: PreparedSplit | None = None) -> dict:
    """Trains and evaluates one run.

    Args:
        run (RunSpec): The resolved run.
        prepared (PreparedSplit | None): Pre-built data, else built here.

    Returns:
        dict: ``metrics`` (accuracy, macro_f1, loss, epochs, best_epoch, train_seconds), ``history``
        (per-epoch rows), ``predictions`` (test index, label, predicted, confidence), ``sizes`` and
        ``coverage``.

    Raises:
        NonFiniteLossError: The loss became NaN or infinite.
    """
    keras = import_keras_quietly()
    import tensorflow as tf

    clock = time.perf_counter()
    prepared = prepared or prepare_split(run)
    timings = {"prepare_seconds": time.perf_counter() - clock}
    clock = time.perf_counter()
    configure_threads(run.training.threads)
    _seed_everything(run.seed, run.training.deterministic)
    builder = get_builder(run.model_name)
    options = {"filter_sizes": run.model.filter_sizes, "num_filters": run.model.num_filters} \
        if run.model_name == "cnn" else {}
    model = builder(sequence_length=prepared.x_fit.shape[1], num_classes=prepared.num_classes,
                    embedding_matrix=prepared.matrix, embedding=run.embedding, dropout=run.model.dropout,
                    max_norm=run.model.max_norm, **options)
    model.compile(optimizer=_optimizer(keras, run.training.optimizer, run.training.learning_rate,
                                       run.training.sparse_updates),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    timings["build_seconds"] = time.perf_counter() - clock
    epoch_times: list[float] = []
    timer = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: epoch_times.append(time.perf_counter()),
        on_epoch_end=lambda epoch, logs: epoch_times.__setitem__(-1, time.perf_counter() - epoch_times[-1]))
    stopper = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=run.training.patience,
                                            restore_best_weights=True)
    started = time.perf_counter()
    history = model.fit(
        _pipeline(tf, prepared.x_fit, prepared.y_fit, run.training.batch_size, shuffle_seed=run.seed),
        validation_data=_pipeline(tf, prepared.x_dev, prepared.y_dev, 256, shuffle_seed=None),
        epochs=run.training.max_epochs, shuffle=False, verbose=0,
        callbacks=[timer, stopper, keras.callbacks.TerminateOnNaN()])
    train_seconds = time.perf_counter() - started
    losses = history.history["loss"]
    if not np.all(np.isfinite(losses)):
        raise NonFiniteLossError(f"training loss became non-finite at epoch {len(losses)}: {losses[-1]}")

    clock = time.perf_counter()
    probabilities = model.predict(_pipeline(tf, prepared.x_test, prepared.y_test, 256, None), verbose=0)
    timings["predict_seconds"] = time.perf_counter() - clock
    timings["fit_seconds"] = train_seconds
    predicted = probabilities.argmax(axis=1)
    true_probability = probabilities[np.arange(len(predicted)), prepared.y_test]
    epochs = len(losses)
    metrics = {
        "accuracy": float(accuracy_score(prepared.y_test, predicted)),
        "macro_f1": float(f1_score(prepared.y_test, predicted, average="macro")),
        "loss": float(-np.mean(np.log(np.clip(true_probability, 1e-7, 1.0)))),
        "epochs": epochs,
        "best_epoch": int(stopper.best_epoch) + 1,
        "train_seconds": round(train_seconds, 3),
    }
    history_rows = [
        {"epoch": e + 1, **{k: float(v[e]) for k, v in history.history.items()},
         "seconds": round(epoch_times[e], 3)}
        for e in range(epochs)
    ]
    predictions = {"index": prepared.test_indices.tolist(), "label": prepared.y_test.tolist(),
                   "predicted": predicted.tolist(), "confidence": probabilities.max(axis=1).round(5).tolist()}
    sizes = {"n_train": int(len(prepared.y_fit)), "n_dev": int(len(prepared.y_dev)),
             "n_test": int(len(prepared.y_test)), "vocab_size": len(prepared.vocab),
             "sequence_length": int(prepared.x_fit.shape[1])}
    embeddings = None
    if run.training.save_embeddings:  # the fine-tuned channel for multichannel
        tables = [layer for layer in model.layers if isinstance(layer, keras.layers.Embedding)]
        embeddings = {"words": prepared.vocab.words_, "matrix": tables[-1].get_weights()[0]}
    keras.backend.clear_session()
    return {"embeddings": embeddings, "metrics": metrics, "history": history_rows, "predictions": predictions, "sizes": sizes,
            "coverage": prepared.coverage.as_dict() if prepared.coverage else None,
            "timings": {k: round(v, 4) for k, v in timings.items()}}
