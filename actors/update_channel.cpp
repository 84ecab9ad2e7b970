#include "actors/update_channel.hpp"

namespace lb::actors {

// Relaxed throughout: the counters order nothing; the updates themselves
// travel in CAF messages, which synchronise.

bool update_channel::has_room(uint64_t n) const {
  return enabled()
         && link_.counters->backlog.load(std::memory_order_relaxed) + n <= link_.max_backlog;
}

bool update_channel::wants(uint32_t kind) const {
  return enabled() && (link_.counters->wanted.load(std::memory_order_relaxed) & kind) != 0;
}

bool update_channel::reserve(uint64_t n) {
  if (n == 0 || !enabled())
    return false;
  // Reserve first, so that producers racing for the last room cannot all
  // get it; give the reservation back if it does not fit.
  auto before = link_.counters->backlog.fetch_add(n, std::memory_order_relaxed);
  if (before + n > link_.max_backlog) {
    link_.counters->backlog.fetch_sub(n, std::memory_order_relaxed);
    count_dropped(n);
    return false;
  }
  return true;
}

void update_channel::count_dropped(uint64_t n) {
  if (!enabled() || n == 0)
    return;
  link_.counters->dropped.fetch_add(n, std::memory_order_relaxed);
  link_.counters->shed.fetch_add(n, std::memory_order_relaxed);
}

uint64_t update_channel::published() const {
  return enabled() ? link_.counters->published.load(std::memory_order_relaxed) : 0;
}

uint64_t update_channel::dropped() const {
  return enabled() ? link_.counters->dropped.load(std::memory_order_relaxed) : 0;
}

} // namespace lb::actors
