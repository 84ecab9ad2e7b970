#include "actors/publisher_actor.hpp"

namespace lb::actors {

const char* publisher_state::name = "lbd-publisher";

void publisher_state::publish(const update_msg& m) {
  auto& counter = sink->publish(m.topic, m.body) ? counters->published : counters->dropped;
  counter.fetch_add(1, std::memory_order_relaxed);
}

void publisher_state::poll_subscriptions() {
  auto prefixes = sink->subscriptions();
  uint32_t wanted = 0;
  if (!prefixes) {
    wanted = all_streams;
  } else {
    // A prefix selects a stream if either is a prefix of the other: "" and
    // "r" take every rank/, "rank/b/" some of it.
    auto selects = [](std::string_view prefix, std::string_view stream) {
      auto n = std::min(prefix.size(), stream.size());
      return prefix.substr(0, n) == stream.substr(0, n);
    };
    for (const auto& p : *prefixes) {
      wanted |= selects(p, "score/") ? score_stream : 0;
      wanted |= selects(p, "rank/") ? rank_stream : 0;
      wanted |= selects(p, "top/") ? top_stream : 0;
    }
  }
  counters->wanted.store(wanted, std::memory_order_relaxed);
}

void publisher_state::done(uint64_t n) {
  counters->backlog.fetch_sub(n, std::memory_order_relaxed);
}

namespace {

constexpr std::chrono::milliseconds subscription_poll{10};

// Every shard's run is in seq order; writing the smallest head each time
// puts all of them in seq order, so each board's score/ stream is too.
// O(events x shards), and the runs are short: one merge interval's events.
uint64_t publish_in_seq_order(publisher_state& st, std::vector<std::vector<update_msg>>& runs) {
  std::vector<size_t> next(runs.size(), 0);
  uint64_t n = 0;
  for (;;) {
    std::vector<update_msg>* best = nullptr;
    size_t* best_next = nullptr;
    for (size_t r = 0; r < runs.size(); ++r)
      if (next[r] < runs[r].size()
          && (best == nullptr || runs[r][next[r]].seq < (*best)[*best_next].seq)) {
        best = &runs[r];
        best_next = &next[r];
      }
    if (best == nullptr)
      return n;
    st.publish((*best)[(*best_next)++]);
    ++n;
  }
}

} // namespace

publisher_handle::behavior_type
publisher_actor(publisher_handle::stateful_pointer<publisher_state> self,
                std::shared_ptr<update_counters> counters, update_sink_factory make_sink) {
  auto& st = self->state;
  st.counters = std::move(counters);
  st.sink = make_sink();
  st.poll_subscriptions();
  // A new subscriber's streams start within one poll: one more short delay
  // on top of ZeroMQ's slow joiner, which a subscriber must allow for
  // anyway (README, "Update streams").
  self->delayed_send(self, subscription_poll, caf::tick_atom::value);
  return {
    [self](caf::tick_atom) {
      self->state.poll_subscriptions();
      self->delayed_send(self, subscription_poll, caf::tick_atom::value);
    },
    [self](update_batch& b) {
      auto& st = self->state;
      for (auto& m : b.items)
        st.publish(m);
      st.done(b.items.size());
    },
    [self](cut_updates& c) {
      auto& st = self->state;
      auto n = publish_in_seq_order(st, c.score_runs);
      for (auto& m : c.tops)
        st.publish(m);
      st.done(n + c.tops.size());
    },
  };
}

} // namespace lb::actors
