"""Using a kept model on new text: a model folder (its files: :mod:`embedlab.experiments.running.model_folder`)
is checked against its manifest, loaded, and predicts; it needs neither the training data nor the
data cache."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from embedlab.data.text import Vocabulary, tokenize
from embedlab.experiments.running.model_folder import (FILES, FORMAT, MANIFEST, ModelFolderError, scale_probabilities,
                                                       sha256_hex)


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
            if sha256_hex(file.read_bytes()) != expected.get(name):
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
        (``x``: the texts already encoded), temperature-scaled with the temperature fitted on the
        run's dev set."""
        from embedlab.data.batching import Batches
        from embedlab.models import import_keras_quietly

        import_keras_quietly()
        import tensorflow as tf

        x = self.encode(texts)[0] if x is None else x
        m = self.manifest
        batches = Batches(tf, m["batching"] == "bucketed", m["min_length"], m["pad_after"])
        data, order = batches.evaluate(x, np.zeros(len(x), dtype=np.int64))
        out = np.empty((len(x), len(self.labels)), dtype=np.float32)
        out[order] = self._model.predict(data, verbose=0)
        # Temperature-scaled on the run's dev set (model folders of release 0.4 on; older ones: 1).
        return scale_probabilities(out, self.manifest.get("temperature", 1.0))

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
