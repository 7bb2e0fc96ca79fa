"""The report of a tuning search (``tune:``): expected best accuracy as a function of the budget,
the best settings per condition, and the comparison untuned vs tuned.

Expected best accuracy after n trials is Dodge et al. (2019, "Show Your Work")'s estimator: with the
N trials of a condition sorted by their dev score, the best of n trials drawn with replacement is the
i-th with probability (i/N)^n - ((i-1)/N)^n; the expected test accuracy at budget n weighs each
trial's test accuracy by that same probability (the test accuracy of the trial the dev set picks).
The estimator assumes independent draws: it is exact for the random sampler, and only describes the
search that happened for TPE (said so in the section).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from embedlab.experiments.config.experiment import UNTUNED
from embedlab.experiments.reporting import design, stats

BUDGETS = (1, 2, 3, 5, 10, 20, 50, 100, 200, 500)
CONDITION = ["dataset", "vectors", "model", "embedding"]


@dataclass(frozen=True)
class ExpectedMax:
    """Expected best dev score after n = 1..N trials, its standard deviation, and the expected test
    score of the trial the dev score picks (arrays indexed by n - 1)."""

    dev: np.ndarray
    dev_sd: np.ndarray
    test: np.ndarray


def expected_max(dev_scores, test_scores) -> ExpectedMax:
    """Dodge et al. (2019)'s expected maximum for every budget n = 1..N (see the module docstring)."""
    dev, test = np.asarray(dev_scores, float), np.asarray(test_scores, float)
    order = np.argsort(dev, kind="stable")
    dev, test = dev[order], test[order]
    count = len(dev)
    ranks = np.arange(1, count + 1) / count
    means, sds, tests = [], [], []
    for n in range(1, count + 1):
        weights = ranks ** n - (ranks - 1 / count) ** n
        mean = float(weights @ dev)
        means.append(mean)
        sds.append(float(np.sqrt(max(weights @ (dev - mean) ** 2, 0.0))))
        tests.append(float(weights @ test))
    return ExpectedMax(np.array(means), np.array(sds), np.array(tests))


def trial_table(runs: pd.DataFrame, variants: dict[str, dict]) -> pd.DataFrame:
    """One row per trial: its condition, number, settings, mean dev and test accuracy over its runs."""
    from embedlab.experiments.running.tuning import parse_trial_name

    rows = []
    for name, part in runs.groupby("variant"):
        parsed = parse_trial_name(name)
        if parsed is None:
            continue
        settings = {k: v for k, v in variants.get(name, {}).items() if not k.startswith("grid.")}
        first = part.iloc[0]
        rows.append({"variant": name, "trial": parsed[1], "dataset": first["dataset"], "vectors": first["vectors"],
                     "model": first["model"], "embedding": first["embedding"], "runs": len(part),
                     "dev": part["dev_accuracy"].mean(), "test": part["accuracy"].mean(), "settings": settings})
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    # A trial still running (or stopped mid-way) has fewer runs than its condition's complete ones:
    # its mean would be over other folds, so it waits until it is complete.
    complete = table.groupby(CONDITION)["runs"].transform("max")
    return table[table["runs"] == complete].reset_index(drop=True)



def _condition_name(key) -> str:
    dataset, vectors, model, embedding = key
    return f"{embedding}" + ("" if embedding == "rand" else f", {vectors}") + f" ({model}, {dataset})"


def expected_max_markdown(trials: pd.DataFrame, budget: int) -> tuple[str, dict]:
    """The table of expected best dev / test accuracy at the budgets up to ``budget``, and the curves."""
    curves = {key: expected_max(part["dev"], part["test"]) for key, part in trials.groupby(CONDITION, sort=False)}
    shown = [n for n in BUDGETS if n <= budget] + ([budget] if budget not in BUDGETS else [])
    head = "| condition | trials | " + " | ".join(f"n = {n}" for n in shown) + " |"
    lines = [head, "|" + "---|" * (len(shown) + 2)]
    for key, curve in curves.items():
        count = len(curve.dev)
        cells = [f"{100 * curve.dev[n - 1]:.1f} ± {100 * curve.dev_sd[n - 1]:.1f} / {100 * curve.test[n - 1]:.1f}"
                 if n <= count else "–" for n in shown]
        lines.append(f"| {_condition_name(key)} | {count} | " + " | ".join(cells) + " |")
    return "\n".join(lines), curves


def order_changes(curves: dict) -> str:
    """Where the order of the conditions by expected test accuracy changes with the budget."""
    if len(curves) < 2:
        return ""
    budget = min(len(c.test) for c in curves.values())
    orders = [tuple(sorted(curves, key=lambda k: -curves[k].test[n])) for n in range(budget)]
    named = lambda order: " > ".join(_condition_name(k).split(" (")[0] for k in order)  # noqa: E731
    changes = [n for n in range(1, budget) if orders[n] != orders[n - 1]]
    if not changes:
        return f"The order by expected test accuracy is the same at every budget from 1 to {budget} trials: {named(orders[0])}."
    steps = "; ".join(f"from n = {n + 1}: {named(orders[n])}" for n in changes)
    return f"The order by expected test accuracy changes with the budget. At n = 1: {named(orders[0])}; {steps}."


def best_settings_markdown(trials: pd.DataFrame) -> str:
    lines = ["| condition | best trial | mean dev | mean test | settings |", "|---|---|---|---|---|"]
    for key, part in trials.groupby(CONDITION, sort=False):
        best = part.sort_values(["dev", "trial"], ascending=[False, True]).iloc[0]
        settings = ", ".join(f"{k} = {_short(v)}" for k, v in best["settings"].items())
        lines.append(f"| {_condition_name(key)} | {best['trial']} | {100 * best['dev']:.1f} | {100 * best['test']:.1f} | {settings} |")
    return "\n".join(lines)


