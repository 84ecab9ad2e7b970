#include "actors/service.hpp"

#include <iostream>

#include "actors/atoms.hpp"
#include "actors/ingress_actor.hpp"
#include "actors/merge_actor.hpp"
#include "actors/publisher_actor.hpp"
#include "actors/reader_actor.hpp"
#include "actors/shard_actor.hpp"
#include "actors/snapshot_actor.hpp"

namespace lb::actors {

service start_service(caf::actor_system& sys, const service_options& opts,
                      const outbox_factory& make_outbox, storage::recovered_state recovered,
                      const update_sink_factory& make_sink) {
  auto writer = std::make_shared<storage::log_writer>(opts.log.dir, opts.log.segment_bytes);
  storage::throw_if_error(
    writer->open(recovered.last_segment, recovered.last_segment_end, recovered.log_last_seq));

  service s;
  update_channel updates;
  if (make_sink) {
    auto counters = std::make_shared<update_counters>();
    s.publisher = sys.spawn(publisher_actor, counters, make_sink);
    updates = update_channel{s.publisher, counters, opts.max_update_backlog};
  }
  s.merge = sys.spawn(merge_actor, opts.shards, opts.merge_interval, opts.top_k);
  for (uint32_t i = 0; i < opts.shards; ++i) {
    s.shards.push_back(sys.spawn(shard_actor, i, s.merge, make_outbox));
    auto restored = std::make_shared<storage::replay_state>(std::move(recovered.shards.at(i)));
    caf::anon_send(s.shards.back(), shard_restore{std::move(restored)});
  }
  // Both block on the disk: each gets a thread of its own.
  s.log = sys.spawn<caf::detached>(log_actor, opts.log, writer, recovered.last_seq, s.shards,
                                   make_outbox);
  s.snapshots = sys.spawn<caf::detached>(snapshot_actor, opts.log.dir, s.log);
  s.ingress = sys.spawn(ingress_actor, opts.shards, s.log, s.merge, recovered.last_seq,
                        make_outbox);
  for (uint32_t i = 0; i < opts.readers; ++i)
    s.readers.push_back(sys.spawn(reader_actor, s.shards, make_outbox));
  for (auto& shard : s.shards)
    caf::anon_send(shard, shard_wiring{s.ingress, s.shards, updates});
  caf::anon_send(s.log, log_wiring{s.ingress, s.merge});
  caf::anon_send(s.merge, merge_wiring{s.ingress, s.shards, s.readers, s.snapshots, opts.snapshot,
                                       recovered.snapshot_seq, updates});
  s.settled_view(sys, std::chrono::seconds(60));
  return s;
}

ranking::view_ptr service::settled_view(caf::actor_system& sys, std::chrono::seconds timeout) {
  caf::scoped_actor self{sys};
  ranking::view_ptr out;
  self->request(ingress, timeout, snap_atom::value)
    .receive(
      [&](uint64_t cut) {
        self->request(merge, timeout, snap_atom::value, cut)
          .receive([&](ranking::view_ptr& v) { out = std::move(v); },
                   [&](caf::error& e) {
                     std::cerr << "leaderboardd: no merged view: " << sys.render(e) << std::endl;
                   });
      },
      [&](caf::error& e) {
        std::cerr << "leaderboardd: the ingress did not cut the stream: " << sys.render(e)
                  << std::endl;
      });
  return out;
}

bool service::snapshot(caf::actor_system& sys) {
  auto view = settled_view(sys, std::chrono::seconds(30));
  if (!view)
    return false;
  caf::scoped_actor self{sys};
  bool ok = false;
  // A snapshot of 10 M entries takes seconds; a minute is a generous bound.
  self->request(snapshots, std::chrono::seconds(120), view)
    .receive([&](uint64_t) { ok = true; }, [&](caf::error&) {}); // the snapshot actor said why
  return ok;
}

void service::stop(caf::actor_system& sys) {
  caf::scoped_actor self{sys};
  // The log goes last: shards may still answer work it released.
  std::vector<caf::actor> all{ingress, merge, snapshots};
  all.insert(all.end(), shards.begin(), shards.end());
  all.insert(all.end(), readers.begin(), readers.end());
  if (publisher)
    all.push_back(publisher);
  all.push_back(log);
  for (auto& a : all) {
    self->send_exit(a, caf::exit_reason::user_shutdown);
    self->wait_for(a);
  }
}

} // namespace lb::actors
