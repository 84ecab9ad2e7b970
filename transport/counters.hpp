// What the transport did to keep clients within their bounds, counted where
// it happens (the I/O thread, the gatekeeper's thread, the publisher's) and
// read by anyone: relaxed atomics, never a lock.
#pragma once

#include <atomic>
#include <cstdint>

namespace lb::transport {

struct client_counters {
  std::atomic<uint64_t> open{0};                  // connections open now, all sockets
  std::atomic<uint64_t> refused_clients{0};       // connections shut past max_clients
  std::atomic<uint64_t> refused_keys{0};          // handshakes refused: unknown key, or role
  std::atomic<uint64_t> reply_backlog{0};         // reply bytes waiting for slow readers now
  std::atomic<uint64_t> replies_dropped{0};       // replies that could not be queued
  std::atomic<uint64_t> replies_orphaned{0};      // replies to connections already closed
  std::atomic<uint64_t> bad_envelopes{0};         // requests dropped: envelope too large
  std::atomic<uint64_t> subscriptions_refused{0}; // past the subscription cap
};

inline void count(std::atomic<uint64_t>& c, uint64_t n = 1) {
  c.fetch_add(n, std::memory_order_relaxed);
}

} // namespace lb::transport
