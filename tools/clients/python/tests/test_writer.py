"""lbd.Writer against the real service: fire-and-forget ingest, and the
acknowledgements of a writer with a source (spec B)."""

import itertools
import time

import pytest

import lbd


def test_fire_and_forget_submits_arrive(leaderboardd):
    with lbd.Writer(leaderboardd.ingest) as w:
        assert w.submit("arena", "alice", 10) == 1
        assert w.batch([{"board": "arena", "player": f"p{i}", "score": i} for i in range(100)]) == 2
    # No acknowledgement without a source: only reads say when all arrived.
    c = leaderboardd.client
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            if c.top("arena")["total"] == 101:
                break
        except lbd.Error:
            pass
        time.sleep(0.01)
    assert c.rank("arena", "alice")["rank"] == 90  # p11..p99 above, p10 tied but later
    assert c.top("arena", limit=1)["entries"][0]["player"] == "p99"


def test_acks_count_what_was_logged(leaderboardd):
    with lbd.Writer(leaderboardd.ingest, source="game-1", updates=leaderboardd.updates) as w:
        w.submit("arena", "alice", 10)
        w.batch([{"board": "arena", "player": f"p{i}", "score": i} for i in range(50)])
        totals = w.wait_acked()
        assert (totals["frames"], totals["acked"], totals["accepted"], totals["rejected"]) == \
            (2, 2, 51, 0)
        assert (totals["first_seq"], totals["last_seq"], totals["errors"], totals["lost"]) == \
            (1, 51, [], 0)
        w.check()
    assert leaderboardd.client.rank("arena", "alice")["seq"] <= totals["last_seq"]
    assert leaderboardd.merged(seq=totals["last_seq"])["merge"]["last_merge_seq"] >= 51
    sources = leaderboardd.client.stats()["ingest_sources"]
    assert sources["game-1"] == {"frames": 2, "accepted": 51, "rejected": 0}


def test_acks_say_which_item_was_refused_and_why(leaderboardd):
    with lbd.Writer(leaderboardd.ingest, source="game-2", updates=leaderboardd.updates) as w:
        w.batch([{"board": "arena", "player": "ok", "score": 1},
                 {"board": "bad/board", "player": "x", "score": 1},
                 {"board": "arena", "player": "also-ok", "score": 2}])
        w.submit("arena", "", 5)  # a bad frame: rejected whole
        acks = list(itertools.islice(w.acks(timeout=5), 2))
        assert (acks[0]["accepted"], acks[0]["rejected"], acks[0]["frame"]) == (2, 1, 1)
        assert acks[0]["errors"][0]["item"] == 1
        assert acks[0]["errors"][0]["code"] == "bad_request"
        assert (acks[1]["accepted"], acks[1]["rejected"], acks[1]["last_seq"]) == (0, 1, None)
        assert acks[1]["errors"][0]["item"] is None
        assert all(a["stream_seq"] == i + 1 for i, a in enumerate(acks))
        with pytest.raises(lbd.Error) as e:
            w.check()
        assert e.value.code == "bad_request" and "frame 1, item 1" in e.value.message


def test_wait_acked_by_seq(leaderboardd):
    c = leaderboardd.client
    with lbd.Writer(leaderboardd.ingest, source="g3", updates=leaderboardd.updates) as w:
        for i in range(20):
            w.submit("arena", f"p{i}", i)
        last = w.wait_acked(seq=20)["last_seq"]
        assert last >= 20
    # Acknowledged means durable and applied: an exact read sees it.
    assert c.rank("arena", "p19")["rank"] == 1 and c.top("arena")["total"] == 20


def test_a_source_is_checked_before_anything_is_sent():
    with pytest.raises(ValueError):
        lbd.Writer("tcp://127.0.0.1:1", source="has space")


def test_wait_acked_times_out_when_nothing_comes(leaderboardd):
    with lbd.Writer(leaderboardd.ingest, source="g4", updates=leaderboardd.updates) as w:
        w.frames += 1  # a frame the service never got
        with pytest.raises(lbd.Timeout):
            w.wait_acked(timeout=0.2)
