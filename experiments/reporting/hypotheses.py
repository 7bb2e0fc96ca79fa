"""Claims as code: each claim of docs/RESULTS.md is a declared hypothesis, evaluated on recorded runs.

A claims file (``docs/claims.yaml``) lists hypotheses such as "static > rand on MR with Kim's
word2vec" or "potion-8M non-static ≈ GloVe non-static within 1 point". Each names the output folder
its runs are in, the two conditions it compares (``a`` and ``b``: filters on the runs' columns) and,
for a sweet-spot claim, a second setting whose gain it is contrasted with. :func:`evaluate` picks the
test the design calls for, adjusts p-values with Holm within each declared family, and gives a
verdict:

- ``SUPPORTED``: the difference a − b is in the claimed direction and survives Holm at 0.05;
- ``REFUTED``: it goes the other way and survives Holm (for an equivalence claim: the 95% interval
  lies outside the margin);
- ``EQUIVALENT``: no difference beyond the margin (TOST at 0.05: the 90% interval inside ±margin);
- ``INCONCLUSIVE``: none of these; the line says what difference the design could have detected.

Tests: cross-validation folds (one score per fold) → Nadeau & Bengio's corrected resampled t;
seeds on one split → :func:`~embedlab.experiments.reporting.stats.seeds_and_sentences` over the runs'
per-sentence predictions (seeds and test sentences both random). A test of the suite fails when a
claim's ``stated`` verdict (what RESULTS.md says) and the computed one disagree.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from embedlab.experiments.reporting.design import DesignTest, paired_difference, seeds_by_folds
from embedlab.experiments.running.records import read_predictions

Verdict = Literal["SUPPORTED", "REFUTED", "EQUIVALENT", "INCONCLUSIVE"]


class Hypothesis(BaseModel):
    """One declared claim (a row of the claims file)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    text: str = Field(description="the claim as RESULTS.md states it")
    results: str = Field(description="output folder of the runs (relative to the claims file's folder's parent)")
    family: str = Field(description="the Holm family it is adjusted in (one per table of claims)")
    hypothesis: Literal["greater", "equivalent"] = "greater"
    where: dict[str, Any] = Field(default_factory=dict, description="filter both sides share (dataset, train_size, ...)")
    a: dict[str, Any] = Field(description="filter of the condition claimed better (or equal)")
    b: dict[str, Any] = Field(description="filter of the condition it is compared with")
    versus: dict[str, Any] | None = Field(
        None, description="a sweet-spot contrast: the gain a − b at `where` minus the gain at these settings")
    examples: dict[str, tuple[float | None, float | None]] | None = Field(
        None, description="score each run on the test examples whose predictions.csv column lies in [low, high] "
                          "(null: unbounded), e.g. {rarest: [0, 2]}: sentences whose rarest word is rare")
    versus_examples: dict[str, tuple[float | None, float | None]] | None = Field(
        None, description="with `examples`: the gain a − b on `examples` minus the gain on these examples of the "
                          "same runs (Qi's claim 3: rare-word sentences gain more than frequent-word ones)")
    margin: float | None = Field(None, gt=0, description="points; default: the file's margin")
    stated: Verdict | None = Field(None, description="the verdict RESULTS.md states")

    @model_validator(mode="after")
    def _one_contrast(self) -> "Hypothesis":
        if self.versus_examples is not None and self.examples is None:
            raise ValueError("versus_examples needs examples (the gain on examples minus the gain on versus_examples)")
        if self.versus_examples is not None and self.versus is not None:
            raise ValueError("versus and versus_examples: one contrast per claim")
        return self


class ClaimsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    margin: float = Field(1.0, gt=0, description="equivalence margin in accuracy points (TOST)")
    alpha: float = Field(0.05, gt=0, lt=1)
    claims: list[Hypothesis]


@dataclass(frozen=True)
class Evaluation:
    """A claim's computed result: a − b in points as its design's test gives it, the commits its
    runs came from, Holm p within its family, and the verdict."""

    claim: Hypothesis
    verdict: Verdict
    difference: DesignTest
    commits: str
    holm_p: float
    family_size: int
    margin: float


