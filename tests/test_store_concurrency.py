"""Several runners on one fresh folder: every store operation succeeds, whatever the interleaving.

CI once failed with "database is locked" when two `embedlab run` processes started on one folder
together (SQLite's busy timeout does not cover every lock, e.g. the switch to WAL at creation), and
a reader could see the file before its tables ("no such table: runs"). Processes start each round
at one barrier on a new folder, so creation races are hit many times.
"""

import multiprocessing
import random

from embedlab.experiments.running.store import ResultsStore, StoreError

PROCESSES, ROUNDS, OPERATIONS = 6, 12, 25


def _hammer(folders, barrier, errors, seed):
    rng = random.Random(seed)
    for folder in folders:
        store = ResultsStore(folder)
        barrier.wait()
        for _ in range(OPERATIONS):
            run_id = f"run{rng.randint(0, 9)}"
            operation = rng.choice(["claim", "statuses", "frame", "set_grid", "heartbeat", "record",
                                    "live_claims", "own_claims"])
            try:
                if operation == "claim":
                    store.claim(run_id, {"finished"})
                elif operation == "set_grid":
                    store.set_grid([{"run_id": run_id, "variant": "std"}])
                elif operation == "record":
                    store.record({"run_id": run_id, "experiment": "race", "status": "finished"})
                else:
                    getattr(store, operation)()
            except StoreError as exc:
                errors.put(f"{operation}: {exc}")


def test_runners_starting_together_on_one_folder_never_meet_a_lock_or_a_missing_table(tmp_path):
    context = multiprocessing.get_context("spawn")
    barrier, errors = context.Barrier(PROCESSES), context.Queue()
    folders = [tmp_path / f"round{i}" for i in range(ROUNDS)]
    workers = [context.Process(target=_hammer, args=(folders, barrier, errors, seed)) for seed in range(PROCESSES)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert all(worker.exitcode == 0 for worker in workers)
    seen = []
    while not errors.empty():
        seen.append(errors.get())
    assert seen == []
    assert len(ResultsStore(folders[-1]).frame()) >= 1
