"""lbd.testing: the fixture's service, its barrier and its replay."""

import os
import subprocess
import sys

import pytest

import lbd
import lbd.testing


def test_the_service_is_ready_on_resolved_loopback_ports(leaderboardd):
    for ep in (leaderboardd.requests, leaderboardd.ingest, leaderboardd.updates):
        assert ep.startswith("tcp://127.0.0.1:") and not ep.endswith(":0")
    assert leaderboardd.running and os.path.isdir(leaderboardd.data_dir)
    # Ready means answering: no retry needed for the first request.
    assert lbd.Client(leaderboardd.requests, timeout=1).ping()["pong"]


def test_options_become_flags(leaderboardd_factory):
    svc = leaderboardd_factory(shards=3, merge_interval_ms=7)
    stats = svc.client.stats()
    assert len(stats["shards"]) == 3 and stats["merge"]["interval_ms"] == 7


def test_stop_is_clean_and_leaves_the_data(leaderboardd):
    leaderboardd.client.submit("arena", "alice", 1)
    assert leaderboardd.stop() == 0 and not leaderboardd.running
    assert not os.path.exists(leaderboardd.ready_file)  # removed at clean shutdown
    assert any(n.startswith("events-") for n in os.listdir(leaderboardd.data_dir))
    assert leaderboardd.stop() == 0


def test_merged_is_a_barrier_for_acknowledged_events(leaderboardd):
    c = leaderboardd.client
    with c.pipeline() as p:
        for i in range(300):
            p.submit("arena", f"p{i}", i)
    stats = leaderboardd.merged()
    assert stats["merge"]["last_merge_seq"] == 300
    # The merged view now answers like the exact state.
    assert c.top("arena", exact=False)["entries"] == c.top("arena")["entries"]


def test_replay_reproduces_a_logs_digest_under_other_shard_counts(leaderboardd_factory):
    recorded = leaderboardd_factory(retain=True, shards=1)
    c = recorded.client
    c.configure("race", order="asc")
    c.configure("coins", operator="incr")
    with c.pipeline() as p:
        for i in range(2000):
            p.submit("race", f"r{i % 97}", (i * 31) % 500, subscore=i % 3)
            p.submit("coins", f"c{i % 13}", i % 5)
        p.remove("race", "r5")
    digest = recorded.merged()["digest"]
    recorded.stop()
    assert lbd.testing.log_digest(recorded.data_dir) == digest
    replayed = leaderboardd_factory(shards=4)
    assert replayed.replay(recorded.data_dir)["digest"] == digest


def test_a_service_that_cannot_start_says_why(tmp_path):
    with pytest.raises(RuntimeError) as e:
        lbd.testing.start(workdir=str(tmp_path), requests="tcp://256.0.0.1:1")
    assert "exited with" in str(e.value) and "leaderboardd" in str(e.value)


def test_a_failing_test_reports_the_services_stderr(tmp_path):
    (tmp_path / "test_fails.py").write_text(
        "def test_fails(leaderboardd):\n"
        "    leaderboardd.client.ping()\n"
        "    assert False\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          str(tmp_path / "test_fails.py")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert run.returncode == 1
    assert "leaderboardd stderr" in run.stdout and "requests tcp://127.0.0.1:" in run.stdout
