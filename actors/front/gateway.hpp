// The gateway: the service's side of the I/O thread (transport/server.hpp
// calls it for every frame; it is not an actor). It decodes each request,
// answers bad ones at once, and puts the rest in order:
// - every event gets its seq and its log record, and what one drain of the
//   sockets brought is cut into one round per shard (round_builder.hpp),
//   written to the log with one write (journal.hpp) and sent on;
// - exact reads take their place in the same rounds, so a shard answers
//   them at the end of their round, from every shard's part as of then;
// - reads with `exact: false` go straight to a shard or a reader, which
//   answers from the merged view.
// What the actors send back (outbox.hpp) comes here: a shard answers a round
// behind a gate at the round's last seq, and the gateway sends those answers
// on once the log is durable that far; replies that span shards it
// assembles (gathers.hpp). It also makes the cuts the merge actor builds its
// view from, one per merge interval while events arrive.
//
// It keeps the work in flight bounded. Every request it forwards is counted,
// for its connection and in all, until its reply goes out. A connection may
// hold its share of `max_inflight` (the budget split over the connections
// with requests in flight, at most `max_inflight_per_client`), so a greedy
// client gets `overloaded` while a polite one goes on; one whose replies
// pile up unread (`max_unread` bytes) gets `overloaded` too, and so does one
// whose requests in flight could answer with more than
// `max_inflight_entries_per_client` entries (a `top` of 1000 weighs 1000). Ingest events
// are counted until the shards report them applied; past
// `max_ingest_inflight` the gateway stops reading the ingest socket and
// ZeroMQ's high-water marks push back on the senders.
//
// Past `max_memory` of resident memory it marks every submit it orders
// `existing_only`: the shards then update entries but add none, and the log
// keeps the mark, so replays agree.
//
// It also checks each request against its sender's role (the transport's
// CURVE keys) and logs every admin op with the key that sent it.
//
// An ingest frame that names its `source` is acknowledged on the update
// stream (`ack/<source>/`, PROTOCOL.md section 4) once the log is durable up
// to its last accepted event, and counted per source for `stats`.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "actors/front/gathers.hpp"
#include "actors/front/journal.hpp"
#include "actors/front/round_builder.hpp"
#include "actors/front/schedules.hpp"
#include "actors/protocol.hpp"
#include "actors/service.hpp"
#include "actors/update_channel.hpp"
#include "schemas/update.hpp"

namespace lb::actors {

struct gateway_limits {
  uint64_t max_inflight = 100000;
  uint64_t max_inflight_per_client = 1000;
  uint64_t max_inflight_entries_per_client = 16384; // entries their replies may carry
  uint64_t max_unread = 4 << 20;                    // reply bytes queued unread, per connection
  uint64_t max_ingest_inflight = 200000;
  // Resident memory past which submits may update entries but not add
  // them (0: no limit), and how the gateway reads it.
  uint64_t max_memory = 0;
  std::function<uint64_t()> resident_bytes;
};

// What a client may do, from its key (PROTOCOL.md, "Access").
enum class client_role : uint8_t { none, reader, writer, admin };

// Who sent a request, as the transport saw it.
struct request_origin {
  client_role role = client_role::admin;
  std::string_view key;     // the CURVE public key; empty without CURVE
  std::string_view address; // the peer's address, for the log
  size_t unread = 0;        // reply bytes queued for it and not read yet
};

class gateway {
public:
  // Sends a reply on the requests socket (only ever called on this thread).
  using send_fn = std::function<void(std::string_view route, std::string_view body)>;

  // The transport's counters, for `stats`.
  using client_stats_fn = std::function<schemas::client_stats()>;

  // Takes the service's log writer; numbering goes on after its last seq.
  gateway(service& svc, const service_options& opts, send_fn send, gateway_limits limits = {},
          client_stats_fn client_stats = {});

