"""``embedlab export``: a recorded run's model as a self-contained folder, retrained from its stored
settings when the grid did not keep it (``training.save_model: false``, the default)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import yaml

from embedlab.experiments.running.model_folder import MANIFEST, write_model_folder


class ExportError(ValueError):
    """The run to export cannot be found or retrained; the message says which and what to do."""


def finished_runs_table(outdir: Path, limit: int = 15) -> str:
    """Finished runs, best accuracy first: what ``--run`` can name."""
    from embedlab.experiments.running.store import ResultsStore

    frame = ResultsStore(outdir).frame()
    frame = frame[frame["status"] == "finished"].sort_values("accuracy", ascending=False)
    lines = [f"{r.run_id}  {r.accuracy * 100:.1f}%  {r.dataset} {r.model} {r.embedding} seed={r.seed}"
             + ("" if pd.isna(r.fold) else f" fold={int(r.fold)}") for r in frame.head(limit).itertuples()]
    more = f"\n  … {len(frame) - limit} more" if len(frame) > limit else ""
    return "\n".join("  " + line for line in lines) + more


def find_run_dir(outdir: Path, run_id: str) -> Path:
    """The run folder of a run id or a unique prefix of one."""
    runs = outdir / "runs"
    matches = sorted(p for p in runs.glob(f"{run_id}*") if p.is_dir()) if runs.is_dir() else []
    if len(matches) != 1:
        what = "no finished run" if not matches else f"{len(matches)} runs"
        raise ExportError(f"{outdir}: {what} with id {run_id!r}; finished runs, best first:\n"
                          + finished_runs_table(outdir))
    return matches[0]


def export_run(outdir: str | Path, run_id: str, to: str | Path | None = None, log=None) -> Path:
    """Writes the model of one recorded run to a model folder.

    Copies ``runs/ID/model`` when the grid kept it; otherwise retrains the run from its stored
    ``config.yaml`` (same settings and seed, so the same model: the accuracy is checked against the
    recorded one) and writes it.

    Returns:
        Path: The model folder.

    Raises:
        ExportError: No such run, or its folder lacks config.yaml.
    """
    log = log or sys.stderr
    outdir = Path(outdir)
    run_dir = find_run_dir(outdir, run_id)
    target = Path(to) if to else outdir / "models" / run_dir.name
    if (run_dir / "model" / MANIFEST).is_file():
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(run_dir / "model", target)
        return target
    if not (run_dir / "config.yaml").is_file():
        raise ExportError(f"{run_dir}: config.yaml is missing, so the run cannot be retrained")
    from embedlab.experiments.config import RunSpec
    from embedlab.experiments.running.train import train_run
    from embedlab.experiments.running.worker import WORKER

    from embedlab.models.registry import get_family

    run = RunSpec.model_validate(yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8")))
    if not get_family(run.model_name).uses_word_vectors:
        raise ExportError(f"{run_dir}: model {run.model_name!r} reads text with its own tokenizer; exporting it "
                          "is not supported yet (a model folder holds the suite's vocabulary)")
    run = run.model_copy(update={"training": run.training.model_copy(update={"save_model": True})})
    if run.run_id != run_dir.name:
        raise ExportError(f"{run_dir}: its config.yaml gives run id {run.run_id}, not {run_dir.name} (the "
                          "data, vectors or code changed since it was recorded); rerun the grid instead")
    print(f"embedlab: {run.label}: model not kept (training.save_model: false); retraining it from "
          f"{run_dir / 'config.yaml'} …", file=log, flush=True)
    WORKER.configure_threads(run.training.threads)
    result = train_run(run)
    recorded = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))["accuracy"]
    if abs(result.accuracy - recorded) > 1e-9:
        print(f"embedlab: warning: the retrained model's test accuracy {result.accuracy:.4f} differs from the "
              f"recorded {recorded:.4f} (another TF version or thread count?)", file=log)
    if target.exists():
        shutil.rmtree(target)
    write_model_folder(target, result.model_files)
    return target
