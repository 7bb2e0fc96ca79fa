"""Fault injection for real: SIGKILL mid-grid and resume, a run that raises, a NaN loss,
two runners on one directory."""

import signal
import sqlite3
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.slow  # trains models (see conftest: the fast tier)

GRID = """\
    name: faults
    data: {dataset: mr, protocol: holdout, subsample: 200, test_fraction: 0.25}
    model: {cnn: {num_filters: 4}}
    training: {max_epochs: 1, batch_size: 50}
    grid: {embedding: [rand, static], seed: [1, 2, 3]}
"""


def _count(db_path):
    if not db_path.exists():
        return 0
    # A short timeout: a poll that waits on the writer's lock must not let the grid run to its end
    # before the test's signal is sent (seen under a loaded machine: the grid finished first).
    with sqlite3.connect(db_path, timeout=0.5) as db:
        try:
            return db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def _default_sigint() -> None:
    # A test session started in the background (`cmd &` in a script) ignores SIGINT, and its children
    # inherit that, so "Ctrl-C" would reach nothing: give the command the terminal's default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(config, out):
    return subprocess.Popen([sys.executable, "-m", "embedlab.experiments.cli", "run", str(config), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)


def _expected_ids(config):
    from embedlab.experiments.config import load_config

    return {r.run_id for r in load_config(config).runs()}


@pytest.mark.parametrize("kill_after_rows", [0, 1, 3])
def test_sigkill_then_resume_finishes_exactly_the_grid(write_config, tmp_path, kill_after_rows):
    config, out = write_config(GRID), tmp_path / "out"
    db = out / "results.db"
    process = _start(config, out)
    deadline = time.time() + 300
    # kill_after_rows=0: kill while the first run is in flight (its claim exists, no row yet)
    while time.time() < deadline and process.poll() is None:
        if kill_after_rows == 0 and db.exists() and _claims(db):
            break
        if kill_after_rows and _count(db) >= kill_after_rows:
            break
        time.sleep(0.05)
    assert process.poll() is None, "grid ended before it could be killed"
    workers = _children(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait()
    recorded_at_kill = _count(db)
    deadline = time.time() + 30  # the driver's pool workers notice and exit on their own
    while time.time() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.5)
    assert not any(_alive(pid) for pid in workers), "orphaned worker processes outlived the driver"
    assert recorded_at_kill >= kill_after_rows

    resumed = _start(config, out)
    stdout, stderr = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, stderr
    assert f"{recorded_at_kill} already recorded, {6 - recorded_at_kill} to do" in stderr
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT run_id, status FROM runs").fetchall()
        assert connection.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0
    assert len(rows) == 6 and {r[0] for r in rows} == _expected_ids(config)
    assert {r[1] for r in rows} == {"finished"}
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(r[0] for r in rows)  # no temp dirs left


def _children(pid):
    try:
        return [int(p) for p in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except OSError:
        return []


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _claims(db):
    try:
        with sqlite3.connect(db, timeout=30) as connection:
            return connection.execute("SELECT COUNT(*) FROM claims").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def test_two_runners_on_one_directory_never_train_a_run_twice(write_config, tmp_path):
    config, out = write_config(GRID), tmp_path / "out"
    first, second = _start(config, out), _start(config, out)
    logs = [p.communicate(timeout=600) for p in (first, second)]
    # A runner that runs out of work while the other still trains its last runs says so and exits 3
    # (issue 26: held runs are not silent); the other, finishing last, exits 0.
    codes = sorted((first.returncode, second.returncode))
    assert codes in ([0, 0], [0, 3]), logs
    if codes == [0, 3]:
        assert any("being trained by another runner" in stderr for _, stderr in logs), logs
    trained = sum(stderr.count(": acc ") for _, stderr in logs)
    assert trained == 6  # each run trained by exactly one of the two
    with sqlite3.connect(out / "results.db") as connection:
        assert connection.execute("SELECT COUNT(DISTINCT run_id), COUNT(*) FROM runs").fetchone() == (6, 6)


def test_a_run_that_raises_is_recorded_and_the_grid_goes_on(write_config, tmp_path, monkeypatch):
    from embedlab.experiments.running import train as train_module
    from embedlab.experiments.config import load_config
    from embedlab.experiments.running.runner import run_grid
    from embedlab.experiments.running.store import ResultsStore

    real_train = train_module.train_run

    def flaky(run, prepared=None, tensorboard_dir=None):
        if run.embedding == "static" and run.seed == 2:
            raise RuntimeError("injected failure")
        return real_train(run, prepared, tensorboard_dir)

    monkeypatch.setattr(train_module, "train_run", flaky)
    config, out = load_config(write_config(GRID)), tmp_path / "out"
    outcome = run_grid(config, out, executor="local")  # in-process, so the patched train_run is used
    assert (outcome.finished, outcome.failed) == (5, 1)
    frame = ResultsStore(out).frame()
    failed = frame[frame["status"] == "failed"].iloc[0]
    assert "RuntimeError: injected failure" in failed["error"] and "Traceback" in failed["error"]
    # a plain resume skips the failure; --retry-failed runs it again and replaces the row
    assert run_grid(config, out, executor="local").skipped == 6
    monkeypatch.setattr(train_module, "train_run", real_train)
    retried = run_grid(config, out, retry_failed=True, executor="local")
    assert (retried.finished, retried.failed, retried.skipped) == (1, 0, 5)
    assert set(ResultsStore(out).frame()["status"]) == {"finished"} and len(ResultsStore(out).frame()) == 6


def test_nan_loss_marks_the_run_failed_and_exit_code_says_so(write_config, tmp_path):
    config = write_config("""\
        name: nan
        data: {dataset: mr, protocol: holdout, subsample: 200}
        training: {optimizer: sgd, learning_rate: 1.0e+30, max_epochs: 2}
        model: {cnn: {num_filters: 4, max_norm: 1.0e+30}}
        grid: {embedding: [non-static]}
    """)
    result = subprocess.run([sys.executable, "-m", "embedlab.experiments.cli", "run", str(config), "--out",
                             str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert "Invalid loss" not in result.stdout  # the report on stdout is the report only
    with sqlite3.connect(tmp_path / "out" / "results.db") as connection:
        status, error = connection.execute("SELECT status, error FROM runs").fetchone()
    assert status == "failed" and error.startswith("NonFiniteLossError")
    status_out = subprocess.run([sys.executable, "-m", "embedlab.experiments.cli", "status", str(tmp_path / "out")],
                                capture_output=True, text=True)
    assert "0 finished, 1 failed" in status_out.stdout and "NonFiniteLossError" in status_out.stdout
    # a rerun trains nothing, but does not exit 0 silently: it says what failed and how to retry
    # (with an override that leaves the run id as it is: the retry command must keep it)
    rerun = subprocess.run([sys.executable, "-m", "embedlab.experiments.cli", "run", str(config), "--out",
                            str(tmp_path / "out"), "grid.embedding=[non-static]"],
                           capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 1
    assert "1 run(s) of this grid are recorded as failed and were not retried" in rerun.stderr
    assert f"`embedlab run {config} 'grid.embedding=[non-static]' --out {tmp_path / 'out'} --retry-failed`" in rerun.stderr


def test_processes_executor_gives_the_same_rows_as_local(write_config, tmp_path):
    from embedlab.experiments.config import load_config
    from embedlab.experiments.running.runner import run_grid
    from embedlab.experiments.running.store import ResultsStore

    config = load_config(write_config(GRID.replace("seed: [1, 2, 3]", "seed: [1, 2], model: [cnn, boe]")))
    run_grid(config, tmp_path / "local", executor="local")
    outcome = run_grid(config, tmp_path / "processes", executor="processes", workers=2)
    assert (outcome.finished, outcome.failed) == (8, 0)
    columns = ["run_id", "accuracy", "macro_f1", "loss", "epochs", "n_test", "coverage_hits"]
    local = ResultsStore(tmp_path / "local").frame()[columns].sort_values("run_id").reset_index(drop=True)
    pooled = ResultsStore(tmp_path / "processes").frame()[columns].sort_values("run_id").reset_index(drop=True)
    _assert_same_rows(local, pooled)


def test_ray_executor_on_a_local_instance_gives_the_same_rows(write_config, tmp_path):
    pytest.importorskip("ray")
    from embedlab.experiments.config import load_config
    from embedlab.experiments.running.runner import run_grid
    from embedlab.experiments.running.store import ResultsStore

    config = load_config(write_config(GRID.replace("seed: [1, 2, 3]", "seed: [1, 2]")))
    run_grid(config, tmp_path / "local", executor="local")
    outcome = run_grid(config, tmp_path / "ray", executor="ray", cpus_per_task=1)
    assert (outcome.finished, outcome.failed) == (4, 0)
    columns = ["run_id", "accuracy", "macro_f1", "loss", "epochs"]
    local = ResultsStore(tmp_path / "local").frame()[columns].sort_values("run_id").reset_index(drop=True)
    remote = ResultsStore(tmp_path / "ray").frame()[columns].sort_values("run_id").reset_index(drop=True)
    _assert_same_rows(local, remote)


def test_mlflow_logs_params_metrics_history_and_artifacts(write_config, tmp_path):
    mlflow = pytest.importorskip("mlflow")
    pytest.importorskip("sqlalchemy")
    from embedlab.experiments.config import load_config
    from embedlab.experiments.running.runner import run_grid

    config = load_config(write_config(GRID.replace("seed: [1, 2, 3]", "seed: [1]")))
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    run_grid(config, tmp_path / "out", mlflow_uri=uri, executor="local")
    mlflow.set_tracking_uri(uri)
    logged = mlflow.search_runs(experiment_names=["faults"])
    assert len(logged) == 2
    assert set(logged["params.embedding"]) == {"rand", "static"}
    assert logged["metrics.accuracy"].between(0, 1).all()
    client = mlflow.tracking.MlflowClient(uri)
    run_id = logged["run_id"].iloc[0]
    assert [a.path for a in client.list_artifacts(run_id)] == ["config.yaml", "history.csv", "metrics.json",
                                                               "predictions.csv"]
    assert len(client.get_metric_history(run_id, "epoch_loss")) == 1


def _assert_same_rows(first, second):
    """Same runs, bit-identical metrics: every executor trains with training.threads TF threads."""
    assert first.equals(second)


def test_rewriting_a_run_removes_what_a_killed_write_left(tmp_path):
    from embedlab.experiments.config import ExperimentConfig
    from embedlab.experiments.running.runner import _write_run_dir

    config = ExperimentConfig.model_validate({"name": "x", "data": {"dataset": "mr", "protocol": "holdout"},
                                              "grid": {"embedding": ["rand"]}})
    run = config.runs()[0]
    runs = tmp_path / "runs"
    half = runs / f".{run.run_id}.k1ll3d"  # atomic_dir's temporary folder, killed mid-write
    half.mkdir(parents=True)
    (half / "metrics.json").write_text("{")
    from embedlab.experiments.running.records import RunResult

    result = RunResult(accuracy=1.0, macro_f1=1.0, loss=0.0, epochs=1, best_epoch=1, train_seconds=0.1, n_train=1,
                       n_dev=1, n_test=1, vocab_size=2, sequence_length=1, batching="bucketed", precision="float32",
                       history=[{"epoch": 1}],
                       predictions={"index": [0], "label": [0], "predicted": [0], "confidence": [1.0]})
    _write_run_dir(runs / run.run_id, run, result, {})
    assert [p.name for p in runs.iterdir()] == [run.run_id]


def test_a_fetch_error_stops_the_grid_before_any_run_is_recorded(write_config, tmp_path, monkeypatch):
    from embedlab.data import vector_sets as vectors_module
    from embedlab.data.fetch import FetchError
    from embedlab.experiments.config import load_config
    from embedlab.experiments.running.runner import run_grid
    from embedlab.experiments.running.store import ResultsStore

    from conftest import TINY_CONFIG

    def unreachable(vectors_id):
        raise FetchError(f"{vectors_id}: the package index could not be reached")

    monkeypatch.setattr(vectors_module, "load_vectors", unreachable)
    out = tmp_path / "out"
    with pytest.raises(FetchError, match="could not be reached"):
        run_grid(load_config(write_config(TINY_CONFIG)), out, executor="local")
    assert ResultsStore(out).frame().empty  # nothing recorded as failed: a rerun trains everything


@pytest.mark.parametrize("signum, when", [(signal.SIGTERM, "start-up"), (signal.SIGINT, "after a run"),
                                          (signal.SIGTERM, "after a run")])
def test_sigterm_and_ctrl_c_stop_cleanly_and_release_claims(write_config, tmp_path, signum, when):
    config, out = write_config(GRID), tmp_path / "out"
    process = _start(config, out)
    if when == "start-up":
        time.sleep(3)  # the driver is starting its worker processes
    else:
        deadline = time.time() + 300
        while _count(out / "results.db") < 1 and time.time() < deadline:
            time.sleep(0.2)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "leaked semaphore" not in stderr, stderr
    assert stderr.strip().splitlines()[-1].startswith("embedlab: interrupted; finished runs are saved")
    if (out / "results.db").exists():
        with sqlite3.connect(out / "results.db") as db:
            assert db.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0
    resumed = _start(config, out)
    resumed.communicate(timeout=600)
    assert resumed.returncode == 0 and _count(out / "results.db") == 6
