"""A grid on a Ray cluster started as users start one (README, "A grid on a Ray cluster"), all on this
machine: `ray start --head` with no CPUs (it only schedules) and two `ray start --address` worker nodes
of 1 CPU, each with its own EMBEDLAB_HOME (its node's cache), --temp-dir and session (which its
raylet, agents and worker processes keep: that is how the test finds a node's processes); the grid runs
through the CLI, `embedlab run CONFIG --executor ray --ray-address HOST:PORT --cpus-per-task 1`.

Mid-grid one worker node is SIGKILLed (its raylet, agents and workers), and one run's worker process
dies on every try (fault injection: executors.DIE_ON_RUNS_VARIABLE), so Ray's retries run out. The first
command must exit 1 saying runs were lost, record nothing twice, record each row's node, and have
fetched the data into each node's own cache; the same command run again must train exactly the lost
runs and leave every run recorded once."""

import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # starts a three-node Ray cluster and trains models on it

MIRROR = Path(__file__).resolve().parents[2] / "shared" / "datasets"  # Kim's files, no network
SEEDS = 10
GRID = f"""\
    name: cluster
    data: {{dataset: cr, protocol: holdout, subsample: 200, test_fraction: 0.25}}
    vectors: null
    model: {{embedding_dim: 16, cnn: {{num_filters: 4}}}}
    training: {{max_epochs: 2, batch_size: 50}}
    grid: {{embedding: [rand], seed: {list(range(1, SEEDS + 1))}}}
"""


def _free_port():
    """A free port below the ephemeral range: Ray's own components bind port 0 (ephemeral ports), and
    gRPC servers share a port (SO_REUSEPORT), so a port from there could be taken by one of them."""
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    for port in random.sample(range(20000, min(low, 30000)), 200):
        with socket.socket() as probe:
            try:
                probe.bind(("", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port")


def _session(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[3])
    except (OSError, IndexError, ValueError):
        return None


def _processes_in(sessions):
    """Pids of the processes in these sessions: each `ray start` runs in a session of its own, which
    its daemons (raylet, GCS, agents, log monitor) and the raylet's worker processes keep."""
    return [int(entry) for entry in os.listdir("/proc")
            if entry.isdigit() and int(entry) != os.getpid() and _session(entry) in sessions]


def _kill_all(sessions):
    for _ in range(20):  # a dying raylet may still start a worker: sweep until none is left
        pids = _processes_in(sessions)
        if not pids:
            return []
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.5)
    return _processes_in(sessions)


class Cluster:
    def __init__(self):
        # Short: Ray's unix sockets live under --temp-dir, and a socket path has at most 107 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="eray-", dir="/tmp"))
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.die_on_runs = self.root / "die-on-runs.txt"
        self.ray = str(Path(sys.executable).with_name("ray"))
        # RAY_AUTH_MODE: explicit, so that a token a local ray.init() left in ~/.ray (Ray >= 2.5x makes one)
        # does not put the head in token mode while `ray start --address` connects without one.
        self.base_env = {**os.environ, "EMBEDLAB_MIRROR": str(MIRROR), "RAY_USAGE_STATS_ENABLED": "0",
                         "RAY_AUTH_MODE": "disabled", "EMBEDLAB_HOME": str(self.root / "home-head")}
        self.sessions = {}  # "head", 1, 2, "driver" → session id (the pid of what started it)

    def home(self, index):
        return self.root / f"home-{index}"

    def _start(self, name, args, env):
        # --node-ip-address: every node on the loopback interface, so the test's traffic stays on 127.0.0.1.
        result = subprocess.Popen([self.ray, "start", *args, "--node-ip-address=127.0.0.1",
                                   "--object-store-memory", str(100 * 1024 * 1024),
                                   "--min-worker-port", "0", "--max-worker-port", "0", "--disable-usage-stats"],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  start_new_session=True)
        self.sessions[name] = result.pid
        output, _ = result.communicate(timeout=180)
        assert result.returncode == 0, output[-4000:]

    def start(self):
        self._start("head", ["--head", f"--port={self.port}", "--num-cpus=0", "--include-dashboard=false",
                             f"--dashboard-port={_free_port()}", f"--ray-client-server-port={_free_port()}",
                             f"--temp-dir={self.root / 'ray-head'}"], self.base_env)
        for index in (1, 2):  # a second raylet on this host needs only its own temp dir (ports: chosen free)
            env = {**self.base_env, "EMBEDLAB_HOME": str(self.home(index)),
                   "EMBEDLAB_TEST_DIE_ON_RUNS": str(self.die_on_runs)}
            self._start(index, [f"--address={self.address}", "--num-cpus=1",
                                f"--temp-dir={self.root / f'ray-{index}'}"], env)
        deadline = time.time() + 120  # the driver sizes its slots from the cluster's CPUs: wait for both
        while time.time() < deadline:
            status = subprocess.run([self.ray, "status", f"--address={self.address}"], env=self.base_env,
                                    capture_output=True, text=True, timeout=60).stdout
            if re.search(r"/2\.0 CPU", status):
                return
            time.sleep(1)
        raise AssertionError(f"the worker nodes never joined:\n{status}")

    def run(self, command, env):
        """Starts a driver in a session of its own (stopped with the cluster if the test fails)."""
        driver = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  start_new_session=True)
        self.sessions[f"driver-{driver.pid}"] = driver.pid
        return driver

    def training_on(self, index):
        """Whether a worker process of that node is running a task (Ray titles it ray::FUNCTION)."""
        for pid in _processes_in({self.sessions[index]}):
            try:
                if open(f"/proc/{pid}/cmdline", "rb").read().startswith(b"ray::_train_on_ray_worker"):
                    return True
            except OSError:
                pass
        return False

    def kill_node(self, index):
        """SIGKILLs everything of one worker node: raylet, log monitor, agents, worker processes; returns
        their names."""
        names = []
        for pid in _processes_in({self.sessions[index]}):
            try:
                names.append(open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[0].decode()[-40:])
            except OSError:
                pass
        left = _kill_all({self.sessions[index]})
        assert not left, f"node {index}: {left} survived SIGKILL"
        return names

    def stop(self):
        left = _kill_all(set(self.sessions.values()))
        shutil.rmtree(self.root, ignore_errors=True)
        assert not left, f"cluster processes survived: {left}"


