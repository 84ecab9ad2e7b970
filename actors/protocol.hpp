// The actors' protocol: every message the actors exchange, and for each
// actor a typed interface listing what it accepts, so the compiler checks who
// may send what. Who talks to whom:
//
//   gateway (I/O thread) -- ingress_batch --> ingress -- log_append --> log
//   log -- shard_work (after the events are durable) --> shards
//   gateway -- shard_queries --> shard     gateway -- reader_queries --> reader
//   merge -- cut_atom --> ingress, whose freeze markers reach every shard
//   shards -- shard_snapshot --> merge -- view_ptr --> shards, readers
//   merge -- view_ptr --> snapshot -- log_covered --> log
//   shards, merge -- update_batch, cut_updates --> publisher
//   shards, log -- reply or ingest_applied through their outbox --> gateway
//
// Every message stays inside one process, so the types are declared
// CAF_ALLOW_UNSAFE_MESSAGE_TYPE (no serializer) and moved: a batch crosses
// each actor boundary as one message.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/options.hpp"
#include "actors/ranking/board_config.hpp"
#include "actors/ranking/global_view.hpp"
#include "actors/ranking/order_tree.hpp"
#include "actors/storage/event_batch.hpp"
#include "actors/storage/replay_state.hpp"
#include "schemas/reply.hpp"
#include "schemas/request.hpp"

