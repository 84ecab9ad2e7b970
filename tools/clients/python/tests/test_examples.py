"""The README's programs, run as they are against a throwaway service."""

import os
import subprocess
import sys

import lbd

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples")


def run_example(name, *args, env=None):
    # Unbuffered: the test reads subscribe.py's lines as they are printed.
    env = dict(env or os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, os.path.join(EXAMPLES, name), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def test_examples_are_at_most_15_lines_and_in_the_readmes_verbatim():
    # This package's README and the repository's show the same programs.
    readmes = [os.path.join(EXAMPLES, "..", "README.md"),
               os.path.join(EXAMPLES, "..", "..", "..", "..", "README.md")]
    for path in readmes:
        with open(path) as f:
            readme = f.read()
        for name in ("publish.py", "subscribe.py", "test_replay.py"):
            with open(os.path.join(EXAMPLES, name)) as f:
                text = f.read()
            assert len(text.splitlines()) <= 15, name
            assert f"```python\n{text}```" in readme, f"{path} does not show {name} as it is"


def test_publish_and_subscribe(leaderboardd):
    # subscribe.py: alice's state and the top before anything, then alice's
    # first entry; 3 updates and it exits.
    sub = run_example("subscribe.py", leaderboardd.updates, leaderboardd.requests, "3")
    # Its feeds are live once it printed the first states; the publisher's
    # events all come after.
    first = sub.stdout.readline()
    second = sub.stdout.readline()
    assert {first.split(":")[0], second.split(":")[0]} == {"alice", "top 5"}
    pub = run_example("publish.py", leaderboardd.requests, leaderboardd.ingest,
                      leaderboardd.updates)
    out, _ = pub.communicate(timeout=60)
    assert pub.returncode == 0, out
    assert "'rank': 1" in out and "bot999 is rank 1" in out and "'accepted': 100" in out
    rest, _ = sub.communicate(timeout=30)
    assert sub.returncode == 0, rest
    # Whichever merge came first: alice's entry, or the top the bots took.
    assert rest.startswith("top 5: ") or (rest.startswith("alice: rank ") and "score 120" in rest)
    assert lbd.Client(leaderboardd.requests).top("arena")["total"] == 1101


def test_endpoints_from_the_environment(leaderboardd):
    env = dict(os.environ, LBD_REQUESTS=leaderboardd.requests, LBD_INGEST=leaderboardd.ingest,
               LBD_UPDATES=leaderboardd.updates)
    pub = run_example("publish.py", env=env)
    out, _ = pub.communicate(timeout=60)
    assert pub.returncode == 0, out
