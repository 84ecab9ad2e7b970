"""Python client for lbd, the real-time leaderboard service.

- `Client`: requests (blocking calls, and pipelining with `send`/`receive`
  or `pipeline()`).
- `Writer`: fire-and-forget ingest, with acknowledgements for a `source`.
- `Subscriber`: a player's rank feed and a board's live top, from the
  current state on, and a board's closed seasons, with lost messages
  detected and repaired.
- `lbd.testing`: the pytest fixtures `leaderboardd` and
  `leaderboardd_factory` (a throwaway service per test).

The wire protocol is docs/PROTOCOL.md.
"""

from ._common import DEFAULT_INGEST, DEFAULT_REQUESTS, DEFAULT_UPDATES, Error, Timeout
from .client import Client, Pending, Pipeline
from .subscriber import Follow, Season, Subscriber, Top
from .writer import Writer

__all__ = ["Client", "Error", "Follow", "Pending", "Pipeline", "Season", "Subscriber", "Timeout",
           "Top", "Writer", "DEFAULT_REQUESTS", "DEFAULT_INGEST", "DEFAULT_UPDATES"]
