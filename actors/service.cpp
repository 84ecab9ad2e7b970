#include "actors/service.hpp"

#include "actors/ingress_actor.hpp"
#include "actors/merge_actor.hpp"
#include "actors/publisher_actor.hpp"
#include "actors/reader_actor.hpp"
#include "actors/shard_actor.hpp"

namespace lb::actors {

service start_service(caf::actor_system& sys, const service_options& opts,
                      const outbox_factory& make_outbox,
                      const update_sink_factory& make_sink) {
  service s;
  update_channel updates;
  if (make_sink) {
    auto counters = std::make_shared<update_counters>();
    s.publisher = sys.spawn(publisher_actor, counters, make_sink);
    updates = update_channel{s.publisher, counters, opts.max_update_backlog};
  }
  s.merge = sys.spawn(merge_actor, opts.shards, opts.merge_interval, opts.top_k);
  for (uint32_t i = 0; i < opts.shards; ++i)
    s.shards.push_back(sys.spawn(shard_actor, i, s.merge, make_outbox));
  s.ingress = sys.spawn(ingress_actor, s.shards, s.merge, make_outbox);
  for (uint32_t i = 0; i < opts.readers; ++i)
    s.readers.push_back(sys.spawn(reader_actor, s.shards, make_outbox));
  for (auto& shard : s.shards)
    caf::anon_send(shard, shard_wiring{s.ingress, s.shards, updates});
  caf::anon_send(s.merge, merge_wiring{s.ingress, s.shards, s.readers, updates});
  return s;
}

void service::stop(caf::actor_system& sys) {
  caf::scoped_actor self{sys};
  std::vector<caf::actor> all{ingress, merge};
  all.insert(all.end(), shards.begin(), shards.end());
  all.insert(all.end(), readers.begin(), readers.end());
  if (publisher)
    all.push_back(publisher);
  for (auto& a : all)
    self->send_exit(a, caf::exit_reason::user_shutdown);
  for (auto& a : all)
    self->wait_for(a);
}

} // namespace lb::actors
