#include "actors/shard_exact.hpp"

#include <variant>

#include "actors/paging.hpp"
#include "schemas/overload.hpp"

namespace lb::actors {

namespace {

using moves_map = std::unordered_map<std::string_view, std::vector<const ranking::key_move*>>;

schemas::error not_found(std::string what) {
  return {schemas::error_code::not_found, std::move(what)};
}

std::string no_board(const std::string& board) {
  return "board '" + board + "' does not exist";
}

std::string no_player(const std::string& board, const std::string& player) {
  return "player '" + player + "' is not on board '" + board + "'";
}

// The other shards' moves of this round, by shard and board.
std::vector<moves_map> moves_of_round(const shard_state& st, uint64_t round) {
  std::vector<moves_map> out(st.others.size());
  for (size_t y = 0; y < st.others.size(); ++y) {
    const auto& received = st.others[y].received;
    if (!received.empty() && received.front().round == round)
      out[y] = ranking::moves_by_board(received.front());
  }
  return out;
}

void answer_submits(shard_state& st, round_answers& r) {
  auto moves = moves_of_round(st, r.round);
  for (auto& rec : r.submits) {
    const auto& board = rec.reply.board;
    const uint64_t seq = rec.reply.seq;
    uint64_t before = rec.own_before;
    uint64_t before_old = rec.own_before_old;
    uint64_t total = rec.own_total;
    for (size_t y = 0; y < st.others.size(); ++y) {
      if (y == st.index)
        continue;
      const auto& parts = st.others[y].parts;
      auto p = parts.find(board);
      const ranking::tree_reader* base = p == parts.end() ? nullptr : &p->second.tree;
      auto m = moves[y].find(board);
      const auto* mv = m == moves[y].end() ? nullptr : &m->second;
      auto c = ranking::count_at(base, mv, rec.key, seq);
      before += c.before;
      total += c.total;
      if (rec.old_key)
        before_old += ranking::count_at(base, mv, *rec.old_key, seq).before;
    }
    rec.reply.rank = before + 1;
    rec.reply.total = total;
    if (rec.old_key)
      rec.reply.prev_rank = before_old + 1;
    std::visit(
      schemas::overload{
        [&](const reply_to& to) { st.out->reply(to, rec.reply); },
        [&](const batch_slot& slot) { st.out->batch_item(slot.batch, slot.index, rec.reply); },
      },
      rec.target);
  }
}

// Every shard's part of a board as of the end of the round: this shard's
// live one and the others' published ones.
// With the board's seasons: its current one, and each shard's list of the
// closed ones it keeps (this shard's first).
struct board_parts {
  std::vector<const ranking::tree_reader*> trees;
  ranking::board_config config;
  ranking::season_clock season;
  std::vector<const ranking::season_list*> closed;
  bool known = false;

  ranking::merged_ranking ranking() const { return ranking::merged_ranking{trees}; }
};

board_parts parts_of(const shard_state& st, const std::string& board) {
  board_parts out;
  if (const auto* own = st.find(board)) {
    out.trees.push_back(&own->tree());
    out.config = own->config();
    out.season = own->season();
    out.closed.push_back(own->closed().get());
    out.known = true;
  }
  for (size_t y = 0; y < st.others.size(); ++y) {
    auto p = st.others[y].parts.find(board);
    if (p == st.others[y].parts.end())
      continue;
    out.trees.push_back(&p->second.tree);
    out.closed.push_back(p->second.closed.get());
    if (!out.known) {
      out.config = p->second.config;
      out.season = p->second.season;
    }
    out.known = true;
  }
  return out;
}

// The kept seasons' numbers as an operator reads them: "kept: 3-5".
std::string kept_range(const board_parts& parts) {
  const auto* list = ranking::kept_seasons(parts.closed);
  if (list == nullptr)
    return "none kept";
  const auto first = list->front().span.season;
  const auto last = list->back().span.season;
  return "kept: " + std::to_string(first) + (first == last ? "" : "-" + std::to_string(last));
}

// A closed season of a board on every shard: its span, its parts' trees,
// and this shard's part (where the players this shard owns are).
struct season_parts {
  schemas::season_span span;
  schemas::board_order order = schemas::board_order::desc; // the season's own
  std::vector<const ranking::tree_reader*> trees;
  const ranking::season_part* own = nullptr;

