"""The baseline users write by hand, in the style of the keras-io example "Using pre-trained word
embeddings": for every run, parse the GloVe text file, adapt a TextVectorization layer, build the
embedding matrix in a Python loop, train with Keras' default (dense) Adam on numpy arrays, one run
after another in one process.

It trains the same Kim CNN (built by the same builder, so the architecture cannot drift), on the
same splits, with the same epochs and early-stopping rule as the suite, so the accuracies should
agree within noise. Only the plumbing differs. Used by bench/bench.py.
"""

from __future__ import annotations

import time

import numpy as np

from embedlab.data.text import clean_str
from embedlab.experiments.config import RunSpec
from embedlab.models import import_keras_quietly
from embedlab.models.registry import get_builder


def parse_glove_text(path: str) -> dict[str, np.ndarray]:
    """keras-io style: a dict from word to vector, parsed line by line."""
    embeddings_index = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            word, coefs = line.split(maxsplit=1)
            embeddings_index[word] = np.fromstring(coefs, "f", sep=" ")
    return embeddings_index


def naive_run(run: RunSpec, texts: list[str], labels: np.ndarray, train: np.ndarray, dev: np.ndarray,
              test: np.ndarray, glove_txt: str) -> dict:
    """One run the hand-written way. Returns accuracy and timings."""
    keras = import_keras_quietly()
    started = time.perf_counter()
    embeddings_index = parse_glove_text(glove_txt)  # every run, as the copied script does

    cleaned = [clean_str(t) for t in texts]  # the suite's tokeniser, so vocabularies match
    vectorizer = keras.layers.TextVectorization(standardize=None, split="whitespace",
                                                output_sequence_length=None)
    vectorizer.adapt(np.array([cleaned[i] for i in np.concatenate([train, dev])], dtype=object))
    vocab = vectorizer.get_vocabulary()
    longest = max(len(cleaned[i].split()) for i in np.concatenate([train, dev]))
    length = max(min(longest, run.data.max_length), max(run.model.filter_sizes))

    def vectorize(idx):
        ids = vectorizer(np.array([cleaned[i] for i in idx], dtype=object)).numpy()
        out = np.zeros((len(idx), length), dtype="int32")
        out[:, : min(length, ids.shape[1])] = ids[:, :length]
        return out

    x_train, x_dev, x_test = vectorize(train), vectorize(dev), vectorize(test)
    dim = len(next(iter(embeddings_index.values())))
    rng = np.random.default_rng(run.seed)
    matrix = np.zeros((len(vocab), dim), dtype="float32")
    hits = 0
    for i, word in enumerate(vocab):  # the Python loop of the keras-io example
        vector = embeddings_index.get(word) if run.embedding != "rand" else None
        if vector is not None:
            matrix[i] = vector
            hits += 1
        elif i > 0:
            matrix[i] = rng.uniform(-0.25, 0.25, dim)
    keras.utils.set_random_seed(run.seed)
    model = get_builder("cnn")(sequence_length=length, num_classes=int(labels.max()) + 1, embedding_matrix=matrix,
                               embedding=run.embedding, filter_sizes=run.model.filter_sizes,
                               num_filters=run.model.num_filters, dropout=run.model.dropout,
                               max_norm=run.model.max_norm)
    model.compile(optimizer=keras.optimizers.Adam(run.training.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    stopper = keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=run.training.patience,
                                            restore_best_weights=True)
    fit_started = time.perf_counter()
    history = model.fit(x_train, labels[train], batch_size=run.training.batch_size, epochs=run.training.max_epochs,
                        validation_data=(x_dev, labels[dev]), callbacks=[stopper], verbose=0)
    fit_seconds = time.perf_counter() - fit_started
    predicted = model.predict(x_test, verbose=0).argmax(axis=1)
    keras.backend.clear_session()
    return {"accuracy": float((predicted == labels[test]).mean()), "epochs": len(history.history["loss"]),
            "fit_seconds": fit_seconds, "total_seconds": time.perf_counter() - started,
            "n_train": int(len(train)), "hits": hits}
