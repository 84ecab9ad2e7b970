#include "actors/shard_actor.hpp"

#include <algorithm>
#include <memory>

#include "schemas/overload.hpp"
#include "schemas/update.hpp"

namespace lb::actors {

namespace {

using schemas::error_code;

schemas::error not_found(std::string what) {
  return {error_code::not_found, std::move(what)};
}

std::string no_board(const std::string& board) {
  return "board '" + board + "' does not exist";
}

std::string no_player(const std::string& board, const std::string& player) {
  return "player '" + player + "' is not on board '" + board + "'";
}

} // namespace

const char* shard_state::name = "lbd-shard";

ranking::board_part* shard_state::find(const std::string& board) {
  auto i = boards.find(board);
  return i == boards.end() ? nullptr : &i->second;
}

const ranking::board_part* shard_state::find(const std::string& board) const {
  auto i = boards.find(board);
  return i == boards.end() ? nullptr : &i->second;
}

bool shard_state::board_known(const std::string& board) const {
  return find(board) != nullptr || (view && view->find(board) != nullptr);
}

ranking::merged_ranking shard_state::ranking(const std::string& board,
                                             const ranking::board_part* part) const {
  std::vector<const ranking::tree_reader*> parts;
  if (part != nullptr)
    parts.push_back(&part->tree());
  const ranking::board_view* bv = view ? view->find(board) : nullptr;
  // A view cut before this board's last reset still shows the other shards'
  // pre-reset entries; counting them would expose a half-cleared board.
  bool stale = part != nullptr && view && view->seq < part->reset_seq();
  if (bv != nullptr && !stale)
    for (uint32_t j = 0; j < bv->parts.size(); ++j)
      if (j != index)
        parts.push_back(&bv->parts[j]);
  return ranking::merged_ranking{std::move(parts)};
}

std::optional<ranking::rank_key> shard_state::key_in_view(const std::string& board,
                                                          const std::string& player,
                                                          const ranking::global_view& in) const {
  auto* part = find(board);
  auto* slot = part ? part->find(player) : nullptr;
  return keys.key_in_view(board, player, in.seq,
                          slot ? std::optional<ranking::rank_key>{slot->key} : std::nullopt);
}

namespace {

using self_ptr = shard_handle::stateful_pointer<shard_state>;

// score/ for an event that changed an entry. Dropped at once, before any
// encoding, while the publisher is over its backlog bound.
void note_score(shard_state& st, const schemas::submit_reply& r) {
  if (!st.updates.wants(score_stream))
    return;
  if (!st.updates.has_room(st.scores.size() + 1)) {
    st.updates.count_dropped(1);
    return;
  }
  schemas::score_update u{r.seq, r.board, r.player, r.score, r.subscore};
  st.scores.push_back(update_msg{r.seq, schemas::score_topic(r.board), schemas::encode_update(u)});
}

// Applies one submit and describes it as the protocol's reply.
schemas::submit_reply apply_submit(shard_state& st, const submit_event& ev, bool want_ranks) {
  auto [it, created] = st.boards.try_emplace(ev.req.board);
  auto& part = it->second;
  std::optional<uint64_t> prev_rank;
  if (want_ranks)
    if (auto* slot = part.find(ev.req.player))
      prev_rank = st.ranking(ev.req.board, &part).count_before(slot->key) + 1;
  auto before = part.size();
  auto effect = part.submit(ev.req, ev.seq);
  st.entries += part.size() - before;
  if (!effect.old_key)
    st.ranks.entry_added(part, ev.req.board, ev.req.player);
  if (!effect.old_key || *effect.old_key != effect.key)
    st.keys.changing(ev.req.board, ev.req.player, effect.old_key);
  if (effect.changed || created)
    st.dirty.insert(ev.req.board);
  schemas::submit_reply r;
  r.board = ev.req.board;
  r.player = ev.req.player;
  r.score = ranking::unfold(effect.key.primary, part.config().order);
  r.subscore = ranking::unfold(effect.key.secondary, part.config().order);
  r.changed = effect.changed;
  r.seq = ev.seq;
  if (effect.changed)
    note_score(st, r);
  r.prev_rank = prev_rank;
  if (want_ranks) {
    auto ranking = st.ranking(ev.req.board, &part);
    r.rank = ranking.count_before(effect.key) + 1;
    r.total = ranking.total();
  }
  return r;
}

void apply_remove(shard_state& st, const remove_event& ev) {
  auto* part = st.find(ev.req.board);
  if (auto* slot = part ? part->find(ev.req.player) : nullptr) {
    st.keys.changing(ev.req.board, ev.req.player, slot->key);
    st.ranks.entry_going(ev.req.board, ev.req.player, *slot);
  }
  bool removed = part != nullptr && part->remove(ev.req.player);
  if (removed) {
    --st.entries;
    st.dirty.insert(ev.req.board);
  }
  st.out->reply(ev.to, schemas::remove_reply{removed, ev.seq});
}

void apply_reset(self_ptr self, const reset_event& ev) {
  auto& st = self->state;
  auto* part = st.find(ev.board);
  if (part == nullptr && st.view && st.view->find(ev.board) != nullptr) {
    // The board lives on other shards: remember the reset here too, so that
    // ranks computed on this shard ignore their pre-reset parts.
    part = &st.boards.try_emplace(ev.board).first->second;
  }
  uint64_t removed = 0;
  if (part != nullptr) {
    part->for_each_player([&](std::string_view player, const ranking::player_slot& slot) {
      st.keys.changing(ev.board, player, slot.key);
      st.ranks.entry_going(ev.board, player, slot);
    });
    removed = part->reset(ev.seq);
    st.entries -= removed;
    st.dirty.insert(ev.board);
  }
  self->send(st.ingress, gather_part{ev.gather, removed, std::nullopt, std::nullopt});
}

void apply_configure(shard_state& st, const configure_event& ev) {
  st.boards.try_emplace(ev.board).first->second.configure(ev.config);
  st.dirty.insert(ev.board);
}

void answer_config_check(self_ptr self, const config_check& c) {
  auto& st = self->state;
  gather_part g{c.gather, 0, std::nullopt, std::nullopt};
  if (auto* part = st.find(c.board)) {
    g.count = part->size();
    g.config = part->config();
  }
  self->send(st.ingress, std::move(g));
}

void freeze(self_ptr self, const freeze_marker& m) {
  auto& st = self->state;
  shard_snapshot snap;
  snap.shard = st.index;
  snap.cut = m.cut;
  snap.seq = m.seq;
  snap.entries = st.entries;
  snap.mailbox = self->mailbox().size();
  snap.changed.reserve(st.dirty.size());
  for (auto& name : st.dirty) {
    auto& part = st.boards.at(name);
    snap.changed.push_back(board_snapshot{name, part.config(), part.freeze(), part.reset_seq()});
  }
  st.dirty.clear();
  snap.scores = std::move(st.scores);
  st.scores.clear(); // a moved-from vector is valid but unspecified
  st.keys.frozen(m.seq);
  self->send(st.merge, std::move(snap));
}

void handle_work(self_ptr self, shard_work& work) {
  auto& st = self->state;
  std::unordered_map<uint64_t, batch_part> batches;
  for (auto& op : work.ops) {
    std::visit(schemas::overload{
                 [&](submit_event& ev) {
                   std::visit(
                     schemas::overload{
                       [&](batch_slot& slot) {
                         auto& part = batches[slot.batch];
                         part.batch = slot.batch;
                         part.results.emplace_back(slot.index, apply_submit(st, ev, true));
                       },
                       [&](reply_to& to) { st.out->reply(to, apply_submit(st, ev, to.wanted())); },
                     },
                     ev.target);
                 },
                 [&](remove_event& rm) { apply_remove(st, rm); },
                 [&](reset_event& rs) { apply_reset(self, rs); },
                 [&](configure_event& cf) { apply_configure(st, cf); },
                 [&](config_check& cc) { answer_config_check(self, cc); },
                 [&](freeze_marker& m) { freeze(self, m); },
               },
               op);
  }
  for (auto& kv : batches)
    self->send(st.ingress, std::move(kv.second));
  // The gateway counts ingest events in flight until they are applied.
  st.out->control(ingest_applied{work.ingest_events});
}

schemas::reply_body answer_rank(const shard_state& st, const schemas::rank_req& q) {
  auto* part = st.find(q.board);
  if (!st.board_known(q.board))
    return not_found(no_board(q.board));
  auto* slot = part ? part->find(q.player) : nullptr;
  if (slot == nullptr)
    return not_found(no_player(q.board, q.player));
  auto ranking = st.ranking(q.board, part);
  schemas::rank_reply r;
  r.board = q.board;
  r.entry = ranking::to_entry_view(ranking.count_before(slot->key) + 1, slot->key, *slot->rec,
                                   part->config().order);
  r.total = ranking.total();
  return r;
}

// `exact: true`: every other shard counts against its live tree, so the rank
// includes every event acknowledged before the request was sent.
void answer_exact_rank(self_ptr self, const reply_to& to, const schemas::rank_req& q) {
  auto& st = self->state;
  auto* part = st.find(q.board);
  auto* slot = part ? part->find(q.player) : nullptr;
  if (slot == nullptr) {
    st.out->reply(to, not_found(st.board_known(q.board) ? no_player(q.board, q.player)
                                                        : no_board(q.board)));
    return;
  }
  struct pending {
    schemas::rank_reply reply;
    ranking::rank_key key;
    size_t waiting = 0;
  };
  auto p = std::make_shared<pending>();
  p->key = slot->key;
  p->reply.board = q.board;
  p->reply.entry = ranking::to_entry_view(part->tree().count_before(slot->key) + 1, slot->key,
                                          *slot->rec, part->config().order);
  p->reply.total = part->size();
  p->waiting = st.peers.size() - 1;
  if (p->waiting == 0) {
    st.out->reply(to, p->reply);
    return;
  }
  for (uint32_t j = 0; j < st.peers.size(); ++j) {
    if (j == st.index)
      continue;
    self->request(st.peers[j], caf::infinite, count_request{q.board, p->key})
      .then(
        [self, to, p](const count_reply& c) {
          auto turn = self->state.out->turn();
          p->reply.entry.rank += c.before;
          p->reply.total += c.size;
          if (--p->waiting == 0)
            self->state.out->reply(to, p->reply);
        },
        [self, to, p](caf::error& e) {
          auto turn = self->state.out->turn();
          if (p->waiting == 0)
            return;
          p->waiting = 0; // answer once
          self->state.out->reply(to, schemas::error{error_code::internal,
                                                    "exact rank: " + self->system().render(e)});
        });
  }
}

// `around` reads the merged view only, like `top`, so the two agree.
schemas::reply_body answer_around(const shard_state& st, const schemas::around_req& q) {
  auto* bv = st.view->find(q.board);
  if (bv == nullptr)
    return not_found(st.board_known(q.board)
                       ? "board '" + q.board + "' is not in the merged view yet; retry"
                       : no_board(q.board));
  auto key = st.key_in_view(q.board, q.player, *st.view);
  if (!key)
    return not_found(no_player(q.board, q.player));
  auto ranking = ranking::view_ranking(*bv);
  auto pos = ranking.count_before(*key);
  auto first = pos > q.radius ? pos - q.radius : 0;
  schemas::entries_reply r;
  r.board = q.board;
  r.total = bv->total;
  auto order = bv->config.order;
  ranking.walk(first, pos - first + 1 + q.radius,
               [&](uint64_t at, const ranking::rank_key& k, const ranking::entry_rec& rec) {
                 r.entries.push_back(ranking::to_entry_view(at + 1, k, rec, order));
               });
  return r;
}

// A friends list reads the merged view too: each player's key in the view,
// its rank there, and the entry as the view holds it.
lookup_reply answer_lookup(const shard_state& st, const lookup_request& q) {
  lookup_reply r;
  r.used = q.view && st.keys.covers(q.view->seq) ? q.view : st.view;
  auto* bv = r.used->find(q.board);
  r.board_known = bv != nullptr;
  if (bv == nullptr)
    return r;
  auto ranking = ranking::view_ranking(*bv);
  r.total = bv->total;
  auto& mine = bv->parts[st.index];
  for (auto& player : q.players) {
    auto key = st.key_in_view(q.board, player, *r.used);
    if (!key)
      continue;
    auto at = mine.lower_bound(*key);
    if (!at.valid() || at.key() != *key)
      continue; // cannot happen while view and records agree; never guess
    r.entries.push_back(
      ranking::to_entry_view(ranking.count_before(*key) + 1, *key, at.rec(), bv->config.order));
  }
  return r;
}

// rank/ for the players that `next` shows changed since the shard's current
// view, where their rank in `next` differs from the last one published. The
// player's key in a view comes from view_keys, so this works however far the
// live entries have moved on. Cost: O(S log n) per changed player.
void publish_rank_changes(self_ptr self, const ranking::global_view& next) {
  auto& st = self->state;
  // Nobody subscribed: "the last rank published" stays what it was, which
  // is what the next rank/ compares with once somebody does.
  if (!st.updates.wants(rank_stream))
    return;
  const ranking::global_view& prev = *st.view;
  // Changed players come grouped by nothing in particular; remember the last
  // board's lookups, as most merges change few boards.
  std::string_view board;
  ranking::board_part* part = nullptr;
  const ranking::board_view* bv = nullptr;
  const ranking::board_view* prev_bv = nullptr;
  std::optional<ranking::merged_ranking> ranking;
  std::vector<update_msg> out;
  constexpr size_t chunk = 1024; // a huge reset goes out in pieces the backlog bound can take
  st.keys.changed_between(prev.seq, next.seq, [&](std::string_view b, std::string_view player) {
    if (b != board || !ranking) {
      board = b;
      auto i = st.boards.find(std::string(b));
      part = i == st.boards.end() ? nullptr : &i->second;
      bv = next.find(b);
      prev_bv = prev.find(b);
      ranking.emplace(bv ? ranking::view_ranking(*bv)
                         : ranking::merged_ranking{std::vector<const ranking::tree_reader*>{}});
    }
    auto* live = part ? part->find(player) : nullptr;
    auto live_key = live ? std::optional<ranking::rank_key>{live->key} : std::nullopt;
    auto key = bv ? st.keys.key_in_view(board, player, next.seq, live_key) : std::nullopt;
    uint64_t rank = key ? ranking->count_before(*key) + 1 : 0;
    uint64_t last = st.ranks.get(part, board, player);
    if (rank == last)
      return;
    schemas::rank_update u;
    u.board = board;
    u.player = player;
    u.seq = next.seq;
    if (key) {
      u.score = ranking::unfold(key->primary, bv->config.order);
      u.subscore = ranking::unfold(key->secondary, bv->config.order);
      u.rank = rank;
    } else if (auto old = prev_bv ? st.keys.key_in_view(board, player, prev.seq, live_key)
                                  : std::nullopt) {
      // Gone: the entry as subscribers last saw it.
      u.score = ranking::unfold(old->primary, prev_bv->config.order);
      u.subscore = ranking::unfold(old->secondary, prev_bv->config.order);
    }
    if (last != 0)
      u.prev_rank = last;
    out.push_back(
      update_msg{next.seq, schemas::rank_topic(board, player), schemas::encode_update(u)});
    st.ranks.set(part, board, player, rank);
    if (out.size() >= chunk) {
      auto n = out.size();
      st.updates.offer(self, update_batch{std::move(out)}, n);
      out = {};
    }
  });
  auto n = out.size();
  st.updates.offer(self, update_batch{std::move(out)}, n);
}

} // namespace

shard_handle::behavior_type shard_actor(shard_handle::stateful_pointer<shard_state> self,
                                        uint32_t index, merge_handle merge,
                                        outbox_factory make_outbox) {
  auto& st = self->state;
  st.index = index;
  st.view = std::make_shared<ranking::global_view>(); // until the merge actor's first view
  st.merge = std::move(merge);
  st.out = make_outbox();
  return {
    [self](shard_wiring& w) {
      self->state.ingress = std::move(w.ingress);
      self->state.peers = std::move(w.peers);
      self->state.updates = update_channel{std::move(w.updates)};
    },
    [self](shard_restore& r) {
      auto& st = self->state;
      st.boards = std::move(r.state->boards());
      st.entries = r.state->entries();
      for (auto& kv : st.boards)
        st.dirty.insert(kv.first); // the first freeze hands them all to the merge
    },
    [self](shard_work& work) {
      auto turn = self->state.out->turn();
      handle_work(self, work);
    },
    [self](shard_queries& qs) {
      auto turn = self->state.out->turn();
      auto& st = self->state;
      for (auto& q : qs.items)
        std::visit(
          schemas::overload{
            [&](const schemas::rank_req& r) {
              if (r.exact)
                answer_exact_rank(self, q.to, r);
              else
                st.out->reply(q.to, answer_rank(st, r));
            },
            [&](const schemas::around_req& a) { st.out->reply(q.to, answer_around(st, a)); },
          },
          q.body);
    },
    [self](const count_request& q) {
      count_reply r;
      if (auto* part = self->state.find(q.board)) {
        r.before = part->tree().count_before(q.key);
        r.size = part->size();
      }
      return r;
    },
    [self](const lookup_request& q) { return answer_lookup(self->state, q); },
    [self](ranking::view_ptr& v) {
      publish_rank_changes(self, *v);
      self->state.keys.view_at(v->seq);
      self->state.view = std::move(v);
    },
  };
}

} // namespace lb::actors
