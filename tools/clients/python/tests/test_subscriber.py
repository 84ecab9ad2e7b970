"""lbd.Subscriber against the real service: the follow/ feed (spec A), the
late-join recipe for top/, and gap detection on stream_seq (spec C)."""

import threading
import time

import msgpack
import pytest
import zmq

import lbd


def drain(feed, idle=0.5):
    """The last state a feed hands out before it goes quiet for `idle` s."""
    state = feed.state
    for state in feed_until_idle(feed, idle):
        pass
    return state


def feed_until_idle(feed, idle):
    while True:
        try:
            yield feed.next(idle)
        except lbd.Timeout:
            return


def until_seq(feed, seq, timeout=5.0):
    """States up to the first one that includes `seq`."""
    deadline = time.monotonic() + timeout
    states = []
    while not states or states[-1]["seq"] < seq:
        states.append(feed.next(max(0.0, deadline - time.monotonic())))
    return states


def test_follow_starts_from_the_current_state(leaderboardd):
    c = leaderboardd.client
    c.submit("arena", "bob", 50)
    c.submit("arena", "alice", 40)
    # The first message comes from the merged view: once a merge has the
    # events, it shows them.
    leaderboardd.merged()
    with lbd.Subscriber(leaderboardd.updates, leaderboardd.requests) as sub:
        first = sub.follow("arena", "alice").next(5)
        assert (first["player"], first["rank"], first["score"], first["total"]) == \
            ("alice", 2, 40, 2)
        assert first["seq"] == 2
        nobody = sub.follow("arena", "nobody").next(5)
        assert (nobody["rank"], nobody["score"], nobody["total"]) == (None, None, 2)
        assert sub.follow("no-board", "x").next(5)["total"] == 0


def test_follow_reports_every_rank_change_from_any_cause(leaderboardd):
    c = leaderboardd.client
    with lbd.Subscriber(leaderboardd.updates, leaderboardd.requests) as sub:
        al = sub.follow("arena", "al")  # also matches follow/arena/alice: skipped
        alice = sub.follow("arena", "alice")
        assert alice.next(5)["rank"] is None
        s = c.submit("arena", "alice", 100)
        assert [x["rank"] for x in until_seq(alice, s["seq"])] == [1]
        s = c.submit("arena", "bob", 200)  # passes alice: her rank moves, not her score
        got = until_seq(alice, s["seq"])[-1]
        assert (got["rank"], got["prev_rank"], got["score"], got["total"]) == (2, 1, 100, 2)
        s = c.remove("arena", "bob")
        assert until_seq(alice, s["seq"])[-1]["rank"] == 1
        s = c.reset("arena")
        gone = until_seq(alice, s["seq"])[-1]
        assert (gone["rank"], gone["prev_rank"], gone["total"]) == (None, 1, 0)
        assert all(x["player"] == "al" for x in feed_until_idle(al, 0.2))
        assert sub.gaps == 0


def test_a_late_follower_agrees_with_rank_under_concurrent_writers(leaderboardd):
    c = leaderboardd.client
    # `set`: the writers' players go up and down past p150 all the time.
    c.configure("arena", operator="set")
    with c.pipeline() as p:
        for i in range(200):
            p.submit("arena", f"p{i}", i * 10)
    p.wait()
    stop = threading.Event()

    def write(n):
        w = lbd.Client(leaderboardd.requests)
        i = 0
        while not stop.is_set():
            w.submit("arena", f"w{n}-{i % 50}", (i * 7919 + n) % 3000)
            i += 1
        w.close()

    writers = [threading.Thread(target=write, args=(n,)) for n in range(2)]
    for t in writers:
        t.start()
    try:
        time.sleep(0.2)
        with lbd.Subscriber(leaderboardd.updates, leaderboardd.requests) as sub:
            feed = sub.follow("arena", "p150")
            states = [feed.next(5)]
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                states.append(feed.next(5))
            stop.set()
            for t in writers:
                t.join()
            final = leaderboardd.merged()
            last = drain(feed)
            assert last["seq"] <= final["merge"]["last_merge_seq"]
            r = c.rank("arena", "p150")
            assert (last["rank"], last["total"], last["score"]) == \
                (r["rank"], r["total"], r["score"])
            # Others passing p150 moved it: its score never changed.
            assert len(states) > 3 and {s["score"] for s in states} == {1500}
            if sub.gaps == 0:  # prev_rank chains the messages of one topic
                chain = states + ([last] if last is not states[-1] else [])
                assert all(b["prev_rank"] == a["rank"] for a, b in zip(chain[1:], chain[2:]))
    finally:
        stop.set()
        for t in writers:
            t.join()


