"""What the embedding spaces encode (runs saved with ``training.save_embeddings``): nearest neighbours
of probe words (Kim's Table 3), word-pair similarity (WordSim-353, SimLex-999, MEN) and a
cross-validated polarity probe against AFINN-165 and VADER."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

PROBE_WORDS = ("good", "bad", "n't", "great", "boring", "funny", "cat", "dog", "movie", "love", "awful")


def load_space(run_dir: Path) -> tuple[list[str], np.ndarray]:
    words = (run_dir / "vocab.txt").read_text(encoding="utf-8").split("\n")[:-1]
    return words, np.load(run_dir / "embedding.npy")


def pretrained_space(vectors_id: str, words: list[str]) -> tuple[list[str], np.ndarray]:
    """The pretrained vectors restricted to a task vocabulary (words without a vector left out)."""
    from embedlab.data.vector_sets import is_subword, load_vectors

    vectors = load_vectors(vectors_id)
    if is_subword(vectors_id):  # every word has a vector, made from its sub-tokens
        vectors = vectors.for_words(words)
    kept = [w for w in words if w in vectors.index]
    return kept, np.asarray(vectors.matrix[[vectors.index[w] for w in kept]], dtype=np.float32)


def nearest_neighbours(words: list[str], matrix: np.ndarray, probe: str, k: int = 5) -> list[str]:
    index = {w: i for i, w in enumerate(words)}
    if probe not in index:
        return []
    norms = np.linalg.norm(matrix, axis=1)
    norms[norms == 0] = 1
    unit = matrix / norms[:, None]
    scores = unit @ unit[index[probe]]
    order = [i for i in np.argsort(-scores) if words[i] not in (probe, "<pad>", "<unk>")]
    return [words[i] for i in order[:k]]


POLARITY_PAIRS = (("good", "bad"), ("great", "awful"), ("best", "worst"), ("funny", "boring"))


def _cosine(words: list[str], matrix: np.ndarray, first: str, second: str) -> str:
    index = {w: i for i, w in enumerate(words)}
    if first not in index or second not in index:
        return "–"
    a, b = matrix[index[first]], matrix[index[second]]
    return f"{float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))):.3f}"


def _keyed_vectors(words: list[str], matrix: np.ndarray):
    from gensim.models import KeyedVectors

    keep = [i for i, w in enumerate(words) if w not in ("<pad>", "<unk>")]
    kv = KeyedVectors(vector_size=matrix.shape[1])
    kv.add_vectors([words[i] for i in keep], matrix[keep])
    return kv


def word_pair_scores(words: list[str], matrix: np.ndarray) -> dict[str, tuple[float, float]]:
    """Spearman ρ and OOV share (%) on each word-pair set, via gensim's ``evaluate_word_pairs``."""
    import logging

    from embedlab.data.lexicons import word_pair_files

    logging.getLogger("gensim").setLevel(logging.ERROR)
    kv = _keyed_vectors(words, matrix)
    scores = {}
    for name, path in word_pair_files().items():
        _, spearman, oov = kv.evaluate_word_pairs(path, restrict_vocab=len(kv), case_insensitive=True)
        scores[name] = (float(spearman.statistic if hasattr(spearman, "statistic") else spearman[0]), float(oov))
    return scores


