"""Follows alice's rank and the top 5. Endpoints: argv (updates requests), else
$LBD_UPDATES, $LBD_REQUESTS; stops after argv[3] updates if given."""
import itertools, sys
import lbd

updates, requests, count = (sys.argv[1:] + [None] * 3)[:3]
sub = lbd.Subscriber(updates, requests)
sub.follow("arena", "alice")  # the first state is the current one
sub.top("arena", limit=5)  # late join: the current top, then every change
for feed, state in itertools.islice(sub.updates(), int(count) if count else None):
    if isinstance(feed, lbd.Follow):
        print(f"alice: rank {state['rank']} of {state['total']}, score {state['score']}")
    else:
        print("top 5:", ", ".join(f"{e['player']} {e['score']}" for e in state["entries"]))
