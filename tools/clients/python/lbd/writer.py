"""Ingest (PROTOCOL.md section 4): fire-and-forget submits on a PUSH socket,
and, for a writer with a `source`, the service's acknowledgements on
`ack/<source>/`."""

import re
import time

import zmq

from ._common import DEFAULT_UPDATES
from ._common import endpoint as _endpoint
from ._common import DEFAULT_INGEST, Error, Timeout, drop_none, make_socket, ms, pack
from ._streams import Stream

_SOURCE = re.compile(r"[A-Za-z0-9_.:-]{1,64}\Z")


class Writer:
    """Sends submits and batches to the `ingest` socket (`endpoint`, else
    $LBD_INGEST, else tcp://127.0.0.1:7401) without waiting.

    Without a `source` nothing comes back: what the service refused only
    shows in its `stats`. With one (1..64 of `[A-Za-z0-9_.:-]`, a name
    for this writer), on the `updates` socket (`updates`, else $LBD_UPDATES,
    else tcp://127.0.0.1:7402), every frame is
    acknowledged once its events are durable: `acks()` yields the
    acknowledgements as they come, `wait_acked()` waits for those of the
    frames sent so far. The subscription is live before the constructor
    returns, so no acknowledgement is missed.

    `submit` and `batch` return the frame's number (1, 2, ...): the service
    acknowledges one writer's frames in the order it sent them, so the n-th
    acknowledgement is frame n's.
    """

    def __init__(self, endpoint=None, source=None, updates=None, timeout=5.0,
                 server_key=None, client_key=None, context=None):
        endpoint = _endpoint(endpoint, DEFAULT_INGEST)
        if source is not None and not _SOURCE.match(source):
            raise ValueError(f"source {source!r}: 1..64 bytes of [A-Za-z0-9_.:-]")
        self.endpoint = endpoint
        self.source = source
        self.timeout = timeout
        self.frames = 0  # frames sent
        self.acked = 0  # frames acknowledged (or whose acknowledgement was lost)
        self.accepted = 0  # events the acknowledgements say were logged
        self.rejected = 0
        self.first_seq = None
        self.last_seq = None
        self.errors = []  # every error of every acknowledgement, with its `frame`
        self.lost = 0  # acknowledgements lost (their frames counted in `acked`)
        self.memory_full = False
        ctx = context or zmq.Context.instance()
        self._stream = None
        if source is not None:
            updates = _endpoint(updates, DEFAULT_UPDATES)
            self._stream = Stream(ctx, updates, server_key, client_key, timeout=timeout)
            self._stream.subscribe(f"ack/{source}/")
        # Frames still queued at close() go out for up to `timeout` rather
        # than being dropped: a writer that sends and closes at once must not
        # lose what it sent.
        self._sock = make_socket(ctx, zmq.PUSH, endpoint, server_key, client_key,
                                 [(zmq.LINGER, -1 if timeout is None else ms(timeout))])

    def close(self):
        self._sock.close()
        if self._stream is not None:
            self._stream.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def submit(self, board, player, score, subscore=None, meta=None):
        return self._send(dict(op="submit", board=board, player=player, score=score,
                               subscore=subscore, meta=meta))

    def batch(self, items):
        """`items`: up to 1000 submit maps (board, player, score, optional
        subscore and meta) in one frame."""
        return self._send(dict(op="batch", items=[drop_none(i) for i in items]))

    def _send(self, frame):
        frame["source"] = self.source
        # Ingest is a PUSH: with the service away, a send waits for it (up
        # to the timeout) rather than queueing without bound.
        if not self._sock.poll(ms(self.timeout), zmq.POLLOUT):
            raise Timeout(f"{self.endpoint} takes no ingest frames")
        self._sock.send(pack(drop_none(frame)))
        self.frames += 1
        return self.frames

    def acks(self, timeout=None):
        """Yields each acknowledgement (a dict: `source`, `accepted`,
        `rejected`, `first_seq`, `last_seq`, `errors`, ...) as it comes, with
        `frame`, the number of the frame it acknowledges; stops after
        `timeout` seconds without one (None: never). Its counts go into the
        writer's totals."""
        if self._stream is None:
            raise RuntimeError("acks need a Writer made with a source")
        while True:
            got = self._stream.recv(timeout)
            if got is None:
                return
            _, ack, lost = got
            if lost > 0:
                # Their frames were most likely handled; counting them keeps
                # wait_acked from waiting for acknowledgements that will never
                # come. After a restart nothing can be said: count none.
                self.lost += lost
                self.acked += lost
            self.acked += 1
            ack["frame"] = self.acked
            self.accepted += ack.get("accepted", 0)
            self.rejected += ack.get("rejected", 0)
            if ack.get("first_seq") is not None and self.first_seq is None:
                self.first_seq = ack["first_seq"]
            if ack.get("last_seq") is not None:
                self.last_seq = ack["last_seq"]
            if ack.get("memory_full"):
                self.memory_full = True
            for e in ack.get("errors") or ():
                self.errors.append(dict(e, frame=ack["frame"]))
            yield ack

    def wait_acked(self, frames=None, seq=None, timeout=None):
        """Waits until `frames` frames (default: every frame sent so far) are
        acknowledged, or, with `seq`, until an acknowledgement's `last_seq`
        reaches it. Returns the totals (`frames`, `acked`, `accepted`,
        `rejected`, `first_seq`, `last_seq`, `errors`, `lost`); raises
        `lbd.Timeout` after `timeout` seconds (default: the writer's)."""
        target = self.frames if frames is None and seq is None else frames
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)

        def reached():
            if target is not None and self.acked < target:
                return False
            return seq is None or (self.last_seq is not None and self.last_seq >= seq)

        while not reached():
            left = deadline - time.monotonic()
            if left <= 0 or next(self.acks(left), None) is None:
                raise Timeout(f"{self.acked} of {target if target is not None else self.frames} "
                              f"frames acknowledged on ack/{self.source}/"
                              + (f", last_seq {self.last_seq} < {seq}" if seq is not None else ""))
        return self.totals()

    def totals(self):
        return dict(frames=self.frames, acked=self.acked, accepted=self.accepted,
                    rejected=self.rejected, first_seq=self.first_seq, last_seq=self.last_seq,
                    errors=list(self.errors), lost=self.lost, memory_full=self.memory_full)

    def check(self):
        """Raises `lbd.Error` with the first error any acknowledgement
        reported (`bad_request` and the like), so a test can say
        `writer.wait_acked(); writer.check()`."""
        if self.errors:
            e = self.errors[0]
            raise Error(e.get("code", "internal"), f"frame {e['frame']}, item {e.get('item')}: "
                        f"{e.get('message', '')} ({len(self.errors)} errors in all)")