  void on_request(std::string_view route, std::string_view body, const request_origin& from = {});
  void on_ingest(std::string_view body);
  // One message from an actor's outbox.
  void on_internal(std::string_view batch);
  // End of one drain of the sockets: the round goes out, with a cut for the
  // merge actor when one is due at `now` (an argument, so tests set the time).
  void flush(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  bool ingest_paused() const { return ingest_inflight_ >= limits_.max_ingest_inflight; }
  // How long the I/O thread may wait for frames before the next cut is due.
  std::chrono::milliseconds until_next_cut() const;
  uint64_t inflight() const { return inflight_; }
  // Where the service goes on once the I/O thread is gone (service::last_seq).
  uint64_t last_seq() const { return rounds_.last_seq(); }
  uint64_t next_cut() const { return next_cut_; }

private:
  // A request waiting behind a configure's emptiness check.
  struct stalled {
    reply_to to;
    schemas::request_body body;
    bool ingest = false;
    std::optional<std::string> source; // an ingest frame's, for its ack
    // An ingest frame refused at decode: only its ack waits, behind the
    // earlier frames of its source.
    std::optional<schemas::ingest_ack> refused;
  };

  struct client_load {
    uint64_t requests = 0;
    uint64_t weight = 0; // entries the replies may carry
  };
  // `in_flight`: what the sender's connection has in flight (nullptr: nothing).
  bool admitted(std::string_view route, const schemas::request_body& body, uint64_t weight,
                const client_load* in_flight, const request_origin& from,
                std::optional<uint64_t> id);
  // A reply to a request that was counted in flight (its route weighed).
  void send_reply(std::string_view weighed_route, std::string_view body);
  // `source`: an ingest frame's, which gets an ack.
  void dispatch(reply_to&& to, schemas::request_body&& body, bool ingest,
                std::optional<std::string> source = std::nullopt);
  void order(reply_to&& to, schemas::request_body&& body, bool ingest,
             std::optional<std::string> source = std::nullopt);
  void order_batch(reply_to&& to, schemas::batch_req&& b, bool ingest,
                   std::optional<std::string> source);
  void order_friends(reply_to&& to, schemas::ranks_req&& q);
  void decide(checked_configure&& c);
  // A rollover event for every shard (gather 0: nobody waits for a reply).
  void rollover(schemas::rollover_body&& body, gather_id gather);
  // Orders the rollovers whose schedule boundary has come.
  void roll_due_seasons();
  void unstall();
  void send_round();
  void refuse(round_builder::round& r, const storage::status& why);
  void cut(std::chrono::steady_clock::time_point now);
  void answer(const reply_to& to, const schemas::reply_body& body);
  void answer_when_durable(uint64_t seq, const reply_to& to, const schemas::reply_body& body);
  void finish(std::optional<finished> f);
  void read_batch(std::string_view batch);
  void release_durable();
  void check_memory(std::chrono::steady_clock::time_point now);
  // Ingest acks: one per frame that named a source, counted at once, sent
  // in order per source once the log is durable up to the frame's last event.
  void acknowledge(schemas::ingest_ack&& ack);
  void post_acks();
  void emit_ack(schemas::ingest_ack&& ack);
  void send_acks();
  schemas::source_counts& counts_of(const std::string& source);
  std::vector<std::pair<std::string, schemas::source_counts>> source_table() const;

  service& svc_;
  send_fn send_;
  gateway_limits limits_;
  std::chrono::milliseconds merge_interval_;
  round_builder rounds_;
  season_schedules seasons_;
  journal journal_;
  gathers gathers_;

  // `stats` requests of this drain: they go to the merge actor once the
  // round is written, with the seq the log took.
  std::vector<stats_wanted> stats_waiting_;

  // Reads of the merged view, per drain.
  std::vector<shard_queries> to_shards_;
  reader_queries to_reader_;
  size_t next_reader_ = 0;
  size_t next_boards_shard_ = 0;

  // A configure's check is out: later ordered requests wait, in order.
  bool barrier_ = false;
  std::deque<stalled> stalled_;

  // What waits for the log to be durable up to its key: the rest of an
  // actor's batch after its gate, or a reply of the gateway's own.
  struct held {
    std::string batch; // an outbox batch, or
    reply_to to;       // a reply
    schemas::reply_body body;
  };
  std::multimap<uint64_t, held> held_;

  // Cuts for the merge actor.
  uint64_t next_cut_ = 1;
  uint64_t cut_pending_ = 0; // the last periodic cut not merged yet (0: none)
  uint64_t cut_seq_ = 0;     // the seq of the last periodic cut
  std::chrono::steady_clock::time_point next_cut_at_{};

  stats_counters counters_;
  std::filesystem::path data_dir_; // for what the operator is told
  std::chrono::steady_clock::time_point last_complaint_{};
  uint64_t inflight_ = 0;
  std::unordered_map<std::string, client_load> inflight_by_client_; // by route; none empty
  uint64_t ingest_inflight_ = 0;
  client_stats_fn client_stats_;
  bool memory_full_ = false;

  // Acks of the frames ordered since the last round went out wait in
  // round_acks_, as that round may yet be refused; then each waits in
  // acks_held_ until the log is durable up to its key: its frame's last
  // event or, with none, the key of its source's last ack still held
  // (held_tail_), so that a source's acks go out in order. Ready ones are
  // sent to the publisher together, at the end of a drain or message.
  update_channel updates_;
  std::vector<schemas::ingest_ack> round_acks_;
  std::multimap<uint64_t, schemas::ingest_ack> acks_held_;
  std::unordered_map<std::string, uint64_t> held_tail_;
  std::vector<update_msg> acks_out_;
  // Per source, for `stats`: at most max_stats_sources, then other_sources_.
  std::unordered_map<std::string, schemas::source_counts> sources_;
  schemas::source_counts other_sources_;
  std::chrono::steady_clock::time_point next_memory_check_{};
};

} // namespace lb::actors
