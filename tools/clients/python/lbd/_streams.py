"""A SUB socket that knows when its subscriptions are live, and counts the
messages each topic lost (PROTOCOL.md section 5, `stream_seq`)."""

import os

import zmq

from ._common import Timeout, make_socket, ms, unpack

# Any valid board name works for a probe: following a player on a board that
# does not exist costs the service nothing and creates nothing.
_PROBE_BOARD = "lbd.client"

RESTARTED = -1


class Stream:
    """One SUB socket. `subscribe(prefix)` returns once the service has seen
    the subscription, so no message published after it is missed (ZeroMQ's
    "slow joiner" otherwise loses the first ones without a trace).

    How it knows: the service sends the current state of a `follow/` topic to
    every new subscriber of it. Subscriptions travel up one connection in
    order, so once the answer to a probe subscription sent after the real
    one comes back, the real one is in place at the service."""

    def __init__(self, context, endpoint, server_key=None, client_key=None, rcvhwm=None,
                 timeout=5.0):
        options = [] if rcvhwm is None else [(zmq.RCVHWM, rcvhwm)]
        self.endpoint = endpoint
        self.timeout = timeout
        self._sock = make_socket(context, zmq.SUB, endpoint, server_key, client_key, options)
        self._last = {}  # exact topic -> last stream_seq seen
        self._held = []  # messages that came while a probe was awaited
        self.gaps = 0
        self.restarts = 0

    def close(self):
        self._sock.close()

    def subscribe(self, prefix, wait=True):
        self._sock.setsockopt(zmq.SUBSCRIBE, prefix.encode())
        if wait:
            self._wait_live()

    def unsubscribe(self, prefix):
        self._sock.setsockopt(zmq.UNSUBSCRIBE, prefix.encode())

    def _wait_live(self):
        # A player name no one else uses, so that no other follower's
        # messages match the probe's prefix.
        topic = f"follow/{_PROBE_BOARD}/probe-{os.getpid()}-{os.urandom(6).hex()}"
        self._sock.setsockopt(zmq.SUBSCRIBE, topic.encode())
        try:
            while True:
                got = self._recv_raw(self.timeout)
                if got is None:
                    raise Timeout(f"{self.endpoint} did not answer a follow/ subscription within "
                                  f"{ms(self.timeout)} ms (a service without follow/?)")
                if got[0] == topic:
                    break
                # A message of an earlier subscription: it is the caller's.
                self._held.append(got)
        finally:
            self._sock.setsockopt(zmq.UNSUBSCRIBE, topic.encode())

    def recv(self, timeout, count=True):
        """The next message as (topic, body, lost), or None after `timeout`
        seconds (None: wait for ever). With `count`, a message carrying
        `stream_seq` is checked against the last one of its topic: `lost` is
        how many messages of the topic never came (0: none), or RESTARTED
        when the numbers went back (the service restarted). Either way the
        reader's state is suspect."""
        got = self._held.pop(0) if self._held else self._recv_raw(timeout)
        if got is None:
            return None
        topic, body = got
        return topic, body, (self._lost(topic, body) if count else 0)

    def _recv_raw(self, timeout):
        if not self._sock.poll(None if timeout is None else ms(timeout), zmq.POLLIN):
            return None
        frames = self._sock.recv_multipart()
        return frames[0].decode(), unpack(frames[-1])

    def _lost(self, topic, body):
        seq = body.get("stream_seq")
        if seq is None:
            return 0
        last = self._last.get(topic)
        self._last[topic] = seq
        if last is None or seq == last + 1:
            return 0
        if seq <= last:
            self.restarts += 1
            return RESTARTED
        self.gaps += 1
        return seq - last - 1
