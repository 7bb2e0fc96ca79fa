"""A grid on a real multi-node Ray cluster (ray.cluster_utils.Cluster: a head and two worker nodes,
each its own raylet, on this machine): tasks land on both nodes, each row records its node, and
killing one worker node mid-grid loses nothing and duplicates nothing."""

import threading
import time

import pytest

pytestmark = pytest.mark.slow  # trains models on a three-node cluster

GRID = """\
    name: cluster
    data: {dataset: mr, protocol: holdout, subsample: 200, test_fraction: 0.25}
    model: {cnn: {num_filters: 4}}
    training: {max_epochs: 2, batch_size: 50}
    grid: {embedding: [rand, static], seed: [1, 2, 3, 4]}
"""


@pytest.fixture
def cluster():
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0})  # the head schedules, never trains
    workers = [cluster.add_node(num_cpus=1) for _ in range(2)]
    cluster.wait_for_nodes()
    yield cluster, workers
    if ray.is_initialized():
        ray.shutdown()
    cluster.shutdown()


def test_grid_spreads_over_nodes_and_survives_losing_one(write_config, tmp_path, cluster):
    from embedlab.experiments.config import load_config
    from embedlab.experiments.runner import run_grid
    from embedlab.experiments.store import ResultsStore

    cluster_, (first, second) = cluster
    config = load_config(write_config(GRID))
    out = tmp_path / "out"
    store = ResultsStore(out)
    killed = {}

    def kill_second_node_after_two_rows():
        deadline = time.time() + 600
        while time.time() < deadline:
            if store.path.exists() and len(store.frame()) >= 2:
                cluster_.remove_node(second)
                killed["at_rows"] = len(store.frame())
                return
            time.sleep(0.5)

    killer = threading.Thread(target=kill_second_node_after_two_rows, daemon=True)
    killer.start()
    outcome = run_grid(config, out, executor="ray", ray_address=cluster_.address, cpus_per_task=1)
    killer.join(timeout=5)
    assert killed, "the worker node was never killed"
    frame = store.frame()
    recorded_before = outcome.finished + outcome.lost
    assert recorded_before == 8 and len(frame) == frame["run_id"].nunique() == outcome.finished
    assert frame["node"].nunique() >= 2  # tasks ran on both worker nodes
    if outcome.lost:  # not recorded: a rerun on the surviving node trains exactly those
        again = run_grid(config, out, executor="ray", ray_address=cluster_.address, cpus_per_task=1)
        assert again.finished == outcome.lost and again.lost == 0
    frame = store.frame()
    assert len(frame) == 8 and frame["run_id"].nunique() == 8 and set(frame["status"]) == {"finished"}
    assert store.live_claims() == set()
