#include "actors/shard_actor.hpp"

#include <algorithm>
#include <memory>

#include "actors/ranking/partition.hpp"
#include "actors/shard_exact.hpp"
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
  return keys.key_in_view(board, player, in.seq, latest_key(find(board), player, in.seq));
}

std::optional<ranking::rank_key> shard_state::latest_key(const ranking::board_part* part,
                                                         std::string_view player,
                                                         uint64_t view_seq) {
  if (part == nullptr)
    return std::nullopt;
  // A rollover after the view's cut moved the player's entry to a closed
  // season without recording it (that would walk the board): the view
  // shows the entry of the season that was current at its cut.
  if (view_seq + 1 < part->season().start_seq && part->closed())
    for (const auto& s : *part->closed())
      if (s.span.end_seq > view_seq) {
        const auto* slot = s.part->players.find(player);
        return slot ? std::optional<ranking::rank_key>{slot->key} : std::nullopt;
      }
  const auto* slot = part->find(player);
  return slot ? std::optional<ranking::rank_key>{slot->key} : std::nullopt;
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

// The board's index among the parts this round's publication will carry.
uint32_t outgoing_part(shard_state& st, const std::string& board) {
  auto [i, fresh] = st.outgoing_parts.try_emplace(board, st.outgoing.parts.size());
  if (fresh)
    st.outgoing.parts.push_back(ranking::part_change{board, {}, {}, {}, {}});
  return i->second;
}

// A key moved: the other shards replay it for their events after it.
void note_move(shard_state& st, const std::string& board, uint64_t seq,
               std::optional<ranking::rank_key> before, std::optional<ranking::rank_key> after) {
  if (st.peers.size() < 2)
    return;
  st.outgoing.moves.push_back(
    ranking::key_move{outgoing_part(st, board), seq, std::move(before), std::move(after), false});
}

// The player's key in views cut at the last freeze, before a submit changes
// it: its live key, or, when the board rolled over since that freeze and
// the player is not in the new season yet, its key in the closed one.
std::optional<ranking::rank_key>
effect_free_key(const shard_state& st, const ranking::board_part& part, std::string_view player) {
  return shard_state::latest_key(&part, player, st.frozen_seq);
}

// A submit that came past --max-memory may update an entry but not add one.
bool refused_for_memory(shard_state& st, submit_event& ev) {
  if (!ev.req.existing_only)
    return false;
  const auto* part = st.find(ev.req.board);
  if (part != nullptr && part->find(ev.req.player) != nullptr)
    return false;
  schemas::error err{schemas::error_code::overloaded,
                     "the service is past its memory limit (--max-memory): new entries and "
                     "boards are refused, existing entries can still be updated; retry later"};
  std::visit(schemas::overload{
               [&](const reply_to& to) {
                 if (to.wanted())
                   st.out->reply(to, err);
               },
               [&](const batch_slot& slot) { st.out->batch_item(slot.batch, slot.index, err); },
             },
             ev.target);
  ++st.refused_new;
  return true;
}

void apply_submit(shard_state& st, submit_event& ev, round_answers& answers) {
  if (refused_for_memory(st, ev))
    return;
  auto [it, created] = st.boards.try_emplace(ev.req.board);
  auto& part = it->second;
  // Nobody reads an ingest submit's reply: no rank work for it.
  const bool wanted = std::visit(schemas::overload{
                                   [](const reply_to& to) { return to.wanted(); },
                                   [](const batch_slot&) { return true; },
                                 },
                                 ev.target);
  submit_record rec;
  if (wanted)
    if (const auto* slot = part.find(ev.req.player)) {
      rec.old_key = slot->key;
      rec.own_before_old = part.tree().count_before(slot->key);
    }
  // The player's key as of the last freeze, for view_keys: in a closed
  // season if the board rolled over since.
  const auto key_at_freeze = effect_free_key(st, part, ev.req.player);
  auto before = part.size();
  auto effect = part.submit(ev.req, ev.seq);
  st.entries += part.size() - before;
  if (!effect.old_key)
    st.ranks.entry_added(part, ev.req.board, ev.req.player);
  if (!effect.old_key || *effect.old_key != effect.key) {
    st.keys.changing(ev.req.board, ev.req.player, effect.old_key ? effect.old_key : key_at_freeze);
    note_move(st, ev.req.board, ev.seq, effect.old_key, effect.key);
  }
  if (effect.changed || created)
    st.dirty.insert(ev.req.board);
  if (created && st.peers.size() > 1)
    outgoing_part(st, ev.req.board); // the board is new here: the others learn of it
  auto& r = rec.reply;
  r.board = ev.req.board;
  r.player = ev.req.player;
  r.score = ranking::unfold(effect.key.primary, part.config().order);
  r.subscore = ranking::unfold(effect.key.secondary, part.config().order);
  r.changed = effect.changed;
  r.seq = ev.seq;
  if (effect.changed)
    note_score(st, r);
  if (!wanted)
    return;
  rec.target = std::move(ev.target);
  rec.key = effect.key;
  rec.own_before = part.tree().count_before(effect.key);
  rec.own_total = part.size();
  answers.submits.push_back(std::move(rec));
}

void apply_remove(shard_state& st, const remove_event& ev) {
  auto* part = st.find(ev.req.board);
  if (auto* slot = part ? part->find(ev.req.player) : nullptr) {
    st.keys.changing(ev.req.board, ev.req.player, slot->key);
    st.ranks.entry_going(ev.req.board, ev.req.player, *slot);
    note_move(st, ev.req.board, ev.seq, slot->key, std::nullopt);
  }
  bool removed = part != nullptr && part->remove(ev.req.player);
  if (removed) {
    --st.entries;
    st.dirty.insert(ev.req.board);
  }
  st.out->reply(ev.to, schemas::remove_reply{removed, ev.seq});
}

// A rollover (PROTOCOL.md "Seasons"): the board's season closes in O(1)
// (board_part::rollover). Unlike a reset it walks no players: their rank/
// topics fall silent until they submit in the new season, and the season/
// message (merge actor) says the season closed.
void apply_rollover(shard_state& st, const reset_event& ev) {
  auto& part = st.boards.try_emplace(ev.board).first->second;
  const uint64_t moved = part.rollover(*ev.rollover, ev.seq);
  st.entries -= moved;
  st.dirty.insert(ev.board);
  if (st.peers.size() > 1)
    st.outgoing.moves.push_back(
      ranking::key_move{outgoing_part(st, ev.board), ev.seq, std::nullopt, std::nullopt, true});
  if (ev.gather != 0)
    st.out->count_part(ev.gather, moved, std::nullopt);
}

void apply_reset(shard_state& st, const reset_event& ev) {
  if (ev.rollover) {
    apply_rollover(st, ev);
    return;
  }
  auto* part = st.find(ev.board);
  if (part == nullptr && st.view && st.view->find(ev.board) != nullptr) {
    // The board lives on other shards: remember the reset here too, so that
    // ranks of the merged view computed on this shard ignore their
    // pre-reset parts.
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
    if (st.peers.size() > 1)
      st.outgoing.moves.push_back(
        ranking::key_move{outgoing_part(st, ev.board), ev.seq, std::nullopt, std::nullopt, true});
  }
  st.out->count_part(ev.gather, removed, std::nullopt);
}

void apply_configure(shard_state& st, const configure_event& ev) {
  st.boards.try_emplace(ev.board).first->second.configure(ev.config, ev.time_ms);
  st.dirty.insert(ev.board);
  if (st.peers.size() > 1)
    outgoing_part(st, ev.board);
}

void answer_config_check(shard_state& st, const config_check& c) {
  const auto* part = st.find(c.board);
  st.out->count_part(c.gather, part ? part->size() : 0,
                     part ? std::optional<ranking::board_config>{part->config()} : std::nullopt);
}

void freeze(self_ptr self, const freeze_marker& m) {
  auto& st = self->state;
  shard_snapshot snap;
  snap.shard = st.index;
  snap.marker = m;
  snap.entries = st.entries;
  snap.mailbox = self->mailbox().size();
  snap.refused_new = st.refused_new;
  snap.changed.reserve(st.dirty.size());
  for (auto& name : st.dirty) {
    auto& part = st.boards.at(name);
    snap.changed.push_back(board_snapshot{name, part.config(), part.freeze(), part.reset_seq(),
                                          part.season(), part.closed()});
  }
  st.dirty.clear();
  snap.scores = std::move(st.scores);
  st.scores.clear(); // a moved-from vector is valid but unspecified
  st.keys.frozen(m.seq);
  st.frozen_seq = m.seq;
  self->send(st.merge, std::move(snap));
}

// Sends every other shard what this round changed here: the parts it
// touched, frozen as they are now, and the keys that moved. Sent for every
// round that had events here, even if none changed anything, since the
// others wait for it (shard_round::need); round 0 is the recovered state.
void publish_round(self_ptr self, uint64_t round) {
  auto& st = self->state;
  st.outgoing.round = round;
  for (auto& part : st.outgoing.parts) {
    auto& live = st.boards.at(part.board);
    part.config = live.config();
    part.tree = live.freeze();
    part.season = live.season();
    part.closed = live.closed();
  }
  for (uint32_t y = 0; y < st.peers.size(); ++y)
    if (y != st.index)
      self->send(st.peers[y], shard_publication{st.index, st.outgoing});
  st.outgoing = ranking::round_change{};
  st.outgoing_parts.clear();
}

// Phase 1: applies the round's events in seq order and keeps what phase 2
// needs; reports what needs no other shard (removes, resets, checks).
round_answers apply_round(self_ptr self, shard_round& round) {
  auto& st = self->state;
  round_answers answers;
  answers.round = round.round;
  answers.last_seq = round.last_seq;
  answers.need = std::move(round.need);
  // The gateway counts ingest events in flight until they are applied.
  st.out->control(ingest_applied{round.ingest_events});
  st.out->gate(round.last_seq);
  for (auto& op : round.ops)
    std::visit(schemas::overload{
                 [&](submit_event& ev) { apply_submit(st, ev, answers); },
                 [&](remove_event& ev) { apply_remove(st, ev); },
                 [&](reset_event& ev) { apply_reset(st, ev); },
                 [&](configure_event& ev) { apply_configure(st, ev); },
                 [&](config_check& c) { answer_config_check(st, c); },
                 [&](freeze_marker& m) { freeze(self, m); },
                 [&](rank_read& q) { answers.reads.emplace_back(std::move(q)); },
                 [&](around_read& q) { answers.reads.emplace_back(std::move(q)); },
                 [&](top_read& q) { answers.reads.emplace_back(std::move(q)); },
                 [&](boards_read& q) { answers.reads.emplace_back(std::move(q)); },
                 [&](ranks_read& q) { answers.reads.emplace_back(std::move(q)); },
                 [&](seasons_read& q) { answers.reads.emplace_back(std::move(q)); },
               },
               op);
  if (round.round > 0) {
    st.applied_seq = round.last_seq;
    const bool had_events = std::any_of(round.ops.begin(), round.ops.end(), [](const auto& op) {
      return std::holds_alternative<submit_event>(op) || std::holds_alternative<remove_event>(op)
             || std::holds_alternative<reset_event>(op)
             || std::holds_alternative<configure_event>(op);
    });
    if (had_events && st.peers.size() > 1)
      publish_round(self, round.round);
  }
  return answers;
}

// Runs rounds until one must wait for other shards' publications.
void run_rounds(self_ptr self) {
  auto& st = self->state;
  for (;;) {
    if (st.waiting) {
      if (!publications_in(st, *st.waiting))
        return;
      answer_round(st, *st.waiting);
      st.waiting.reset();
    }
    if (st.queued.empty())
      return;
    auto round = std::move(st.queued.front());
    st.queued.pop_front();
    auto answers = apply_round(self, round);
    if (answers.submits.empty() && answers.reads.empty()) {
      // Nothing to answer: the others' publications of this round are only
      // for later rounds.
      if (answers.round > 0)
        apply_publications(st, answers.round, true);
      continue;
    }
    st.waiting = std::move(answers);
  }
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
  r.seq = st.view->seq; // this shard's own part may be newer
  return r;
}

// `exact: false` reads: this shard's live part and the merged view (rank), or
// the merged view only (around, like `top`, so the two agree).
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
  r.seq = st.view->seq;
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
    auto key = bv ? st.keys.key_in_view(board, player, next.seq,
                                        shard_state::latest_key(part, player, next.seq))
                  : std::nullopt;
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
    } else if (auto old = prev_bv
                            ? st.keys.key_in_view(board, player, prev.seq,
                                                  shard_state::latest_key(part, player, prev.seq))
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

// The followed player as the view `v` shows it.
schemas::follow_update follow_state_in(const shard_state& st, const ranking::global_view& v,
                                       std::string_view board, std::string_view player) {
  schemas::follow_update u;
  u.board = board;
  u.player = player;
  u.seq = v.seq;
  const auto* bv = v.find(board);
  if (bv == nullptr)
    return u;
  u.total = bv->total;
  auto i = st.boards.find(std::string(board));
  const auto* part = i == st.boards.end() ? nullptr : &i->second;
  auto key = st.keys.key_in_view(board, player, v.seq,
                                 shard_state::latest_key(part, player, v.seq));
  if (!key)
    return u;
  u.rank = ranking::view_ranking(*bv).count_before(*key) + 1;
  u.score = ranking::unfold(key->primary, bv->config.order);
  u.subscore = ranking::unfold(key->secondary, bv->config.order);
  return u;
}

// follow/ for the followed players whose state in `v` differs from what
// their topic last said, or that are due a resend (a new subscriber, or a
// message the backlog bound dropped). O(S log n) per follow.
void send_follows(self_ptr self, const ranking::global_view& v) {
  auto& st = self->state;
  if (st.follows.empty())
    return;
  std::vector<update_msg> out;
  std::vector<std::pair<follow_state*, schemas::follow_update>> sent;
  auto flush = [&] {
    auto n = out.size();
    const bool ok = st.updates.offer(self, update_batch{std::move(out)}, n);
    for (auto& [fs, u] : sent) {
      if (!ok) {
        fs->resend = true; // what went before stays the topic's last word
        continue;
      }
      fs->resend = false;
      fs->rank = u.rank;
      fs->score = u.score;
      fs->subscore = u.subscore;
    }
    out = {};
    sent.clear();
  };
  constexpr size_t chunk = 1024;
  for (auto& [id, fs] : st.follows) {
    auto [board, player] = ranking::split_player_id(id);
    auto u = follow_state_in(st, v, board, player);
    if (!fs.resend && u.rank == fs.rank && u.score == fs.score && u.subscore == fs.subscore)
      continue;
    u.prev_rank = fs.rank;
    out.push_back(
      update_msg{v.seq, schemas::follow_topic(board, player), schemas::encode_update(u)});
    sent.emplace_back(&fs, u);
    if (out.size() >= chunk)
      flush();
  }
  if (!out.empty())
    flush();
}

// The publisher's new follow set: keep this shard's follows, and send the
// current state of those that are new or have a new generation.
void take_follows(self_ptr self, const follow_set& fs) {
  auto& st = self->state;
  ranking::shard_map owners(std::max<uint32_t>(1, static_cast<uint32_t>(st.peers.size())));
  std::unordered_map<std::string, follow_state> next;
  for (const auto& e : *fs.follows) {
    if (owners.owner(e.board, e.player) != st.index)
      continue;
    auto id = ranking::player_id(e.board, e.player);
    auto old = st.follows.find(id);
    follow_state f = old == st.follows.end() ? follow_state{} : old->second;
    if (f.generation != e.generation)
      f.resend = true;
    f.generation = e.generation;
    next.emplace(std::move(id), f);
  }
  st.follows = std::move(next);
  send_follows(self, *st.view);
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
      auto& st = self->state;
      st.peers = std::move(w.peers);
      st.others.resize(st.peers.size());
      st.updates = update_channel{std::move(w.updates)};
    },
    [self](shard_restore& r) {
      auto& st = self->state;
      st.boards = std::move(r.state->boards());
      st.entries = r.state->entries();
      for (auto& kv : st.boards)
        st.dirty.insert(kv.first); // the first freeze hands them all to the merge
      // The other shards start from what each recovered, as they do from
      // what each applies later: every recovered board goes out as a part.
      if (st.peers.size() > 1) {
        for (auto& kv : st.boards)
          outgoing_part(st, kv.first);
        publish_round(self, 0);
      }
    },
    [self](shard_round& round) {
      auto turn = self->state.out->turn();
      self->state.queued.push_back(std::move(round));
      run_rounds(self);
    },
    [self](shard_publication& p) {
      auto turn = self->state.out->turn();
      auto& other = self->state.others.at(p.shard);
      other.started = true;
      other.latest = p.change.round;
      other.received.push_back(std::move(p.change));
      run_rounds(self);
    },
    [self](shard_queries& qs) {
      auto turn = self->state.out->turn();
      auto& st = self->state;
      // The live part may hold events the log has written but not synced:
      // no reply shows them before they are durable.
      st.out->gate(st.applied_seq);
      for (auto& q : qs.items)
        std::visit(
          schemas::overload{
            [&](const schemas::rank_req& r) { st.out->reply(q.to, answer_rank(st, r)); },
            [&](const schemas::around_req& a) { st.out->reply(q.to, answer_around(st, a)); },
          },
          q.body);
    },
    [self](const lookup_request& q) { return answer_lookup(self->state, q); },
    [self](const follow_set& fs) { take_follows(self, fs); },
    [self](ranking::view_ptr& v) {
      publish_rank_changes(self, *v);
      send_follows(self, *v);
      self->state.keys.view_at(v->seq);
      self->state.view = std::move(v);
    },
  };
}

} // namespace lb::actors
