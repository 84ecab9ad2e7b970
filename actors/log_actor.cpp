#include "actors/log_actor.hpp"

#include <iostream>
#include <limits>
#include <unordered_map>

#include "actors/atoms.hpp"
#include "actors/storage/data_dir.hpp"
#include "schemas/event_record.hpp"

namespace lb::actors {

const char* log_state::name = "lbd-log";

const char* to_string(fsync_policy p) {
  switch (p) {
    case fsync_policy::always:
      return "always";
    case fsync_policy::group:
      return "group";
    case fsync_policy::none:
      break;
  }
  return "none";
}

namespace {

using self_ptr = caf::stateful_actor<log_state>*;
constexpr uint64_t no_seq = std::numeric_limits<uint64_t>::max();

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// The seq of an op that is an event; freeze markers and configuration checks
// are not events and have none.
uint64_t event_seq(const shard_op& op) {
  if (auto* s = std::get_if<submit_event>(&op))
    return s->seq;
  if (auto* r = std::get_if<remove_event>(&op))
    return r->seq;
  if (auto* r = std::get_if<reset_event>(&op))
    return r->seq;
  if (auto* c = std::get_if<configure_event>(&op))
    return c->seq;
  return no_seq;
}

void append_op(std::string& body, uint64_t seq, int64_t t, const shard_op& op) {
  if (auto* s = std::get_if<submit_event>(&op))
    schemas::append_event(body, seq, t, s->req);
  else if (auto* r = std::get_if<remove_event>(&op))
    schemas::append_event(body, seq, t, r->req);
  else if (auto* r = std::get_if<reset_event>(&op))
    schemas::append_event(body, seq, t, schemas::reset_req{r->board});
  else if (auto* c = std::get_if<configure_event>(&op))
    schemas::append_event(body, seq, t,
                          schemas::configure_event_body{c->board, c->config.order, c->config.op});
}

// Frames the append's events in seq order. Each shard's ops are in seq
// order already, and a reset or configure sits in every shard's slice under
// one seq, so a merge of the slices that takes each seq once gives the
// stream as the ingress ordered it. Returns the last seq (0: no event).
uint64_t frame_events(log_state& st, const log_append& a) {
  st.frames.clear();
  auto t = now_ms();
  std::vector<size_t> at(a.work.size(), 0);
  uint64_t last = 0;
  for (;;) {
    uint64_t next = no_seq;
    const shard_op* op = nullptr;
    for (size_t i = 0; i < a.work.size(); ++i) {
      auto& ops = a.work[i].ops;
      while (at[i] < ops.size() && event_seq(ops[at[i]]) == no_seq)
        ++at[i];
      if (at[i] < ops.size() && event_seq(ops[at[i]]) < next) {
        next = event_seq(ops[at[i]]);
        op = &ops[at[i]];
      }
    }
    if (op == nullptr)
      return last;
    st.body.clear();
    append_op(st.body, next, t, *op);
    storage::append_record(st.frames, st.body);
    last = next;
    for (size_t i = 0; i < a.work.size(); ++i)
      if (at[i] < a.work[i].ops.size() && event_seq(a.work[i].ops[at[i]]) == next)
        ++at[i];
  }
}

void send_reply(log_state& st, const reply_to& to, const schemas::reply_body& body) {
  if (to.wanted())
    st.out->send(to.route, schemas::encode_reply(to.id, body));
}

// The events are durable: the shards may apply them, the replies may go.
void release(self_ptr self, log_append& a) {
  auto& st = self->state;
  for (size_t i = 0; i < a.work.size(); ++i)
    if (!a.work[i].ops.empty())
      self->send(st.shards[i], std::move(a.work[i]));
  for (auto& r : a.replies)
    send_reply(st, r.to, r.body);
}

// A write failed: the append's events never happened. Each waiting client
// learns it from whoever would have answered; the non-event ops go on.
void refuse(self_ptr self, log_append& a, const std::string& why) {
  auto& st = self->state;
  schemas::error err{schemas::error_code::overloaded, "the event log could not be written (" + why
                                                        + "); nothing was applied; retry later"};
  std::unordered_map<uint64_t, batch_part> batches;
  uint64_t ingest_events = 0;
  for (size_t i = 0; i < a.work.size(); ++i) {
    auto& w = a.work[i];
    ingest_events += w.ingest_events;
    shard_work keep;
    for (auto& op : w.ops) {
      if (auto* s = std::get_if<submit_event>(&op)) {
        ++st.counters.refused;
        if (auto* slot = std::get_if<batch_slot>(&s->target)) {
          auto& part = batches[slot->batch];
          part.batch = slot->batch;
          part.results.emplace_back(slot->index, err);
        } else {
          send_reply(st, std::get<reply_to>(s->target), err);
        }
      } else if (auto* r = std::get_if<remove_event>(&op)) {
        ++st.counters.refused;
        send_reply(st, r->to, err);
      } else if (auto* r = std::get_if<reset_event>(&op)) {
        st.counters.refused += i == 0;
        self->send(st.ingress, gather_part{r->gather, 0, std::nullopt, err});
      } else if (std::holds_alternative<configure_event>(op)) {
        st.counters.refused += i == 0; // its reply is among a.replies
      } else {
        keep.ops.push_back(std::move(op));
      }
    }
    if (!keep.ops.empty())
      self->send(st.shards[i], std::move(keep));
  }
  for (auto& kv : batches)
    self->send(st.ingress, std::move(kv.second));
  for (auto& r : a.replies)
    send_reply(st, r.to, err);
  if (ingest_events > 0) // the gateway counts them in flight until "applied"
    st.out->send({}, std::string_view(reinterpret_cast<const char*>(&ingest_events),
                                      sizeof ingest_events));
}

// Says once a second at most what goes wrong with the disk: a full disk
// fails every append, and the operator needs one clear line, not thousands.
void complain(log_state& st, const std::string& what) {
  auto now = std::chrono::steady_clock::now();
  if (now - st.last_complaint < std::chrono::seconds(1))
    return;
  st.last_complaint = now;
  std::cerr << "leaderboardd: " << what << "; events are refused with `overloaded` "
            << "until writes succeed again (" << st.counters.refused
            << " refused so far; free disk space under " << st.opts.dir.string() << ")"
            << std::endl;
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
  auto last = frame_events(st, a);
  if (last != 0) {
    auto err = st.writer->write(st.frames, last);
    if (!err.ok()) {
      commit(self); // what was written before stays ahead of this, in order
      refuse(self, a, err.message());
      complain(st, "writing the event log failed: " + err.message());
      return;
    }
    st.counters.bytes += st.frames.size();
    st.waiting_last_seq = last;
  }
  st.waiting_bytes += st.frames.size();
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

// Deletes the segments a snapshot at `seq` covers, never the one being written.
void drop_covered(log_state& st, uint64_t seq) {
  if (st.opts.retain)
    return;
  auto done = storage::delete_covered_segments(st.opts.dir, seq, st.writer->current());
  if (!done.ok())
    std::cerr << "leaderboardd: " << done.message() << std::endl;
}

} // namespace

caf::behavior log_actor(caf::stateful_actor<log_state>* self, log_options opts,
                        std::shared_ptr<storage::log_writer> writer, uint64_t durable_seq,
                        std::vector<caf::actor> shards, outbox_factory make_outbox) {
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
    [self](log_append& a) { on_append(self, a); },
    [self](commit_atom) {
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
