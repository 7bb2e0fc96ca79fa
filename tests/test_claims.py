"""Claims expire by heartbeat: a live but unrelated PID (PID reuse) or another host's silent runner
no longer blocks a resume; a fresh heartbeat from another host is respected."""

import os
import re
import socket
import sqlite3
import time

from embedlab.experiments.running.store import CLAIM_TIMEOUT_SECONDS, ResultsStore


def _foreign_claim(store, run_id, host, pid, heartbeat):
    store.statuses()  # creates the tables
    with sqlite3.connect(store.path) as db:
        db.execute("INSERT INTO claims (run_id, host, pid, claimed_at, heartbeat) VALUES (?, ?, ?, 'then', ?)",
                   (run_id, host, pid, heartbeat))


def test_a_claim_with_a_live_foreign_pid_but_no_heartbeat_is_taken_over(tmp_path):
    store = ResultsStore(tmp_path)
    store._connect().close()
    # PID 1 exists on every Linux machine, and is not an embedlab runner
    _foreign_claim(store, "a", socket.gethostname(), 1, time.time() - CLAIM_TIMEOUT_SECONDS - 5)
    assert store.live_claims() == set()
    assert store.claim("a", {"finished"})


def test_another_hosts_claim_lives_while_its_heartbeat_is_fresh(tmp_path):
    store = ResultsStore(tmp_path)
    store._connect().close()
    _foreign_claim(store, "fresh", "elsewhere", 4242, time.time())
    _foreign_claim(store, "silent", "elsewhere", 4242, time.time() - CLAIM_TIMEOUT_SECONDS - 5)
    assert store.live_claims() == {"fresh"}
    assert not store.claim("fresh", {"finished"}) and store.claim("silent", {"finished"})


def test_heartbeat_refreshes_this_runners_claims(tmp_path):
    store = ResultsStore(tmp_path)
    assert store.claim("mine", {"finished"})
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE claims SET heartbeat = ?", (time.time() - CLAIM_TIMEOUT_SECONDS - 5,))
    assert store.live_claims() == set()
    store.heartbeat()
    assert store.live_claims() == {"mine"} and store.own_claims() == {"mine"}
    assert os.getpid() == sqlite3.connect(store.path).execute("SELECT pid FROM claims").fetchone()[0]


def test_runs_held_by_another_live_runner_are_named_and_the_exit_code_says_so(write_config, tmp_path):
    import subprocess
    import sys

    from embedlab.experiments.config import load_config

    rows = ["text,label"] + [f"review number {i},{'pos' if i % 2 else 'neg'}" for i in range(40)]
    (tmp_path / "r.csv").write_text("\n".join(rows) + "\n")
    config = write_config("name: held\ndata: {dataset: {path: r.csv}, protocol: holdout}\nvectors: null\n"
                          "grid: {embedding: [rand], seed: [1, 2, 3]}\n")
    store = ResultsStore(tmp_path / "out")
    store._connect().close()
    ids = [r.run_id for r in load_config(config).runs()]
    for run_id in ids[:2]:
        _foreign_claim(store, run_id, "elsewhere", 4242, time.time() - 7)
    _foreign_claim(store, ids[2], "faraway", 99, time.time() - 30)
    done = subprocess.run([sys.executable, "-m", "embedlab.experiments.cli", "run", str(config), "--out",
                           str(tmp_path / "out"), "--executor", "local"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 3, done.stderr
    assert "0 finished, 0 failed, 3 skipped" in done.stderr
    said = re.search(r"embedlab: 3 run\(s\) of this grid are being trained by another runner \(2 by host elsewhere "
                     r"pid 4242, heartbeat (\d+) s ago; 1 by host faraway pid 99, heartbeat (\d+) s ago\) and are not "
                     r"recorded yet; `embedlab status (.*)` follows them", done.stderr)
    assert said, done.stderr
    assert 7 <= int(said[1]) < 60 and 30 <= int(said[2]) < 90 and said[3] == str(tmp_path / "out")
    assert store.statuses() == {}  # nothing trained here


def test_held_elsewhere_line_for_a_claim_without_heartbeat():
    from pathlib import Path

    from embedlab.experiments.running.runner import held_elsewhere_line

    line = held_elsewhere_line({"a": ("old", 7, None)}, Path("out"), now=100.0)
    assert line.startswith("1 run(s) of this grid are being trained by another runner (1 by host old pid 7, "
                           "no heartbeat)")
