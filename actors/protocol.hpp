// The actors' protocol: every message the actors exchange, and for each
// actor a typed interface listing what it accepts, so the compiler checks who
// may send what. Who talks to whom:
//
//   gateway (I/O thread) -- shard_round --> shards        (the event stream)
//   shards <-- shard_publication --> shards               (what a round changed)
//   gateway -- sync_request --> log                       (fdatasync behind the writes)
//   gateway -- shard_queries --> shard, reader_queries --> reader   (exact: false)
//   shards -- shard_snapshot --> merge -- view_ptr --> shards, readers, snapshot
//   gateway -- stats_wanted --> merge -- stats_job --> reader
//   shards, merge -- update_batch, cut_updates --> publisher
//   publisher -- follow_set --> shards                   (who follows whom)
//   shards, log, merge, readers -- an outbox batch --> gateway (outbox.hpp)
//
// Every message stays inside one process, so the types are declared
// CAF_ALLOW_UNSAFE_MESSAGE_TYPE (no serializer) and moved: a batch crosses
// each actor boundary as one message.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
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
#include "actors/ranking/round_change.hpp"
#include "actors/storage/posix_file.hpp"
#include "actors/storage/replay_state.hpp"
#include "schemas/reply.hpp"
#include "schemas/request.hpp"

namespace lb::actors {

// -- atoms (CAF 0.17: at most 10 characters) ----------------------------------

// The log actor's group-commit timer.
using commit_atom = caf::atom_constant<caf::atom("commit")>;
// "The view of this cut, once it is complete" (merge).
using snap_atom = caf::atom_constant<caf::atom("snap")>;

// -- the interfaces -------------------------------------------------------------

struct shard_round;
struct shard_publication;
struct shard_queries;
struct reader_queries;
struct lookup_request;
struct lookup_reply;
struct shard_snapshot;
struct stats_wanted;
struct stats_job;
struct update_batch;
struct cut_updates;
struct sync_request;
struct shard_wiring;
struct shard_restore;
struct merge_wiring;
struct follow_set;
struct publisher_wiring;

using ranking::view_ptr;

// Owns a slice of every board's players; applies its part of each round and
// answers exact reads at the round's end.
using shard_handle
  = caf::typed_actor<caf::reacts_to<shard_wiring>, caf::reacts_to<shard_restore>,
                     caf::reacts_to<shard_round>, caf::reacts_to<shard_publication>,
                     caf::reacts_to<shard_queries>,
                     caf::replies_to<lookup_request>::with<lookup_reply>, caf::reacts_to<view_ptr>,
                     caf::reacts_to<follow_set>>;

// Makes the log durable behind the gateway's writes.
using log_handle = caf::typed_actor<caf::reacts_to<sync_request>, caf::reacts_to<commit_atom>>;

// Builds the global view from the shards' snapshots at every cut.
using merge_handle = caf::typed_actor<caf::reacts_to<merge_wiring>, caf::reacts_to<shard_snapshot>,
                                      caf::replies_to<snap_atom, uint64_t>::with<view_ptr>,
                                      caf::reacts_to<stats_wanted>>;

// Answers reads of the merged view (`exact: false`) and `stats`.
using reader_handle = caf::typed_actor<caf::reacts_to<reader_queries>, caf::reacts_to<stats_job>,
                                       caf::reacts_to<view_ptr>>;

// Writes a view as a snapshot; answers with its seq.
using snapshot_handle = caf::typed_actor<caf::replies_to<view_ptr>::with<uint64_t>>;

// Writes the update streams.
using publisher_handle
  = caf::typed_actor<caf::reacts_to<caf::tick_atom>, caf::reacts_to<update_batch>,
                     caf::reacts_to<cut_updates>, caf::reacts_to<publisher_wiring>>;

// -- messages -------------------------------------------------------------------

// Where a reply goes: the request's opaque envelope and its `id`. An empty
// route means nobody waits (an ingest event).
struct reply_to {
  std::string route;
  std::optional<uint64_t> id;
  bool wanted() const { return !route.empty(); }
};

// Ingest events the shards applied, or the log refused: the gateway counts
// ingest events in flight until then, to bound them. Travels in an outbox
// batch (outbox.hpp), as do the gather parts below.
struct ingest_applied {
  uint64_t events = 0;
};

// -- gateway -> shard: the shard's part of one round, in seq order ------------

// A reply the gateway assembles from several shards' parts (a batch, a
// reset, a configure's emptiness check, a friends list) waits under an id.
using gather_id = uint64_t;

// Where the outcome of one submit goes: straight to its client, or into
// item `index` of a batch the gateway assembles. No route: nobody waits.
struct batch_slot {
  gather_id batch = 0;
  uint32_t index = 0;
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

// Sent to every shard; each reports how many entries it removed (no
// gather: nobody waits, a scheduled rollover). With `rollover` the board's
// season closes and is kept instead (PROTOCOL.md "Seasons").
struct reset_event {
  uint64_t seq = 0;
  std::string board;
  gather_id gather = 0;
  std::optional<schemas::rollover_body> rollover{};
};

// Sent to every shard once the gateway knows the change is allowed.
struct configure_event {
  uint64_t seq = 0;
  std::string board;
  ranking::board_config config;
  int64_t time_ms = 0; // when it was ordered: a new schedule counts from it
};

// "How many entries do you hold on this board, and with what configuration?"
// Ordered like events, so the answer is exact at that point of the stream.
struct config_check {
  std::string board;
  gather_id gather = 0;
};

// Every shard freezes what changed since its last freeze and sends a
// shard_snapshot to the merge actor; sent to all shards at the same point of
// the stream, so the snapshots form a consistent cut at `seq`.
struct freeze_marker {
  uint64_t cut = 0;
  uint64_t seq = 0;
  std::chrono::steady_clock::time_point at{}; // when the cut was asked for
};

// Exact reads: answered at the end of their round, from every shard's part
// as of that round.
struct rank_read {
  reply_to to;
  schemas::rank_req req;
};
struct around_read {
  reply_to to;
  schemas::around_req req;
};
struct top_read {
  reply_to to;
  schemas::top_req req;
};
struct boards_read {
  reply_to to;
  schemas::boards_req req;
};
// The players of a friends list that this shard owns.
struct ranks_read {
  gather_id gather = 0;
  std::string board;
  std::vector<std::string> players;
  std::optional<uint32_t> season{};
};
// One owning shard's part of a friends list (`ranks`).
struct friends_answer {
  bool known = false; // the board exists
  uint64_t total = 0;
  uint64_t seq = 0; // the last event the part reflects
  std::optional<uint32_t> season;
  std::string missing; // not empty: the season asked for is not kept (not_found, this message)
  std::vector<schemas::entry_view> entries;
};

struct seasons_read {
  reply_to to;
  schemas::seasons_req req;
  std::optional<int64_t> next_ms; // when the schedule closes the season (the gateway's clock)
};

using shard_op = std::variant<submit_event, remove_event, reset_event, configure_event,
                              config_check, freeze_marker, rank_read, around_read, top_read,
                              boards_read, ranks_read, seasons_read>;

// One round: what the gateway gathered in one drain of its sockets, cut
// into one part per shard. Rounds are numbered from 1; a round 0 carries
// only a freeze marker from the service itself (start and stop).
struct shard_round {
  uint64_t round = 0;
  uint64_t last_seq = 0; // the last seq given out when the round was cut
  // By shard: the last round, up to this one, in which that shard had
  // events (0: none). Exact answers of this round wait for those rounds'
  // publications.
  std::vector<uint64_t> need;
  std::vector<shard_op> ops;
  uint64_t ingest_events = 0; // ops that came from the ingest socket
};

// -- shard <-> shard ------------------------------------------------------------

// What a round with events changed on one shard (ranking/round_change.hpp).
struct shard_publication {
  uint32_t shard = 0;
  ranking::round_change change;
};

// -- gateway -> shard / reader: reads of the merged view (exact: false) --------

struct shard_query {
  reply_to to;
  std::variant<schemas::rank_req, schemas::around_req> body;
};

struct shard_queries {
  std::vector<shard_query> items;
};

struct reader_query {
  reply_to to;
  std::variant<schemas::top_req, schemas::ranks_req, schemas::boards_req> body;
};

struct reader_queries {
  std::vector<reader_query> items;
};

// -- reader -> shard: a friends list in the merged view, per owning shard -----

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
  ranking::season_clock season;
  ranking::season_list_ptr closed; // this shard's parts of the kept seasons
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
  freeze_marker marker;
  std::vector<board_snapshot> changed; // boards changed since the last freeze
  std::vector<update_msg> scores;      // score/ for the events since then, in seq order
  uint64_t entries = 0;
  uint64_t mailbox = 0;
  uint64_t refused_new = 0; // submits refused past --max-memory, since start
};

// -- gateway -> merge -> reader: `stats` --------------------------------------

struct stats_counters {
  uint64_t seq = 0;
  uint64_t requests = 0;
  uint64_t rejected = 0;
  uint64_t ingest_events = 0;
  uint64_t ingest_rejected = 0;
  std::vector<std::pair<std::string, schemas::source_counts>> ingest_sources; // by name
  schemas::log_stats log;
  schemas::client_stats clients;
};

// Waits in the merge actor for the view of cut `cut`.
struct stats_wanted {
  uint64_t cut = 0;
  reply_to to;
  stats_counters counters;
};

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
  std::vector<update_msg> tops; // and season/ messages
};

