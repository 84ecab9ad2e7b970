"""Update streams (PROTOCOL.md section 5): a player's rank feed and a board's
live top, each starting from the current state, and a board's closed seasons,
with lost messages detected by `stream_seq` and repaired by a re-read."""

import time

import zmq

from ._common import DEFAULT_REQUESTS, DEFAULT_UPDATES, Error, Timeout
from ._common import endpoint as _endpoint
from ._streams import Stream
from .client import Client


class Subscriber:
    """Follows the service's `updates` socket (`updates`, else $LBD_UPDATES,
    else tcp://127.0.0.1:7402); `requests` (else $LBD_REQUESTS, else
    tcp://127.0.0.1:7400) is where it re-reads the state when messages were
    lost, and where `top` feeds read their starting point.

    `follow(board, player)`, `top(board)` and `season(board)` return feeds: iterate one
    (`for state in feed:`), or call `feed.next(timeout)`. Each feed has its
    own SUB socket, so feeds do not steal each other's messages. `rcvhwm`
    bounds the messages ZeroMQ queues for a feed before it drops new ones.
    `gaps` counts, over every feed, the times messages were found lost;
    `resyncs` the re-reads that repaired them.
    """

    def __init__(self, updates=None, requests=None, timeout=5.0, rcvhwm=None, server_key=None,
                 client_key=None, context=None):
        self.updates_endpoint = _endpoint(updates, DEFAULT_UPDATES)
        self.requests_endpoint = _endpoint(requests, DEFAULT_REQUESTS)
        self.timeout = timeout
        self.rcvhwm = rcvhwm
        self._keys = (server_key, client_key)
        self._ctx = context or zmq.Context.instance()
        self._client = None
        self._feeds = []

    @property
    def client(self):
        if self._client is None:
            self._client = Client(self.requests_endpoint, self.timeout, *self._keys, context=self._ctx)
        return self._client

    def follow(self, board, player, idle=None):
        """The player's state on the board, first as the latest merge has it
        (events acknowledged within the last merge interval show in the next
        state), then after every merge that changes its rank, score or
        subscore, from any cause:
        dicts with `board`, `player`, `rank` (None when not on the board),
        `prev_rank`, `score`, `subscore`, `total`, `seq`. Iteration stops
        after `idle` seconds without a change (None: never)."""
        feed = Follow(self, board, player, idle)
        self._feeds.append(feed)
        return feed

    def top(self, board, limit=10, idle=None):
        """The board's best `limit` entries (at most the service's --top-k),
        first as they are now, then after every merge that changes them:
        dicts with `board`, `seq`, `total`, `entries`. Iteration stops after
        `idle` seconds without a change (None: never)."""
        feed = Top(self, board, limit, idle)
        self._feeds.append(feed)
        return feed

    def season(self, board, limit=10, idle=None):
        """Every season of the board that closes from now on (at its
        schedule's boundary, or by a `reset` with archive): dicts with
        `board`, `season` (the closed one's number), `start_ms` (None when
        unknown), `end_ms`, `start_seq`, `end_seq`, `total` and its final
        best `limit` `entries` (at most the service's --top-k). There is no
        current state to start from: the first is the next season to close
        (`Client.seasons` lists the earlier ones). The subscription is live
        when this returns, so no season closed after it is missed; a lost
        message makes the feed read the kept seasons it missed. Iteration
        stops after `idle` seconds without one (None: never)."""
        feed = Season(self, board, limit, idle)
        self._feeds.append(feed)
        return feed

    def updates(self, idle=None):
        """Every feed's states as they come, as (feed, state) pairs: one
        loop follows several feeds. Stops after `idle` seconds without any
        (None: never)."""
        poller = zmq.Poller()
        for f in self._feeds:
            poller.register(f._stream._sock, zmq.POLLIN)
        while True:
            ready = [f for f in self._feeds if f._queue or f._stream._held]
            if not ready:
                events = dict(poller.poll(None if idle is None else int(idle * 1000)))
                if not events:
                    return
                ready = [f for f in self._feeds if f._stream._sock in events]
            for f in ready:
                try:
                    yield f, f.next(0)
                except Timeout:
                    pass  # only messages for other players or stale ones

    @property
    def gaps(self):
        return sum(f.gaps for f in self._feeds)

    @property
    def resyncs(self):
        return sum(f.resyncs for f in self._feeds)

    def close(self):
        for f in self._feeds:
            f.close()
        self._feeds = []
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Feed:
    def __init__(self, owner, idle):
        self._owner = owner
        self.idle = idle
        self.state = None  # the last state handed out
        self.resyncs = 0
        self._stream = Stream(owner._ctx, owner.updates_endpoint, *owner._keys, rcvhwm=owner.rcvhwm,
                              timeout=owner.timeout)
        self._queue = []  # states ready to hand out

    @property
    def gaps(self):
        """Times this feed found messages lost (a jump in `stream_seq`, or a
        restarted service)."""
        return self._stream.gaps + self._stream.restarts

    def __iter__(self):
        while True:
            try:
                yield self.next(self.idle)
            except Timeout:
                if self.idle is None:
                    raise
                return

    def next(self, timeout=None):
        """The next state; raises `lbd.Timeout` after `timeout` seconds
        without one (None: wait for ever)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._queue:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            got = self._stream.recv(left)
            if got is None:
                raise Timeout(f"no update within {timeout} s")
            self._take(*got)
        self.state = self._queue.pop(0)
        return self.state

    def _offer(self, state):
        """Hands `state` out if it is newer than what was handed out: a
        message that predates the last read says nothing new."""
        last = self._queue[-1] if self._queue else self.state
        if last is None or state["seq"] > last["seq"]:
            self._queue.append(state)

    def close(self):
        self._stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Follow(_Feed):
    """`follow/<board>/<player>`: the service sends the current state to
    every new subscriber, then a message after each merge that changes the
    player. Messages of longer names (`follow/arena/alice` for a follower of
    `al`) are skipped."""

    def __init__(self, owner, board, player, idle):
        super().__init__(owner, idle)
        self.board = board
        self.player = player
        self._topic = f"follow/{board}/{player}"
        # No need to wait for the subscription to be live: nothing is missed
        # before it, as the first message is the state as of then.
        self._stream.subscribe(self._topic, wait=False)

    def _take(self, topic, body, lost):
        if topic != self._topic or body.get("player") != self.player:
            return
        state = {k: body.get(k) for k in ("board", "player", "rank", "prev_rank", "score",
                                          "subscore", "total", "seq")}
        self._offer(state)
        if lost:
            self._resync(state)

    def _resync(self, latest):
        # `ranks` rather than `rank`: it answers for a player not on the
        # board too (no entry), with the board's total.
        self.resyncs += 1
        try:
            r = self._owner.client.ranks(self.board, [self.player])
        except Error as e:
            if e.code != "not_found":
                raise
            return  # no board: the message said as much
        entry = r["entries"][0] if r["entries"] else None
        prev = self._queue[-1] if self._queue else self.state
        self._offer({"board": self.board, "player": self.player,
                     "rank": entry and entry["rank"],
                     "prev_rank": (prev or latest).get("rank"),
                     "score": entry and entry["score"],
                     "subscore": entry and entry["subscore"],
                     "total": r["total"], "seq": r["seq"]})


class Top(_Feed):
    """The late-join recipe of docs/UPDATE-STREAMS.md: subscribe to
    `top/<board>/`, and once the subscription is live, read `top`; then
    apply `top/` messages with a higher `seq` (each holds the whole top K,
    so applying one replaces the state). A lost message (a jump in
    `stream_seq`) sends it back to `top` for the state."""

    def __init__(self, owner, board, limit, idle):
        super().__init__(owner, idle)
        self.board = board
        self.limit = limit
        self._topic = f"top/{board}/"
        self._stream.subscribe(self._topic)
        self._read()

    def _read(self):
        try:
            r = self._owner.client.top(self.board, limit=self.limit)
        except Error as e:
            if e.code != "not_found":
                raise
            # No board yet: every top/ message from now on is newer.
            r = {"board": self.board, "seq": 0, "total": 0, "entries": []}
        self._offer({"board": self.board, "seq": r["seq"], "total": r["total"],
                     "entries": r["entries"]})

    def _take(self, topic, body, lost):
        if topic != self._topic:
            return
        self._offer({"board": self.board, "seq": body["seq"], "total": body.get("total"),
                     "entries": body.get("entries", [])[:self.limit]})
        if lost:
            self.resyncs += 1
            self._read()


class Season(_Feed):
    """`season/<board>/`: one message per season the board closes, with its
    final standings. Unlike follow/ and top/ there is no state to read
    first, so the subscription waits until it is live. A lost message (a
    jump in `stream_seq`, or a restart) sends it to `seasons` for the kept
    closed seasons between the last one handed out and this one."""

    _KEYS = ("board", "season", "start_ms", "end_ms", "start_seq", "end_seq", "total")

    def __init__(self, owner, board, limit, idle):
        super().__init__(owner, idle)
        self.board = board
        self.limit = limit
        self._topic = f"season/{board}/"
        self._stream.subscribe(self._topic)

    def _offer(self, state):
        # Ordered by season number: a closed season never changes.
        last = self._queue[-1] if self._queue else self.state
        if last is None or state["season"] > last["season"]:
            self._queue.append(state)

    def _take(self, topic, body, lost):
        if topic != self._topic:
            return
        state = {k: body.get(k) for k in self._KEYS}
        state["entries"] = body.get("entries", [])[:self.limit]
        if lost:
            self._resync(state["season"])
        self._offer(state)

    def _resync(self, upto):
        last = self._queue[-1] if self._queue else self.state
        if last is None:
            return  # nothing handed out yet: nothing to fill in
        self.resyncs += 1
        try:
            listed = self._owner.client.seasons(self.board)["seasons"]
        except Error as e:
            if e.code != "not_found":
                raise
            return
        for s in listed:
            if s["current"] or not last["season"] < s["season"] < upto:
                continue
            try:
                top = self._owner.client.top(self.board, limit=self.limit, season=s["season"])
            except Error as e:
                if e.code != "not_found":
                    raise
                continue  # dropped by retention meanwhile
            state = {k: s.get(k) for k in self._KEYS}
            state["board"] = self.board
            state["entries"] = top["entries"]
            self._offer(state)
