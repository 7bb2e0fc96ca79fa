"""Running a grid: skip what is finished, isolate failures, record everything.

For each run the directory ``OUTDIR/runs/<run_id>/`` (config snapshot, metrics.json, history.csv,
predictions.csv) is written under a temporary name and renamed when complete; then the run's row is
written to ``OUTDIR/results.db`` in one transaction. A run interrupted anywhere leaves no row, so
running the config again redoes exactly the runs that have none.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import yaml

from embedlab.data.cache import atomic_dir
from embedlab.experiments.config import ExperimentConfig, RunSpec, dataset_name
from embedlab.experiments.provenance import git_state, host, library_versions
from embedlab.experiments.store import ResultsStore


@dataclass
class GridOutcome:
    total: int
    skipped: int
    finished: int
    failed: int
    seconds: float


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _write_run_dir(run_dir: Path, run: RunSpec, result: dict, provenance: dict) -> None:
    if run_dir.exists():  # left by a run that was killed after renaming but before its DB row
        shutil.rmtree(run_dir)
    with atomic_dir(run_dir) as tmp:
        (tmp / "config.yaml").write_text(yaml.safe_dump(run.model_dump(mode="json"), sort_keys=False))
        (tmp / "metrics.json").write_text(json.dumps(
            {"run_id": run.run_id, **result["metrics"], **result["sizes"], "coverage": result["coverage"],
             **provenance}, indent=2))
        _write_csv(tmp / "history.csv", result["history"])
        predictions = result["predictions"]
        _write_csv(tmp / "predictions.csv", [dict(zip(predictions, values)) for values in zip(*predictions.values())])


def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as handle:
        if rows:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def _row(run: RunSpec, status: str, started_at: str, provenance: dict, result: dict | None = None,
         error: str | None = None, total_seconds: float | None = None) -> dict:
    coverage = (result or {}).get("coverage") or {}
    return {
        "run_id": run.run_id, "experiment": run.experiment, "status": status,
        "dataset": dataset_name(run.data.dataset), "vectors": run.vectors, "model": run.model_name,
        "embedding": run.embedding, "seed": run.seed, "fold": run.fold, "train_size": run.train_size,
        **((result or {}).get("metrics") or {}), **((result or {}).get("sizes") or {}),
        "total_seconds": total_seconds,
        "coverage_hits": coverage.get("hits"), "coverage_misses": coverage.get("misses"),
        "coverage_type_share": coverage.get("type_share"), "coverage_token_share": coverage.get("token_share"),
        "config_hash": run.run_id, "config_json": run.identity(),
        "versions_json": provenance["versions"], "git_commit": provenance["git_commit"],
        "git_dirty": provenance["git_dirty"], "host": provenance["host"],
        "started_at": started_at, "finished_at": _now(), "error": error,
    }


def run_grid(config: ExperimentConfig, outdir: str | Path, *, retry_failed: bool = False,
             log=None) -> GridOutcome:
    """Runs every run of a config that has no finished row in ``outdir`` yet.

    Args:
        config (ExperimentConfig): Validated config.
        outdir (str | Path): Output directory (holds results.db and runs/).
        retry_failed (bool): Also re-run runs recorded as failed (by default they are skipped, so
            a deterministic failure is not repeated on every resume).
        log: Writable text stream for progress lines (stderr by default).

    Returns:
        GridOutcome: Counts and wall time.
    """
    from embedlab.experiments.train import train_run  # imports Keras: only when there is work

    log = log or sys.stderr
    outdir = Path(outdir)
    store = ResultsStore(outdir)
    runs = config.runs()
    recorded = store.statuses()
    skip = {"finished", "failed"} if not retry_failed else {"finished"}
    todo = [r for r in runs if recorded.get(r.run_id) not in skip]
    print(f"embedlab: {config.name}: {len(runs)} runs, {len(runs) - len(todo)} already recorded, "
          f"{len(todo)} to do → {outdir}", file=log, flush=True)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "experiment.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
    state = git_state()
    provenance = {"versions": library_versions(), "git_commit": state["commit"], "git_dirty": state["dirty"],
                  "host": host()}
    started = time.perf_counter()
    finished = failed = 0
    claimed_elsewhere = 0
    for number, run in enumerate(todo, start=1):
        if not store.claim(run.run_id, skip):
            claimed_elsewhere += 1  # finished meanwhile, or another runner is on it
            continue
        started_at = _now()
        run_started = time.perf_counter()
        prefix = f"[{number}/{len(todo)}] {run.label}"
        try:
            result = train_run(run)
        except KeyboardInterrupt:
            store.release(run.run_id)
            raise
        except Exception as exc:  # one run's failure must not stop the grid
            failed += 1
            error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
            store.record(_row(run, "failed", started_at, provenance, error=error,
                              total_seconds=round(time.perf_counter() - run_started, 3)))
            print(f"{prefix}: FAILED ({type(exc).__name__}: {exc})", file=log, flush=True)
            continue
        total = round(time.perf_counter() - run_started, 3)
        _write_run_dir(outdir / "runs" / run.run_id, run, result,
                       {k: provenance[k] for k in ("git_commit", "git_dirty", "host")})
        store.record(_row(run, "finished", started_at, provenance, result=result, total_seconds=total))
        finished += 1
        metrics = result["metrics"]
        elapsed = time.perf_counter() - started
        eta = elapsed / number * (len(todo) - number)
        print(f"{prefix}: acc {metrics['accuracy']:.4f}  f1 {metrics['macro_f1']:.4f}  "
              f"{metrics['epochs']} ep  {total:.1f}s  (eta {eta / 60:.1f} min)", file=log, flush=True)
    return GridOutcome(len(runs), len(runs) - len(todo) + claimed_elsewhere, finished, failed,
                       time.perf_counter() - started)
