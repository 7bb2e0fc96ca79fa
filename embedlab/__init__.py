"""embedlab's Python API, for notebooks and scripts (the CLI does the same from a shell).

    import embedlab
    embedlab.run("configs/quickstart.yaml", training__max_epochs=5)   # or {"training.max_epochs": 5}
    frame = embedlab.results("results/quickstart")                   # one row per run
    print(embedlab.report("results/quickstart"))
    folder = embedlab.export("results/quickstart", run_id="3f2a")     # the run's model folder
    embedlab.load_model(folder).predict(["a gripping, funny film"])

Nothing here imports TensorFlow until a function trains or predicts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["run", "results", "report", "compare", "export", "load_model", "load_config"]


def load_config(config: "str | Path | dict | Any", overrides: dict[str, Any] | None = None):
    """A validated :class:`~embedlab.experiments.config.ExperimentConfig` from a path, a mapping (as
    the YAML file would hold) or a config object, with dotted-key overrides applied.

    Raises:
        ConfigError: Invalid settings (or settings nested too deeply); the message names the key.
    """
    from embedlab.experiments.config import (ConfigError, ExperimentConfig, NestingError, apply_overrides,
                                             check_shape, validate_mapping)
    from embedlab.experiments.config import load_config as load_file

    for where, value in (("overrides", overrides), ("config", config)):
        if isinstance(value, dict):  # bounded before json.dumps or a deep copy recurses through it
            try:
                check_shape(value)
            except NestingError as exc:
                raise ConfigError(f"{where}: {exc}") from None
    items = [f"{k}={json.dumps(v)}" for k, v in (overrides or {}).items()]
    if isinstance(config, (str, Path)):
        return load_file(config, items)
    raw = config.model_dump(mode="json") if isinstance(config, ExperimentConfig) else dict(config)
    raw = apply_overrides(raw, dict(overrides or {}), "overrides")
    return validate_mapping(raw, "config", Path.cwd())


def _dotted(settings: dict[str, Any]) -> dict[str, Any]:
    """``training__max_epochs=5`` (keyword form) → ``training.max_epochs``."""
    return {key.replace("__", "."): value for key, value in settings.items()}


def run(config, out: str | Path | None = None, *, executor: str = "processes", workers: int | None = None,
        overrides: dict[str, Any] | None = None, tensorboard: str | Path | None = None, **settings):
    """Runs every unfinished run of a config (resuming like ``embedlab run``; a config with ``tune:``
    runs its tuning search) and returns the results.

    Args:
        config: A config path, a mapping, or an ExperimentConfig.
        out: Output folder (default ``results/<name>``).
        executor: ``processes`` (default), ``local`` or ``ray``.
        workers: Worker processes (default cores // training.threads).
        overrides: Dotted-key settings, e.g. ``{"training.max_epochs": 5, "grid.seed": [1, 2]}``.
        tensorboard: Also write per-epoch scalars there (one sub-folder per run).
        **settings: The same as keywords with ``__`` for the dots: ``training__max_epochs=5``.

    Returns:
        pandas.DataFrame: :func:`results` of the output folder.
    """
    from embedlab.experiments.running.tuning import run_config

    experiment = load_config(config, {**(overrides or {}), **_dotted(settings)})
    outdir = Path(out) if out else Path("results") / experiment.name
    run_config(experiment, outdir, executor=executor, workers=workers, tensorboard_dir=tensorboard)
    return results(outdir)


def results(outdir: str | Path):
    """One row per recorded run of an output folder: the columns of its ``results.db`` and, flattened
    with a ``config.`` prefix, the run's resolved settings (``config.training.optimizer``, …).

    Raises:
        MissingResultsError: The folder has no results.db (a FileNotFoundError).
    """
    import pandas as pd

    from embedlab.experiments.running.store import ResultsStore, require_results

    require_results(outdir)
    frame = ResultsStore(outdir).frame()
    settings = pd.json_normalize([json.loads(c) if isinstance(c, str) else {} for c in frame["config_json"]])
    settings.columns = [f"config.{c}" for c in settings.columns]
    return pd.concat([frame.reset_index(drop=True), settings], axis=1)


def report(outdir: str | Path, metric: str = "accuracy", write_files: bool = False) -> str:
    """The Markdown report of an output folder (with ``write_files``, also OUTDIR/report/).

    Raises:
        MissingResultsError: The folder has no results.db (a FileNotFoundError, like :func:`results`).
    """
    from embedlab.experiments.reporting.report import report_markdown, write_report
    from embedlab.experiments.running.store import require_results

    require_results(outdir)
    if write_files:
        return (write_report(outdir, metric) / "report.md").read_text(encoding="utf-8")
    return report_markdown(outdir, metric)


def compare(*outdirs: str | Path, metric: str = "accuracy"):
    """Compares output folders run by run (see ``embedlab compare``); ``.rows`` is a DataFrame and
    ``.markdown`` the table.

    Raises:
        MissingResultsError: A folder has no results.db (a FileNotFoundError, like :func:`results`).
    """
    from embedlab.experiments.reporting.compare import compare_folders
    from embedlab.experiments.running.store import require_results

    for outdir in outdirs:
        require_results(outdir)
    return compare_folders(list(outdirs), metric=metric)


def export(outdir: str | Path, run_id: str, to: str | Path | None = None) -> Path:
    """Writes a recorded run's model folder (retraining it when the grid did not keep it)."""
    from embedlab.experiments.serving.export import export_run

    return export_run(outdir, run_id, to)


def load_model(path: str | Path):
    """A saved model folder, ready to ``predict(texts)``; see
    :class:`embedlab.experiments.serving.model.TrainedModel`."""
    from embedlab.experiments.serving.model import load_model as load

    return load(path)
