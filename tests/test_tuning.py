"""Tuning searches (``tune:``): the config section's checks, Dodge et al.'s expected-maximum
estimator, and a real search that resumes without training a trial twice."""

import io
import itertools

import numpy as np
import pytest

from embedlab.experiments.config import ConfigError, load_config
from embedlab.experiments.reporting.tuning import expected_max, tuned_runs

SEARCH = """\
    name: tiny_tune
    data: {dataset: mr, protocol: cv, folds: 3, subsample: 200}
    model: {cnn: {num_filters: 4}}
    training: {max_epochs: 1}
    grid: {model: [cnn], embedding: [rand, static], fold: [0, 1]}
    tune:
      trials: TRIALS
      sampler: SAMPLER
      space:
        training.learning_rate: {log_uniform: [1.0e-4, 1.0e-2]}
        model.cnn.dropout: {uniform: [0.2, 0.7]}
        training.batch_size: {choice: [25, 50]}
"""


def search(trials=2, sampler="random"):
    return SEARCH.replace("TRIALS", str(trials)).replace("SAMPLER", sampler)


def test_expected_max_matches_enumerating_every_draw():
    """Dodge et al.'s closed form = the mean over all N^n ordered draws (with replacement) of the
    best dev score, and of the test score of the trial holding it."""
    dev = np.array([0.70, 0.74, 0.71, 0.78])
    test = np.array([0.69, 0.70, 0.73, 0.75])
    curve = expected_max(dev, test)
    for n in (1, 2, 3):
        draws = list(itertools.product(range(len(dev)), repeat=n))
        best = [max(d, key=lambda i: dev[i]) for d in draws]
        assert curve.dev[n - 1] == pytest.approx(np.mean(dev[best]))
        assert curve.test[n - 1] == pytest.approx(np.mean(test[best]))
        assert curve.dev_sd[n - 1] == pytest.approx(np.std(dev[best]))
    assert curve.dev[0] == pytest.approx(dev.mean()) and curve.dev[-1] < dev.max()


@pytest.mark.parametrize("space, message", [
    ("training.learning_rat: {log_uniform: [1.0e-4, 1.0e-2]}", "tune.space.training.learning_rat"),
    ("training.learning_rate: {log_uniform: [0, 1.0e-2]}", "low must be above 0"),
    ("training.learning_rate: {uniform: [0.1, 0.01]}", "low must be below high"),
    ("training.learning_rate: {uniform: [0.1, 0.2], choice: [1]}", "exactly one of"),
    ("grid.seed: {choice: [1, 2]}", "only model.*, training.* and data.*"),
])
def test_a_bad_search_space_is_one_error_naming_the_key(write_config, space, message):
    text = SEARCH.replace("TRIALS", "2").replace("SAMPLER", "random").split("      space:")[0]
    with pytest.raises(ConfigError) as error:
        load_config(write_config(text + "      space:\n        " + space + "\n"))
    assert message in str(error.value) and "\n" not in str(error.value)


def test_tune_and_variants_are_refused_together(write_config):
    with pytest.raises(ConfigError, match="tune: cannot be combined with variants"):
        load_config(write_config(search() + "    variants: {small: {training.batch_size: 10}}\n"))


def test_a_search_lists_the_same_trials_on_every_start(write_config):
    from embedlab.experiments.running.tuning import _Search

    config = load_config(write_config(search(trials=3)))
    first, second = _Search(config), _Search(config)
    first.ask_round(), second.ask_round()
    assert first.variants == second.variants and len(first.variants) == 6
    by_condition = {}
    for name, settings in first.variants.items():  # every condition gets the same draws
        by_condition.setdefault(name.rsplit(".", 1)[1], []).append(settings["training.learning_rate"])
    assert all(len(set(v)) == 1 for v in by_condition.values())


def test_a_new_variant_is_not_a_settings_change(write_config, tmp_path):
    import yaml

    from embedlab.experiments.running.runner import settings_changes
    from embedlab.experiments.running.tuning import _Search, with_trials

    config = load_config(write_config(search(trials=2, sampler="tpe").replace("sampler: tpe", "sampler: tpe\n      round_size: 1")))
    state = _Search(config)
    state.ask_round()
    before = with_trials(config, state.variants)
    (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(before.model_dump(mode="json"), sort_keys=False))
    state.tell(state.ask_round(), {})
    assert settings_changes(tmp_path, with_trials(config, state.variants)) == []


@pytest.mark.slow  # trains models
def test_a_search_resumes_without_training_a_trial_twice_and_reports(write_config, tmp_path):
    from embedlab.experiments.reporting.report import report_markdown
    from embedlab.experiments.running.store import ResultsStore
    from embedlab.experiments.running.tuning import tune_grid

    out, log = tmp_path / "out", io.StringIO()
    first = tune_grid(load_config(write_config(search(trials=2))), out, executor="local", log=log)
    assert first.finished == 2 * (2 + 1) * 2  # conditions x (trials + untuned) x folds
    # A bigger budget keeps the first draws (same seed): only the third trial is trained.
    more = tune_grid(load_config(write_config(search(trials=3), "more.yaml")), out, executor="local", log=log)
    assert more.finished == 2 * 2 and more.skipped == 12
    frame = ResultsStore(out).frame()
    assert frame["dev_accuracy"].notna().all() and len(frame) == 16
    report = report_markdown(out)
    assert "Tuning: expected best accuracy" in report and "| untuned | mr |" in report
    assert "| tuned | mr |" in report and "n = 3" in report
    picked = tuned_runs(frame.assign(variant=frame["variant"]))
    assert len(picked) == 2 * 2  # one run per condition and fold


@pytest.mark.slow  # trains models
def test_a_tpe_search_replays_its_rounds_on_resume(write_config, tmp_path):
    from embedlab.experiments.running.tuning import tune_grid

    text = search(trials=2, sampler="tpe").replace("sampler: tpe", "sampler: tpe\n      round_size: 1")
    out = tmp_path / "out"
    first = tune_grid(load_config(write_config(text)), out, executor="local", log=io.StringIO())
    again = tune_grid(load_config(write_config(text, "again.yaml")), out, executor="local", log=io.StringIO())
    assert first.finished == 12 and again.finished == 0