  ranking::merged_ranking ranking() const { return ranking::merged_ranking{trees}; }
};

// `parts` itself for the current season (nothing to do), the closed season
// `n`, or the not_found reply that says which seasons there are.
std::variant<std::monostate, season_parts, schemas::reply_body>
season_of(const board_parts& parts, const std::string& board, std::optional<uint32_t> n) {
  if (!n || *n == parts.season.number)
    return std::monostate{};
  season_parts out;
  bool found = false;
  for (size_t i = 0; i < parts.closed.size(); ++i) {
    const auto* s = ranking::find_season(parts.closed[i], *n);
    if (s == nullptr)
      continue;
    out.span = s->span;
    out.order = s->config.order;
    out.trees.push_back(&s->part->tree);
    if (i == 0)
      out.own = s->part.get();
    found = true;
  }
  if (!found)
    return not_found("board '" + board + "' has no season " + std::to_string(*n) + " ("
                     + kept_range(parts) + ", current: " + std::to_string(parts.season.number)
                     + ")");
  return out;
}

// A player on this shard (its owner) and the board's parts around it, or
// the not_found reply that says which of the two is missing.
struct located {
  board_parts parts;
  const ranking::player_slot* slot = nullptr;
};

std::variant<located, schemas::reply_body> locate(const shard_state& st, const std::string& board,
                                                  const std::string& player) {
  located at{parts_of(st, board)};
  if (!at.parts.known)
    return not_found(no_board(board));
  const auto* own = st.find(board);
  at.slot = own ? own->find(player) : nullptr;
  if (at.slot == nullptr)
    return not_found(no_player(board, player));
  return at;
}

// The player's slot in the closed season (this shard owns the player), or
// the not_found reply.
std::variant<const ranking::player_slot*, schemas::reply_body>
slot_in(const season_parts& sp, const std::string& board, const std::string& player) {
  const auto* slot = sp.own ? sp.own->players.find(player) : nullptr;
  if (slot == nullptr)
    return not_found("player '" + player + "' is not in season " + std::to_string(sp.span.season)
                     + " of board '" + board + "'");
  return slot;
}

// A read of a closed season: the same answer from its frozen parts, with
// `seq` the season's last.
schemas::reply_body answer_closed(const season_parts& sp, const schemas::rank_req& q) {
  auto found = slot_in(sp, q.board, q.player);
  if (auto* missing = std::get_if<schemas::reply_body>(&found))
    return std::move(*missing);
  const auto* slot = std::get<const ranking::player_slot*>(found);
  auto ranking = sp.ranking();
  schemas::rank_reply r;
  r.board = q.board;
  r.entry = ranking::to_entry_view(ranking.count_before(slot->key) + 1, slot->key, *slot->rec,
                                   sp.order);
  r.total = ranking.total();
  r.seq = sp.span.end_seq;
  r.season = sp.span.season;
  return r;
}

schemas::reply_body answer_closed(const season_parts& sp, const schemas::around_req& q) {
  auto found = slot_in(sp, q.board, q.player);
  if (auto* missing = std::get_if<schemas::reply_body>(&found))
    return std::move(*missing);
  const auto* slot = std::get<const ranking::player_slot*>(found);
  auto ranking = sp.ranking();
  auto pos = ranking.count_before(slot->key);
  auto first = pos > q.radius ? pos - q.radius : 0;
  schemas::entries_reply r;
  r.board = q.board;
  r.total = ranking.total();
  r.seq = sp.span.end_seq;
  r.season = sp.span.season;
  const auto order = sp.order;
  ranking.walk(first, pos - first + 1 + q.radius,
               [&](uint64_t at, const ranking::rank_key& k, const ranking::entry_rec& rec) {
                 r.entries.push_back(ranking::to_entry_view(at + 1, k, rec, order));
               });
  return r;
}

// Reads that name a season: the current one reads as without, a closed one
// from its parts (answer_closed), any other is not_found.
template <class Req, class Live>
schemas::reply_body answer_season(const shard_state& st, const Req& q, Live&& live) {
  if (!q.season)
    return live();
  auto parts = parts_of(st, q.board);
  if (!parts.known)
    return not_found(no_board(q.board));
  auto which = season_of(parts, q.board, q.season);
  if (auto* missing = std::get_if<schemas::reply_body>(&which))
    return std::move(*missing);
  if (auto* sp = std::get_if<season_parts>(&which))
    return answer_closed(*sp, q);
  auto out = live();
  std::visit(schemas::overload{
               [&](schemas::rank_reply& r) { r.season = q.season; },
               [&](schemas::entries_reply& r) { r.season = q.season; },
               [](auto&) {},
             },
             out);
  return out;
}

schemas::reply_body answer(const shard_state& st, uint64_t seq, const schemas::rank_req& q) {
  auto found = locate(st, q.board, q.player);
  if (auto* missing = std::get_if<schemas::reply_body>(&found))
    return std::move(*missing);
  const auto& parts = std::get<located>(found).parts;
  const auto* slot = std::get<located>(found).slot;
  auto ranking = parts.ranking();
  schemas::rank_reply r;
  r.board = q.board;
  r.entry = ranking::to_entry_view(ranking.count_before(slot->key) + 1, slot->key, *slot->rec,
                                   parts.config.order);
  r.total = ranking.total();
  r.seq = seq;
  return r;
}

schemas::reply_body answer(const shard_state& st, uint64_t seq, const schemas::around_req& q) {
  auto found = locate(st, q.board, q.player);
  if (auto* missing = std::get_if<schemas::reply_body>(&found))
    return std::move(*missing);
  // Named, not a structured binding: C++17 lambdas cannot capture those.
  const auto& parts = std::get<located>(found).parts;
  const auto* slot = std::get<located>(found).slot;
  auto ranking = parts.ranking();
  auto pos = ranking.count_before(slot->key);
  auto first = pos > q.radius ? pos - q.radius : 0;
  schemas::entries_reply r;
  r.board = q.board;
  r.total = ranking.total();
  r.seq = seq;
  ranking.walk(first, pos - first + 1 + q.radius,
               [&](uint64_t at, const ranking::rank_key& k, const ranking::entry_rec& rec) {
                 r.entries.push_back(ranking::to_entry_view(at + 1, k, rec, parts.config.order));
               });
  return r;
}

schemas::reply_body answer_closed(const season_parts& sp, const schemas::top_req& q) {
  schemas::entries_reply r;
  r.board = q.board;
  r.seq = sp.span.end_seq;
  r.season = sp.span.season;
  fill_top_page(sp.trees, q, sp.order, r);
  return r;
}

schemas::reply_body answer(const shard_state& st, uint64_t seq, const schemas::top_req& q) {
  auto parts = parts_of(st, q.board);
  if (!parts.known)
    return not_found(no_board(q.board));
  schemas::entries_reply r;
  r.board = q.board;
  r.seq = seq;
  fill_top_page(parts.trees, q, parts.config.order, r);
  return r;
}

// One page of boards in name order (PROTOCOL.md "Paging"). Every shard's
// parts are in unordered maps, so each name is offered to a bounded picker
// (one comparison for most, O(B S) in all) rather than every name sorted;
// only the page's boards are then looked up on every shard.
schemas::reply_body answer_boards(const shard_state& st, uint64_t seq,
                                  const schemas::boards_req& q) {
  name_picker pick(q.after, q.limit);
  for (const auto& [name, part] : st.boards)
    pick.offer(name);
  for (const auto& other : st.others)
    for (const auto& [name, part] : other.parts)
      pick.offer(name);
  bool more = false;
  const auto names = pick.page(more);
  schemas::boards_reply r;
  r.seq = seq;
  r.boards.reserve(names.size());
  for (auto name : names) {
    auto parts = parts_of(st, std::string(name));
    r.boards.push_back(
      board_info_of(std::string(name), parts.ranking().total(), parts.config, parts.season.number));
  }
  if (more)
    r.next = r.boards.back().board;
  return r;
}

void answer_friends(shard_state& st, uint64_t seq, const ranks_read& q) {
  auto parts = parts_of(st, q.board);
  friends_answer out;
  out.known = parts.known;
  out.season = q.season;
  decltype(season_of(parts, q.board, q.season)) which = std::monostate{};
  if (parts.known)
    which = season_of(parts, q.board, q.season);
  if (auto* missing = std::get_if<schemas::reply_body>(&which)) {
    out.missing = std::get<schemas::error>(*missing).message;
    st.out->friends_part(q.gather, out);
    return;
  }
  auto add = [&](const ranking::merged_ranking& ranking, const ranking::player_slot* slot,
                 schemas::board_order order) {
    if (slot != nullptr)
      out.entries.push_back(
        ranking::to_entry_view(ranking.count_before(slot->key) + 1, slot->key, *slot->rec, order));
  };
  if (auto* sp = std::get_if<season_parts>(&which)) {
    auto ranking = sp->ranking();
    for (const auto& player : q.players)
      add(ranking, sp->own ? sp->own->players.find(player) : nullptr, sp->order);
    out.total = ranking.total();
    out.seq = sp->span.end_seq;
  } else {
    auto ranking = parts.ranking();
    if (const auto* own = st.find(q.board))
      for (const auto& player : q.players)
        add(ranking, own->find(player), parts.config.order);
    out.total = ranking.total();
    out.seq = seq;
  }
  st.out->friends_part(q.gather, out);
}

// A board's seasons, oldest first, the current one last (PROTOCOL.md
// "Seasons"). A closed season's size is the sum of its parts.
schemas::reply_body answer_seasons(const shard_state& st, uint64_t seq, const seasons_read& q) {
  auto parts = parts_of(st, q.req.board);
  if (!parts.known)
    return not_found(no_board(q.req.board));
  schemas::seasons_reply r;
  r.board = q.req.board;
  r.current = parts.season.number;
  r.keep = parts.config.keep;
  if (parts.config.schedule) {
    r.schedule = *parts.config.schedule;
    r.next_ms = q.next_ms;
  }
  r.seq = seq;
  if (const auto* spans = ranking::kept_seasons(parts.closed))
    for (const auto& s : *spans) {
      schemas::season_info info{s.span, false, 0};
      for (const auto* mine : ranking::season_on_shards(parts.closed, s.span.season))
        info.total += mine->part->tree.size();
      r.seasons.push_back(info);
    }
  schemas::season_info now;
  now.span = schemas::season_span{parts.season.number, parts.season.start_ms, 0,
                                  parts.season.start_seq, 0};
  now.current = true;
  now.total = parts.ranking().total();
  r.seasons.push_back(now);
  return r;
}

void answer_reads(shard_state& st, round_answers& r) {
  const uint64_t seq = r.last_seq;
  for (auto& read : r.reads)
    std::visit(
      schemas::overload{
        [&](const rank_read& q) {
          st.out->reply(q.to, answer_season(st, q.req, [&] { return answer(st, seq, q.req); }));
        },
        [&](const around_read& q) {
          st.out->reply(q.to, answer_season(st, q.req, [&] { return answer(st, seq, q.req); }));
        },
        [&](const top_read& q) {
          st.out->reply(q.to, answer_season(st, q.req, [&] { return answer(st, seq, q.req); }));
        },
        [&](const seasons_read& q) { st.out->reply(q.to, answer_seasons(st, seq, q)); },
        [&](const boards_read& q) { st.out->reply(q.to, answer_boards(st, seq, q.req)); },
        [&](const ranks_read& q) { answer_friends(st, seq, q); },
      },
      read);
}

} // namespace

bool publications_in(const shard_state& st, const round_answers& r) {
  for (size_t y = 0; y < st.others.size(); ++y)
    if (y != st.index && (!st.others[y].started || st.others[y].latest < r.need[y]))
      return false;
  return true;
}

void apply_publications(shard_state& st, uint64_t round, bool including) {
  for (auto& other : st.others) {
    auto& received = other.received;
    while (!received.empty()
           && (received.front().round < round || (including && received.front().round == round))) {
      for (auto& part : received.front().parts)
        other.parts[part.board] = std::move(part);
      received.pop_front();
    }
  }
}

void answer_round(shard_state& st, round_answers& r) {
  st.out->gate(r.last_seq);
  // Submits count the other shards as of their seq: their parts before this
  // round and their moves in it; reads, every part as of the round's end.
  apply_publications(st, r.round, false);
  answer_submits(st, r);
  apply_publications(st, r.round, true);
  answer_reads(st, r);
}

} // namespace lb::actors
