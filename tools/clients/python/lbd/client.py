"""Requests (PROTOCOL.md section 3): blocking calls and pipelining over one
DEALER socket."""

import collections
import itertools

import zmq

from ._common import endpoint as _endpoint
from ._common import DEFAULT_REQUESTS, Error, Timeout, drop_none, make_socket, ms, pack, unpack


class _Ops:
    """One method per op; `_call(op, keys)` decides whether it blocks (Client)
    or only sends (Pipeline). Keys left at None are not sent."""

    def submit(self, board, player, score, subscore=None, meta=None):
        return self._call("submit", dict(board=board, player=player, score=score,
                                          subscore=subscore, meta=meta))

    def batch(self, items):
        """`items`: submit maps (board, player, score, optional subscore and
        meta). The reply's `results` say, item by item, what happened: one bad
        item fails only itself, so this does not raise for them."""
        return self._call("batch", dict(items=[drop_none(i) for i in items]))

    # The reads take `season`: a kept closed season's number reads its final
    # standings (the reply then carries `season`, and `seq` is the season's
    # end_seq); None or the current number, the live board.

    def rank(self, board, player, exact=None, season=None):
        """The reply's `percentile` is the share of the board ranked below
        the player (0 to 100)."""
        return self._call("rank", dict(board=board, player=player, exact=exact, season=season))

    def top(self, board, limit=None, offset=None, after=None, exact=None, season=None):
        return self._call("top", dict(board=board, limit=limit, offset=offset, after=after,
                                       exact=exact, season=season))

    def around(self, board, player, radius=None, exact=None, season=None):
        return self._call("around", dict(board=board, player=player, radius=radius, exact=exact,
                                          season=season))

    def ranks(self, board, players, exact=None, season=None):
        return self._call("ranks", dict(board=board, players=list(players), exact=exact,
                                         season=season))

    def remove(self, board, player):
        return self._call("remove", dict(board=board, player=player))

    def reset(self, board, archive=None):
        """With `archive=True`, closes the current season instead of
        dropping it: it stays readable (`season=` on the reads) and the reply
        says its number (`season`); the board goes on with the next one."""
        return self._call("reset", dict(board=board, archive=archive))

    def configure(self, board, order=None, operator=None, schedule=None, keep=None):
        """`schedule`: a cron expression in UTC (`min hour dom mon dow`, or
        seconds first with 6 fields) at which the service closes the season;
        "" removes it. `keep`: how many closed seasons stay readable
        (1..1000). Both may change on a board with entries; `order` and
        `operator` only on an empty one."""
        return self._call("configure", dict(board=board, order=order, operator=operator,
                                             schedule=schedule, keep=keep))

    def seasons(self, board):
        """The board's kept closed seasons and its current one (last), with
        `current`, `schedule`, `next_ms` (when the schedule closes the
        current season) and `keep`."""
        return self._call("seasons", dict(board=board))

    def boards(self, limit=None, after=None, exact=None):
        return self._call("boards", dict(limit=limit, after=after, exact=exact))

    def stats(self):
        return self._call("stats", {})

    def ping(self):
        return self._call("ping", {})


def _check(reply):
    if not reply.get("ok"):
        err = reply.get("error") or {}
        raise Error(err.get("code", "internal"), err.get("message", "error reply without error"),
                    reply)
    return reply


