// The gateway turns frames into actor messages. It runs on the transport's
// I/O thread (not an actor): it decodes every frame there, answers bad ones at
// once, and hands the rest, batched per drain of the sockets, to the actor
// that owns them: events and stats to the ingress, player reads to the owning
// shard, view reads to a reader.
//
// It also keeps the work in flight bounded. Every request it forwards is
// counted until its reply passes back through the I/O thread; past
// `max_inflight` new requests get `overloaded` instead of queueing without
// limit. Ingest events are counted until the shards report them applied;
// past `max_ingest_inflight` the gateway stops reading the ingest socket and
// ZeroMQ's high-water marks push back on the senders.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include <caf/all.hpp>

#include "actors/protocol.hpp"
#include "actors/ranking/partition.hpp"

namespace lb::actors {

struct gateway_limits {
  uint64_t max_inflight = 100000;
  uint64_t max_ingest_inflight = 200000;
};

class gateway {
public:
  using reply_fn = std::function<void(std::string_view route, std::string_view body)>;

  gateway(ingress_handle ingress, std::vector<shard_handle> shards,
          std::vector<reader_handle> readers, gateway_limits limits = {});

  // One request frame. `reply_now` answers it right away, on this thread.
  void on_request(std::string_view route, std::string_view body, const reply_fn& reply_now);
  void on_ingest(std::string_view body);
  // A message from an actor's outbox: its replies go out through `send`,
  // and ingest events it reports applied leave the in-flight count.
  void on_internal(std::string_view batch, const reply_fn& send);
  // End of one drain of the sockets: send what was gathered.
  void flush();

  bool ingest_paused() const { return ingest_inflight_ >= limits_.max_ingest_inflight; }
  uint64_t inflight() const { return inflight_; }

private:
  ingress_handle ingress_;
  std::vector<shard_handle> shards_;
  std::vector<reader_handle> readers_;
  ranking::shard_map map_;
  gateway_limits limits_;
  size_t next_reader_ = 0;

  ingress_batch to_ingress_;
  std::vector<shard_queries> to_shards_;
  reader_queries to_reader_;

  uint64_t inflight_ = 0;
  uint64_t ingest_inflight_ = 0;
};

} // namespace lb::actors
