"""Does a CV claim on one seed leave part of the training noise out of its test? Measured on a grid
that repeats its 10 folds with several seeds:

    .venv/bin/python bench/seed_effect.py docs/results/binary_table2_mr_seeds

A one-seed CV grid trains every fold with the same seed, so each fold's difference (condition − rand)
already carries that run's training noise, which the corrected resampled t sees in the spread over
folds. What it cannot see is a part shared by every fold of a seed (the same seed gives the same
initial filters on every fold): a seed main effect on the difference. Per condition, the differences
d[seed, fold] get a two-way ANOVA without replication (statsmodels: ``d ~ C(seed) + C(fold)``); the
seed effect's F test and its variance component ``max(0, (MS_seed − MS_residual) / folds)`` say how
much a one-seed estimate's variance misses. Set against the corrected t's own variance on one seed
(its SE², the mean over the seeds), that gives the factor by which a one-seed interval is too narrow
if the component is real: ``sqrt(1 + seed variance / SE²)``. Prints a Markdown table.

With ``--claims FILE`` it also gives one row per claim of the file that rests on the folder and
compares whole-test accuracies, from the claim's own pairs (a claim whose baseline is another variant's runs, such as MiniLM against the CNN's
rand, has no cell row), and with ``--widen F`` it re-reads every claim that rests on a one-seed CV grid (test
"corrected resampled t, k folds") with its standard error F times larger, Holm re-applied in each
family, and lists the claims whose verdict would then change:

    .venv/bin/python bench/seed_effect.py docs/results/binary_table2_mr_seeds --claims docs/claims.yaml --widen 1.3
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd


def seed_effects(outdir: Path, baseline: str = "rand") -> pd.DataFrame:
    """One row per (variant, dataset, vectors, model, condition): seeds, folds, the seed effect's F and p, its
    variance component and the residual variance (points²), from the folder's finished runs."""
    from embedlab.experiments.reporting.runs import finished_runs

    runs = finished_runs(outdir)
    # A cell is a (variant, dataset, vectors, model) combination: a variant's runs and its rand runs
    # are listed under it even where several variants share the same rand runs (finished_runs), so
    # each difference is taken within its variant and model.
    cell = ["variant", "dataset", "vectors", "model"]
    keys = cell + ["seed", "fold"]
    runs = runs.assign(vectors=runs["vectors"].fillna("–"))
    rand = runs[runs["embedding"] == baseline].set_index(keys)["accuracy"]
    rows = []
    for (variant, dataset, vectors, model, condition), part in runs[runs["embedding"] != baseline].groupby(
            cell + ["embedding"], sort=True):
        d = (part.set_index(keys)["accuracy"] - rand).dropna().mul(100).rename("d").reset_index()
        row = _seed_effect(d, part)
        if row:
            rows.append({"variant": variant, "dataset": dataset, "vectors": vectors, "model": model,
                         "condition": f"{condition} − {baseline}", **row})
    return pd.DataFrame(rows)


def claim_seed_effects(claims: Path, outdir: Path) -> pd.DataFrame:
    """The same, one row per claim of ``claims`` that rests on ``outdir`` and compares whole-test
    accuracies (not a sweet spot's contrast or a subset of test examples), from its own a − b pairs:
    a claim whose baseline is another variant's (MiniLM against the CNN's rand) gets a row too."""
    from embedlab.experiments.reporting.hypotheses import archive_runs, load_claims, paired_runs

    spec = load_claims(claims)
    root = Path(claims).resolve().parent.parent
    rows = []
    for claim in spec.claims:
        if claim.versus is not None or claim.examples is not None or \
                (root / claim.results).resolve() != Path(outdir).resolve():
            continue  # one difference of whole-test accuracies per claim
        a, b = paired_runs(archive_runs(root, claim.results), claim, claim.where)
        d = ((a["accuracy"] - b["accuracy"]) * 100).rename("d").reset_index()
        row = _seed_effect(d, a)
        if row:
            rows.append({"claim": claim.id, **row})
    return pd.DataFrame(rows)


def _seed_effect(d: pd.DataFrame, runs: pd.DataFrame) -> dict | None:
    """The seed effect on differences ``d`` (columns seed, fold, d in points), or None unless they
    are cross-validated and fill a seeds × folds table with at least 2 seeds; ``runs``: one side's
    runs (their sizes)."""
    from statsmodels.formula.api import ols
    from statsmodels.stats.anova import anova_lm

    from embedlab.experiments.reporting.design import seeds_by_folds
    from embedlab.experiments.reporting.stats import corrected_resampled_t

    seeds, folds, complete = seeds_by_folds(d) or (0, 0, False)
    if seeds < 2 or not complete:
        return None
    n_train, n_test = float((runs["n_train"] + runs["n_dev"]).mean()), float(runs["n_test"].mean())
    table = anova_lm(ols("d ~ C(seed) + C(fold)", data=d).fit())
    ms_seed, ms_residual = table.loc["C(seed)", "mean_sq"], table.loc["Residual", "mean_sq"]
    seed_var = max(0.0, (ms_seed - ms_residual) / folds)
    one_seed_se2 = float(pd.Series([corrected_resampled_t(g["d"].to_numpy(), n_train, n_test).se ** 2
                                    for _, g in d.groupby("seed")]).mean())
    return {"seeds": seeds, "folds": folds, "F": table.loc["C(seed)", "F"], "p": table.loc["C(seed)", "PR(>F)"],
            "seed_var": seed_var, "residual_var": ms_residual, "one_seed_se2": one_seed_se2,
            "too_narrow": (1 + seed_var / one_seed_se2) ** 0.5}


