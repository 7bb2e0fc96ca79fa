"""Claims expire by heartbeat: a live but unrelated PID (PID reuse) or another host's silent runner
no longer blocks a resume; a fresh heartbeat from another host is respected."""

import os
import socket
import sqlite3
import time

from embedlab.experiments.store import CLAIM_TIMEOUT_SECONDS, ResultsStore


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
