"""lbd.Client against the real service: every op, errors, pipelining."""

import pytest
import zmq

import lbd


def test_every_op_returns_its_reply(leaderboardd):
    c = leaderboardd.client
    assert c.ping()["pong"] is True
    assert c.configure("golf", order="asc", operator="best")["order"] == "asc"
    s = c.submit("golf", "alice", 72, subscore=3, meta=b"\x01")
    assert (s["rank"], s["prev_rank"], s["changed"], s["total"]) == (1, None, True, 1)
    c.submit("golf", "bob", 70)
    c.submit("golf", "carol", 75)
    r = c.rank("golf", "alice")
    assert (r["rank"], r["score"], r["subscore"], r["meta"]) == (2, 72, 3, b"\x01")
    top = c.top("golf", limit=2)
    assert [e["player"] for e in top["entries"]] == ["bob", "alice"]
    assert [e["player"] for e in c.top("golf", after=top["next"])["entries"]] == ["carol"]
    assert [e["player"] for e in c.around("golf", "alice", radius=1)["entries"]] == \
        ["bob", "alice", "carol"]
    assert [e["player"] for e in c.ranks("golf", ["carol", "nobody", "bob"])["entries"]] == \
        ["bob", "carol"]
    b = c.batch([{"board": "golf", "player": "dan", "score": 60},
                 {"board": "golf", "player": "", "score": 1}])
    assert b["results"][0]["ok"] and b["results"][0]["rank"] == 1
    assert b["results"][1]["error"]["code"] == "bad_request"
    assert [x["board"] for x in c.boards()["boards"]] == ["golf"]
    assert c.remove("golf", "dan")["removed"] is True
    assert c.reset("golf")["removed"] == 3
    stats = c.stats()
    assert stats["seq"] == top["seq"] + 3 and isinstance(stats["digest"], str)


@pytest.mark.parametrize("call, code", [
    (lambda c: c.rank("arena", "nobody"), "not_found"),
    (lambda c: c.top("no-such-board"), "not_found"),
    (lambda c: c.submit("bad/name", "p", 1), "bad_request"),
    (lambda c: c.top("arena", limit=0), "bad_request"),
    (lambda c: c.configure("arena", order="desc"), "conflict"),
])
def test_an_error_reply_raises_with_its_code(leaderboardd, call, code):
    c = leaderboardd.client
    c.submit("arena", "somebody", 1)
    with pytest.raises(lbd.Error) as e:
        call(c)
    assert e.value.code == code and e.value.message and e.value.reply["ok"] is False


def test_an_unknown_op_is_an_error_reply_on_send_receive(leaderboardd):
    c = leaderboardd.client
    rid = c.send({"op": "fly"})
    reply = c.receive()
    assert reply["id"] == rid and reply["error"]["code"] == "unknown_op"


def test_pipelining_1000_submits(leaderboardd):
    c = leaderboardd.client
    with c.pipeline() as p:
        pending = [p.submit("arena", f"p{i:04}", i) for i in range(1000)]
    assert [x.result()["score"] for x in pending] == list(range(1000))
    assert sorted(x.result()["seq"] for x in pending) == list(range(1, 1001))
    assert p.errors == [] and len(p.replies) == 1000
    assert c.rank("arena", "p0000")["rank"] == 1000
    assert c.top("arena", limit=1)["entries"][0]["player"] == "p0999"


def test_a_failed_request_in_a_pipeline_fails_only_itself(leaderboardd):
    c = leaderboardd.client
    with c.pipeline(window=4) as p:
        good = [p.submit("arena", f"p{i}", i) for i in range(10)]
        bad = p.rank("arena", "nobody")
    assert all(x.result()["ok"] for x in good)
    with pytest.raises(lbd.Error) as e:
        bad.result()
    assert e.value.code == "not_found" and p.errors == [bad]


def test_send_receive_and_blocking_calls_share_the_socket(leaderboardd):
    c = leaderboardd.client
    ids = [c.send({"op": "submit", "board": "arena", "player": f"p{i}", "score": i})
           for i in range(50)]
    # A blocking call in the middle keeps the replies it is not waiting for.
    assert c.ping()["pong"]
    got = sorted(c.receive()["id"] for _ in ids)
    assert got == sorted(ids)
    with pytest.raises(lbd.Timeout):
        c.receive(timeout=0.05)


def test_a_service_that_does_not_answer_times_out():
    # A bound ROUTER that never replies stands for a hung service.
    ctx = zmq.Context.instance()
    silent = ctx.socket(zmq.ROUTER)
    silent.setsockopt(zmq.LINGER, 0)
    port = silent.bind_to_random_port("tcp://127.0.0.1")
    try:
        c = lbd.Client(f"tcp://127.0.0.1:{port}", timeout=0.1)
        with pytest.raises(lbd.Timeout) as e:
            c.ping()
        assert isinstance(e.value, TimeoutError) and e.value.code == "timeout"
        c.close()
    finally:
        silent.close()


