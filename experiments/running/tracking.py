"""Optional MLflow logging of finished runs (``embedlab run … --mlflow sqlite:///mlflow.db``)."""

from __future__ import annotations

from pathlib import Path


class MissingDependencyError(RuntimeError):
    """An optional feature was asked for without its extra installed."""


class MlflowTracker:
    """Logs each finished run to an MLflow tracking store: params, metrics, history, artifacts.

    Args:
        uri (str): Tracking URI, e.g. ``sqlite:///mlflow.db`` (browse with ``mlflow ui
            --backend-store-uri sqlite:///mlflow.db``).
        experiment (str): MLflow experiment name (the config's name).
    """

    def __init__(self, uri: str, experiment: str):
        self.uri = uri
        self.experiment = experiment
        try:
            import mlflow
        except ImportError:
            raise MissingDependencyError("--mlflow needs MLflow: pip install 'embedlab[mlflow]'") from None
        self._mlflow = mlflow
        mlflow.set_tracking_uri(uri)
        if mlflow.get_experiment_by_name(experiment) is None:
            # artifacts next to a local store, not in ./mlruns of whatever folder we were started from
            location = None
            if uri.startswith("sqlite:///"):
                location = (Path(uri.removeprefix("sqlite:///")).resolve().parent / "mlartifacts").as_uri()
            mlflow.create_experiment(experiment, artifact_location=location)
        mlflow.set_experiment(experiment)

    def log(self, run, result, row: dict, run_dir: Path) -> None:
        """Logs one finished run: its identity as params, ``RunResult.HEADLINE`` as metrics, the
        per-epoch history as stepped metrics, and the run folder as artifacts."""
        mlflow = self._mlflow
        identity = run.identity()
        params = _flatten(identity)
        with mlflow.start_run(run_name=run.label):
            mlflow.set_tags({"embedlab.run_id": run.run_id, "git_commit": row.get("git_commit") or "",
                             "host": row.get("host") or ""})
            mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
            mlflow.log_metrics({k: float(getattr(result, k)) for k in result.HEADLINE})
            for epoch in result.history:
                step = int(epoch["epoch"])
                mlflow.log_metrics({f"epoch_{k}": float(v) for k, v in epoch.items() if k != "epoch"}, step=step)
            mlflow.log_artifacts(str(run_dir))


def _flatten(mapping: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat
