#include "actors/ingress_actor.hpp"

#include "schemas/overload.hpp"

namespace lb::actors {

const char* ingress_state::name = "lbd-ingress";

namespace {

using self_ptr = ingress_handle::stateful_pointer<ingress_state>;

void to_all_shards(ingress_state& st, const shard_op& op) {
  for (auto& w : st.outgoing.work)
    w.ops.push_back(op);
}

void flush(self_ptr self) {
  auto& st = self->state;
  bool any = !st.outgoing.replies.empty() || !st.outgoing.events.empty();
  for (auto& w : st.outgoing.work)
    any |= !w.ops.empty();
  if (!any)
    return;
  self->send(st.log, std::move(st.outgoing));
  st.outgoing = log_append{};
  st.outgoing.work.resize(st.map.size());
}

struct ordered {
  uint64_t seq;
  ranking::shard_range shards;
};

// Gives an event the next seq, logs it, and hands every shard it goes to
// the op `make_op(seq)` builds (which may move from `e`).
template <class Event, class MakeOp>
ordered order(ingress_state& st, const Event& e, MakeOp&& make_op) {
  auto seq = ++st.seq;
  st.outgoing.events.add(seq, e);
  auto shards = st.map.shards_for(e);
  shard_op op = make_op(seq);
  for (auto shard : shards) {
    auto& ops = st.outgoing.work[shard].ops;
    if (shard + 1 == shards.last)
      ops.push_back(std::move(op));
    else
      ops.push_back(op);
  }
  return {seq, shards};
}

void submit(ingress_state& st, schemas::submit_req&& req, submit_target target, bool from_ingest) {
  auto done = order(st, req, [&](uint64_t seq) {
    return submit_event{seq, std::move(req), std::move(target)};
  });
  if (from_ingest) {
    ++st.outgoing.work[done.shards.first].ingest_events;
    ++st.counters.ingest_events;
  }
}

void batch(ingress_state& st, reply_to&& to, schemas::batch_req&& req) {
  bool from_ingest = !to.wanted();
  auto id = st.next_batch++;
  pending_batch pb;
  pb.results.resize(req.items.size());
  for (uint32_t i = 0; i < req.items.size(); ++i) {
    std::visit(
      schemas::overload{
        [&](schemas::error& err) {
          pb.results[i] = std::move(err);
          if (from_ingest)
            ++st.counters.ingest_rejected;
        },
        [&](schemas::submit_req& s) {
          ++pb.waiting;
          // Nobody reads an ingest batch's results: an empty reply_to
          // spares the shard both rank counts and the batch_part back here.
          submit_target target = from_ingest ? submit_target{reply_to{}} : batch_slot{id, i};
          submit(st, std::move(s), std::move(target), from_ingest);
        },
      },
      req.items[i]);
  }
  if (!to.wanted())
    return; // nobody waits for an ingest batch; shards still apply it
  pb.to = std::move(to);
  if (pb.waiting == 0)
    st.out->reply(pb.to, schemas::batch_reply{std::move(pb.results)});
  else
    st.batches.emplace(id, std::move(pb));
}

void start_cut(ingress_state& st, uint64_t cut) {
  to_all_shards(st, freeze_marker{cut, st.seq});
}

void handle(self_ptr self, routed_request&& r) {
  auto& st = self->state;
  std::visit(schemas::overload{
               [&](schemas::submit_req& s) {
                 bool from_ingest = !r.to.wanted();
                 submit(st, std::move(s), std::move(r.to), from_ingest);
               },
               [&](schemas::batch_req& b) { batch(st, std::move(r.to), std::move(b)); },
               [&](schemas::remove_req& rm) {
                 order(st, rm, [&](uint64_t seq) {
                   return remove_event{seq, std::move(rm), std::move(r.to)};
                 });
               },
               [&](schemas::reset_req& rs) {
                 auto id = st.next_gather++;
                 pending_gather g;
                 g.to = std::move(r.to);
                 g.waiting = st.map.size();
                 g.seq = order(st, rs, [&](uint64_t seq) {
                           return reset_event{seq, rs.board, id};
                         }).seq;
                 st.gathers.emplace(id, std::move(g));
               },
               [&](schemas::configure_req& cf) {
                 // Not an event yet: first every shard says whether the board is empty.
                 auto id = st.next_gather++;
                 pending_gather g;
                 g.to = std::move(r.to);
                 g.waiting = st.map.size();
                 g.is_configure = true;
                 g.configure = cf;
                 to_all_shards(st, config_check{cf.board, id});
                 st.gathers.emplace(id, std::move(g));
                 st.barrier = true;
               },
               [&](schemas::stats_req&) {
                 auto cut = st.next_cut++;
                 start_cut(st, cut);
                 auto counters = st.counters;
                 counters.seq = st.seq;
                 flush(self); // the cut's markers reach the log first
                 self->send(st.log, stats_wanted{cut, std::move(r.to), counters});
               },
             },
             r.body);
}

// Runs requests until one raises the barrier; the rest wait for it to drop.
void drain(self_ptr self) {
  auto& st = self->state;
  while (!st.barrier && !st.stalled.empty()) {
    auto r = std::move(st.stalled.front());
    st.stalled.pop_front();
    handle(self, std::move(r));
  }
  flush(self);
}

void finish_configure(self_ptr self, pending_gather& g) {
  auto& st = self->state;
  auto& req = g.configure;
  if (g.count > 0) {
    st.out->reply(g.to, schemas::error{schemas::error_code::conflict,
                                       "board '" + req.board + "' has " + std::to_string(g.count)
                                         + " entries; configure needs an empty board"});
  } else {
    ranking::board_config c = g.known.value_or(ranking::board_config{});
    if (req.order)
      c.order = *req.order;
    if (req.op)
      c.op = *req.op;
    auto seq
      = order(st, schemas::configure_event_body{req.board, c.order, c.op}, [&](uint64_t seq) {
          return configure_event{seq, req.board, c};
        }).seq;
    // The reply waits in the log actor until the event is durable.
    st.outgoing.replies.push_back(
      held_reply{std::move(g.to), schemas::configure_reply{req.board, c.order, c.op, seq}});
  }
  st.barrier = false;
}

void on_gather(self_ptr self, const gather_part& part) {
  auto& st = self->state;
  auto i = st.gathers.find(part.gather);
  if (i == st.gathers.end())
    return;
  auto& g = i->second;
  g.count += part.count;
  if (part.config)
    g.known = part.config;
  if (part.failed)
    g.failed = part.failed;
  if (--g.waiting > 0)
    return;
  if (g.failed)
    st.out->reply(g.to, *g.failed);
  else if (g.is_configure)
    finish_configure(self, g);
  else
    st.out->reply(g.to, schemas::reset_reply{g.count, g.seq});
  st.gathers.erase(i);
  drain(self);
}

void on_batch_part(ingress_state& st, batch_part& part) {
  auto i = st.batches.find(part.batch);
  if (i == st.batches.end())
    return; // an ingest batch: nobody waits
  auto& pb = i->second;
  for (auto& [index, result] : part.results)
    pb.results[index] = std::move(result);
  pb.waiting -= part.results.size();
  if (pb.waiting == 0) {
    st.out->reply(pb.to, schemas::batch_reply{std::move(pb.results)});
    st.batches.erase(i);
  }
}

} // namespace

ingress_handle::behavior_type ingress_actor(ingress_handle::stateful_pointer<ingress_state> self,
                                            uint32_t shards, log_handle log, merge_handle merge,
                                            uint64_t last_seq, outbox_factory make_outbox) {
  auto& st = self->state;
  st.map = ranking::shard_map{shards};
  st.outgoing.work.resize(shards);
  st.log = std::move(log);
  st.merge = std::move(merge);
  st.seq = last_seq;
  st.out = make_outbox();
  return {
    [self](ingress_batch& in) {
      auto turn = self->state.out->turn();
      auto& st = self->state;
      st.counters.requests += in.requests_seen;
      st.counters.rejected += in.requests_rejected;
      st.counters.ingest_rejected += in.ingest_frames_rejected;
      for (auto& r : in.items)
        st.stalled.push_back(std::move(r));
      drain(self);
    },
    [self](gather_part& part) {
      auto turn = self->state.out->turn();
      on_gather(self, part);
    },
    [self](batch_part& part) {
      auto turn = self->state.out->turn();
      on_batch_part(self->state, part);
    },
    [self](cut_atom) {
      auto& st = self->state;
      start_cut(st, st.next_cut++);
      flush(self);
    },
    // Shutdown: a cut of everything ordered so far, for the last snapshot.
    [self](snap_atom) -> uint64_t {
      auto& st = self->state;
      auto cut = st.next_cut++;
      start_cut(st, cut);
      flush(self);
      return cut;
    },
  };
}

} // namespace lb::actors