def test_endpoints_come_from_the_environment(leaderboardd, monkeypatch):
    monkeypatch.setenv("LBD_REQUESTS", leaderboardd.requests)
    with lbd.Client() as c:
        assert c.endpoint == leaderboardd.requests and c.ping()["pong"]


def test_curve_keys_and_roles(leaderboardd_factory, tmp_path):
    server_public, server_secret = zmq.curve_keypair()
    writer_public, writer_secret = zmq.curve_keypair()
    (tmp_path / "server.key").write_bytes(server_secret + b"\n")
    (tmp_path / "writer.key").write_bytes(b"# lbctl keygen's format\n" + writer_secret + b"\n")
    (tmp_path / "writers").write_bytes(writer_public + b"\n")
    svc = leaderboardd_factory(curve_secret=tmp_path / "server.key", readers="any",
                               writers=tmp_path / "writers")
    with lbd.Client(svc.requests, server_key=server_public.decode(),
                    client_key=str(tmp_path / "writer.key")) as c:
        assert c.submit("arena", "alice", 1)["rank"] == 1
        with pytest.raises(lbd.Error) as e:
            c.reset("arena")  # an admin's op
        assert e.value.code == "unauthorized"
    with lbd.Client(svc.requests, server_key=server_public) as reader:  # a throwaway key
        assert reader.rank("arena", "alice")["score"] == 1
        with pytest.raises(lbd.Error) as e:
            reader.submit("arena", "bob", 2)
        assert e.value.code == "unauthorized"


def test_seasons_archive_percentile_and_closed_season_reads(leaderboardd):
    c = leaderboardd.client
    cfg = c.configure("arena", schedule="0 0 * * 1", keep=2)
    assert (cfg["schedule"], cfg["keep"]) == ("0 0 * * 1", 2)
    assert c.submit("arena", "alice", 10)["percentile"] == 0.0  # alone: nobody below
    c.submit("arena", "bob", 30)
    c.submit("arena", "carol", 20)
    assert c.rank("arena", "carol")["percentile"] == pytest.approx(100 / 3)
    b = c.batch([{"board": "arena", "player": "dan", "score": 40}])
    assert b["results"][0]["percentile"] == 75.0
    r = c.reset("arena", archive=True)
    assert (r["season"], r["removed"]) == (1, 4)
    c.submit("arena", "erin", 5)

    s = c.seasons("arena")
    assert (s["board"], s["current"], s["schedule"], s["keep"]) == ("arena", 2, "0 0 * * 1", 2)
    assert isinstance(s["next_ms"], int)
    assert [(x["season"], x["current"], x["total"]) for x in s["seasons"]] == \
        [(1, False, 4), (2, True, 1)]
    closed, current = s["seasons"]
    assert closed["end_seq"] == r["seq"] and closed["end_ms"] is not None
    assert current["end_seq"] is None and current["end_ms"] is None

    # The closed season reads as it ended; the live board is season 2.
    top = c.top("arena", season=1)
    assert (top["season"], top["seq"], top["total"]) == (1, r["seq"], 4)
    assert [e["player"] for e in top["entries"]] == ["dan", "bob", "carol", "alice"]
    assert "season" not in c.top("arena")
    assert [e["player"] for e in c.top("arena", season=2)["entries"]] == ["erin"]
    old = c.rank("arena", "carol", season=1)
    assert (old["season"], old["rank"], old["total"], old["percentile"]) == (1, 3, 4, 25.0)
    assert [e["player"] for e in c.around("arena", "carol", radius=1, season=1)["entries"]] == \
        ["bob", "carol", "alice"]
    assert [e["player"] for e in c.ranks("arena", ["alice", "erin"], season=1)["entries"]] == \
        ["alice"]
    assert [x["season"] for x in c.boards()["boards"]] == [2]

    # keep=2: the third closed season pushes the first out.
    c.reset("arena", archive=True)
    assert c.reset("arena", archive=True)["season"] == 3
    assert [x["season"] for x in c.seasons("arena")["seasons"]] == [2, 3, 4]
    with pytest.raises(lbd.Error) as e:
        c.top("arena", season=1)
    assert e.value.code == "not_found" and "kept: 2-3" in e.value.message

    with pytest.raises(lbd.Error) as e:
        c.configure("arena", schedule="0 25 * * *")
    assert e.value.code == "bad_request" and e.value.message.startswith("schedule:")
    assert c.configure("arena", schedule="")["schedule"] is None
    assert c.seasons("arena")["next_ms"] is None
