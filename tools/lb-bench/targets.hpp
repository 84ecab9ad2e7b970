// lb-bench targets: one connection per client thread, driven the same way
// whatever is behind it, so the only difference between two targets' numbers
// is the target. Requests go out with a tag; replies come back as tags.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "tools/lb-bench/workload.hpp"
#include "transport/client.hpp"

namespace lb::bench {

// A target could not be reached or broke its protocol: the run stops.
struct target_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct completion {
  uint64_t tag;
  bool ok; // false: an error reply (counted, latency still recorded)
};

class connection {
public:
  virtual ~connection() = default;
  // Queues one request; it leaves by flush() at the latest.
  virtual void send(const op& o, uint64_t tag) = 0;
  virtual void flush() {}
  // Waits up to timeout_ms for a reply to read; false on timeout.
  virtual bool wait(int timeout_ms) = 0;
  // Appends every reply readable now, without blocking.
  virtual void drain(std::vector<completion>& out) = 0;
};

// lbd's `requests` ROUTER, or `lb-bench echo-server`, which answers the same
// frames: a DEALER, each request's tag as its `id`; CURVE when keys.curve().
std::unique_ptr<connection> connect_requests(zmq::context_t& ctx, const std::string& endpoint,
                                             const transport::client_keys& keys = {});

// Redis over hiredis at tcp://HOST:PORT (or HOST:PORT): a submit is one
// EVALSHA of `ZADD key GT score member` + `ZREVRANK` (one round trip, as lbd
// answers a submit with the rank); rank is ZREVRANK, top ZREVRANGE 0 9
// WITHSCORES, around a script of ZREVRANK + ZREVRANGE r-5 r+5.
std::unique_ptr<connection> connect_redis(const std::string& endpoint);

// lbd's `ingest` PULL: a PUSH that sends batches of `batch` submits.
class ingest_sender {
public:
  ingest_sender(zmq::context_t& ctx, const std::string& endpoint,
                const transport::client_keys& keys = {});
  void send_batch(const std::vector<op>& ops); // blocks while ZeroMQ's queue is full
private:
  zmq::socket_t sock_;
};

// lbd's last event seq, from `stats` on its requests socket.
uint64_t service_seq(zmq::context_t& ctx, const std::string& requests_endpoint,
                     const transport::client_keys& keys = {});

// The echo ceiling: a ROUTER on one thread that decodes every frame as the
// service does and answers with a submit-sized reply; runs until SIGINT or
// SIGTERM. Returns an exit code.
int run_echo_server(const std::string& bind_endpoint);

} // namespace lb::bench
