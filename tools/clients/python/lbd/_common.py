"""What the client, the writer and the subscriber share: errors, msgpack,
CURVE keys and socket setup."""

import os

import msgpack
import zmq

DEFAULT_REQUESTS = "tcp://127.0.0.1:7400"
DEFAULT_INGEST = "tcp://127.0.0.1:7401"
DEFAULT_UPDATES = "tcp://127.0.0.1:7402"

_ENV = {DEFAULT_REQUESTS: "LBD_REQUESTS", DEFAULT_INGEST: "LBD_INGEST",
        DEFAULT_UPDATES: "LBD_UPDATES"}


def endpoint(given, default):
    """`given`, else $LBD_REQUESTS / $LBD_INGEST / $LBD_UPDATES, else the
    service's default endpoint: one program runs against a local service
    and, unchanged, against the one CI or a deployment names."""
    return given or os.environ.get(_ENV[default]) or default


class Error(Exception):
    """An error reply (PROTOCOL.md section 6): `code` is the protocol's
    error code (`bad_request`, `not_found`, ...), `message` its text, and
    `reply` the whole reply when there was one."""

    def __init__(self, code, message, reply=None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.reply = reply


class Timeout(Error, TimeoutError):
    """Nothing came within the timeout. Also a TimeoutError, so code that
    does not know lbd can still catch it."""

    def __init__(self, message):
        super().__init__("timeout", message)


def pack(body):
    return msgpack.packb(body, use_bin_type=True)


def unpack(frame):
    # raw=False: keys and str values come back as str; meta sent as bin
    # stays bytes.
    return msgpack.unpackb(frame, raw=False, strict_map_key=False)


def drop_none(keys):
    """Optional keys left at None are not sent: the protocol treats a nil
    optional key as absent, and leaving it out keeps frames small."""
    return {k: v for k, v in keys.items() if v is not None}


def _key_text(key_or_path):
    """A Z85 key given as itself or as a file holding it (the format
    `lbctl keygen` writes: one key a line, `#` comments)."""
    if key_or_path is None:
        return None
    if isinstance(key_or_path, bytes):
        key_or_path = key_or_path.decode()
    if len(key_or_path) == 40 and not os.path.exists(key_or_path):
        return key_or_path
    with open(key_or_path) as f:
        keys = [line.strip() for line in f if line.strip() and not line.lstrip().startswith("#")]
    if len(keys) != 1:
        raise ValueError(f"{key_or_path}: expected exactly one key, found {len(keys)}")
    return keys[0]


def make_socket(context, kind, endpoint, server_key=None, client_key=None, options=()):
    """A socket connected to `endpoint`. With `server_key` (the service's
    public key) the socket speaks CURVE; `client_key` is this client's
    secret key (its public key follows from it); without one a throwaway
    pair is made, which a service that lists keys will refuse."""
    sock = context.socket(kind)
    # A closed client's unsent requests are of no use to anyone.
    sock.setsockopt(zmq.LINGER, 0)
    for opt, value in options:
        sock.setsockopt(opt, value)
    server = _key_text(server_key)
    if server is not None:
        secret = _key_text(client_key)
        if secret is None:
            public, secret_b = zmq.curve_keypair()
        else:
            secret_b = secret.encode()
            public = zmq.curve_public(secret_b)
        sock.setsockopt(zmq.CURVE_SERVERKEY, server.encode())
        sock.setsockopt(zmq.CURVE_PUBLICKEY, public)
        sock.setsockopt(zmq.CURVE_SECRETKEY, secret_b)
    elif client_key is not None:
        raise ValueError("client_key needs server_key (the service's public key)")
    sock.connect(endpoint)
    return sock


def ms(seconds):
    return None if seconds is None else max(0, int(seconds * 1000))