def load_claims(path: Path) -> ClaimsFile:
    """A claims file, read and checked like a config (bounds, duplicate keys, YAML errors with their
    line).

    Raises:
        ConfigError: One line naming the file and the key or line.
    """
    from pydantic import ValidationError

    from embedlab.experiments.config import ConfigError, read_yaml_file, validation_error_lines

    try:
        return ClaimsFile.model_validate(read_yaml_file(Path(path)))
    except ValidationError as exc:
        raise ConfigError(f"{path}: " + "; ".join(validation_error_lines(exc, ClaimsFile))) from None


def evaluate(path: Path, root: Path | None = None) -> list[Evaluation]:
    """Evaluates every claim of a claims file; ``root``: where its ``results`` folders are
    (default: the repository, the file's folder's parent)."""
    from embedlab.experiments.reporting.stats import holm

    spec = load_claims(path)
    root = Path(root) if root is not None else Path(path).resolve().parent.parent
    tested = [_test(claim, root) for claim in spec.claims]
    raw, commits = [t for t, _ in tested], [c for _, c in tested]  # (a claims file may list none)
    adjusted: dict[str, float] = {}
    for family in {c.family for c in spec.claims}:
        members = [i for i, c in enumerate(spec.claims) if c.family == family and c.hypothesis == "greater"]
        for i, p in zip(members, holm([raw[i].p for i in members])):
            adjusted[spec.claims[i].id] = float(p)
    sizes = {f: sum(c.family == f and c.hypothesis == "greater" for c in spec.claims)
             for f in {c.family for c in spec.claims}}
    evaluations = []
    for claim, difference, runs_from in zip(spec.claims, raw, commits):
        holm_p = adjusted.get(claim.id, difference.p)
        margin = claim.margin or spec.margin
        verdict = verdict_of(claim, difference, holm_p, margin, spec.alpha)
        evaluations.append(Evaluation(claim, verdict, difference, runs_from, holm_p, sizes.get(claim.family, 0), margin))
    return evaluations


@dataclass(frozen=True)
class StrongerEvidence:
    """A claim on cross-validated runs of ``seeds`` seed(s) whose runs another archive beside its own
    holds too, with more seeds on the same folds (a complete seeds × folds table): the claim should be
    tested there, on the most repetitions recorded, not on whichever archive gives the verdict one likes."""

    claim_id: str
    results: str
    seeds: int
    folds: int
    better: str
    better_seeds: int

    def __str__(self) -> str:
        return (f"claim {self.claim_id}: rests on {self.seeds} seed(s) × {self.folds} folds in {self.results}; "
                f"{self.better} holds the same runs and more, {self.better_seeds} seeds × {self.folds} folds "
                f"(point its `results:` there)")


def stronger_evidence(path: Path, root: Path | None = None) -> list[StrongerEvidence]:
    """Claims on cross-validated runs that an archive beside theirs (same parent folder, e.g.
    docs/results/) could test on more seeds: at each of the claim's (dataset,) fold and seed it pairs
    the very runs the claim's archive pairs (same run ids, for a sweet spot on both settings), and
    its pairs fill a seeds × folds table of the same folds with more seeds. An archive that cannot be
    read is passed over (this is advice, not the claims' evaluation)."""
    from embedlab.experiments.running.store import DB_NAME, StoreError

    spec = load_claims(path)
    root = Path(root) if root is not None else Path(path).resolve().parent.parent
    runs_by_folder: dict[str, pd.DataFrame | None] = {}

    def pairs_in(results: str, claim: Hypothesis) -> list[pd.Series] | None:
        if results not in runs_by_folder:
            try:
                runs_by_folder[results] = archive_runs(root, results)
            except (StoreError, ValueError, OSError):
                runs_by_folder[results] = None
        runs = runs_by_folder[results]
        return None if runs is None else _paired_run_ids(runs, claim)

    found = []
    for claim in spec.claims:
        own = pairs_in(claim.results, claim)
        design = seeds_by_folds(own[0].index.to_frame(index=False)) if own else None
        if design is None:  # not cross-validated: seeds on one split are tested otherwise
            continue
        parent, best = Path(claim.results).parent, None
        for folder in sorted((root / parent).iterdir()):
            candidate = str(parent / folder.name)
            if candidate == claim.results or not (folder / DB_NAME).is_file():
                continue
            other = pairs_in(candidate, claim)
            if not other or not all(o.reindex(m.index).equals(m) for o, m in zip(other, own)):
                continue  # not the claim's own runs at its keys
            seeds, folds, complete = seeds_by_folds(other[0].index.to_frame(index=False)) or (0, 0, False)
            if complete and folds == design[1] and seeds > max(design[0], best[1] if best else 0):
                best = (candidate, seeds)
        if best:
            found.append(StrongerEvidence(claim.id, claim.results, design[0], design[1], *best))
    return found