@pytest.fixture
def cluster():
    pytest.importorskip("ray")
    if not (MIRROR / "kim2014" / "custrev.all").is_file():
        pytest.skip(f"no dataset mirror at {MIRROR}")
    cluster = Cluster()
    try:
        cluster.start()
        yield cluster
    finally:  # even when starting it failed half-way
        cluster.stop()


def _rows(db):
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=30) as connection:
            return connection.execute("SELECT run_id, status, node FROM runs").fetchall()
    except sqlite3.OperationalError:
        return []


def _node_id(node):
    return node.rsplit("/", 1)[-1]  # host/Ray node id: both nodes have this host's name


def test_cli_grid_on_a_started_cluster_survives_a_dead_node_and_a_lost_run(write_config, tmp_path, cluster):
    from embedlab.experiments.config import load_config

    config = write_config(GRID)
    runs = load_config(config).runs()
    expected = {r.run_id for r in runs}
    doomed = next(r for r in runs if r.seed == 3)  # its worker process dies on every try
    cluster.die_on_runs.write_text(doomed.run_id + "\n")
    out = tmp_path / "out"
    db = out / "results.db"
    command = [str(Path(sys.executable).with_name("embedlab")), "run", str(config), "--executor", "ray",
               "--ray-address", cluster.address, "--cpus-per-task", "1", "--out", str(out)]
    driver_env = {**cluster.base_env, "EMBEDLAB_HOME": str(cluster.root / "home-driver")}

    started = time.perf_counter()
    first = cluster.run(command, driver_env)
    killed, deadline = [], time.time() + 600
    # Kill node 2 once both nodes recorded runs, while node 2 trains one (its task is then retried).
    while time.time() < deadline and first.poll() is None:
        rows = _rows(db)
        if len({_node_id(node) for _, _, node in rows}) >= 2 and cluster.training_on(2):
            assert len(rows) <= SEEDS - 3, "the grid was nearly over before a node could be killed"
            killed = cluster.kill_node(2)
            rows_at_kill = len(rows)
            assert any(name.endswith("/raylet") for name in killed), killed
            assert any(name.startswith("ray::_train_on_ray_worker") for name in killed), killed
            break
        time.sleep(0.3)
    stdout, stderr = first.communicate(timeout=600)
    first_seconds = time.perf_counter() - started
    assert killed, f"node 2 was never killed:\n{stderr[-3000:]}"

    # The first command: exit 1, the lost runs said, nothing twice, each row's node recorded.
    assert first.returncode == 1, stderr[-3000:]
    assert "were lost" in stderr and f"{doomed.label}: LOST" in stderr, stderr[-3000:]
    rows = _rows(db)
    recorded = {run_id for run_id, _, _ in rows}
    assert len(rows) == len(recorded) and {status for _, status, _ in rows} == {"finished"}
    lost = expected - recorded
    # Lost: the doomed run alone; the run in flight on node 2 was retried on node 1 and recorded.
    assert lost == {doomed.run_id} and stderr.count(": LOST (") == 1
    assert all(node and "/" in node for _, _, node in rows)
    first_nodes = {_node_id(node) for _, _, node in rows}
    assert len(first_nodes) == 2  # tasks ran on both worker nodes
    # Each node's tasks fetched the data through that node's own cache (the driver has its own too).
    for home in (cluster.home(1), cluster.home(2), cluster.root / "home-driver"):
        assert (home / "datasets" / "cr").is_dir(), f"no dataset cache in {home}"

    # The same command again, the fault removed: it trains exactly the lost runs, on the surviving node.
    cluster.die_on_runs.unlink()
    started = time.perf_counter()
    again = cluster.run(command, driver_env)
    _, again_stderr = again.communicate(timeout=600)
    rerun_seconds = time.perf_counter() - started
    assert again.returncode == 0, again_stderr[-3000:]
    assert f"{len(recorded)} already recorded, {len(lost)} to do" in again_stderr
    rows = _rows(db)
    assert len(rows) == SEEDS and {run_id for run_id, _, _ in rows} == expected
    assert {status for _, status, _ in rows} == {"finished"}
    trained_now = {run_id: node for run_id, _, node in rows if run_id not in recorded}
    assert set(trained_now) == lost
    survivors = {_node_id(node) for node in trained_now.values()}
    assert len(survivors) == 1 and survivors < first_nodes
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT COUNT(*) FROM claims").fetchone()[0] == 0
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(expected)
    print(f"\nray cluster: 3 nodes (head + 2 x 1 CPU), {SEEDS} runs; node 2 killed at {rows_at_kill} rows "
          f"({len(killed)} processes: {sorted(killed)}); first command {first_seconds:.0f} s, {len(recorded)} recorded, "
          f"{len(lost)} lost; rerun {rerun_seconds:.0f} s trained {len(trained_now)}")