def test_top_late_join_converges_under_concurrent_writes(leaderboardd):
    c = leaderboardd.client
    stop = threading.Event()

    def write():
        w = lbd.Writer(leaderboardd.ingest)
        i = 0
        while not stop.is_set():
            w.batch([{"board": "arena", "player": f"p{(i + k) % 300}", "score": (i + k) * 13 % 5000}
                     for k in range(20)])
            i += 20
            time.sleep(0.002)
        w.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        time.sleep(0.3)  # the board is busy before the subscriber joins
        with lbd.Subscriber(leaderboardd.updates, leaderboardd.requests) as sub:
            feed = sub.top("arena", limit=10)
            first = feed.next(0)  # the read: handed out at once
            assert len(first["entries"]) == 10
            seen = [first]
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                seen.append(feed.next(5))
            stop.set()
            writer.join()
            # The sentinel's message comes after every write, so the feed's
            # last state must be the board's top.
            s = c.submit("arena", "sentinel", 10 ** 9)
            leaderboardd.merged()
            last = until_seq(feed, s["seq"])[-1]
            assert last["entries"] == c.top("arena", limit=10)["entries"]
            assert all(b["seq"] > a["seq"] for a, b in zip(seen, seen[1:]))
            assert len(seen) > 5
    finally:
        stop.set()
        writer.join()


def test_a_subscriber_that_falls_behind_sees_gaps_and_resyncs(leaderboardd_factory):
    # Big top/ messages, sent often, and no room to queue them: a reader that
    # pauses loses some.
    svc = leaderboardd_factory(top_k=1000, merge_interval_ms=5, updates_hwm=1)
    c = svc.client
    with c.pipeline() as p:
        for i in range(1000):
            p.submit("arena", f"p{i}", i)
    with lbd.Subscriber(svc.updates, svc.requests, rcvhwm=1) as sub:
        feed = sub.top("arena", limit=1000)
        assert len(feed.next(0)["entries"]) == 1000
        # Every submit changes the top; the reader does not read meanwhile.
        i, until = 0, time.monotonic() + 1.5
        while time.monotonic() < until:
            with c.pipeline() as p:
                for _ in range(500):
                    p.submit("arena", f"p{i % 1000}", 1000 + i)
                    i += 1
        drain(feed, 0.3)
        s = c.submit("arena", "sentinel", 10 ** 9)
        last = until_seq(feed, s["seq"])[-1]
        assert feed.gaps > 0 and feed.resyncs > 0 and sub.gaps == feed.gaps
        assert last["entries"] == c.top("arena", limit=1000)["entries"]


class FakeUpdates:
    """An XPUB standing in for the service's updates socket, to send
    stream_seq values the real one only produces under load or restarts."""

    def __init__(self):
        self.sock = zmq.Context.instance().socket(zmq.XPUB)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.endpoint = f"tcp://127.0.0.1:{self.sock.bind_to_random_port('tcp://127.0.0.1')}"

    def wait_subscription(self):
        assert self.sock.poll(5000)
        return self.sock.recv()

    def send(self, topic, **body):
        self.sock.send_multipart([topic.encode(), msgpack.packb(body)])


