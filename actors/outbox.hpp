// What the actors send to the gateway on the I/O thread. The actors never see
// a socket: the service wiring hands each sending actor its own outbox (in
// the daemon, a ZeroMQ PUSH socket that only that actor uses), so no two
// threads share one.
//
// An outbox gathers what one turn of its actor produces into one buffer and
// sends it as one message on flush(): replies, the parts of replies the
// gateway assembles, and control messages. The I/O thread then takes a
// whole turn with one receive. The buffer is reused.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/protocol.hpp"
#include "schemas/reply.hpp"

namespace lb::actors {

class outbox {
public:
  virtual ~outbox() = default;

  // Everything queued after this waits in the gateway until the log is
  // durable up to `seq`: no reply shows an event before it is on disk.
  void gate(uint64_t seq);
  // `body` as the reply to `to`, if anybody waits.
  void reply(const reply_to& to, const schemas::reply_body& body);
  // Parts of replies the gateway assembles (gather_id in protocol.hpp).
  void batch_item(gather_id batch, uint32_t index, const schemas::batch_result& result);
  void count_part(gather_id gather, uint64_t count, const std::optional<ranking::board_config>& c);
  void friends_part(gather_id gather, const friends_answer& part);
  // Control messages.
  void control(const ingest_applied& m);
  void durable(uint64_t seq, uint64_t syncs); // the log actor: synced up to seq
  void merged(uint64_t cut);                  // the merge actor: a cut's view is out

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
  // One message holding a batch (read with outbox_batch::read).
  virtual void send(std::string_view batch) = 0;

private:
  std::string batch_;
};

using outbox_factory = std::function<std::unique_ptr<outbox>()>;

// Reads a batch: one call per item, in order.
struct outbox_batch {
  struct handlers {
    // Returning false stops the reading at a gate; `rest` is what follows it.
    std::function<bool(uint64_t seq, std::string_view rest)> gate;
    std::function<void(std::string_view route, std::string_view body)> reply;
    std::function<void(gather_id, uint32_t index, schemas::batch_result&&)> batch_item;
    std::function<void(gather_id, uint64_t count, std::optional<ranking::board_config>)> count;
    std::function<void(gather_id, friends_answer&&)> friends;
    std::function<void(const ingest_applied&)> applied;
    std::function<void(uint64_t seq, uint64_t syncs)> durable;
    std::function<void(uint64_t cut)> merged;
  };
  // False when the batch is malformed (the items before the damage were
  // handled): only the service's own actors write batches, so that is a bug.
  static bool read(std::string_view batch, const handlers& h);
};

} // namespace lb::actors