def _paired_run_ids(runs: pd.DataFrame, claim: Hypothesis) -> list[pd.Series] | None:
    """The run ids the claim pairs in ``runs``: a, b (and a sweet spot's second a, b), each indexed
    by (dataset,) fold and seed; None where they do not pair up there."""
    try:
        sides = [paired_runs(runs, claim, claim.where)]
        if claim.versus is not None:
            sides.append(paired_runs(runs, claim, {**claim.where, **claim.versus}))
    except ValueError:
        return None
    return [side["run_id"] for pair in sides for side in pair]


def verdict_of(claim: Hypothesis, result: DesignTest, holm_p: float, margin: float, alpha: float) -> Verdict:
    """The verdict the rules give a claim's test: SUPPORTED / REFUTED / EQUIVALENT / INCONCLUSIVE."""
    from embedlab.experiments.reporting.stats import equivalent

    inside = equivalent(result.low90, result.high90, margin)
    if claim.hypothesis == "equivalent":
        if inside:
            return "EQUIVALENT"
        outside = result.low >= margin or result.high <= -margin
        return "REFUTED" if outside else "INCONCLUSIVE"
    if holm_p < alpha:
        return "SUPPORTED" if result.mean > 0 else "REFUTED"
    return "EQUIVALENT" if inside else "INCONCLUSIVE"


def _select(runs: pd.DataFrame, filters: dict[str, Any]) -> pd.DataFrame:
    keep = pd.Series(True, index=runs.index)
    for column, value in filters.items():
        if column not in runs.columns:
            raise ValueError(f"claims: no column {column!r} in the runs (known: {', '.join(runs.columns)})")
        keep &= runs[column].isin(value if isinstance(value, list) else [value])
    return runs[keep]


def archive_runs(root: Path, results: str) -> pd.DataFrame:
    from embedlab.experiments.reporting.runs import finished_runs
    from embedlab.experiments.running.store import require_results

    require_results(root / results)  # a typo'd folder is not "no runs pair up"
    frame = finished_runs(root / results)
    return frame.assign(variant=frame["variant"].fillna("–"))


