"""The ``tune:`` section: a search space over a config's settings and a budget of trials per condition.

Each trial is one draw of the settings in ``space`` for one condition (dataset x vectors x model x
embedding); it trains that condition on every fold and seed of the grid, and its score is the mean
dev accuracy of those runs (each run's dev set is carved from its own training part, so the test
fold is never seen while tuning). ``embedlab run`` runs the trials as recorded runs
(:mod:`embedlab.experiments.running.tuning`), the report reads them
(:mod:`embedlab.experiments.reporting.tuning`).
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, model_validator

from embedlab.experiments.config.base import Section


class Distribution(Section):
    """One setting's distribution: exactly one of ``log_uniform``, ``uniform`` or ``integer`` (each
    ``[low, high]``, inclusive) or ``choice`` (a list of numbers, strings or booleans)."""

    log_uniform: tuple[float, float] | None = None
    uniform: tuple[float, float] | None = None
    integer: tuple[int, int] | None = None
    choice: list[bool | int | float | str] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> "Distribution":
        given = [name for name in ("log_uniform", "uniform", "integer", "choice") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of log_uniform, uniform, integer or choice "
                             f"({'none' if not given else ', '.join(given)} given)")
        bounds = self.log_uniform or self.uniform or self.integer
        if bounds is not None and not bounds[0] < bounds[1]:
            raise ValueError(f"[{bounds[0]}, {bounds[1]}]: low must be below high")
        if self.log_uniform is not None and self.log_uniform[0] <= 0:
            raise ValueError(f"log_uniform [{self.log_uniform[0]}, {self.log_uniform[1]}]: low must be above 0")
        return self

    def optuna(self):
        """The Optuna distribution it stands for."""
        import optuna

        if self.log_uniform is not None:
            return optuna.distributions.FloatDistribution(*self.log_uniform, log=True)
        if self.uniform is not None:
            return optuna.distributions.FloatDistribution(*self.uniform)
        if self.integer is not None:
            return optuna.distributions.IntDistribution(*self.integer)
        return optuna.distributions.CategoricalDistribution(self.choice)

    def example(self) -> Any:
        """A value inside it (the geometric mean or midpoint, the first choice): validates the key."""
        if self.log_uniform is not None:
            return math.sqrt(self.log_uniform[0] * self.log_uniform[1])
        if self.uniform is not None:
            return sum(self.uniform) / 2
        if self.integer is not None:
            return self.integer[0]
        return self.choice[0]


class TuneConfig(Section):
    """Hyper-parameter search with the same budget for every condition of the grid."""

    trials: int = Field(20, ge=1, le=500, description="trials per condition (the budget)")
    sampler: Literal["random", "tpe"] = Field(
        "random", description="random: independent draws, so the expected-best-accuracy curves (Dodge et al. "
                              "2019) are unbiased; tpe: Optuna's TPE, which spends the budget better but "
                              "whose trials are not independent draws")
    seed: int = Field(0, ge=0, description="the sampler's seed: the same seed draws the same trials")
    round_size: int | None = Field(None, ge=1, description="tpe: trials asked per condition before their "
                                   "results are told (default 2); random draws all trials at once")
    space: dict[str, Distribution] = Field(min_length=1, description="dotted setting -> its distribution, "
                                           "e.g. training.learning_rate: {log_uniform: [1e-4, 1e-2]}")

    @model_validator(mode="after")
    def _tunable_keys(self) -> "TuneConfig":
        for key in self.space:
            if key.split(".")[0] not in ("data", "model", "training") or key.startswith("data.dataset"):
                raise ValueError(f"space: {key}: only model.*, training.* and data.* settings (not the dataset) "
                                 "can be tuned; the grid's axes are the conditions being compared")
        return self

    @property
    def rounds_of(self) -> int:
        """Trials asked per condition before their results are told."""
        return self.trials if self.sampler == "random" else min(self.trials, self.round_size or 2)