namespace lb::actors {

// -- atoms (CAF 0.17: at most 10 characters) ----------------------------------

// merge -> ingress: cut the event stream for the next merge.
using cut_atom = caf::atom_constant<caf::atom("cut")>;
// The log actor's group-commit timer.
using commit_atom = caf::atom_constant<caf::atom("commit")>;
// Shutdown: cut the stream now (ingress), hand out the view of a cut (merge).
using snap_atom = caf::atom_constant<caf::atom("snap")>;

// -- the interfaces -------------------------------------------------------------

struct ingress_batch;
struct shard_queries;
struct reader_queries;
struct shard_work;
struct batch_part;
struct gather_part;
struct count_request;
struct count_reply;
struct lookup_request;
struct lookup_reply;
struct shard_snapshot;
struct stats_wanted;
struct stats_job;
struct update_batch;
struct cut_updates;
struct log_append;
struct log_covered;
struct log_wiring;
struct shard_wiring;
struct shard_restore;
struct merge_wiring;

using ranking::view_ptr;

// Orders events: numbers them, routes them, gathers multi-shard replies.
using ingress_handle = caf::typed_actor<caf::reacts_to<ingress_batch>, caf::reacts_to<gather_part>,
                                        caf::reacts_to<batch_part>, caf::reacts_to<cut_atom>,
                                        caf::replies_to<snap_atom>::with<uint64_t>>;

// Writes the event log; releases work to the shards once it is durable.
using log_handle = caf::typed_actor<caf::reacts_to<log_wiring>, caf::reacts_to<log_append>,
                                    caf::reacts_to<commit_atom>, caf::reacts_to<log_covered>,
                                    caf::reacts_to<stats_wanted>>;

// Owns a slice of every board's players.
using shard_handle
  = caf::typed_actor<caf::reacts_to<shard_wiring>, caf::reacts_to<shard_restore>,
                     caf::reacts_to<shard_work>, caf::reacts_to<shard_queries>,
                     caf::replies_to<count_request>::with<count_reply>,
                     caf::replies_to<lookup_request>::with<lookup_reply>, caf::reacts_to<view_ptr>>;

// Builds the global view from the shards' snapshots every merge interval.
using merge_handle = caf::typed_actor<
  caf::reacts_to<merge_wiring>, caf::reacts_to<caf::tick_atom>, caf::reacts_to<shard_snapshot>,
  caf::replies_to<snap_atom, uint64_t>::with<view_ptr>, caf::reacts_to<stats_wanted>>;

// Answers reads of the merged view.
using reader_handle = caf::typed_actor<caf::reacts_to<reader_queries>, caf::reacts_to<stats_job>,
                                       caf::reacts_to<view_ptr>>;

// Writes a view as a snapshot; answers with its seq.
using snapshot_handle = caf::typed_actor<caf::replies_to<view_ptr>::with<uint64_t>>;

// Writes the update streams.
using publisher_handle
  = caf::typed_actor<caf::reacts_to<caf::tick_atom>, caf::reacts_to<update_batch>,
                     caf::reacts_to<cut_updates>>;

// -- messages -------------------------------------------------------------------

// Where a reply goes: the request's opaque envelope and its `id`. An empty
// route means nobody waits (an ingest event).
struct reply_to {
  std::string route;
  std::optional<uint64_t> id;
  bool wanted() const { return !route.empty(); }
};

// -- shards, log -> gateway: control messages through the I/O thread ---------

// Ingest events the shards applied, or the log refused: the gateway counts
// ingest events in flight until then, to bound them (gateway.hpp). Travels
// in an outbox batch (outbox.hpp).
struct ingest_applied {
  uint64_t events = 0;
};

// -- gateway -> ingress ------------------------------------------------------

// The requests the ingress puts in seq order: those that become one or more
// events (submit, batch, remove, reset, configure), and `stats`, which needs
// a cut through the event stream.
using ordered_request
  = std::variant<schemas::submit_req, schemas::batch_req, schemas::remove_req, schemas::reset_req,
                 schemas::configure_req, schemas::stats_req>;

struct routed_request {
  reply_to to;
  ordered_request body;
};

struct ingress_batch {
  std::vector<routed_request> items;
  uint64_t ingest_frames_rejected = 0; // counted by the gateway, for stats
  uint64_t requests_seen = 0;
  uint64_t requests_rejected = 0;
};

// -- gateway -> shard / reader: reads that need no seq ------------------------

struct shard_query {
  reply_to to;
  std::variant<schemas::rank_req, schemas::around_req> body;
};

struct shard_queries {
  std::vector<shard_query> items;
};

struct reader_query {
  reply_to to;
  std::variant<schemas::top_req, schemas::ranks_req, schemas::boards_req, schemas::ping_req> body;
};

struct reader_queries {
  std::vector<reader_query> items;
};

// -- ingress -> shard: the shard's slice of the event stream, in seq order ---

// Where the outcome of one submit goes.
struct batch_slot {
  uint64_t batch = 0; // ingress-local batch number
  uint32_t index = 0; // item position in the batch
};
using submit_target = std::variant<reply_to, batch_slot>;

struct submit_event {
  uint64_t seq = 0;
  schemas::submit_req req;
  submit_target target;
};

struct remove_event {
  uint64_t seq = 0;
  schemas::remove_req req;
  reply_to to;
};

// Sent to every shard; each answers a gather_part with what it removed.
struct reset_event {
  uint64_t seq = 0;
  std::string board;
  uint64_t gather = 0;
};

// Sent to every shard once the ingress has checked that the board is empty.
struct configure_event {
  uint64_t seq = 0;
  std::string board;
  ranking::board_config config;
};

// "How many entries do you hold on this board, and with what configuration?"
// Answered with a gather_part; ordered like events, so the answer is exact at
// that point of the stream.
struct config_check {
  std::string board;
  uint64_t gather = 0;
};

// Every shard freezes what changed since its last freeze and sends a
// shard_snapshot to the merge actor. The ingress sends the marker to all
// shards at the same point of the stream, so the snapshots form a consistent
// cut at `seq`.
struct freeze_marker {
  uint64_t cut = 0;
  uint64_t seq = 0;
};

using shard_op = std::variant<submit_event, remove_event, reset_event, configure_event,
                              config_check, freeze_marker>;

struct shard_work {
  std::vector<shard_op> ops;
  uint64_t ingest_events = 0; // how many ops came from the ingest socket
};

// -- shard -> ingress: parts of multi-shard answers --------------------------

struct batch_part {
  uint64_t batch = 0;
  std::vector<std::pair<uint32_t, schemas::batch_result>> results;
};

struct gather_part {
  uint64_t gather = 0;
  uint64_t count = 0;
  std::optional<ranking::board_config> config; // set when the shard knows the board
  std::optional<schemas::error> failed;        // the log refused the event (a reset)
};

// -- shard <-> shard: exact ranks --------------------------------------------

struct count_request {
  std::string board;
  ranking::rank_key key;
};

struct count_reply {
  uint64_t before = 0;
  uint64_t size = 0;
};

// -- reader -> shard: a friends list, per owning shard -------------------------

struct lookup_request {
  std::string board;
  std::vector<std::string> players;
  view_ptr view; // answer from this view, so that all shards' answers agree
};

struct lookup_reply {
  std::vector<schemas::entry_view> entries; // found players, rank filled in
  uint64_t total = 0;
  bool board_known = false;
  view_ptr used; // the requested view, or the shard's own if it lagged too far
};

// -- shard -> merge ------------------------------------------------------------

struct board_snapshot {
  std::string name;
  ranking::board_config config;
  ranking::frozen_tree tree;
  uint64_t reset_seq = 0; // the board's last reset on this shard
};

// One update stream message (PROTOCOL.md section 5), encoded by the actor
// that knows its content, so the publisher only writes bytes.
struct update_msg {
  uint64_t seq = 0; // score/: the event's; top/ and rank/: the merge's
  std::string topic;
  std::string body;
};

struct shard_snapshot {
  uint32_t shard = 0;
  uint64_t cut = 0;
  uint64_t seq = 0;
  std::vector<board_snapshot> changed; // boards changed since the last freeze
  std::vector<update_msg> scores;      // score/ for the events since then, in seq order
  uint64_t entries = 0;
  uint64_t mailbox = 0;
};

// -- ingress -> log -> merge: somebody waits for the cut ----------------------

struct stats_counters {
  uint64_t seq = 0;
  uint64_t requests = 0;
  uint64_t rejected = 0;
  uint64_t ingest_events = 0;
  uint64_t ingest_rejected = 0;
  schemas::log_stats log; // stamped by the log actor on the way to the merge
};

struct stats_wanted {
  uint64_t cut = 0;
  reply_to to;
  stats_counters counters;
};

// -- merge -> reader: compute the stats reply off the merge actor -------------

struct stats_job {
  reply_to to;
  view_ptr view;
  stats_counters counters;
  std::vector<schemas::shard_stats> shards;
  uint32_t merge_interval_ms = 0;
  uint64_t updates_published = 0;
  uint64_t updates_dropped = 0;
  schemas::merge_timing merges;
};

// -- shards, merge -> publisher ------------------------------------------------

// rank/ messages from a shard once a merged view is in.
struct update_batch {
  std::vector<update_msg> items;
};

// What one merge publishes: every shard's score/ run (each in seq order, so
// the publisher can write them in seq order), then the top/ messages.
struct cut_updates {
  std::vector<std::vector<update_msg>> score_runs;
  std::vector<update_msg> tops;
};

// -- ingress -> log ----------------------------------------------------------------

// A reply that may go out only once the events before it are durable.
struct held_reply {
  reply_to to;
  schemas::reply_body body;
};

struct log_append {
  storage::event_batch events;  // every event below, once, in seq order
  std::vector<shard_work> work; // by shard index: each shard's slice of them
  std::vector<held_reply> replies;
};

// -- snapshot -> log: segments up to `seq` may go ----------------------------------

struct log_covered {
  uint64_t seq = 0;
};

// -- wiring: sent once after spawn, since the actors refer to each other ----------

struct update_counters; // update_channel.hpp

// How producers reach the publisher (update_channel.hpp). No publisher: the
// service publishes no update streams.
struct update_link {
  publisher_handle publisher;
  std::shared_ptr<update_counters> counters;
  uint64_t max_backlog = 0;
};

struct log_wiring {
  ingress_handle ingress;
  merge_handle merge;
};

struct shard_wiring {
  ingress_handle ingress;
  std::vector<shard_handle> peers; // every shard, by index (the receiver included)
  update_link updates;
};

// This shard's part of the recovered state, before any work. The pointer is
// shared only to cross the mailbox; the shard takes the boards.
struct shard_restore {
  std::shared_ptr<storage::replay_state> state;
};

// Who gets views, who computes stats, where snapshots go.
struct merge_wiring {
  ingress_handle ingress;
  std::vector<shard_handle> shards;
  std::vector<reader_handle> readers;
  snapshot_handle snapshots; // none: snapshots are off
  snapshot_policy snapshot;
  uint64_t snapshot_seq = 0; // the recovered state's snapshot
  update_link updates;
};

} // namespace lb::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::ingress_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::shard_queries)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::reader_queries)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::shard_work)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::batch_part)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::gather_part)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::count_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::count_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::lookup_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::lookup_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::shard_snapshot)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::stats_wanted)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::stats_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::update_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::cut_updates)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::log_append)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::log_covered)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::log_wiring)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::shard_wiring)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::shard_restore)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::merge_wiring)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::ranking::view_ptr)
