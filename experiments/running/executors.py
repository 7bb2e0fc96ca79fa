"""Executors: how a grid's runs are trained, in this process, in a pool of worker processes, or as
tasks on a Ray cluster. Each yields ``(run, result, error, seconds, started_at)`` for the runs it
could claim; a run that raises is a failure (recorded), a worker that dies is retried."""

from __future__ import annotations

import os
import sys
import time
import traceback
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from embedlab.experiments.config import RunSpec
from embedlab.experiments.running.records import RunResult
from embedlab.experiments.running.tracking import MissingDependencyError


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _train_safely(run: RunSpec, tensorboard_dir: str | None = None) -> tuple[RunResult | None, str | None, float, str]:
    """Trains one run; returns (result, error, seconds, started_at). Exceptions become an error text,
    so one run's failure never stops the grid (and crosses process boundaries as plain data)."""
    from embedlab.experiments.running import train  # imports Keras: only when there is work

    import dataclasses
    import socket

    started_at, started = now_iso(), time.perf_counter()
    try:
        result = dataclasses.replace(train.train_run(run, tensorboard_dir=tensorboard_dir), node=socket.gethostname())
        return result, None, round(time.perf_counter() - started, 3), started_at
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        return None, error, round(time.perf_counter() - started, 3), started_at


def _init_worker(driver: int) -> None:
    """Process-pool initialiser: import TF once per worker (threads are set by each run's settings),
    and exit if the driver dies — a driver killed with SIGKILL cannot stop its pool, and an orphaned
    worker would otherwise sit on ~1 GB of memory. Ctrl-C is the driver's to handle (it stops the
    workers), so workers ignore SIGINT (started with it blocked, see _sigint_blocked)."""
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    from embedlab.models import import_keras_quietly

    # `driver` comes from the driver itself: if it died while this worker was still starting up,
    # getppid() already differs here and the worker exits at once.
    def exit_when_orphaned() -> None:
        while os.getppid() == driver:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=exit_when_orphaned, daemon=True, name="embedlab-orphan-watch").start()
    import_keras_quietly()


def execute_local(runs, claim, tensorboard_dir=None):
    for run in runs:
        if claim(run):
            yield (run, *_train_safely(run, tensorboard_dir))


@contextmanager
def _sigint_blocked():
    """Blocks SIGINT in this thread while worker processes are started: they inherit the blocked
    signal, so a Ctrl-C during their start-up reaches only the driver (which stops them), instead of
    printing a traceback from each half-started worker. A Ctrl-C meanwhile is delivered right after."""
    import signal

    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _stop_workers(pool, in_flight: int, log) -> None:
    """Terminates a pool's worker processes now (their runs in flight are dropped, not recorded)."""
    print(f"embedlab: stopping {len(pool._processes or {})} worker process(es); {in_flight} run(s) in flight are "
          "dropped, not recorded …", file=log, flush=True)
    for process in list((pool._processes or {}).values()):
        process.terminate()


# A worker process that dies (SIGKILL, the kernel's OOM killer, a crash in native code) takes the pool
# down, and with it the runs every worker had in flight: those runs are trained again in a fresh pool,
# each at most this many more times (as Ray retries a task, see RAY_SYSTEM_RETRIES). A run under which
# workers keep dying is lost: not recorded, its claim released, so the next run of the config trains
# it. A run that raises is a failure (recorded), never retried here. Pools that break this many times
# in a row before finishing any run mean workers that cannot start: the grid stops with an error.
WORKER_DEATH_RETRIES = 3
BARREN_POOLS_LIMIT = 10