def polarity_probe(words: list[str], matrix: np.ndarray, lexicon: dict[str, float],
                   vocabulary: set[str] | None = None, seed: int = 0) -> dict[str, float]:
    """Cross-validated logistic regression predicting a word's polarity (sign of its lexicon
    score) from its vector; only words of ``vocabulary`` (the task's) with a non-zero score."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    index = {w: i for i, w in enumerate(words)}
    chosen = [w for w, s in lexicon.items() if s != 0 and w in index and (vocabulary is None or w in vocabulary)]
    y = np.array([lexicon[w] > 0 for w in chosen], dtype=int)
    if len(chosen) < 20 or len(set(y)) < 2:
        return {"words": len(chosen), "accuracy": float("nan"), "majority": float("nan")}
    x = matrix[[index[w] for w in chosen]]
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    accuracy = cross_val_score(LogisticRegression(max_iter=2000, C=1.0), x, y, cv=folds).mean()
    return {"words": len(chosen), "accuracy": float(accuracy), "majority": float(max(y.mean(), 1 - y.mean()))}


def spaces_of(runs: pd.DataFrame, outdir: Path) -> dict[str, tuple[list[str], np.ndarray]]:
    """The embedding spaces an output directory holds: one learned space per condition (first seed
    saved), plus the pretrained space restricted to the same vocabulary."""
    spaces: dict[str, tuple[list[str], np.ndarray]] = {}
    for row in runs.sort_values("seed").itertuples():
        run_dir = Path(outdir) / "runs" / row.run_id
        if row.embedding in spaces or not (run_dir / "embedding.npy").exists():
            continue
        spaces[f"{row.embedding} (trained)" if row.embedding != "static" else "static"] = load_space(run_dir)
        if "pretrained" not in spaces and row.vectors:
            spaces["pretrained"] = pretrained_space(row.vectors, spaces[next(iter(spaces))][0])
    spaces.pop("static", None)  # frozen: identical to the pretrained rows
    order = ["pretrained", "non-static (trained)", "multichannel (trained)", "rand (trained)"]
    return {name: spaces[name] for name in order if name in spaces}


def restrict(space: tuple[list[str], np.ndarray], keep: set[str]) -> tuple[list[str], np.ndarray]:
    words, matrix = space
    rows = [i for i, w in enumerate(words) if w in keep]
    return [words[i] for i in rows], matrix[rows]


def spaces_markdown(spaces: dict[str, tuple[list[str], np.ndarray]]) -> str:
    """Neighbours, word-pair similarity and polarity-probe tables for each space."""
    from embedlab.data.lexicons import afinn_lexicon, vader_lexicon

    if not spaces:
        return ""
    # Compare like with like: every space on the same words (task words that have a pretrained vector).
    common = set.intersection(*(set(words) for words, _ in spaces.values())) - {"<pad>", "<unk>"}
    spaces = {name: restrict(space, common) for name, space in spaces.items()}
    names = list(spaces)
    task_vocabulary = common
    lines = [f"All spaces restricted to the {len(common):,} task-vocabulary words that have a pretrained vector.\n",
             "#### Nearest neighbours (cosine), Kim 2014 Table 3 style\n",
             "| probe | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for probe in PROBE_WORDS:
        cells = [", ".join(nearest_neighbours(*spaces[n], probe)) or "(not in vocabulary)" for n in names]
        lines.append(f"| {probe} | " + " | ".join(cells) + " |")
    lines += ["", "Cosine similarity of opposite-polarity pairs (Kim: training on sentiment pulls them apart):\n",
              "| pair | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for first, second in POLARITY_PAIRS:
        lines.append(f"| {first} – {second} | " + " | ".join(
            _cosine(*spaces[n], first, second) for n in names) + " |")
    lines += ["", "#### General similarity: Spearman ρ with human judgements (OOV share of pairs)\n",
              "| set | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    pair_scores = {n: word_pair_scores(*spaces[n]) for n in names}
    for set_name in next(iter(pair_scores.values())):
        lines.append(f"| {set_name} | " + " | ".join(
            f"{pair_scores[n][set_name][0]:.3f} ({pair_scores[n][set_name][1]:.0f}% OOV)" for n in names) + " |")
    lines += ["", "#### Sentiment: 5-fold CV accuracy of a linear probe predicting a word's polarity "
              "(task-vocabulary words with a non-zero lexicon score)\n",
              "| lexicon | words | majority | " + " | ".join(names) + " |", "|---" * (len(names) + 3) + "|"]
    for lexicon_name, lexicon in (("AFINN-165", afinn_lexicon()), ("VADER", vader_lexicon())):
        probes = {n: polarity_probe(*spaces[n], lexicon, task_vocabulary) for n in names}
        first = probes[names[0]]
        lines.append(f"| {lexicon_name} | {first['words']} | {first['majority'] * 100:.1f} | " + " | ".join(
            f"{probes[n]['accuracy'] * 100:.1f}" for n in names) + " |")
    return "\n".join(lines) + "\n"
