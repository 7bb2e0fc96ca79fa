"""``embedlab compare``: one table over several output folders (a grid before and after a change,
two vector sets run separately, …), paired run by run where the folders share test splits.

Runs match on dataset, model, embedding mode and training size (and vectors where the folders share
a vector set); pairs are runs of the same seed and fold on the same test split (the split settings
``data.protocol/folds/split_seed/subsample/test_fraction`` are read from each run's stored
settings). Each later folder is compared with the first: difference with a 95% CI from the test the
runs' design gets in every report (:mod:`design`: the corrected t for CV folds, with several seeds
on the same folds the fold means' plus the seed effect's; the seeds × sentences t for seeds on one
split; a paired t over seeds only for macro-F1 or runs without predictions) and Holm's adjustment
over the table. Where runs cannot be paired the table says why. Config variants are compared variant
by variant; when the folders share no vector set, each vector set gets its own row; a tuning folder's
trials are replaced by each fold's dev-best trial (the selection its own report uses), so trials are
not pooled into one mean.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from embedlab.experiments.reporting.runs import finished_runs
from embedlab.experiments.reporting.tables import format_ci, format_p

TUNED = "tuned (dev-best trial per fold)"
SPLIT_KEYS = ("protocol", "folds", "split_seed", "subsample", "test_fraction", "dataset_fingerprint")


@dataclass(frozen=True)
class Comparison:
    """The comparison of output folders.

    Attributes:
        rows: One row per matched condition and later folder (columns: dataset, model, embedding,
            train_size, vectors_a, vectors_b, folder_a, folder_b, mean_a, mean_b, n_a, n_b, pairs,
            diff, ci_low, ci_high, test, p, holm_p, note).
        notes: What could not be matched, in words.
        markdown: The table and the notes.
    """

    rows: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    markdown: str = ""


def _split_of(config_json: str) -> str:
    settings = json.loads(config_json) if isinstance(config_json, str) else {}
    data = settings.get("data", {})
    return json.dumps({k: data.get(k, settings.get(k)) for k in SPLIT_KEYS}, sort_keys=True)


def _runs(outdir, metric: str) -> pd.DataFrame:
    from embedlab.experiments.reporting.tuning import tuned_runs
    from embedlab.experiments.running.tuning import parse_trial_name

    runs = finished_runs(outdir)
    trials = runs["variant"].map(lambda v: parse_trial_name(v) is not None)
    if trials.any():  # a tuning folder: each fold's dev-best trial stands for its condition, as in its report
        runs = pd.concat([runs[~trials], tuned_runs(runs).drop(columns="trial").assign(variant=TUNED)], ignore_index=True)
    runs = runs.assign(split=runs["config_json"].map(_split_of), fold=runs["fold"].fillna(-1))
    return runs.drop_duplicates(["variant", "run_id"])[["run_id", "variant", "dataset", "vectors", "model", "embedding", "train_size",
                                                        "seed", "fold", "split", "n_train", "n_dev", "n_test", metric]]


def _paired(part_a: pd.DataFrame, part_b: pd.DataFrame, metric: str, runs_dirs: tuple[Path, Path]) -> dict:
    """The difference b − a over the runs the two share (split, seed, fold), with the design's test
    (:mod:`design`: the same test the folders' own reports give these runs); every key of a row's
    test part, empty where the runs cannot be paired."""
    from embedlab.experiments.reporting.design import paired_difference

    result = {"pairs": 0, "ci_low": np.nan, "ci_high": np.nan, "test": "–", "p": np.nan, "note": ""}
    a, b = part_a.set_index(["split", "seed", "fold"]), part_b.set_index(["split", "seed", "fold"])
    shared = a.index.intersection(b.index)
    if len(shared) == 0:
        result["note"] = ("different test splits: not paired" if set(part_a["split"]) != set(part_b["split"])
                          else "no seed/fold in common: not paired")
        return result
    a, b = a.loc[shared].reset_index(), b.loc[shared].reset_index()
    result.update(pairs=len(shared), diff=float((b[metric] - a[metric]).mean()))
    if len(shared) > 1:
        test = paired_difference(b, a, metric, runs_dirs[1], runs_dir_b=runs_dirs[0])
        result.update(ci_low=test.low, ci_high=test.high, p=test.p, test=test.name)
    if len(shared) < max(len(part_a), len(part_b)):
        result["note"] = f"{len(shared)} of {max(len(part_a), len(part_b))} runs paired"
    return result


def compare_folders(outdirs, metric: str = "accuracy") -> Comparison:
    """Compares each folder after the first with the first (see the module docstring)."""
    from embedlab.experiments.reporting.stats import holm

    names = [Path(d).name or str(d) for d in outdirs]
    if len(set(names)) < len(names):
        names = [str(d) for d in outdirs]
    base = _runs(outdirs[0], metric)
    base_runs = Path(outdirs[0]) / "runs"
    rows, notes = [], []
    for name_b, folder_b in zip(names[1:], outdirs[1:]):
        other = _runs(folder_b, metric)
        shared_vectors = set(base["vectors"].dropna()) & set(other["vectors"].dropna())
        keys = ["dataset", "model", "embedding", "train_size"] + (["vectors"] if shared_vectors else [])
        # Folders with config variants are compared variant by variant: with the other folder's same
        # variant where both have variants, else each of the one folder's variants with the other's runs.
        # (and, when the folders share no vector set, by the first folder's vector sets: pooled, one
        # seed and fold would stand for several runs)
        base_keys = (["variant"] if base["variant"].ne("–").any() else []) + keys + ([] if shared_vectors else ["vectors"])
        other_variants = other["variant"].ne("–").any()
        match_keys = (["variant"] if other_variants and "variant" in base_keys else []) + keys
        if not shared_vectors:
            notes.append(f"{names[0]} and {name_b} share no vector set: conditions are matched across their vectors.")
        for key, part_a in base.groupby(base_keys, dropna=False, sort=True):
            values = dict(zip(base_keys, key if isinstance(key, tuple) else (key,)))
            mask = np.logical_and.reduce([(other[k] == values[k]) | (other[k].isna() & pd.isna(values[k]))
                                          for k in match_keys])
            if not mask.any():
                notes.append(f"{' '.join(str(values[k]) for k in base_keys)}: only in {names[0]}.")
                continue
            # one row per variant and per vector set of the other folder's matches (runs of several
            # vector sets share seeds and folds, so pooled they would pair one run with many)
            split_by = ((["variant"] if other_variants and "variant" not in match_keys else [])
                        + ([] if "vectors" in match_keys else ["vectors"]))
            parts = other[mask].groupby(split_by, sort=True, dropna=False) if split_by else [(None, other[mask])]
            for _, part_b in parts:
                variant = part_b["variant"].iloc[0] if "variant" in split_by else values.get("variant", "–")
                rows.append({"variant": variant,
                             **{k: values.get(k) for k in ("dataset", "model", "embedding", "train_size")},
                             "vectors_a": ", ".join(sorted(map(str, part_a["vectors"].dropna().unique()))) or "–",
                             "vectors_b": ", ".join(sorted(map(str, part_b["vectors"].dropna().unique()))) or "–",
                             "folder_a": names[0], "folder_b": name_b,
                             "mean_a": part_a[metric].mean(), "std_a": part_a[metric].std(), "n_a": len(part_a),
                             "mean_b": part_b[metric].mean(), "std_b": part_b[metric].std(), "n_b": len(part_b),
                             "diff": part_b[metric].mean() - part_a[metric].mean(),
                             **_paired(part_a, part_b, metric, (base_runs, Path(folder_b) / "runs"))})
        only_b = other.merge(base[match_keys].drop_duplicates(), on=match_keys, how="left", indicator=True)
        for key in only_b[only_b["_merge"] == "left_only"][match_keys].drop_duplicates().itertuples(index=False):
            notes.append(f"{' '.join(map(str, key))}: only in {name_b}.")
    frame = pd.DataFrame(rows)
    if not frame.empty:
        tested = frame["p"].notna()
        frame["holm_p"] = np.nan
        if tested.any():
            frame.loc[tested, "holm_p"] = holm(frame.loc[tested, "p"].to_numpy())
    return Comparison(frame, notes, _markdown(frame, notes, names, metric))


def _markdown(frame: pd.DataFrame, notes: list[str], names: list[str], metric: str) -> str:
    title = metric.replace("_", "-")
    lines = [f"## Comparison of {', '.join(names)}", "",
             f"Test {title} (%), mean ± std (runs). Difference = later folder minus {names[0]}, in points, paired "
             "by test split, seed and fold (95% CI from the test named in each row: the runs' design's, as in their reports; "
             "Holm over the table; **bold** survives it at 0.05).", ""]
    if frame.empty:
        return "\n".join(lines + ["_no condition is in both folders_", *(f"- {n}" for n in notes)]) + "\n"
    # shown where they differ between the folders or between rows (else two rows look alike)
    vectors_differ = bool((frame["vectors_a"] != frame["vectors_b"]).any() or frame["vectors_a"].nunique() > 1)
    variants = bool(frame["variant"].ne("–").any())
    header = [*(["variant"] if variants else []), "dataset", "model", "embedding", "size", *(["vectors"] if vectors_differ else []), "folder",
              names[0], "other", "difference", "95% CI", "test", "p", "Holm p", "pairs", "note"]
    lines += ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]

    def cell(mean, std, n):
        return f"{mean * 100:.1f}" + (f" ± {std * 100:.1f}" if n > 1 else "") + f" ({n})"

    for r in frame.itertuples():
        bold = "**" if pd.notna(r.holm_p) and r.holm_p < 0.05 else ""
        vectors = [f"{r.vectors_a} → {r.vectors_b}" if r.vectors_a != r.vectors_b else r.vectors_a] if vectors_differ else []
        lines.append("| " + " | ".join([*([str(r.variant)] if variants else []), str(r.dataset), str(r.model), str(r.embedding), f"{r.train_size:g}", *vectors,
                                        str(r.folder_b), cell(r.mean_a, r.std_a, r.n_a), cell(r.mean_b, r.std_b, r.n_b),
                                        f"{bold}{r.diff * 100:+.2f}{bold}", format_ci(r.ci_low, r.ci_high), r.test,
                                        format_p(r.p), format_p(r.holm_p), str(r.pairs), r.note or ""]) + " |")
    if notes:
        lines += ["", "Not matched:", *(f"- {n}" for n in notes)]
    return "\n".join(lines) + "\n"


def write_comparison(comparison: Comparison, out: str | Path) -> Path:
    """Writes compare.md, compare.csv and a self-contained compare.html into ``out``."""
    from embedlab.experiments.reporting.html import markdown_to_html

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare.md").write_text(comparison.markdown, encoding="utf-8")
    comparison.rows.to_csv(out / "compare.csv", index=False)
    (out / "compare.html").write_text(markdown_to_html(comparison.markdown, out, "embedlab compare"), encoding="utf-8")
    return out