class Client(_Ops):
    """A connection to the service's `requests` socket: `endpoint`, else
    $LBD_REQUESTS, else tcp://127.0.0.1:7400.

    Every op is a method that blocks for its reply and returns it as a dict
    (the reply's keys as PROTOCOL.md lists them, `ok` and `id` included), or
    raises `lbd.Error` on an error reply and `lbd.Timeout` when no reply
    comes within `timeout` seconds.

    Pipelining: `send(op_dict)` sends without waiting and returns the
    request's `id`; `receive()` returns the next reply to a sent request, in
    the order they arrive (which the protocol does not tie to the order
    sent). `pipeline()` does the bookkeeping: see `Pipeline`.

    For a service started with `--curve-secret`, give `server_key` (its
    public key, Z85 text or a file) and `client_key` (this client's secret
    key file from `lbctl keygen`, or the key itself).

    Not thread-safe, as a ZeroMQ socket is not: one Client per thread.
    """

    def __init__(self, endpoint=None, timeout=5.0, server_key=None, client_key=None,
                 context=None):
        endpoint = _endpoint(endpoint, DEFAULT_REQUESTS)
        self.endpoint = endpoint
        self.timeout = timeout
        self._ctx = context or zmq.Context.instance()
        self._sock = make_socket(self._ctx, zmq.DEALER, endpoint, server_key, client_key)
        self._ids = itertools.count(1)
        # Ids sent and not yet handed back; a reply to any other id belongs to
        # a call that timed out, and is dropped.
        self._pending = set()
        # Replies that came while a blocking call waited for its own.
        self._early = collections.OrderedDict()

    def close(self):
        self._sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- pipelining ---------------------------------------------------------

    def send(self, request):
        """Sends `request` (a dict with `op`) and returns its `id` (one is
        assigned if it has none)."""
        request = drop_none(dict(request))
        rid = request.setdefault("id", next(self._ids))
        self._sock.send_multipart([b"", pack(request)])
        self._pending.add(rid)
        return rid

    def receive(self, timeout=None):
        """The next reply to a request sent with `send`, as a dict; an error
        reply is returned too (`ok` false), not raised. Raises `lbd.Timeout`
        after `timeout` seconds (default: the client's)."""
        if self._early:
            rid, reply = self._early.popitem(last=False)
            self._pending.discard(rid)
            return reply
        return self._next_among(self._pending, timeout)

    def pipeline(self, window=256):
        """A context that sends requests without waiting and, at its end,
        has every reply: `with client.pipeline() as p: x = p.submit(...)`,
        then `x.result()`. At most `window` requests are in flight: the
        service answers a client that pipelines past its share with
        `overloaded` (PROTOCOL.md section 7)."""
        return Pipeline(self, window)

    # -- internals ----------------------------------------------------------

    def _call(self, op, keys):
        rid = self.send(dict(keys, op=op))
        return _check(self._wait_for(rid))

    def _wait_for(self, rid):
        try:
            return self._next_among((rid,), None)
        except Timeout:
            # Its reply, if it still comes, is dropped.
            self._pending.discard(rid)
            raise

    def _next_among(self, wanted, timeout):
        """The next reply whose id is in `wanted`; replies to other pending
        requests wait in `_early` for whoever asks for them."""
        for rid in list(self._early):
            if rid in wanted:
                self._pending.discard(rid)
                return self._early.pop(rid)
        while True:
            reply = self._read(timeout)
            got = reply.get("id")
            if got in wanted:
                self._pending.discard(got)
                return reply
            if got in self._pending:
                self._early[got] = reply

    def _read(self, timeout):
        wait = ms(self.timeout if timeout is None else timeout)
        if not self._sock.poll(wait, zmq.POLLIN):
            raise Timeout(f"no reply from {self.endpoint} within {wait} ms")
        return unpack(self._sock.recv_multipart()[-1])


class Pending:
    """A request sent in a pipeline; `result()` once the pipeline is done."""

    __slots__ = ("id", "request", "reply")

    def __init__(self, rid, request):
        self.id = rid
        self.request = request
        self.reply = None

    @property
    def done(self):
        return self.reply is not None

    def result(self):
        """The reply as a dict; raises `lbd.Error` on an error reply."""
        if self.reply is None:
            raise RuntimeError(f"request {self.id} has no reply yet: leave the pipeline first")
        return _check(self.reply)


class Pipeline(_Ops):
    """Sends requests without waiting for their replies (at most `window`
    in flight) and matches the replies by `id`. Every op method returns a
    `Pending`; `send(op_dict)` does the same for a raw request. Leaving the
    `with` block (or `wait()`) collects every reply; `replies` then holds
    them in the order the requests were sent, and `errors` the failed ones.
    """

    def __init__(self, client, window):
        if window < 1:
            raise ValueError("window must be at least 1")
        self.client = client
        self.window = window
        self.sent = []
        self._inflight = {}

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *rest):
        if exc_type is None:
            self.wait()

    def send(self, request):
        while len(self._inflight) >= self.window:
            self._collect_one()
        request = drop_none(dict(request))
        rid = self.client.send(request)
        p = Pending(rid, request)
        self._inflight[rid] = p
        self.sent.append(p)
        return p

    def wait(self):
        while self._inflight:
            self._collect_one()
        return self.replies

    @property
    def replies(self):
        return [p.reply for p in self.sent]

    @property
    def errors(self):
        return [p for p in self.sent if p.reply is not None and not p.reply.get("ok")]

    def _call(self, op, keys):
        return self.send(dict(keys, op=op))

    def _collect_one(self):
        reply = self.client._next_among(self._inflight, None)
        self._inflight.pop(reply["id"]).reply = reply
