"""Keeping a trained model: the files of a model folder, written when a run has ``training.save_model``
(read back by :mod:`embedlab.experiments.serving.model`).

A model folder is self-contained: ``model.keras`` (the Keras model, embedding tables included),
``vocab.txt`` (one word per line, line i = id i), ``model.json`` (label names, tokeniser, padding,
batching, the vocabulary policy, the run's id and metrics, and the sha256 of every file) and
``config.yaml`` (the run's resolved settings). Prediction needs nothing else: neither the training
data nor the data cache.

Under the open-vocabulary policy a word unseen in training keeps its pretrained vector; so that
new text gets the same treatment, the saved tables also hold the pretrained vectors of the
:data:`OPEN_WORDS` most frequent words the training vocabulary lacks (untuned, as the policy says),
after the rows the run used.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np

FORMAT = 1
MANIFEST = "model.json"
FILES = ("model.keras", "vocab.txt", "config.yaml")
# Pretrained words beyond the run's vocabulary kept in a saved model (open vocabulary): vector files
# list words by descending frequency, so these are the most frequent ones.
OPEN_WORDS = 50_000


class ModelFolderError(ValueError):
    """A model folder is missing, incomplete or corrupt; the message names the file."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def scale_probabilities(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Class probabilities with their log divided by ``temperature`` and renormalised (temperature
    scaling, Guo et al. 2017): the predicted class never changes, only how sure the model says it is."""
    logits = np.log(np.clip(np.asarray(probabilities, np.float64), 1e-12, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    scaled = np.exp(logits)
    return (scaled / scaled.sum(axis=1, keepdims=True)).astype(np.float32)


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The temperature in [0.05, 20] that minimises the negative log-likelihood of ``labels`` (one
    scalar, fitted on the dev set, which early stopping saw but training did not fit)."""
    from scipy.optimize import minimize_scalar

    labels = np.asarray(labels)

    def nll(log_t: float) -> float:
        scaled = scale_probabilities(probabilities, float(np.exp(log_t)))
        return float(-np.mean(np.log(np.clip(scaled[np.arange(len(labels)), labels], 1e-12, 1.0))))

    return float(np.exp(minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded").x))


def model_files(model, run, prepared, label_names: list[str], metrics: dict, vectors=None,
                temperature: float = 1.0) -> dict[str, bytes]:
    """The files of a model folder, as bytes (so a worker process or Ray task can return them).

    Args:
        model: The trained Keras model.
        run (RunSpec): Its run.
        prepared (PreparedSplit): The data it was trained on (vocabulary, padding).
        label_names (list[str]): Class names, by label id.
        metrics (dict): The run's measured values (``RunResult.values()``).
        vectors (Vectors | None): The run's pretrained vectors (open vocabulary: kept words).
        temperature (float): Fitted on the dev set (:func:`fit_temperature`); ``predict`` applies it.
    """
    import yaml

    from embedlab.models.registry import get_family
    from embedlab.models import import_keras_quietly

    keras = import_keras_quietly()
    words = list(prepared.vocab.words_)
    open_policy = run.embedding != "rand" and run.data.vocabulary == "open" and vectors is not None
    if open_policy:
        known = set(words)
        extra = [w for w in vectors.words[: OPEN_WORDS * 2] if w not in known][:OPEN_WORDS]
        if extra:
            model = _with_extra_rows(keras, model, run, prepared, np.asarray(
                vectors.matrix[[vectors.index[w] for w in extra]], dtype=np.float32) * np.float32(prepared.vector_scale))
            words += extra
    min_length, pad_after = get_family(run.model_name).bucket_padding(run.model, prepared.pad_after)
    manifest = {
        "format": FORMAT, "run_id": run.run_id, "model": run.model_name, "embedding": run.embedding,
        "labels": list(label_names), "tokenizer": "kim_clean_str", "sequence_length": int(prepared.x_fit.shape[1]),
        "length": int(prepared.x_fit.shape[1] - 2 * prepared.pad_after), "offset": int(prepared.pad_after),
        "batching": run.training.batching, "min_length": int(min_length), "pad_after": int(pad_after),
        "vocabulary": {"policy": run.data.vocabulary if run.embedding != "rand" else "train",
                       "training_words": int(prepared.training_vocab_size or len(prepared.vocab)),
                       "words": len(words), "vectors": run.vectors},
        "metrics": {k: metrics[k] for k in ("accuracy", "macro_f1", "n_train", "n_test") if k in metrics},
        "temperature": round(float(temperature), 4),
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        model.save(path, include_optimizer=False)
        files = {"model.keras": path.read_bytes()}
    files["vocab.txt"] = ("\n".join(words) + "\n").encode("utf-8")
    files["config.yaml"] = yaml.safe_dump(run.model_dump(mode="json"), sort_keys=False).encode("utf-8")
    manifest["sha256"] = {name: sha256_hex(data) for name, data in files.items()}
    files[MANIFEST] = json.dumps(manifest, indent=2).encode("utf-8")
    return files


def _with_extra_rows(keras, model, run, prepared, extra: np.ndarray):
    """The same trained model with ``extra`` rows appended to every embedding table."""
    from embedlab.models.registry import get_family

    tables = {layer.name: layer.get_weights()[0] for layer in model.layers if isinstance(layer, keras.layers.Embedding)}
    grown = get_family(run.model_name).build(
        run.model, sequence_length=model.input_shape[1], num_classes=prepared.num_classes,
        embedding_matrix=np.vstack([prepared.matrix, extra]), embedding=run.embedding)
    for layer in grown.layers:
        if layer.name in tables:
            layer.set_weights([np.vstack([tables[layer.name], extra])])
        elif layer.weights:
            layer.set_weights(model.get_layer(layer.name).get_weights())
    return grown


def write_model_folder(path: Path, files: dict[str, bytes]) -> None:
    path.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (path / name).write_bytes(data)
