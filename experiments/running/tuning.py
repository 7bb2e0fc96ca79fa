"""A tuning search: every condition of a grid tuned with the same budget of trials, each trial a set
of recorded runs.

Optuna draws the trials (:class:`optuna.samplers.RandomSampler` by default, so that the expected
best accuracy after n trials can be estimated without bias; TPE on request). A trial of a condition
becomes a config variant, ``trial.<condition>.<number>``, holding the drawn settings and the grid
restricted to that condition, so its runs go through :func:`run_grid` like any other: the same
executors (processes, Ray), ids, crash-safe records and resume. Beside the trials, the variant
``untuned`` runs every condition with the config's own settings: the baseline the report compares
the tuned result with.

Nothing about the search is stored outside results.db: a rerun rebuilds each study from its seed,
asking the same trials in the same order and telling it the recorded results, so a killed search
resumes where it stopped and never trains a trial twice (the sampler is deterministic given the
same history, and the runs are, on CPU, given their settings).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

from embedlab.experiments.config import ExperimentConfig, RunSpec, dataset_name
from embedlab.experiments.config.experiment import TRIAL_PREFIX, UNTUNED
from embedlab.experiments.running.runner import GridOutcome, run_grid
from embedlab.experiments.running.store import ResultsStore


@dataclass(frozen=True)
class Condition:
    """One cell of the comparison that is tuned on its own: dataset x vectors x model x embedding."""

    dataset: str
    vectors: str | None
    model: str
    embedding: str

    @classmethod
    def of(cls, run: RunSpec) -> "Condition":
        return cls(dataset_name(run.data.dataset), run.vectors, run.model_name, run.embedding)

    @property
    def label(self) -> str:
        """A folder-safe name: ``mr.cnn.non-static.glove-6b-100d-wink``."""
        vectors = Path(self.vectors).stem if self.vectors and ("/" in self.vectors) else (self.vectors or "none")
        return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{self.dataset}.{self.model}.{self.embedding}.{vectors}")[:80]


def conditions(config: ExperimentConfig) -> list[Condition]:
    """The conditions a config's grid compares, in grid order."""
    return list(dict.fromkeys(Condition.of(run) for run in config.runs()))


def _restriction(config: ExperimentConfig, condition: Condition) -> dict:
    """The grid settings that make a variant run only ``condition`` (every fold and seed of it)."""
    restrict = {"grid.model": [condition.model], "grid.embedding": [condition.embedding]}
    if config.grid.vectors is not None:
        restrict["grid.vectors"] = [condition.vectors]
    if config.grid.dataset is not None:
        restrict["grid.dataset"] = [condition.dataset]
    return restrict


def trial_name(condition: Condition, number: int) -> str:
    return f"{TRIAL_PREFIX}{condition.label}.{number:03d}"


def parse_trial_name(name: str) -> tuple[str, int] | None:
    """``(condition label, trial number)`` of a trial variant's name; None for any other name."""
    if not name.startswith(TRIAL_PREFIX):
        return None
    label, _, number = name[len(TRIAL_PREFIX):].rpartition(".")
    return label, int(number)


def with_trials(config: ExperimentConfig, trials: dict[str, dict]) -> ExperimentConfig:
    """The config whose variants are ``untuned`` (its own settings) and the given trials."""
    raw = config.model_dump(mode="json", exclude={"variants"})
    raw["variants"] = {UNTUNED: {}, **trials}
    return ExperimentConfig.model_validate(raw)