def test_follow_counts_gaps_and_restarts_and_resyncs_by_reading(leaderboardd):
    c = leaderboardd.client
    c.submit("arena", "alice", 10)
    c.submit("arena", "bob", 20)
    fake = FakeUpdates()
    with lbd.Subscriber(fake.endpoint, leaderboardd.requests) as sub:
        feed = sub.follow("arena", "alice")
        fake.wait_subscription()
        base = dict(board="arena", player="alice", prev_rank=None, score=10, subscore=0, total=2)
        fake.send("follow/arena/alice", rank=1, seq=1, stream_seq=7, **base)
        assert feed.next(5)["rank"] == 1 and feed.gaps == 0
        fake.send("follow/arena/alice", rank=1, seq=1, stream_seq=8, **base)  # not newer: skipped
        fake.send("follow/arena/alice", rank=1, seq=2, stream_seq=11, **base)
        got = feed.next(5)
        assert feed.gaps == 1 and feed.resyncs == 1
        # The read (seq 2, exact: rank 2 behind bob) is no newer than the
        # message: the message stands.
        assert got["seq"] == 2
        # A lower stream_seq: the service restarted; the read is the truth.
        fake.send("follow/arena/alice", rank=5, seq=1, stream_seq=1, **base)
        c.submit("arena", "carol", 30)
        states = list(feed_until_idle(feed, 0.3))
        assert feed.gaps == 2 and feed.resyncs == 2
        assert states[-1]["rank"] == 3 and states[-1]["seq"] == 3 and states[-1]["total"] == 3
    fake.sock.close()


def test_season_feed_gets_each_closed_season_after_an_archive_reset(leaderboardd):
    c = leaderboardd.client
    for i in range(12):
        c.submit("arena", f"p{i}", i)
    with lbd.Subscriber(leaderboardd.updates, leaderboardd.requests) as sub:
        feed = sub.season("arena", limit=5)
        with pytest.raises(lbd.Timeout):
            feed.next(0.1)  # no season closed yet: nothing to hand out
        r = c.reset("arena", archive=True)
        got = feed.next(2)  # the merge after the reset sends it
        assert (got["board"], got["season"], got["total"], got["end_seq"]) == \
            ("arena", 1, 12, r["seq"])
        assert got["entries"] == c.top("arena", limit=5, season=1)["entries"]
        assert [e["player"] for e in got["entries"]] == ["p11", "p10", "p9", "p8", "p7"]
        c.submit("arena", "late", 1)
        c.reset("arena", archive=True)
        again = feed.next(2)
        assert (again["season"], again["total"], again["start_seq"]) == (2, 1, got["end_seq"] + 1)
        assert feed.gaps == 0 and feed.resyncs == 0


def test_season_feed_reads_the_seasons_a_lost_message_held(leaderboardd):
    c = leaderboardd.client
    c.configure("arena", keep=5)
    for n in range(3):  # seasons 1, 2 and 3 closed, with n + 1 entries each
        for i in range(n + 1):
            c.submit("arena", f"p{i}", 10 * n + i)
        c.reset("arena", archive=True)
    listed = c.seasons("arena")["seasons"]
    fake = FakeUpdates()

    def answer_probe():  # the feed waits until a follow/ probe is answered
        while True:
            sub = fake.wait_subscription()
            if sub.startswith(b"\x01follow/"):
                fake.sock.send_multipart([sub[1:], msgpack.packb({})])
                return

    t = threading.Thread(target=answer_probe)
    t.start()
    with lbd.Subscriber(fake.endpoint, leaderboardd.requests) as sub:
        feed = sub.season("arena")
        t.join()

        def send(n, stream_seq):
            s = listed[n - 1]
            fake.send("season/arena/", board="arena", season=n, start_ms=s["start_ms"],
                      end_ms=s["end_ms"], start_seq=s["start_seq"], end_seq=s["end_seq"],
                      total=s["total"], entries=[], stream_seq=stream_seq)

        send(1, 4)
        assert feed.next(5)["season"] == 1
        send(3, 6)  # season 2's message was lost: read from the service
        two, three = feed.next(5), feed.next(5)
        assert feed.gaps == 1 and feed.resyncs == 1
        assert (two["season"], two["total"], three["season"]) == (2, 2, 3)
        assert [e["player"] for e in two["entries"]] == ["p1", "p0"]
    fake.sock.close()
