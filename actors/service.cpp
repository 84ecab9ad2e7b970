#include "actors/service.hpp"

#include "actors/log_actor.hpp"
#include "actors/logger.hpp"
#include "actors/merge_actor.hpp"
#include "actors/publisher_actor.hpp"
#include "actors/reader_actor.hpp"
#include "actors/shard_actor.hpp"
#include "actors/snapshot_actor.hpp"

namespace lb::actors {

namespace {

// Spawns an actor that blocks on the disk: on a thread of its own unless the
// options say otherwise (service_options::detach_disk_actors).
template <class F, class... Ts>
auto spawn_disk_actor(caf::actor_system& sys, const service_options& opts, F fun, Ts&&... xs) {
  return opts.detach_disk_actors ? sys.spawn<caf::detached>(fun, std::forward<Ts>(xs)...)
                                 : sys.spawn(fun, std::forward<Ts>(xs)...);
}

} // namespace

service start_service(caf::actor_system& sys, const service_options& opts,
                      const outbox_factory& make_outbox, storage::recovered_state recovered,
                      const update_sink_factory& make_sink) {
  service s;
  s.log_writer = std::make_unique<storage::log_writer>(opts.log.dir, opts.log.segment_bytes);
  storage::throw_if_error(
    s.log_writer->open(recovered.last_segment, recovered.last_segment_end, recovered.log_last_seq));
  s.last_seq = recovered.last_seq;
  // Every shard holds every board that has a schedule or a closed season
  // (configures and rollovers go to all), so the first shard tells them all.
  if (!recovered.shards.empty())
    for (auto& [name, part] : recovered.shards.front().boards()) {
      const auto& c = part.config();
      if (part.season().number == 1 && !c.schedule && c.keep == schemas::default_keep_seasons)
        continue;
      s.seasons.push_back(season_seed{name, part.season().number, part.season().anchor_ms,
                                      c.schedule ? *c.schedule : std::string{}, c.keep});
    }

  update_link updates;
  if (make_sink) {
    updates.counters = std::make_shared<update_counters>();
    updates.max_backlog = opts.max_update_backlog;
    updates.publisher = sys.spawn(publisher_actor, updates.counters, make_sink);
    s.publisher = updates.publisher;
    s.updates = updates;
  }
  s.merge = sys.spawn(merge_actor, opts.shards, opts.merge_interval, opts.top_k, make_outbox);
  for (uint32_t i = 0; i < opts.shards; ++i)
    s.shards.push_back(sys.spawn(shard_actor, i, s.merge, make_outbox));
  s.log = spawn_disk_actor(sys, opts, log_actor, opts.log, recovered.last_seq, make_outbox);
  s.snapshots = spawn_disk_actor(sys, opts, snapshot_actor, opts.log.dir, opts.log.retain,
                                 caf::actor_cast<caf::actor_addr>(s.merge));
  for (uint32_t i = 0; i < opts.readers; ++i)
    s.readers.push_back(sys.spawn(reader_actor, s.shards, make_outbox));
  // Wiring first: a shard tells the others of its recovered state as soon
  // as it has it.
  for (auto& shard : s.shards)
    caf::anon_send(shard, shard_wiring{s.shards, updates});
  for (uint32_t i = 0; i < opts.shards; ++i)
    caf::anon_send(s.shards[i], shard_restore{std::make_shared<storage::replay_state>(
                                  std::move(recovered.shards.at(i)))});
  caf::anon_send(s.merge, merge_wiring{s.shards, s.readers, s.snapshots, opts.snapshot,
                                       recovered.snapshot_seq, updates});
  if (s.publisher)
    caf::anon_send(s.publisher, publisher_wiring{s.shards});
  return s;
}

std::vector<caf::actor> service::all() const {
  auto as_actor = [](const auto& h) { return caf::actor_cast<caf::actor>(h); };
  std::vector<caf::actor> out{as_actor(merge), as_actor(snapshots)};
  for (auto& h : shards)
    out.push_back(as_actor(h));
  for (auto& h : readers)
    out.push_back(as_actor(h));
  if (publisher)
    out.push_back(as_actor(publisher));
  out.push_back(as_actor(log));
  return out;
}

view_ptr service::settled_view(caf::actor_system& sys, std::chrono::seconds timeout) {
  // A round 0: only a freeze marker, behind every round a gateway sent.
  auto cut = next_cut++;
  for (auto& shard : shards) {
    shard_round r;
    r.ops.emplace_back(freeze_marker{cut, last_seq, std::chrono::steady_clock::now()});
    caf::anon_send(shard, std::move(r));
  }
  caf::scoped_actor self{sys};
  view_ptr out;
  self->request(merge, timeout, snap_atom::value, cut)
    .receive([&](view_ptr& v) { out = std::move(v); },
             [&](caf::error& e) { logger::problem("no merged view: " + sys.render(e)); });
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
  for (auto& a : all()) {
    self->send_exit(a, caf::exit_reason::user_shutdown);
    self->wait_for(a);
  }
}

} // namespace lb::actors
