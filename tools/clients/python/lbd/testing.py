"""A throwaway leaderboardd for tests, and the pytest fixtures that start one.

Installed with the package, this module is a pytest plugin (entry point
`pytest11`), so any test can ask for:

- `leaderboardd`: a service on free loopback ports with an empty data
  folder, stopped after the test;
- `leaderboardd_factory`: a function `(*args, **options)` that starts one
  more; options become flags (`shards=4` is `--shards=4`, `retain=True` is
  `--retain`), `args` are passed as they are.

The binary is $LEADERBOARDD, else `leaderboardd` on PATH; `replay` runs
$LB_REPLAY, else `lb-replay` on PATH. Outside pytest, `start()` returns the
same `Service` (a context manager).
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from .client import Client

LOOPBACK_ANY_PORT = "tcp://127.0.0.1:0"
# Events need not survive a crash of the machine in a test, and syncing
# them would make every test wait for the disk.
DEFAULT_OPTIONS = {"fsync": "none", "shards": 2}


def find_program(env, name):
    path = os.environ.get(env) or shutil.which(name)
    if not path:
        raise FileNotFoundError(f"{name} not found: set ${env} to its path or put it on PATH")
    return path


def _flags(options):
    out = []
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            out.append(flag)
        elif value is not None and value is not False:
            out.append(f"{flag}={value}")
    return out


class Service:
    """A running leaderboardd: `requests`, `ingest`, `updates` (its bound
    endpoints, from its ready file), `data_dir`, `pid`, and `client`, a
    `lbd.Client` connected to it."""

    def __init__(self, workdir, args=(), options=None, binary=None, start_timeout=20.0):
        self.binary = binary or find_program("LEADERBOARDD", "leaderboardd")
        self.workdir = str(workdir)
        self.data_dir = os.path.join(self.workdir, "data")
        self.ready_file = os.path.join(self.workdir, "ready.json")
        self.stderr_file = os.path.join(self.workdir, "leaderboardd.stderr")
        opts = dict(DEFAULT_OPTIONS)
        opts.update(requests=LOOPBACK_ANY_PORT, ingest=LOOPBACK_ANY_PORT,
                    updates=LOOPBACK_ANY_PORT, data=self.data_dir, ready_file=self.ready_file)
        opts.update(options or {})
        self.command = [self.binary] + _flags(opts) + list(args)
        self.returncode = None
        self._client = None
        with open(self.stderr_file, "wb") as err:
            # stdout too: a line printed there by mistake still shows up.
            self._proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=err,
                                          stderr=err, cwd=self.workdir)
        self.pid = self._proc.pid
        try:
            ready = self._wait_ready(start_timeout)
        except BaseException:
            self.stop(timeout=2)
            raise
        self.requests = ready["requests"]
        self.ingest = ready["ingest"]
        self.updates = ready["updates"]

    def _wait_ready(self, timeout):
        # The service writes the file (by a rename, so it is whole) once it
        # answers on every socket; watching for it asks the service nothing.
        deadline = time.monotonic() + timeout
        while True:
            if os.path.exists(self.ready_file):
                with open(self.ready_file) as f:
                    return json.load(f)
            code = self._proc.poll()
            if code is not None:
                raise RuntimeError(f"leaderboardd exited with {code} before it was ready\n"
                                   f"command: {' '.join(self.command)}\n{self.stderr_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"leaderboardd wrote no {self.ready_file} within {timeout} s\n"
                                   f"command: {' '.join(self.command)}\n{self.stderr_text()}")
            time.sleep(0.005)

    @property
    def client(self):
        if self._client is None:
            self._client = Client(self.requests)
        return self._client

    def endpoints(self):
        return {"requests": self.requests, "ingest": self.ingest, "updates": self.updates}

    def stderr_text(self):
        try:
            with open(self.stderr_file, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def merged(self, seq=None, timeout=10.0):
        """A barrier: returns once a merge includes every event acknowledged
        so far (and, with `seq`, every event up to it: the `last_seq` of a
        writer's acknowledgements), so `top/` and `follow/` messages and
        `exact: false` reads reflect them. Returns the `stats` reply, whose
        `digest` then covers the same events.

        `stats` waits for the merge after it (as the C++ tests rely on), so
        one request is enough for acknowledged events; ingest events without
        a source are not acknowledged and may still be on their way."""
        deadline = time.monotonic() + timeout
        while True:
            stats = self.client.stats()
            if seq is None or stats["merge"]["last_merge_seq"] >= seq:
                return stats
            if time.monotonic() > deadline:
                raise TimeoutError(f"merges reached seq {stats['merge']['last_merge_seq']}, "
                                   f"not {seq}, within {timeout} s")

    def replay(self, log, *args, speed=None, timeout=120):
        """Sends a recorded log (a data folder, or segment files) into this
        service with `lb-replay send` (as fast as it answers unless `speed`),
        then returns `merged()`: its `digest` is the log's when this service
        started empty. Raises RuntimeError, with lb-replay's output, if it
        fails."""
        logs = [log] if isinstance(log, (str, os.PathLike)) else list(log)
        pace = ["--max"] if speed is None else [f"--speed={speed}"]
        cmd = ([find_program("LB_REPLAY", "lb-replay"), "send"] + [str(p) for p in logs]
               + [f"--to={self.requests}"] + pace + list(args))
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if run.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited with {run.returncode}\n"
                               f"{run.stdout}{run.stderr}")
        return self.merged()

    def stop(self, timeout=10.0):
        """SIGTERM, then SIGKILL if it has not exited after `timeout`
        seconds. Returns the exit status (negative: the signal that ended
        it). Stopping twice is harmless."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self.returncode is None:
            if self._proc.poll() is None:
                self._proc.send_signal(signal.SIGTERM)
                try:
                    self._proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
                    self.killed = True
            self.returncode = self._proc.returncode
        return self.returncode

    @property
    def running(self):
        return self.returncode is None and self._proc.poll() is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def log_digest(log):
    """The digest of the state a recorded log describes (`lb-replay
    rebuild`), to compare with a service's `stats` digest."""
    cmd = [find_program("LB_REPLAY", "lb-replay"), "rebuild", str(log), "--json", "--top=0"]
    run = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(run.stdout)["digest"]


def start(*args, workdir=None, **options):
    """A Service outside pytest; its files go to `workdir` (default: a new
    temporary folder, left in place for a look after a failure)."""
    return Service(workdir or tempfile.mkdtemp(prefix="leaderboardd-"), args, options)


@pytest.fixture
def leaderboardd_factory(request, tmp_path_factory):
    services = []
    request.node._lbd_services = services

    def make(*args, **options):
        svc = Service(tmp_path_factory.mktemp("leaderboardd"), args, options)
        services.append(svc)
        return svc

    yield make
    problems = []
    for svc in services:
        if svc.returncode is not None:
            continue  # the test stopped it and looked at the status itself
        code = svc.stop()
        if code != 0:
            how = "was killed after SIGTERM" if getattr(svc, "killed", False) else f"exited with {code}"
            problems.append(f"leaderboardd (pid {svc.pid}) {how}\n{svc.stderr_text()}")
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def leaderboardd(leaderboardd_factory):
    return leaderboardd_factory()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report shows each of its services' stderr."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when == "call":
        for svc in getattr(item, "_lbd_services", ()):
            report.sections.append((f"leaderboardd stderr (pid {svc.pid}, {svc.command[0]})",
                                    svc.stderr_text()))
