#include "actors/update_channel.hpp"

namespace lb::actors {

// Relaxed throughout: the counters order nothing; the updates themselves
// travel in CAF messages, which synchronise.

update_channel::update_channel(caf::actor publisher, std::shared_ptr<update_counters> counters,
                               uint64_t max_backlog)
  : publisher_(std::move(publisher)), counters_(std::move(counters)), max_backlog_(max_backlog) {}

bool update_channel::has_room(uint64_t n) const {
  return enabled() && counters_->backlog.load(std::memory_order_relaxed) + n <= max_backlog_;
}

bool update_channel::wants(uint32_t kind) const {
  return enabled() && (counters_->wanted.load(std::memory_order_relaxed) & kind) != 0;
}

void update_channel::count_dropped(uint64_t n) {
  if (enabled())
    counters_->dropped.fetch_add(n, std::memory_order_relaxed);
}

uint64_t update_channel::published() const {
  return enabled() ? counters_->published.load(std::memory_order_relaxed) : 0;
}

uint64_t update_channel::dropped() const {
  return enabled() ? counters_->dropped.load(std::memory_order_relaxed) : 0;
}

} // namespace lb::actors