def widened(claims: Path, factor: float) -> pd.DataFrame:
    """Each one-seed CV claim's verdict as computed and with its SE ``factor`` times larger (the
    t interval and p recomputed on the same degrees of freedom, Holm re-applied per family)."""
    from dataclasses import replace

    from scipy import stats as scipy_stats

    from embedlab.experiments.reporting.hypotheses import evaluate, load_claims, verdict_of
    from embedlab.experiments.reporting.stats import holm

    spec = load_claims(claims)
    evaluations = evaluate(claims)
    one_seed = [e.difference.name.startswith("corrected resampled t,") for e in evaluations]
    tests = []
    for e, widen in zip(evaluations, one_seed):
        d = e.difference
        if not widen or not d.se > 0:  # (no spread: nothing to widen)
            tests.append(d)
            continue
        se, df = d.se * factor, d.pairs - 1
        t975, t95 = scipy_stats.t.ppf(0.975, df), scipy_stats.t.ppf(0.95, df)
        tests.append(replace(d, se=se, low=d.mean - t975 * se, high=d.mean + t975 * se, low90=d.mean - t95 * se,
                             high90=d.mean + t95 * se, p=float(2 * scipy_stats.t.sf(abs(d.mean) / se, df))))
    holm_p = {}
    for family in {e.claim.family for e in evaluations}:
        members = [i for i, e in enumerate(evaluations) if e.claim.family == family and e.claim.hypothesis == "greater"]
        holm_p.update(zip(members, holm([tests[i].p for i in members])))
    rows = []
    for i, (e, widen) in enumerate(zip(evaluations, one_seed)):
        if widen:
            after = verdict_of(e.claim, tests[i], holm_p.get(i, tests[i].p), e.margin, spec.alpha)
            rows.append({"claim": e.claim.id, "verdict": e.verdict, "widened": after, "holm_p": e.holm_p,
                         "widened_holm_p": holm_p.get(i, float("nan"))})
    return pd.DataFrame(rows)


def markdown(frame: pd.DataFrame) -> str:
    """A table of :func:`seed_effects` (one row per cell) or :func:`claim_seed_effects` (per claim)."""
    labels = ["claim"] if "claim" in frame.columns else ["variant", "dataset", "vectors", "model", "difference"]
    lines = ["| " + " | ".join(labels) + " | seeds × folds | seed effect F | p "
             "| seed variance (pts²) | residual variance (pts²) | one seed's corrected-t SE² (pts²) "
             "| one-seed interval too narrow by |",
             "|" + "---|" * (len(labels) + 7)]
    for r in frame.rename(columns={"condition": "difference"}).to_dict("records"):
        lines.append("| " + " | ".join(str(r[k]) for k in labels) + f" | {r['seeds']} × {r['folds']} "
                     f"| {r['F']:.2f} | {r['p']:.3g} "
                     f"| {r['seed_var']:.3f} | {r['residual_var']:.2f} | {r['one_seed_se2']:.3f} | ×{r['too_narrow']:.2f} |")
    return "\n".join(lines)


def _widened_markdown(frame: pd.DataFrame, factor: float) -> str:
    changed = frame[frame["verdict"] != frame["widened"]]
    counts = frame["verdict"].value_counts().to_dict()
    lines = [f"{len(frame)} claims rest on a one-seed CV grid ({counts}); with their SE ×{factor:g}, "
             f"{len(changed)} change verdict:"]
    lines += [f"- {r.claim}: {r.verdict} → {r.widened} (Holm p {r.holm_p:.3g} → {r.widened_holm_p:.3g})"
              for r in changed.itertuples(index=False)]
    return "\n".join(lines)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path, help="a grid with several seeds × folds")
    parser.add_argument("--claims", type=Path, help="a claims file: a seed-effect row per claim resting on OUTDIR, "
                                                    "and its one-seed CV claims re-read with --widen")
    parser.add_argument("--widen", type=float, default=1.3, help="SE factor for --claims (default 1.3)")
    args = parser.parse_args()
    from embedlab.experiments.running.store import StoreError

    try:  # a bad folder or claims file: one line naming it, nothing printed before
        if not (args.outdir / "results.db").is_file():
            raise FileNotFoundError(f"{args.outdir}: no results.db (not an output folder of embedlab run)")
        cells = seed_effects(args.outdir)
        table = markdown(cells) if len(cells) else f"{args.outdir}: no cell against its own rand fills a seeds × folds table"
        per_claim = claim_seed_effects(args.claims, args.outdir) if args.claims else None
        wider = _widened_markdown(widened(args.claims, args.widen), args.widen) if args.claims else None
    except (ValueError, StoreError, FileNotFoundError) as error:  # ConfigError is a ValueError
        sys.exit(f"seed_effect: error: {error}")
    print(table)
    if per_claim is not None and len(per_claim):
        print(f"\nThe claims of {args.claims} that rest on {args.outdir}, each on its own pairs:\n")
        print(markdown(per_claim))
    if wider:
        print()
        print(wider)
