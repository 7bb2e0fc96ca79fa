"""An output folder knows which settings it holds: a changed config is refused with what differs,
or, with --new-settings, recorded beside the old runs without mixing them in report or status."""

import pytest

from embedlab.experiments.config import load_config
from embedlab.experiments.reporting.report import report_markdown
from embedlab.experiments.running.runner import SettingsChangedError, run_grid
from embedlab.experiments.reporting.status import grid_status



GRID = """\
    name: mix
    data: {dataset: mr, protocol: holdout, subsample: 200, test_fraction: 0.25}
    model: {cnn: {num_filters: 4}}
    training: {max_epochs: 1}
    grid: {embedding: [rand, static], seed: [1, 2]}
"""


@pytest.mark.slow  # trains models
def test_changed_settings_are_refused_or_kept_apart(write_config, tmp_path):
    out = tmp_path / "out"
    run_grid(load_config(write_config(GRID)), out, executor="local")
    changed = load_config(write_config(GRID.replace("max_epochs: 1", "max_epochs: 2"), "changed.yaml"))
    with pytest.raises(SettingsChangedError) as refused:
        run_grid(changed, out, executor="local")
    assert "training.max_epochs: 1 → 2" in str(refused.value) and f"--out {out}_2" in str(refused.value)
    assert len(list((out / "runs").iterdir())) == 4  # nothing written

    # keeping the models changes no run: no refusal, nothing to train
    keep = load_config(write_config(GRID.replace("max_epochs: 1}", "max_epochs: 1, save_model: true}"), "keep.yaml"))
    assert run_grid(keep, out, executor="local").finished == 0

    # more seeds with the same settings are the same experiment: no refusal
    more_seeds = load_config(write_config(GRID.replace("seed: [1, 2]", "seed: [1, 2, 3]"), "seeds.yaml"))
    assert run_grid(more_seeds, out, executor="local").finished == 2

    outcome = run_grid(changed, out, executor="local", new_settings=True)
    assert outcome.finished == 4
    report = report_markdown(out)
    assert "4 finished runs" in report and "6 recorded run(s) of earlier settings of this folder are not shown" in report
    assert "| cnn | " in report and "2/2" in report  # pairs only within the new settings
    status = grid_status(out)
    assert "4 runs: 4 finished, 0 failed, 0 running, 0 pending" in status


@pytest.mark.slow  # trains models
def test_reuse_copies_runs_with_the_same_id_from_another_folder(write_config, tmp_path):
    first = tmp_path / "first"
    run_grid(load_config(write_config(GRID)), first, executor="local")
    wider = load_config(write_config(GRID.replace("seed: [1, 2]", "seed: [1, 2, 3]"), "wider.yaml"))
    outcome = run_grid(wider, tmp_path / "second", executor="local", reuse=[first])
    assert outcome.finished == 2 and outcome.skipped == 4  # seed 3 trained, seeds 1-2 copied
    from embedlab.experiments.running.store import ResultsStore

    a = ResultsStore(first).frame().set_index("run_id")["accuracy"]
    b = ResultsStore(tmp_path / "second").frame().set_index("run_id")["accuracy"]
    assert (b.loc[a.index] == a).all() and len(b) == 6
    assert all((tmp_path / "second" / "runs" / run_id / "predictions.csv").exists() for run_id in b.index)


@pytest.mark.parametrize("change, refused", [
    ("grid.fold: [0, 1]", False),          # a variant's grid axis: more or fewer runs, same settings
    ("training.max_epochs: 2", True),      # a variant's setting: other settings
])
def test_a_variants_grid_axis_is_not_a_settings_change(write_config, tmp_path, change, refused):
    import yaml

    from embedlab.experiments.running.runner import settings_changes

    text = """\
        name: grow
        data: {dataset: mr, protocol: cv, folds: 10}
        grid: {model: [cnn], embedding: [rand]}
        variants:
          base: {}
          few: {CHANGE}
    """
    before = load_config(write_config(text.replace("CHANGE", "grid.fold: [0]")))
    (tmp_path / "experiment.yaml").write_text(yaml.safe_dump(before.model_dump(mode="json"), sort_keys=False))
    after = load_config(write_config(text.replace("CHANGE", change), "after.yaml"))
    assert bool(settings_changes(tmp_path, after)) == refused
