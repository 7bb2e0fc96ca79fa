"""One run's data: its split, vocabulary, vectors and embedding matrix.

:func:`prepare_split` turns a :class:`RunSpec` into padded index matrices (the same split, vocabulary
and embedding matrix for every run that shares them, so grids pair runs fairly).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from embedlab.data.datasets import Dataset
from embedlab.data.splits import dev_split, holdout_split, kfold_split, official_split, subsample
from embedlab.data.text import Vocabulary, tokenize
from embedlab.data.vector_sets import load_vectors
from embedlab.data.vectors import (Coverage, Vectors, build_embedding_matrix, rand_row_norm, rescale_pretrained_rows,
                                   row_norms, vector_coverage)
from embedlab.data.word2vec import (Word2VecParams, file_sentences, load_user_vectors, train_word2vec,
                                    wikitext2_sentences)
from embedlab.experiments.config import LEGACY_EMBEDDING_DIM, RunSpec, VectorsRef, dataset_name, load_any_dataset
from embedlab.experiments.running.records import ExampleWords
from embedlab.experiments.running.worker import WORKER
from embedlab.models.registry import get_family

UNKNOWN_SCALE = 0.25  # Kim 2014: words without a pretrained vector get U[-0.25, 0.25]


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
def tokenized_dataset(dataset_ref) -> tuple[Dataset, list[list[str]]]:
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
    dataset, tokens = tokenized_dataset(run.data.dataset)
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
        per_example (list[ExampleWords]): Per test example, what the frequency analysis reads (so a
            report needs no dataset).
    """

    in_training: int
    vectors_only: list[str]
    vectors_only_tokens: int
    unknown_tokens: int
    per_example: list[ExampleWords]

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
            per_example.append(ExampleWords(rarest=min((counts.get(t, 0) for t in tokens), default=0),
                                            unseen_vectors=seen["vectors"], unseen_nowhere=seen["nowhere"],
                                            tokens=len(tokens)))
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
    if run.vectors is None:
        return None
    ref = VectorsRef.of(run.vectors)
    if ref.in_registry:
        loaded = load_vectors(ref.text)
        if ref.kind == "subword":
            key = (ref.text, dataset_name(run.data.dataset), len(all_tokens or train_tokens))
            if key not in WORKER.trained_vectors:
                WORKER.trained_vectors[key] = loaded.for_words(t for text in (all_tokens or train_tokens) for t in text)
            return WORKER.trained_vectors[key]
        return loaded
    if ref.kind == "file":
        return load_user_vectors(ref.text)
    corpus = ref.corpus
    params = Word2VecParams(**run.word2vec.model_dump()) if run.word2vec else Word2VecParams()
    memo = WORKER.trained_vectors
    memo_key = (ref.text, params, train_key if corpus == "train" else None)
    if memo_key not in memo:
        if corpus == "train":
            sentences, name = train_tokens, f"{dataset_name(run.data.dataset)} training split"
        elif corpus == "wikitext2":
            sentences, name = wikitext2_sentences(), "wikitext2"
        else:
            sentences, name = file_sentences(corpus), corpus
        memo[memo_key] = train_word2vec(sentences, ref.algorithm, ref.dim, params, name)
    return memo[memo_key]
