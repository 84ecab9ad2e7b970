#include "actors/log_actor.hpp"

#include <unordered_map>

#include "actors/logger.hpp"
#include "actors/storage/data_dir.hpp"
#include "schemas/event_record.hpp"
#include "schemas/overload.hpp"

namespace lb::actors {

const char* log_state::name = "lbd-log";

namespace {

using self_ptr = log_handle::stateful_pointer<log_state>;

// The events are durable: the shards may apply them, the replies may go.
void release(self_ptr self, log_append& a) {
  auto& st = self->state;
  for (size_t i = 0; i < a.work.size(); ++i)
    if (!a.work[i].ops.empty())
      self->send(st.shards[i], std::move(a.work[i]));
  for (auto& r : a.replies)
    st.out->reply(r.to, r.body);
}

// A write failed: the append's events never happened. Each waiting client
// learns it from whoever would have answered; the ops that are not events
// (freeze markers, configuration checks) go on to the shards.
void refuse(self_ptr self, log_append& a, const std::string& why) {
  auto& st = self->state;
  schemas::error err{schemas::error_code::overloaded, "the event log could not be written (" + why
                                                        + "); nothing was applied; retry later"};
  st.counters.refused += a.events.size();
  std::unordered_map<uint64_t, batch_part> batches;
  ingest_applied ingest;
  for (size_t i = 0; i < a.work.size(); ++i) {
    auto& w = a.work[i];
    ingest.events += w.ingest_events;
    shard_work keep;
    for (auto& op : w.ops) {
      std::visit(schemas::overload{
                   [&](submit_event& s) {
                     std::visit(schemas::overload{
                                  [&](batch_slot& slot) {
                                    auto& part = batches[slot.batch];
                                    part.batch = slot.batch;
                                    part.results.emplace_back(slot.index, err);
                                  },
                                  [&](reply_to& to) { st.out->reply(to, err); },
                                },
                                s.target);
                   },
                   [&](remove_event& r) { st.out->reply(r.to, err); },
                   [&](reset_event& r) {
                     self->send(st.ingress, gather_part{r.gather, 0, std::nullopt, err});
                   },
                   [&](configure_event&) {}, // its reply is among a.replies
                   [&](config_check& c) { keep.ops.push_back(std::move(c)); },
                   [&](freeze_marker& m) { keep.ops.push_back(m); },
                 },
                 op);
    }
    if (!keep.ops.empty())
      self->send(st.shards[i], std::move(keep));
  }
  for (auto& kv : batches)
    self->send(st.ingress, std::move(kv.second));
  for (auto& r : a.replies)
    st.out->reply(r.to, err);
  st.out->control(ingest); // the gateway counts them in flight until "applied"
}

// Says once a second at most what goes wrong with the disk: a full disk
// fails every append, and the operator needs one clear line, not thousands.
void complain(log_state& st, const std::string& what) {
  auto now = std::chrono::steady_clock::now();
  if (now - st.last_complaint < std::chrono::seconds(1))
    return;
  st.last_complaint = now;
  logger::problem(what + "; events are refused with `overloaded` until writes succeed again ("
                  + std::to_string(st.counters.refused) + " refused so far; free disk space under "
                  + st.opts.dir.string() + ")");
}

// Makes every waiting append durable, then releases them in order.
void commit(self_ptr self) {
  auto& st = self->state;
  if (st.waiting.empty())
    return;
  auto waiting = std::move(st.waiting);
  st.waiting.clear();
  st.waiting_bytes = 0;
  // Appends that held only freeze markers wrote nothing: no sync for them.
  if (st.opts.policy != fsync_policy::none && st.writer->offset() != st.writer->synced_offset()) {
    auto err = st.writer->sync();
    ++st.counters.syncs;
    if (!err.ok()) {
      // After a failed fdatasync the kernel may have dropped the dirty
      // pages: no record since the last good sync can be trusted. Cut them
      // off and refuse their events.
      auto cut = st.writer->truncate_to(st.writer->synced_offset());
      complain(st, "fdatasync of the event log failed: " + err.message()
                     + (cut.ok() ? "" : "; cutting it back failed too: " + cut.message()));
      for (auto& a : waiting)
        refuse(self, a, err.message());
      return;
    }
  }
  st.counters.durable_seq = std::max(st.counters.durable_seq, st.waiting_last_seq);
  for (auto& a : waiting)
    release(self, a);
  if (st.writer->full()) {
    auto err = st.writer->roll();
    if (!err.ok())
      complain(st, "could not start a new log segment: " + err.message());
  }
}

void on_append(self_ptr self, log_append& a) {
  auto& st = self->state;
  auto records = a.events.records();
  if (!a.events.empty()) {
    auto err = st.writer->write(records, a.events.last_seq());
    if (!err.ok()) {
      commit(self); // what was written before stays ahead of this, in order
      refuse(self, a, err.message());
      complain(st, "writing the event log failed: " + err.message());
      return;
    }
    st.counters.bytes += records.size();
    st.waiting_last_seq = a.events.last_seq();
  }
  st.waiting_bytes += records.size();
  st.waiting.push_back(std::move(a));
  bool now = st.opts.policy != fsync_policy::group || st.waiting_bytes >= st.opts.group_bytes
             || self->mailbox().empty();
  if (now) {
    commit(self);
  } else if (!st.timer_armed) {
    st.timer_armed = true;
    self->delayed_send(self, st.opts.group_window, commit_atom::value);
  }
}

// Deletes segments whose every record is at or before `seq` (a snapshot
// covers them), never the one being written.
void drop_covered(log_state& st, uint64_t seq) {
  if (st.opts.retain)
    return;
  auto done = storage::delete_covered_segments(st.opts.dir, seq, st.writer->current());
  if (!done.ok())
    logger::problem(done.message());
}

} // namespace

log_handle::behavior_type log_actor(log_handle::stateful_pointer<log_state> self, log_options opts,
                                    std::shared_ptr<storage::log_writer> writer,
                                    uint64_t durable_seq, std::vector<shard_handle> shards,
                                    outbox_factory make_outbox) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.writer = std::move(writer);
  st.counters.durable_seq = durable_seq;
  st.counters.fsync = to_string(st.opts.policy);
  st.shards = std::move(shards);
  st.out = make_outbox();
  // Whatever is still waiting when the service stops was never acknowledged;
  // syncing it anyway costs nothing and keeps it (a failure has nobody to tell).
  self->attach_functor([w = st.writer] { static_cast<void>(w->sync()); });
  return {
    [self](log_wiring& w) {
      self->state.ingress = std::move(w.ingress);
      self->state.merge = std::move(w.merge);
    },
    [self](log_append& a) {
      auto turn = self->state.out->turn();
      on_append(self, a);
    },
    [self](commit_atom) {
      auto turn = self->state.out->turn();
      self->state.timer_armed = false;
      commit(self);
    },
    [self](const log_covered& c) { drop_covered(self->state, c.seq); },
    // A stats request passes here after its cut's markers: add the log's part.
    [self](stats_wanted& w) {
      w.counters.log = self->state.counters;
      self->send(self->state.merge, std::move(w));
    },
  };
}

} // namespace lb::actors