// -- publisher -> shards: follow/ feeds ------------------------------------------

// One follow/<board>/<player> topic somebody subscribes to. A new
// generation asks its owner shard to send the current state again (a new
// subscriber came).
struct follow_entry {
  std::string board;
  std::string player;
  uint64_t generation = 0;
};

// Every follow/ topic subscribed to now, sent to every shard whenever the
// set changes; each shard keeps the ones it owns. Immutable: all shards
// share one copy.
struct follow_set {
  std::shared_ptr<const std::vector<follow_entry>> follows;
};

// -- gateway -> log ------------------------------------------------------------

// Make the log durable up to `seq`: everything written so far to `file`
// (the segment the gateway's writer appends to; it rolls to a new one only
// after syncing this one itself).
struct sync_request {
  std::shared_ptr<storage::posix_file> file;
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

struct shard_wiring {
  std::vector<shard_handle> peers; // every shard, by index (the receiver included)
  update_link updates;
};

// The shards the publisher tells who follows whom (follow_set).
struct publisher_wiring {
  std::vector<shard_handle> shards;
};

// This shard's part of the recovered state, before any work. The pointer is
// shared only to cross the mailbox; the shard takes the boards.
struct shard_restore {
  std::shared_ptr<storage::replay_state> state;
};

// Who gets views, who computes stats, where snapshots go.
struct merge_wiring {
  std::vector<shard_handle> shards;
  std::vector<reader_handle> readers;
  snapshot_handle snapshots; // none: snapshots are off
  snapshot_policy snapshot;
  uint64_t snapshot_seq = 0; // the recovered state's snapshot
  update_link updates;
};

} // namespace lb::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::shard_round)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::shard_publication)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::shard_queries)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::reader_queries)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::lookup_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::lookup_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::shard_snapshot)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::stats_wanted)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::stats_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::update_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::cut_updates)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::sync_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::shard_wiring)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::shard_restore)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::merge_wiring)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::follow_set)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::publisher_wiring)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::ranking::view_ptr)