def paired_runs(runs: pd.DataFrame, claim: Hypothesis, where: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Runs of a and b under ``where``, matched by dataset, fold and seed (one row per key); by fold
    and seed alone when the two sides are on different datasets (e.g. `mr` vs Kim's `kim_mr`: a
    nominal pairing, whose folds hold different sentences)."""
    selected = [_select(runs, {**where, **side}).assign(fold=lambda f: f["fold"].fillna(-1)) for side in (claim.a, claim.b)]
    same_data = bool(set(selected[0]["dataset"]) & set(selected[1]["dataset"]))
    keys = ["dataset", "fold", "seed"] if same_data else ["fold", "seed"]
    sides = [rows.drop_duplicates(keys).set_index(keys) for rows in selected]
    shared = sides[0].index.intersection(sides[1].index)
    if not len(shared):
        raise ValueError(f"claims: {claim.id}: no runs pair up in {claim.results} (check its filters)")
    return sides[0].loc[shared], sides[1].loc[shared]


def _test(claim: Hypothesis, root: Path) -> tuple[DesignTest, str]:
    """The claim's difference in points, from the test its runs' design calls for (:mod:`.design`),
    and the commits its runs came from."""
    runs = archive_runs(root, claim.results)
    a, b = paired_runs(runs, claim, claim.where)
    if claim.examples is not None:
        a, b = (_scored_on_examples(side, claim, root / claim.results / "runs") for side in (a, b))
    versus = paired_runs(runs, claim, {**claim.where, **claim.versus}) if claim.versus is not None else None
    commits = _commits(pd.concat([a, b, *(versus or ())]))
    test = paired_difference(a.reset_index(), b.reset_index(), "accuracy", root / claim.results / "runs",
                             versus=tuple(side.reset_index() for side in versus) if versus else None)
    return test.in_points(), commits


def _scored_on_examples(rows: pd.DataFrame, claim: Hypothesis, runs_dir: Path) -> pd.DataFrame:
    """``rows`` with ``accuracy`` on the claim's test examples only (minus the accuracy on
    ``versus_examples``): one score per fold (and seed), so the corrected resampled t tests it over the
    folds (the design's corrected t over seeds × folds)."""
    if not (rows.index.get_level_values("fold") >= 0).all() or rows.index.get_level_values("fold").nunique() < 2:
        raise ValueError(f"claims: {claim.id}: a claim on a subset of test examples needs cross-validated runs "
                         "(one score per fold)")
    scores = []
    for run_id in rows["run_id"]:
        predictions = read_predictions(runs_dir / run_id)
        right = predictions["correct"]
        score = _subset_accuracy(right, predictions, claim.examples, claim.id)
        if claim.versus_examples is not None:
            score -= _subset_accuracy(right, predictions, claim.versus_examples, claim.id)
        scores.append(score)
    return rows.assign(accuracy=scores)


def _subset_accuracy(right: pd.Series, predictions: pd.DataFrame, bounds: dict, claim_id: str) -> float:
    keep = pd.Series(True, index=predictions.index)
    for column, (low, high) in bounds.items():
        if column not in predictions.columns:
            raise ValueError(f"claims: {claim_id}: no column {column!r} in the runs' predictions.csv "
                             f"(known: {', '.join(predictions.columns)})")
        keep &= predictions[column].between(-float("inf") if low is None else low, float("inf") if high is None else high)
    if not keep.any():
        raise ValueError(f"claims: {claim_id}: a run has no test example with {bounds}")
    return float(right[keep].mean())


def _commits(rows: pd.DataFrame) -> str:
    """The commits the runs were trained at, with run counts and the dirty flag, from the database."""
    counts = rows.groupby([rows["git_commit"].fillna("?").str[:7], rows["git_dirty"].fillna(0).astype(int)]).size()
    return ", ".join(f"{commit}{' (dirty)' if dirty else ''} ×{n}" for (commit, dirty), n in counts.items())


def claims_markdown(evaluations: list[Evaluation]) -> str:
    """The evaluated claims as a table: verdict, estimate with its 95% interval, p and Holm p within
    the declared family, the test, and the commits the runs came from."""
    lines = ["| claim | verdict | a − b, points [95% CI] | p (Holm p); equivalence: 90% CI | family | test | runs from |",
             "|---|---|---|---|---|---|---|"]
    for e in evaluations:
        d = e.difference
        estimate = f"{d.mean:+.2f} [{d.low:+.2f}, {d.high:+.2f}]"
        if e.verdict == "INCONCLUSIVE":
            estimate += f"; detectable ≈ {d.detectable:.1f}"
        holm = f"{d.p:.3g} ({e.holm_p:.3g})" if e.claim.hypothesis == "greater" else \
            f"90% CI [{d.low90:+.2f}, {d.high90:+.2f}]"
        family = f"{e.claim.family} (Holm over {e.family_size})" if e.claim.hypothesis == "greater" else \
            f"{e.claim.family} (equivalence, ±{e.margin:g})"
        lines.append(f"| **{e.claim.id}**: {e.claim.text} | **{e.verdict}** | {estimate} | {holm} | {family} "
                     f"| {d.name} | `{e.claim.results}` at {e.commits} |")
    designs = Counter(e.difference.name for e in evaluations)
    tally = "; ".join(f"{name}: {n} ({_verdict_counts(e for e in evaluations if e.difference.name == name)})"
                      for name, n in designs.most_common())
    return ("Each claim is a declared hypothesis (`docs/claims.yaml`), evaluated by `embedlab claims "
            "docs/claims.yaml` on the archived runs: SUPPORTED / REFUTED = the difference survives Holm at "
            "0.05 within its family, in / against the claimed direction; EQUIVALENT = TOST at 0.05 inside "
            "the margin; INCONCLUSIVE otherwise, with the smallest difference the design would detect "
            "(2.8 × SE: 80% power at 0.05).\n\n" + "\n".join(lines) + "\n\n"
            f"The designs the {len(evaluations)} verdicts rest on (claims per test): {tally}.\n")


def _verdict_counts(evaluations) -> str:
    counts = Counter(e.verdict for e in evaluations)
    return ", ".join(f"{n} {verdict}" for verdict, n in sorted(counts.items(), key=lambda kv: -kv[1]))
