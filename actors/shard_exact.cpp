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
struct board_parts {
  std::vector<const ranking::tree_reader*> trees;
  ranking::board_config config;
  bool known = false;

  ranking::merged_ranking ranking() const { return ranking::merged_ranking{trees}; }
};

board_parts parts_of(const shard_state& st, const std::string& board) {
  board_parts out;
  if (const auto* own = st.find(board)) {
    out.trees.push_back(&own->tree());
    out.config = own->config();
    out.known = true;
  }
  for (size_t y = 0; y < st.others.size(); ++y) {
    auto p = st.others[y].parts.find(board);
    if (p == st.others[y].parts.end())
      continue;
    out.trees.push_back(&p->second.tree);
    if (!out.known)
      out.config = p->second.config;
    out.known = true;
  }
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
    r.boards.push_back(schemas::board_info{std::string(name), parts.ranking().total(),
                                           parts.config.order, parts.config.op});
  }
  if (more)
    r.next = r.boards.back().board;
  return r;
}

void answer_friends(shard_state& st, uint64_t seq, const ranks_read& q) {
  auto parts = parts_of(st, q.board);
  auto ranking = parts.ranking();
  std::vector<schemas::entry_view> entries;
  if (const auto* own = st.find(q.board))
    for (const auto& player : q.players)
      if (const auto* slot = own->find(player))
        entries.push_back(ranking::to_entry_view(ranking.count_before(slot->key) + 1, slot->key,
                                                 *slot->rec, parts.config.order));
  st.out->friends_part(q.gather, parts.known, ranking.total(), seq, entries);
}

void answer_reads(shard_state& st, round_answers& r) {
  const uint64_t seq = r.last_seq;
  for (auto& read : r.reads)
    std::visit(schemas::overload{
                 [&](const rank_read& q) { st.out->reply(q.to, answer(st, seq, q.req)); },
                 [&](const around_read& q) { st.out->reply(q.to, answer(st, seq, q.req)); },
                 [&](const top_read& q) { st.out->reply(q.to, answer(st, seq, q.req)); },
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