class _Search:
    """One Optuna study per condition, asked in rounds; trials with settings already drawn for the
    condition reuse that trial's variant (same settings, same runs)."""

    def __init__(self, config: ExperimentConfig):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        tune = config.tune
        self.config, self.tune = config, tune
        self.distributions = {key: d.optuna() for key, d in tune.space.items()}
        self.conditions = conditions(config)
        # The same sampler seed for every condition: under random search each condition is tried
        # with the same draws of settings, so the conditions differ by what they are, not by luck.
        self.studies = {c: optuna.create_study(direction="maximize", sampler=self._sampler(optuna, tune.seed))
                        for c in self.conditions}
        self.variants: dict[str, dict] = {}
        self._drawn: dict[tuple[Condition, str], str] = {}  # (condition, its settings as JSON) → variant
        self.told: dict[Condition, int] = {c: 0 for c in self.conditions}

    def _sampler(self, optuna, seed: int):
        if self.tune.sampler == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        import warnings

        with warnings.catch_warnings():  # constant_liar is "experimental" since Optuna 2.8
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(seed=seed, n_startup_trials=min(10, self.tune.trials),
                                              constant_liar=True)

    def done(self) -> bool:
        return all(n >= self.tune.trials for n in self.told.values())

    def ask_round(self) -> list[tuple[Condition, object, str]]:
        pending = []
        for condition in self.conditions:
            for _ in range(min(self.tune.rounds_of, self.tune.trials - self.told[condition])):
                trial = self.studies[condition].ask(self.distributions)
                name = self._variant_for(condition, trial)
                pending.append((condition, trial, name))
        return pending

    def _variant_for(self, condition: Condition, trial) -> str:
        import json

        settings = {key: _plain(value) for key, value in trial.params.items()}
        key = (condition, json.dumps(settings, sort_keys=True))
        if key not in self._drawn:
            name = trial_name(condition, trial.number)
            self.variants[name] = {**_restriction(self.config, condition), **settings}
            self._drawn[key] = name
        return self._drawn[key]

    def tell(self, pending, scores: dict[str, float | None]) -> None:
        import optuna

        for condition, trial, name in pending:
            score = scores.get(name)
            if score is None:
                self.studies[condition].tell(trial, state=optuna.trial.TrialState.FAIL)
            else:
                self.studies[condition].tell(trial, score)
            self.told[condition] += 1


def _plain(value):
    """Optuna's numpy scalars as plain Python (they go into YAML and JSON)."""
    return value.item() if hasattr(value, "item") else value


def trial_scores(config: ExperimentConfig, outdir: Path) -> dict[str, float | None]:
    """Each variant's mean dev accuracy over its runs (None if any run is missing or failed)."""
    frame = ResultsStore(outdir).frame()
    finished = frame[frame["status"] == "finished"].set_index("run_id")["dev_accuracy"] if not frame.empty else {}
    scores = {}
    for name, runs in config.variant_runs().items():
        values = [finished.get(r.run_id) for r in runs]
        scores[name] = None if any(v is None or v != v for v in values) else float(sum(values) / len(values))
    return scores


def tune_grid(config: ExperimentConfig, outdir: str | Path, log=None, **run_options) -> GridOutcome:
    """Runs a config's tuning search (``config.tune``) to its budget, resuming what is recorded.

    Args:
        config (ExperimentConfig): A validated config with a ``tune`` section.
        outdir (str | Path): Output folder (results.db, runs/).
        log: Where progress lines go (stderr by default).
        **run_options: Passed on to :func:`run_grid` (executor, workers, reuse, ...).

    Returns:
        GridOutcome: The rounds' outcomes added up.
    """
    log = log or sys.stderr
    outdir = Path(outdir)
    search = _Search(config)
    total = GridOutcome(0, 0, 0, 0, 0.0)
    round_number = 0
    while not search.done():
        round_number += 1
        pending = search.ask_round()
        derived = with_trials(config, search.variants)
        told = sum(search.told.values())
        print(f"embedlab: tuning {config.name}: round {round_number}: {len(pending)} trial(s) of "
              f"{config.tune.trials} per condition x {len(search.conditions)} conditions ({told} told before; "
              f"{config.tune.sampler} sampler)", file=log, flush=True)
        outcome = run_grid(derived, outdir, log=log, **run_options)
        search.tell(pending, trial_scores(derived, outdir))
        total = GridOutcome(outcome.total, total.skipped + outcome.skipped, total.finished + outcome.finished,
                            total.failed + outcome.failed, total.seconds + outcome.seconds,
                            outcome.failed_before, total.lost + outcome.lost, outcome.held_elsewhere)
        if outcome.lost or outcome.held_elsewhere:
            break  # the missing trials cannot be told; the next run of the command trains them
    return total


def run_config(config: ExperimentConfig, outdir: str | Path, **options) -> GridOutcome:
    """Runs a config the way its file asks: its tuning search (``tune:``) if it has one, else its
    grid. The one entry point of the command line and the Python API; ``options`` as
    :func:`run_grid`'s."""
    return (tune_grid if config.tune is not None else run_grid)(config, outdir, **options)
