#include "actors/publisher_actor.hpp"

#include <xxhash.h>

#include "schemas/update.hpp"

namespace lb::actors {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

uint64_t topic_hash(std::string_view topic) {
  return XXH3_64bits(topic.data(), topic.size());
}

} // namespace

bool has_stream_seq(std::string_view topic) {
  return starts_with(topic, "score/") || starts_with(topic, "top/") || starts_with(topic, "follow/")
         || starts_with(topic, "ack/") || starts_with(topic, "season/");
}

const char* publisher_state::name = "lbd-publisher";

void publisher_state::publish(update_msg& m) {
  if (has_stream_seq(m.topic)) {
    // Shards may still send for a follow the last subscriber left; written,
    // it would only restart the topic's count for "" or "follow/"
    // subscribers.
    if (starts_with(m.topic, "follow/") && follows.count(m.topic) == 0)
      return;
    auto shed = counters->shed.load(std::memory_order_relaxed);
    if (shed != shed_seen) {
      shed_seen = shed;
      ++skipped;
    }
    auto n = ++stream_counts[topic_hash(m.topic)];
    schemas::append_stream_seq(m.body, n + skipped);
  }
  auto& counter = sink->publish(m.topic, m.body) ? counters->published : counters->dropped;
  counter.fetch_add(1, std::memory_order_relaxed);
}

bool publisher_state::poll_subscriptions() {
  auto now = sink->subscribed();
  uint32_t wanted = 0;
  std::unordered_map<std::string, uint64_t> next;
  bool changed = false;
  if (!now) {
    wanted = all_streams;
  } else {
    // A prefix selects a stream if either is a prefix of the other: "" and
    // "r" take every rank/, "rank/b/" some of it.
    auto selects = [](std::string_view prefix, std::string_view stream) {
      auto n = std::min(prefix.size(), stream.size());
      return prefix.substr(0, n) == stream.substr(0, n);
    };
    for (const auto& p : now->prefixes) {
      wanted |= selects(p, "score/") ? score_stream : 0;
      wanted |= selects(p, "rank/") ? rank_stream : 0;
      wanted |= selects(p, "top/") ? top_stream : 0;
      // Only a subscription naming one player makes a feed: follow/b/al is
      // not a follow of every player whose name starts with "al".
      if (!schemas::parse_follow_prefix(p))
        continue;
      auto old = follows.find(p);
      if (old == follows.end()) {
        next.emplace(p, next_generation++);
        changed = true;
      } else {
        next.emplace(p, old->second);
      }
    }
    for (const auto& p : now->joined) {
      auto i = next.find(p);
      // A brand-new follow has its fresh generation already.
      if (i != next.end() && follows.count(p) != 0) {
        i->second = next_generation++;
        changed = true;
      }
    }
  }
  for (const auto& [topic, generation] : follows)
    if (next.count(topic) == 0) {
      // Nobody follows it: its numbering goes, so that the publisher's
      // memory follows the live follows (a new follower starts from the
      // current state anyway).
      stream_counts.erase(topic_hash(topic));
      changed = true;
    }
  follows = std::move(next);
  counters->wanted.store(wanted, std::memory_order_relaxed);
  return changed;
}

follow_set publisher_state::follow_snapshot() const {
  auto list = std::make_shared<std::vector<follow_entry>>();
  list->reserve(follows.size());
  for (const auto& [topic, generation] : follows) {
    auto target = schemas::parse_follow_prefix(topic);
    list->push_back(follow_entry{std::move(target->board), std::move(target->player), generation});
  }
  return follow_set{std::move(list)};
}

void publisher_state::done(uint64_t n) {
  counters->backlog.fetch_sub(n, std::memory_order_relaxed);
}

namespace {

using self_ptr = publisher_handle::stateful_pointer<publisher_state>;

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

// Every shard gets the same snapshot; each keeps the follows it owns.
void send_follows(self_ptr self) {
  auto& st = self->state;
  if (st.shards.empty())
    return;
  auto snapshot = st.follow_snapshot();
  for (auto& shard : st.shards)
    self->send(shard, snapshot); // copies a pointer
}

void poll(self_ptr self) {
  if (self->state.poll_subscriptions())
    send_follows(self);
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
      poll(self);
      self->delayed_send(self, subscription_poll, caf::tick_atom::value);
    },
    [self](publisher_wiring& w) {
      self->state.shards = std::move(w.shards);
      if (!self->state.follows.empty())
        send_follows(self);
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
