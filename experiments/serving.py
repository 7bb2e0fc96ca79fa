"""Keeping a trained model and using it on new text.

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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from embedlab.data.text import Vocabulary, tokenize

FORMAT = 1
MANIFEST = "model.json"
FILES = ("model.keras", "vocab.txt", "config.yaml")
# Pretrained words beyond the run's vocabulary kept in a saved model (open vocabulary): vector files
# list words by descending frequency, so these are the most frequent ones.
OPEN_WORDS = 50_000


class ModelFolderError(ValueError):
    """A model folder is missing, incomplete or corrupt; the message names the file."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def model_files(model, run, prepared, label_names: list[str], metrics: dict, vectors=None) -> dict[str, bytes]:
    """The files of a model folder, as bytes (so a worker process or Ray task can return them).

    Args:
        model: The trained Keras model.
        run (RunSpec): Its run.
        prepared (PreparedSplit): The data it was trained on (vocabulary, padding).
        label_names (list[str]): Class names, by label id.
        metrics (dict): The run's measured values (``RunResult.values()``).
        vectors (Vectors | None): The run's pretrained vectors (open vocabulary: kept words).
    """
    import yaml

    from embedlab.experiments.train import bucket_padding
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
    min_length, pad_after = bucket_padding(run, prepared.pad_after)
    manifest = {
        "format": FORMAT, "run_id": run.run_id, "model": run.model_name, "embedding": run.embedding,
        "labels": list(label_names), "tokenizer": "kim_clean_str", "sequence_length": int(prepared.x_fit.shape[1]),
        "length": int(prepared.x_fit.shape[1] - 2 * prepared.pad_after), "offset": int(prepared.pad_after),
        "batching": run.training.batching, "min_length": int(min_length), "pad_after": int(pad_after),
        "vocabulary": {"policy": run.data.vocabulary if run.embedding != "rand" else "train",
                       "training_words": int(prepared.training_vocab_size or len(prepared.vocab)),
                       "words": len(words), "vectors": run.vectors},
        "metrics": {k: metrics[k] for k in ("accuracy", "macro_f1", "n_train", "n_test") if k in metrics},
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        model.save(path, include_optimizer=False)
        files = {"model.keras": path.read_bytes()}
    files["vocab.txt"] = ("\n".join(words) + "\n").encode("utf-8")
    files["config.yaml"] = yaml.safe_dump(run.model_dump(mode="json"), sort_keys=False).encode("utf-8")
    manifest["sha256"] = {name: _sha256(data) for name, data in files.items()}
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


@dataclass(frozen=True)
class Prediction:
    """One text's prediction: its label, the model's probability for it, and the share of its
    tokens the model did not know (mapped to ``<unk>``)."""

    text: str
    label: str
    confidence: float
    unknown_share: float


class TrainedModel:
    """A saved model, ready to predict. Load with :meth:`load`.

    Attributes:
        manifest (dict): ``model.json``.
        labels (list[str]): Class names, by label id.
    """

    def __init__(self, keras_model, vocabulary: Vocabulary, manifest: dict):
        self._model, self._vocab, self.manifest = keras_model, vocabulary, manifest
        self.labels = manifest["labels"]

    @classmethod
    def load(cls, path: str | Path) -> "TrainedModel":
        """Reads and checks a model folder.

        Raises:
            ModelFolderError: A file is missing, does not match its checksum, or does not load.
        """
        path = Path(path)
        if not (path / MANIFEST).is_file():
            hint = " (a run folder: its model is in model/)" if (path / "model" / MANIFEST).is_file() else ""
            raise ModelFolderError(f"{path}: not a model folder, {MANIFEST} is missing{hint}")
        try:
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
            expected = manifest["sha256"]
        except (ValueError, KeyError, TypeError):
            raise ModelFolderError(f"{path / MANIFEST}: unreadable (not the JSON embedlab writes)") from None
        if manifest.get("format") != FORMAT:
            raise ModelFolderError(f"{path / MANIFEST}: format {manifest.get('format')!r}, this embedlab reads {FORMAT}")
        for name in FILES:
            file = path / name
            if not file.is_file():
                raise ModelFolderError(f"{file}: missing; the model folder is incomplete (export it again)")
            if _sha256(file.read_bytes()) != expected.get(name):
                raise ModelFolderError(f"{file}: does not match its checksum in {MANIFEST} (changed or truncated); "
                                       "export the model again")
        words = (path / "vocab.txt").read_text(encoding="utf-8").split("\n")[:-1]
        from embedlab.models import import_keras_quietly

        keras = import_keras_quietly()
        import embedlab.models.layers  # noqa: F401  (registers the custom layers)

        try:
            model = keras.saving.load_model(path / "model.keras", compile=False)
        except Exception as exc:  # noqa: BLE001 (any load failure is the folder's fault here)
            raise ModelFolderError(f"{path / 'model.keras'}: does not load ({type(exc).__name__}: {exc})") from None
        return cls(model, Vocabulary.from_words(words), manifest)

    def encode(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Token ids as the run's test set was encoded (the run's own Vocabulary.encode), and each
        text's share of tokens the vocabulary does not know."""
        tokens = [tokenize(text) for text in texts]
        x = self._vocab.encode(tokens, self.manifest["length"], self.manifest["offset"])
        known = self._vocab.index_
        unknown = np.array([sum(t not in known for t in ts) / len(ts) if ts else 0.0 for ts in tokens])
        return x, unknown

    def probabilities(self, texts: list[str], x: np.ndarray | None = None) -> np.ndarray:
        """Class probabilities, ``(len(texts), classes)``, batched as the run evaluated its test set
        (``x``: the texts already encoded)."""
        from embedlab.experiments.train import Batches
        from embedlab.models import import_keras_quietly

        import_keras_quietly()
        import tensorflow as tf

        x = self.encode(texts)[0] if x is None else x
        m = self.manifest
        batches = Batches(tf, m["batching"] == "bucketed", m["min_length"], m["pad_after"])
        data, order = batches.evaluate(x, np.zeros(len(x), dtype=np.int64))
        out = np.empty((len(x), len(self.labels)), dtype=np.float32)
        out[order] = self._model.predict(data, verbose=0)
        return out

    def predict(self, texts) -> list[Prediction]:
        """Label, confidence and unknown-token share of each text."""
        texts = [str(t) for t in texts]
        if not texts:
            return []
        x, unknown = self.encode(texts)
        probabilities = self.probabilities(texts, x)
        return [Prediction(text, self.labels[int(p.argmax())], float(p.max()), float(u))
                for text, p, u in zip(texts, probabilities, unknown)]

    def predict_frame(self, texts) -> pd.DataFrame:
        """:meth:`predict` as a DataFrame (columns text, label, confidence, unknown_share)."""
        return pd.DataFrame([p.__dict__ for p in self.predict(texts)],
                            columns=["text", "label", "confidence", "unknown_share"])


def load_model(path: str | Path) -> TrainedModel:
    """Loads a model folder (``OUTDIR/runs/RUN_ID/model`` or one written by ``embedlab export``)."""
    return TrainedModel.load(path)
