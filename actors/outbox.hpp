// Where an actor's replies go. The actors never see a socket: the service
// wiring hands each replying actor its own outbox (in the daemon, a ZeroMQ
// PUSH socket that only that actor uses), so no two threads share one.
//
// An outbox gathers what one turn of its actor produces (replies, control
// messages for the gateway) into one buffer and sends it as one message on
// flush(): the I/O thread then takes a whole turn's replies with one
// receive, instead of one receive per reply. The buffer is reused.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "actors/protocol.hpp"
#include "schemas/reply.hpp"

namespace lb::actors {

class outbox {
public:
  virtual ~outbox() = default;

  // Queues `body` as the reply to `to`, if anybody waits.
  void reply(const reply_to& to, const schemas::reply_body& body);
  // Queues a control message for the gateway.
  void control(const ingest_applied& m);
  // Sends what was queued since the last flush, if anything, as one message.
  void flush();

  // Flushes when the actor's turn ends: `auto turn = out->turn();` first
  // thing in a handler, so that no early return leaves replies behind.
  class turn_guard {
  public:
    explicit turn_guard(outbox& o) : o_(o) {}
    ~turn_guard() { o_.flush(); }
    turn_guard(const turn_guard&) = delete;
    turn_guard& operator=(const turn_guard&) = delete;

  private:
    outbox& o_;
  };
  turn_guard turn() { return turn_guard{*this}; }

protected:
  // One message holding a batch (see outbox_batch below).
  virtual void send(std::string_view batch) = 0;

private:
  std::string batch_;
};

using outbox_factory = std::function<std::unique_ptr<outbox>()>;

// The layout of a batch, read by the gateway: items one after the other,
//   'R' route length (u32 LE), route, body length (u32 LE), body: a reply
//   'A' events (u64 LE): ingest_applied
struct outbox_batch {
  struct handlers {
    std::function<void(std::string_view route, std::string_view body)> reply;
    std::function<void(const ingest_applied&)> applied;
  };
  // Calls a handler per item; false when the batch is malformed (the items
  // before the damage were handled).
  static bool read(std::string_view batch, const handlers& h);
};

} // namespace lb::actors