def execute_processes(runs, claim, workers: int, tensorboard_dir=None, log=None):
    import multiprocessing
    from collections import deque
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    log = log or sys.stderr
    context = multiprocessing.get_context("spawn")  # a fresh TF per worker; fork + TF deadlocks
    queue = iter(runs)
    again: deque = deque()  # claimed runs whose worker died, to train again before new ones
    deaths: dict = {}  # run_id → pools that broke while it was in flight
    pending: dict = {}

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(os.getpid(),))

    def fill() -> bool:
        """Keeps ``workers`` runs in flight (runs to train again first); False if the pool is broken."""
        while len(pending) < workers:
            run = again.popleft() if again else next((r for r in queue if claim(r)), None)  # claim, then submit
            if run is None:
                return True
            try:
                with _sigint_blocked():  # a worker process may start here
                    pending[pool.submit(_train_safely, run, tensorboard_dir)] = run
            except BrokenProcessPool:  # a worker died since the last wait; this run never started
                again.appendleft(run)
                return False
        return True

    def collect(futures) -> tuple[list, list]:
        """(outcomes, runs whose worker died) of finished futures, which leave ``pending``."""
        outcomes, died = [], []
        for future in futures:
            run = pending.pop(future)
            try:
                outcomes.append((run, *future.result()))
            except BrokenProcessPool:
                died.append(run)
        return outcomes, died

    pool, barren = new_pool(), 0  # barren: pools in a row that broke before finishing a run
    try:
        while True:
            intact = fill()
            if intact and not pending:
                return
            outcomes, died = collect(wait(pending, return_when=FIRST_COMPLETED)[0] if intact else ())
            barren = 0 if outcomes else barren
            yield from outcomes
            if intact and not died:
                continue
            # The pool is broken: each future still pending fails the same way (or has just finished).
            finished, stuck = wait(pending, timeout=60)
            outcomes, more = collect(finished)
            died += more + [pending.pop(future) for future in stuck]
            barren = 0 if outcomes else barren + 1
            yield from outcomes
            if barren >= BARREN_POOLS_LIMIT:  # not killed workers: they cannot start (see _init_worker)
                raise RuntimeError(f"worker processes died {barren} times in a row before finishing any run; "
                                   "try --executor local to see why")
            pool.shutdown(wait=True, cancel_futures=True)
            pool = new_pool()
            lost = []
            for run in died:
                deaths[run.run_id] = deaths.get(run.run_id, 0) + 1
                (lost if deaths[run.run_id] > WORKER_DEATH_RETRIES else again).append(run)
            print(f"embedlab: a worker process died; starting new workers ({len(died) - len(lost)} run(s) in flight "
                  f"trained again{f', {len(lost)} lost after {WORKER_DEATH_RETRIES} retries' if lost else ''})",
                  file=log, flush=True)
            for run in lost:  # not recorded: the next run of this config trains it
                yield (run, None, None, 0.0, now_iso())
    except BaseException:  # Ctrl-C, SIGTERM (raised as KeyboardInterrupt), or the driver stopped reading
        _stop_workers(pool, len(pending), log)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# Fault injection, for tests (tests/test_ray_cluster.py): this variable names a file of run ids, one a
# line; a Ray worker process given one of them exits at once (os._exit), on every try, as if killed,
# so that Ray's retries run out and the run is lost. Unset (always, outside tests): no effect.
DIE_ON_RUNS_VARIABLE = "EMBEDLAB_TEST_DIE_ON_RUNS"


def _die_if_listed(run: RunSpec) -> None:
    listing = os.environ.get(DIE_ON_RUNS_VARIABLE)
    if not listing:
        return
    try:
        doomed = Path(listing).read_text().split()
    except OSError:  # the file removed: no more faults
        return
    if run.run_id in doomed:
        os._exit(70)


def _train_on_ray_worker(run: RunSpec, tensorboard_dir: str | None = None):
    """A Ray task: the same code as the other executors; the row records the Ray node it ran on."""
    import dataclasses

    import ray

    _die_if_listed(run)
    result, *rest = _train_safely(run, tensorboard_dir)
    if result is not None:
        result = dataclasses.replace(result, node=f"{result.node}/{ray.get_runtime_context().get_node_id()[:12]}")
    return (result, *rest)


# Ray retries a task whose worker process or node died (never one that raised: _train_safely returns
# those as failures); a run still lost after that is not recorded, so the next run of the config redoes it.
RAY_SYSTEM_RETRIES = 3


def execute_ray(runs, claim, address: str | None, cpus_per_task: int | None, tensorboard_dir=None):
    try:
        import ray
    except ImportError:
        raise MissingDependencyError("the ray executor needs Ray: pip install 'embedlab[ray]'") from None

    started_here = not ray.is_initialized()
    if started_here:
        # address None: a local single-node instance; "auto" or "ray://host:10001": join a cluster.
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 **({} if address else {"num_cpus": os.cpu_count()}))
    try:
        cpus_per_task = cpus_per_task or max((r.training.threads for r in runs), default=1)
        task = ray.remote(num_cpus=cpus_per_task, max_retries=RAY_SYSTEM_RETRIES)(_train_on_ray_worker)
        slots = max(1, int(ray.cluster_resources().get("CPU", 1) // cpus_per_task))
        queue = iter(runs)
        pending: dict = {}

        def submit_next() -> None:
            for run in queue:
                if claim(run):
                    pending[task.remote(run, tensorboard_dir)] = run
                    return

        for _ in range(slots):
            submit_next()
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            run = pending.pop(done[0])
            try:
                outcome = ray.get(done[0])
            except Exception as exc:  # its worker or node died, retries included: lost, not failed
                outcome = (None, None, 0.0, now_iso())
                print(f"embedlab: {run.label}: lost on the cluster ({type(exc).__name__}); not recorded, the next "
                      "run of this config redoes it", file=sys.stderr, flush=True)
            yield (run, *outcome)
            submit_next()
    except BaseException:
        for ref in pending:  # Ctrl-C / SIGTERM: stop what the cluster still runs for us
            ray.cancel(ref, force=True)
        raise
    finally:
        if started_here:
            ray.shutdown()


EXECUTORS = ("local", "processes", "ray")
