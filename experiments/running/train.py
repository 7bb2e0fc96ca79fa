"""Training and evaluating one run.

:func:`prepare_split` turns a :class:`RunSpec` into padded index matrices (the same split, vocabulary
and embedding matrix for every run that shares them, so grids pair runs fairly); :func:`train_run`
builds the model, fits it with early stopping on the dev set and evaluates on the held-out test set.
"""

from __future__ import annotations

import dataclasses
import json
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from embedlab.data.batching import Batches
from embedlab.data.datasets import Dataset
from embedlab.data.splits import dev_split, holdout_split, kfold_split, official_split, subsample
from embedlab.data.text import Vocabulary, tokenize
from embedlab.data.vector_sets import is_subword, load_vectors, vectors_ids
from embedlab.data.vectors import (Coverage, Vectors, build_embedding_matrix, rand_row_norm, rescale_pretrained_rows,
                                   row_norms, vector_coverage)
from embedlab.data.word2vec import (Word2VecParams, file_sentences, load_user_vectors, parse_w2v_id,
                                    train_word2vec, wikitext2_sentences)
from embedlab.experiments.running.records import RunResult
from embedlab.experiments.config import LEGACY_EMBEDDING_DIM, RunSpec, dataset_name, load_any_dataset

UNKNOWN_SCALE = 0.25  # Kim 2014: words without a pretrained vector get U[-0.25, 0.25]
from embedlab.models import import_keras_quietly
from embedlab.models.registry import get_family


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
        pad_after: Padding ids every text has after its last token (``data.padding: kim``).
        test_words: How the test tokens were resolved (training vocabulary, vectors, neither).
        vectors: The run's pretrained vectors (None for rand without vectors).
        label_names: Class names by label id.
        training_vocab_size: Size of the vocabulary fitted on the training split (``vocab`` may hold
            test words with a pretrained vector after it, under the open-vocabulary policy).
        vector_scale: Factor the pretrained rows were scaled by (``data.rescale``); a pretrained
            row added later (a saved model's open vocabulary) takes it too.
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
    pad_after: int = 0
    test_words: "TestWords | None" = None
    training_vocab_size: int | None = None
    vectors: Vectors | None = None
    label_names: tuple[str, ...] = ()
    vector_scale: float = 1.0
    row_norms: tuple[float | None, float | None] = (None, None)


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
    official_dev = None
    if run.data.protocol == "official":
        train, official_dev, test = official_split(official, phrases=run.data.training_examples == "phrases")
        if run.data.subsample is not None:
            train, test = np.intersect1d(train, pool), np.intersect1d(test, pool)
            official_dev = None if official_dev is None else np.intersect1d(official_dev, pool)
    elif run.data.protocol == "cv":
        train, test = kfold_split(labels[pool], run.data.folds, run.fold, run.data.split_seed)
        train, test = pool[train], pool[test]
    else:
        train, test = holdout_split(labels[pool], run.data.test_fraction, run.data.split_seed)
        train, test = pool[train], pool[test]
    if run.train_size < 1.0:
        train = subsample(train, labels, run.train_size, run.seed)
    if official_dev is not None:  # the dataset's own dev set (SST); else a seeded share of train
        return train, official_dev, test
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
    family = get_family(run.model_name)
    if not family.uses_word_vectors:
        return _prepare_own_inputs(run, family, dataset, tokens, vocab, (fit, dev, test))
    longest = max(len(tokens[i]) for i in train)
    shortest = family.min_length(run.model)  # a CNN's widest filter
    offset = shortest - 1 if run.data.padding == "kim" else 0
    length = max(min(longest, run.data.max_length) + 2 * offset, shortest) - 2 * offset

    vectors = resolve_vectors(run, [tokens[i] for i in train], train_key=hash(train.tobytes()), all_tokens=tokens)
    use_pretrained = run.embedding != "rand"
    dim = vectors.dim if vectors is not None and (use_pretrained or run.embedding_dim is None) \
        else (run.embedding_dim or LEGACY_EMBEDDING_DIM)
    scale = UNKNOWN_SCALE if run.data.unknown_init == "kim" else float(np.sqrt(3) * vectors.std)
    matrix, coverage = build_embedding_matrix(vocab, vectors if use_pretrained else None, dim, seed=run.seed,
                                              unknown_scale=scale)
    factor = 1.0
    if use_pretrained and run.data.rescale == "rand":
        factor = rescale_pretrained_rows(matrix, vocab, vectors, rand_row_norm(dim))
    norms = row_norms(matrix, vocab, vectors if use_pretrained else None)
    if not use_pretrained and vectors is not None:
        coverage = vector_coverage(vocab, vectors)  # rand runs report what the vectors would have covered
    test_words = TestWords.of([tokens[i] for i in test], vocab, vectors)
    training_vocab_size = len(vocab)
    if use_pretrained and run.data.vocabulary == "open" and test_words.vectors_only:
        # Test words unseen in training keep their pretrained vector: rows after the training
        # vocabulary, which no training batch touches, so non-static leaves them untuned.
        vocab = vocab.extended(test_words.vectors_only)
        rows = [vectors.index[w] for w in test_words.vectors_only]
        matrix = np.vstack([matrix, np.asarray(vectors.matrix[rows], dtype=np.float32) * np.float32(factor)])

    def encode(idx):
        return vocab.encode([tokens[i] for i in idx], length, offset)

    return PreparedSplit(encode(fit), labels[fit], encode(dev), labels[dev], encode(test), labels[test],
                         test, vocab, matrix, coverage, len(dataset.card.classes), pad_after=offset,
                         test_words=test_words, training_vocab_size=training_vocab_size, vectors=vectors,
                         label_names=tuple(dataset.card.classes), vector_scale=factor, row_norms=norms)


def _prepare_own_inputs(run: RunSpec, family, dataset: Dataset, tokens: list[list[str]], vocab: Vocabulary,
                        split: tuple[np.ndarray, np.ndarray, np.ndarray]) -> PreparedSplit:
    """The split of a model that reads text its own way (:attr:`ModelFamily.text_inputs`): its
    inputs for every text of the dataset (memoised in the process), indexed by the run's split. The
    suite's vocabulary is still fitted on the training split, for the analysis by word frequency."""
    fit, dev, test = split
    key = (family.name, run.embedding, repr(run.model), dataset_name(run.data.dataset), len(dataset.texts))
    if key not in WORKER.text_inputs:
        WORKER.text_inputs[key] = family.text_inputs(run.model, run.embedding, dataset.texts)
    x = WORKER.text_inputs[key]
    labels = dataset.labels
    return PreparedSplit(x[fit], labels[fit], x[dev], labels[dev], x[test], labels[test], test, vocab,
                         np.zeros((len(vocab), 0), dtype=np.float32), None, len(dataset.card.classes),
                         test_words=TestWords.of([tokens[i] for i in test], vocab, None),
                         training_vocab_size=len(vocab), label_names=tuple(dataset.card.classes))


@dataclass(frozen=True)
class TestWords:
    """How the test tokens of a run are resolved, counted before any policy applies.

    Attributes:
        in_training (int): Test tokens whose word is in the training vocabulary.
        vectors_only (list[str]): Words unseen in training (or below ``min_count``) that the vectors
            have, in first-seen order; under ``vocabulary: open`` they keep their pretrained vector.
        vectors_only_tokens (int): Test tokens of those words.
        unknown_tokens (int): Test tokens in neither (always ``<unk>``).
        per_example (list[dict]): Per test example: ``rarest`` (training count of its rarest token),
            ``unseen_vectors`` and ``unseen_nowhere`` (token counts) and ``tokens`` (its length), what
            the frequency analysis reads (so a report needs no dataset).
    """

    in_training: int
    vectors_only: list[str]
    vectors_only_tokens: int
    unknown_tokens: int
    per_example: list[dict]

    @classmethod
    def of(cls, token_lists, vocab: Vocabulary, vectors: Vectors | None) -> "TestWords":
        known, counts = vocab.index_, vocab.counts_
        in_vectors = vectors.index if vectors is not None else {}
        extra: dict[str, None] = {}
        totals = {"train": 0, "vectors": 0, "nowhere": 0}
        per_example = []
        for tokens in token_lists:
            seen = {"train": 0, "vectors": 0, "nowhere": 0}
            for token in tokens:
                where = "train" if token in known else "vectors" if token in in_vectors else "nowhere"
                seen[where] += 1
                if where == "vectors":
                    extra.setdefault(token)
            for key in totals:
                totals[key] += seen[key]
            per_example.append({"rarest": min((counts.get(t, 0) for t in tokens), default=0),
                                "unseen_vectors": seen["vectors"], "unseen_nowhere": seen["nowhere"],
                                "tokens": len(tokens)})
        return cls(totals["train"], list(extra), totals["vectors"], totals["nowhere"], per_example)

    def counts(self) -> dict:
        return {"test_tokens_in_training": self.in_training, "test_tokens_vectors_only": self.vectors_only_tokens,
                "test_tokens_unknown": self.unknown_tokens}


def resolve_vectors(run: RunSpec, train_tokens: list[list[str]], train_key: int,
                    all_tokens: list[list[str]] | None = None) -> Vectors | None:
    """The run's vectors: a registry id, a user file, or word2vec trained by the suite.

    ``w2v:train:…`` trains on ``train_tokens`` — the run's training split only, so test sentences
    never shape the vectors. A sub-word set gives a vector to every word type of ``all_tokens`` (the
    dataset's; a function of its tokenizer and table alone, no label is read). Results are
    memoised in-process (and cached on disk by content).
    """
    ref = run.vectors
    if ref is None:
        return None
    if ref in vectors_ids():
        loaded = load_vectors(ref)
        if is_subword(ref):
            key = (ref, dataset_name(run.data.dataset), len(all_tokens or train_tokens))
            if key not in WORKER.trained_vectors:
                WORKER.trained_vectors[key] = loaded.for_words(t for text in (all_tokens or train_tokens) for t in text)
            return WORKER.trained_vectors[key]
        return loaded
    parsed = parse_w2v_id(ref)
    if parsed is None:
        return load_user_vectors(ref)
    corpus, algo, dim = parsed
    params = Word2VecParams(**run.word2vec.model_dump()) if run.word2vec else Word2VecParams()
    memo = WORKER.trained_vectors
    memo_key = (ref, params, train_key if corpus == "train" else None)
    if memo_key not in memo:
        if corpus == "train":
            sentences, name = train_tokens, f"{dataset_name(run.data.dataset)} training split"
        elif corpus == "wikitext2":
            sentences, name = wikitext2_sentences(), "wikitext2"
        else:
            sentences, name = file_sentences(corpus), corpus
        memo[memo_key] = train_word2vec(sentences, algo, dim, params, name)
    return memo[memo_key]


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


class WorkerContext:
    """What a process that trains runs keeps from one run to the next (one per worker process).

    TensorFlow's thread pools and op determinism are process-wide, so they are set here, once, for
    all runs of the process; word2vec vectors trained by the suite are memoised here too.

    Attributes:
        threads_ (int | None): TF threads the process runs with, once configured.
        trained_vectors (dict): word2vec vectors trained in this process, by settings.
        text_inputs (dict): inputs of models that read text their own way, by model and dataset.
    """

    def __init__(self):
        self.threads_: int | None = None
        self.trained_vectors: dict = {}
        self.text_inputs: dict = {}

    def configure_threads(self, threads: int) -> None:
        """Sizes TF's intra- and inter-op thread pools before TF starts its runtime.

        The thread count is part of a run's settings because it changes results: TF sums in another
        order with 1 thread than with 2, and over several epochs that can move a prediction. With the
        same count, every executor (local, processes, ray) gives bit-identical runs.
        """
        import warnings

        import_keras_quietly()
        import tensorflow as tf

        if self.threads_ == threads:
            return
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # TF already running in this process (e.g. an interactive session)
            current = tf.config.threading.get_intra_op_parallelism_threads()
            if current != threads:
                warnings.warn(f"TensorFlow already runs with {current or 'default'} threads; training.threads="
                              f"{threads} cannot apply in this process, so results may differ in the last "
                              "digits", stacklevel=3)
        self.threads_ = threads

    def seed(self, seed: int, deterministic: bool) -> None:
        """Seeds Python, NumPy and TF, and turns TF's op determinism on or off as the run asks (a
        ``deterministic: false`` run after a deterministic one in the same process really runs with
        it off)."""
        keras = import_keras_quietly()
        from tensorflow.python.framework import config as tf_config

        keras.utils.set_random_seed(seed)
        if deterministic and not tf_config.is_op_determinism_enabled():
            tf_config.enable_op_determinism()
        elif not deterministic and tf_config.is_op_determinism_enabled():
            tf_config.disable_op_determinism()


# This process's context: a worker process trains its runs one after another with it.
WORKER = WorkerContext()


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
    sequences = np.issubdtype(prepared.x_fit.dtype, np.integer)  # not e.g. a frozen encoder's features
    batching = run.training.batching if sequences else "fixed"
    family = get_family(run.model_name)
    batches = Batches(tf, batching == "bucketed", *family.bucket_padding(run.model, prepared.pad_after))
    with dtype_policy(keras, run.training.precision):
        model = family.build(
            run.model, sequence_length=None if batches.bucketed else prepared.x_fit.shape[1],
            num_classes=prepared.num_classes, embedding_matrix=prepared.matrix, embedding=run.embedding)
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
    callbacks = [timer, stopper, _StopOnNonFiniteLoss(keras)]
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
        for key in ("rarest", "unseen_vectors", "unseen_nowhere", "tokens"):
            predictions[key] = [example[key] for example in prepared.test_words.per_example]
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
        precision=run.training.precision,
        labels=json.dumps(list(prepared.label_names)),
        parameters=int(model.count_params()),
        trainable_parameters=int(sum(np.prod(w.shape) for w in model.trainable_weights)),
        **(prepared.test_words.counts() if prepared.test_words is not None else {}),
        **({f"coverage_{k}": v for k, v in coverage.as_dict().items()} if coverage is not None else {}),
        known_row_norm=_rounded(prepared.row_norms[0]), random_row_norm=_rounded(prepared.row_norms[1]),
        history=history_rows, predictions=predictions, embeddings=embeddings,
        timings={k: round(v, 4) for k, v in timings.items()})
    if run.training.save_model:
        from embedlab.experiments.running.model_folder import model_files

        result = dataclasses.replace(result, model_files=model_files(
            model, run, prepared, list(prepared.label_names), result.values(), prepared.vectors))
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


def tensorboard_name(run: RunSpec) -> str:
    """A run's TensorBoard sub-folder: its settings in words, then its id (unique)."""
    parts = [run.variant, dataset_name(run.data.dataset), run.model_name, run.embedding,
             (run.vectors or "").rsplit("/", 1)[-1] if run.embedding != "rand" else None, f"seed{run.seed}",
             None if run.fold is None else f"fold{run.fold}", None if run.train_size == 1.0 else f"size{run.train_size:g}"]
    return "_".join(p for p in parts if p) + "_" + run.run_id[:8]
