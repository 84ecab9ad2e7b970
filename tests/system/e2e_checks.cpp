#include "tests/system/e2e_checks.hpp"

#include <algorithm>
#include <exception>
#include <utility>

#include <doctest/doctest.h>

namespace lb::e2e {

namespace {

// Records the event of a submit result map (a reply, or one batch result),
// then checks what the model cannot: the echo and 1 <= rank <= total. The
// event is kept even when a check fails, so that the replay stays whole.
void record_submit(const msgpack::object& o, const request& r, const std::string& origin,
                   client_log& log) {
  event ev;
  ev.req = r;
  ev.origin = origin;
  ev.seq = at(o, "seq").as<uint64_t>();
  ev.score = at(o, "score").as<int64_t>();
  ev.subscore = at(o, "subscore").as<int64_t>();
  ev.changed = at(o, "changed").as<bool>();
  ev.was_new = at(o, "prev_rank").type == msgpack::type::NIL;
  if (!ev.was_new)
    ev.prev_rank = at(o, "prev_rank").as<uint64_t>();
  ev.rank = at(o, "rank").as<uint64_t>();
  ev.total = at(o, "total").as<uint64_t>();
  log.events.push_back(ev);
  auto rank = ev.rank, total = ev.total;
  if (at(o, "board").as<std::string>() != r.board || at(o, "player").as<std::string>() != r.player)
    throw reply_error("board or player not echoed");
  if (rank < 1 || rank > total)
    throw reply_error("rank " + std::to_string(rank) + " outside 1..total "
                      + std::to_string(total));
}

// `players`: everyone the load may have used (those absent must be not_found).
void check_board(client& c, const std::string& name, const model_board& mb,
                 const std::vector<std::string>& players) {
  INFO("board " << name);
  auto want = mb.ranked();
  auto got = read_board(c, name);
  CHECK_MESSAGE(got == want,
                "top disagrees with the model; got:" << show(got) << "\nexpected:" << show(want));
  auto tot = c.call(top(name, 1)).u64("total");
  CHECK(tot == want.size());

  // rank, plain and exact, for every player (absent ones: not_found).
  std::vector<body> reqs;
  for (auto& p : players) {
    reqs.push_back(rank(name, p, false));
    reqs.push_back(rank(name, p, true));
  }
  auto reps = c.call_all(reqs);
  std::map<std::string, entry> by_player;
  for (auto& e : want)
    by_player[e.player] = e;
  size_t wrong = 0;
  for (size_t i = 0; i < reps.size(); ++i) {
    auto& p = players[i / 2];
    auto& r = reps[i];
    auto w = by_player.find(p);
    bool good;
    if (w == by_player.end()) {
      good = !r.ok() && r.error_code() == "not_found";
    } else {
      good = r.ok() && r.u64("rank") == w->second.rank && r.i64("score") == w->second.score
             && r.i64("subscore") == w->second.subscore && meta_of(r.at("meta")) == w->second.meta
             && r.u64("total") == want.size() && r.str("player") == p;
    }
    if (!good && wrong++ < 5)
      FAIL_CHECK("rank " << p << std::string(i % 2 ? " exact" : "") << ": got " << r.text()
                         << ", expected "
                         << (w == by_player.end() ? "not_found" : to_string(w->second)) << " of "
                         << want.size());
  }
  CHECK_MESSAGE(wrong == 0, wrong << " rank replies disagree with the model");

  // around: a window of the model's order, the player in the middle.
  for (size_t i = 0; i < want.size(); i += 7) {
    uint32_t radius = static_cast<uint32_t>(i % 4);
    auto r = c.call(around(name, want[i].player, radius));
    REQUIRE(r.ok());
    auto lo = i > radius ? i - radius : 0, hi = std::min(want.size(), i + radius + 1);
    std::vector<entry> slice(want.begin() + static_cast<long>(lo),
                             want.begin() + static_cast<long>(hi));
    CHECK_MESSAGE(r.entries() == slice,
                  "around " << want[i].player << " radius " << radius << ":" << show(r.entries()));
    CHECK(r.u64("total") == want.size());
  }

  // ranks: friends lists with absent players mixed in.
  for (size_t start = 0; start < players.size(); start += 13) {
    std::vector<std::string> friends;
    for (size_t j = start; j < players.size() && friends.size() < 20; j += 2)
      friends.push_back(players[j]);
    auto r = c.call(ranks(name, friends));
    REQUIRE_MESSAGE(r.ok(), r.text());
    std::vector<entry> expect;
    for (auto& e : want)
      if (std::find(friends.begin(), friends.end(), e.player) != friends.end())
        expect.push_back(e);
    CHECK_MESSAGE(r.entries() == expect,
                  "ranks:" << show(r.entries()) << "\nexpected:" << show(expect));
    CHECK(r.u64("total") == want.size());
  }
}

// The `boards` list against the model.
void check_boards(client& c, const model& m) {
  auto r = c.call(boards());
  REQUIRE(r.ok());
  auto& a = r.at("boards");
  std::map<std::string, std::string> got, want;
  for (uint32_t i = 0; i < a.via.array.size; ++i) {
    auto& b = a.via.array.ptr[i];
    got[at(b, "board").as<std::string>()] = std::to_string(at(b, "total").as<uint64_t>()) + " "
                                            + at(b, "order").as<std::string>() + " "
                                            + at(b, "operator").as<std::string>();
  }
  for (auto& [name, b] : m.boards)
    want[name] = std::to_string(b.entries.size()) + " " + b.order + " " + b.oper;
  CHECK(got == want);
}

} // namespace

void record(client_log& log, const std::string& where, const std::exception& e) {
  if (dynamic_cast<const mixed_view_error*>(&e) != nullptr) {
    if (log.mixed_view_count++ == 0)
      log.mixed_view_sample = where + ": " + e.what();
    return;
  }
  log.fail(where + ": " + e.what());
}

std::set<std::string> with(std::set<std::string> keys, std::initializer_list<const char*> more) {
  keys.insert(more.begin(), more.end());
  return keys;
}

void check_run(const std::vector<entry>& es, uint64_t first_rank, bool asc) {
  for (size_t i = 0; i < es.size(); ++i) {
    if (es[i].rank != first_rank + i)
      throw reply_error("entry " + std::to_string(i) + " has rank " + std::to_string(es[i].rank)
                        + ", expected " + std::to_string(first_rank + i));
    if (i > 0) {
      auto a = std::make_pair(es[i - 1].score, es[i - 1].subscore);
      auto b = std::make_pair(es[i].score, es[i].subscore);
      if (asc ? b < a : b > a)
        throw reply_error("entries out of order: " + to_string(es[i - 1]) + " then "
                          + to_string(es[i]));
    }
  }
}

void check_reply(const request& r, const reply& rep, const board_orders& orders,
                 const std::string& origin, client_log& log) {
  auto asc = [&](const std::string& b) {
    auto i = orders.find(b);
    return i != orders.end() && i->second;
  };
  auto code = rep.error_code();
  if (!rep.ok()) {
    // Only a read of a player who is not there may fail.
    bool allowed = code == "not_found" && (r.op == "rank" || r.op == "around");
    if (!allowed)
      throw reply_error("unexpected error reply: " + rep.text());
    return;
  }
  if (r.op == "submit") {
    if (rep.keys() != with(submit_keys, {"ok", "id"}))
      throw reply_error("submit reply keys: " + rep.text());
    record_submit(rep.root(), r, origin, log);
  } else if (r.op == "batch") {
    auto& a = rep.at("results");
    if (a.type != msgpack::type::ARRAY || a.via.array.size != r.items.size())
      throw reply_error("batch results do not match the items: " + rep.text());
    for (uint32_t i = 0; i < a.via.array.size; ++i) {
      auto& res = a.via.array.ptr[i];
      auto item = origin + " item " + std::to_string(i);
      try {
        if (!at(res, "ok").as<bool>())
          throw reply_error("failed: " + rep.text());
        record_submit(res, r.items[i], item, log);
      } catch (const std::exception& e) {
        record(log, item, e);
      }
    }
  } else if (r.op == "remove" || r.op == "reset") {
    event ev;
    ev.req = r;
    ev.origin = origin;
    ev.seq = rep.u64("seq");
    ev.removed = r.op == "remove" ? rep.flag("removed") : rep.u64("removed");
    log.events.push_back(ev);
  } else if (r.op == "configure") {
    event ev;
    ev.req = r;
    ev.origin = origin;
    ev.seq = rep.u64("seq");
    log.events.push_back(ev);
  } else if (r.op == "rank") {
    if (rep.str("player") != r.player || rep.str("board") != r.board)
      throw reply_error("rank: wrong player or board: " + rep.text());
    if (rep.u64("rank") < 1 || rep.u64("rank") > rep.u64("total"))
      throw reply_error("rank outside 1..total: " + rep.text());
  } else if (r.op == "top") {
    auto es = rep.entries();
    if (es.size() > r.limit || (!es.empty() && rep.u64("total") < r.offset + es.size()))
      throw reply_error("top: too many entries: " + rep.text());
    check_run(es, r.offset + 1, asc(r.board));
  } else if (r.op == "around") {
    auto es = rep.entries();
    auto me = std::find_if(es.begin(), es.end(),
                           [&](const entry& e) { return e.player == r.player; });
    if (me == es.end())
      throw reply_error("around: the player is missing: " + rep.text());
    auto pos = static_cast<uint64_t>(me - es.begin());
    // The player in the middle, fewer at the edges.
    if (pos != std::min<uint64_t>(me->rank - 1, r.radius) || es.size() - pos - 1 > r.radius)
      throw reply_error("around: the player is not in the middle: " + rep.text());
    check_run(es, es.front().rank, asc(r.board));
  } else if (r.op == "ranks") {
    auto es = rep.entries();
    std::set<std::string> asked(r.players.begin(), r.players.end()), seen;
    for (size_t i = 0; i < es.size(); ++i) {
      if (!asked.count(es[i].player) || !seen.insert(es[i].player).second)
        throw reply_error("ranks: a player not asked for, or twice: " + rep.text());
      if (es[i].rank < 1 || es[i].rank > rep.u64("total"))
        throw reply_error("ranks: rank outside 1..total: " + rep.text());
      // One merged view: ranks strictly increase and values never improve.
      if (i > 0 && es[i].rank <= es[i - 1].rank)
        throw mixed_view_error("ranks: ranks not strictly increasing (" + to_string(es[i - 1])
                               + ", " + to_string(es[i]) + ")");
    }
    for (size_t i = 1; i < es.size(); ++i) {
      auto a = std::make_pair(es[i - 1].score, es[i - 1].subscore);
      auto b = std::make_pair(es[i].score, es[i].subscore);
      if (asc(r.board) ? b < a : b > a)
        throw mixed_view_error("ranks: not best first: " + to_string(es[i - 1]) + " then "
                               + to_string(es[i]));
    }
  }
}

std::vector<event> gather(const std::vector<client_log>& logs, size_t expected_replies) {
  std::vector<event> events;
  size_t failures = 0, replies = 0, mixed = 0;
  std::string mixed_sample;
  for (auto& l : logs) {
    if (mixed == 0)
      mixed_sample = l.mixed_view_sample;
    mixed += l.mixed_view_count;
    for (auto& f : l.failures)
      if (failures++ < 20)
        FAIL_CHECK(f);
    failures += l.failure_count - l.failures.size();
    replies += l.replies;
    events.insert(events.end(), l.events.begin(), l.events.end());
  }
  CHECK_MESSAGE(failures == 0, failures << " problems in the clients' replies");
  CHECK_MESSAGE(mixed == 0, mixed << " `ranks` replies mix states (PROTOCOL.md: top, around and "
                                     "ranks read the same merged view), e.g. "
                                  << mixed_sample);
  CHECK(replies == expected_replies);
  return events;
}

void check_replay(const std::vector<event>& events, model& m) {
  auto bad = replay(events, m);
  for (size_t i = 0; i < bad.size() && i < 20; ++i)
    FAIL_CHECK(bad[i]);
  CHECK_MESSAGE(bad.empty(), bad.size() << " event replies disagree with the model");
}

std::string show(const std::vector<entry>& es, size_t max) {
  std::string s;
  for (size_t i = 0; i < es.size() && i < max; ++i)
    s += "\n  " + to_string(es[i]);
  if (es.size() > max)
    s += "\n  ... " + std::to_string(es.size()) + " in all";
  return s;
}

void check_final_state(client& c, const model& m, const std::vector<std::string>& players) {
  check_boards(c, m);
  // stats: the shards' entries add up to every board's.
  auto st = c.call(stats());
  uint64_t shard_entries = 0, model_entries = 0;
  auto& sh = st.at("shards");
  for (uint32_t i = 0; i < sh.via.array.size; ++i)
    shard_entries += at(sh.via.array.ptr[i], "entries").as<uint64_t>();
  for (auto& [name, b] : m.boards)
    model_entries += b.entries.size();
  CHECK(shard_entries == model_entries);
  for (auto& [name, b] : m.boards)
    check_board(c, name, b, players);
}

} // namespace lb::e2e
