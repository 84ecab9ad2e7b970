"""Publishes scores. Endpoints: argv (requests ingest updates), else $LBD_REQUESTS,
$LBD_INGEST, $LBD_UPDATES, else the service's defaults."""
import sys
import lbd

requests, ingest, updates = (sys.argv[1:] + [None] * 3)[:3]
client = lbd.Client(requests)
print(client.submit("arena", "alice", 120))  # one request, its reply
with client.pipeline() as p:  # 1000 in flight, replies matched by id
    pending = [p.submit("arena", f"bot{i}", i) for i in range(1000)]
print("bot999 is rank", pending[-1].result()["rank"])
with lbd.Writer(ingest, source="publish", updates=updates) as writer:  # no replies
    writer.batch([{"board": "arena", "player": f"npc{i}", "score": i} for i in range(100)])
    print(writer.wait_acked())  # acknowledged once durable