def _short(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def tuned_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Per condition, fold and seed, the trial run with the best dev accuracy (nested selection: each
    fold's choice sees only that fold's dev set); ties go to the earlier trial."""
    from embedlab.experiments.running.tuning import parse_trial_name

    trials = runs[runs["variant"].map(lambda v: parse_trial_name(v) is not None)].copy()
    trials["trial"] = trials["variant"].map(lambda v: parse_trial_name(v)[1])
    trials = trials.sort_values(["dev_accuracy", "trial"], ascending=[False, True])
    keys = CONDITION + ["fold", "seed"]
    return trials.assign(fold=trials["fold"].fillna(-1)).drop_duplicates(keys).assign(
        fold=lambda f: f["fold"].replace(-1, np.nan))


def comparison_markdown(runs: pd.DataFrame, outdir: Path, metric: str = "accuracy") -> str:
    """Gains over rand, untuned vs tuned, with the design's test and Holm over the table's gains."""
    untuned = runs[runs["variant"] == UNTUNED]
    tuned = tuned_runs(runs)
    rows = []
    for label, part in (("untuned", untuned), ("tuned", tuned)):
        for (dataset, vectors, model), cell in part.groupby(["dataset", "vectors", "model"], sort=False):
            base = cell[cell["embedding"] == "rand"].sort_values(["fold", "seed"])
            for embedding, other in cell[cell["embedding"] != "rand"].groupby("embedding", sort=False):
                other = other.sort_values(["fold", "seed"])
                if base.empty or len(other) != len(base):
                    continue
                test = design.paired_difference(other.reset_index(drop=True), base.reset_index(drop=True), metric,
                                                outdir / "runs")
                rows.append({"setting": label, "dataset": dataset, "vectors": vectors, "model": model,
                             "embedding": embedding, "rand": base[metric].mean(), "condition": other[metric].mean(),
                             "test": test})
    if not rows:
        return ""
    adjusted = stats.holm([r["test"].p for r in rows])
    lines = [f"| setting | dataset | vectors | model | condition | rand | condition's | gain [95% CI] | test | Holm p |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for row, p in zip(rows, adjusted):
        t = row["test"]
        star = "**" if p < 0.05 else ""
        lines.append(f"| {row['setting']} | {row['dataset']} | {row['vectors']} | {row['model']} | {row['embedding']} | "
                     f"{100 * row['rand']:.1f} | {100 * row['condition']:.1f} | {star}{100 * t.mean:+.2f}{star} "
                     f"[{100 * t.low:+.2f}, {100 * t.high:+.2f}] | {t.name} | {p:.3g} |")
    return "\n".join(lines) + f"\n\nHolm over the {len(rows)} gains of this table; bold: adjusted p < 0.05.\n"


def plot_expected_max(curves: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4), sharex=True)
    for key, curve in curves.items():
        n = np.arange(1, len(curve.dev) + 1)
        line, = left.plot(n, 100 * curve.dev, label=_condition_name(key).split(" (")[0])
        left.fill_between(n, 100 * (curve.dev - curve.dev_sd), 100 * (curve.dev + curve.dev_sd), alpha=0.15,
                          color=line.get_color())
        right.plot(n, 100 * curve.test, color=line.get_color())
    left.set(xlabel="trials (budget)", ylabel="expected best dev accuracy (%)", xscale="log")
    right.set(xlabel="trials (budget)", ylabel="expected test accuracy of the dev-best trial (%)", xscale="log")
    left.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def tuning_markdown(runs: pd.DataFrame, tune, variants: dict, outdir: Path, figures_dir: Path | None) -> tuple[str, list[Path]]:
    """The whole tuning section: expected-max table (and figure), order changes, best settings, and
    the untuned vs tuned comparison."""
    trials = trial_table(runs, variants)
    if trials.empty:
        return "", []
    table, curves = expected_max_markdown(trials, tune.trials)
    sampler = ("random search: independent draws, so these are unbiased estimates" if tune.sampler == "random"
               else "TPE: the trials are not independent draws, so the curves describe this search, not "
                    "random search at that budget")
    space = ", ".join(f"`{k}` {_distribution(d)}" for k, d in tune.space.items())
    body = (f"Search space: {space}; {tune.trials} trials per condition ({sampler}; sampler seed {tune.seed}). "
            "A trial trains its condition on every fold and seed; its score is the mean dev accuracy (each run's "
            "dev set comes from its own training part, so no test fold is seen while tuning).\n\n"
            "Expected best mean dev accuracy ± its standard deviation / expected mean test accuracy of the trial "
            "the dev score picks, after n trials (Dodge et al. 2019), %:\n\n" + table + "\n\n" + order_changes(curves))
    figures = []
    if figures_dir is not None:
        path = plot_expected_max(curves, Path(figures_dir) / "expected_max.png")
        figures.append(path)
        body += f"\n\n![expected best accuracy]({path.name})\n\n*Figure: expected best accuracy after n trials per condition (band: ± one sd).*"
    body += "\n\n**Best settings per condition** (by mean dev accuracy over the folds):\n\n" + best_settings_markdown(trials)
    comparison = comparison_markdown(runs, outdir)
    if comparison:
        body += ("\n\n**Untuned vs tuned**: test accuracy (%) and gain over rand, tuned = per fold and seed the trial "
                 "with that fold's best dev accuracy:\n\n" + comparison)
    return body, figures


def _distribution(d) -> str:
    for name in ("log_uniform", "uniform", "integer", "choice"):
        value = getattr(d, name)
        if value is not None:
            return f"{name} {list(value)}"
    return ""
