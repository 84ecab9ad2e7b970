// End-to-end tests: the real leaderboardd binary as a child process, driven
// over ZeroMQ with msgpack exactly as PROTOCOL.md describes (sections 1-4 and
// 6; the update streams of section 5 are tested in test_updates.cpp).
//
// The concurrent tests record every event reply (each carries its `seq`),
// replay the events in seq order through a small reference model written from
// PROTOCOL.md alone, and compare: each submit reply against the model at that
// seq, then the whole final state once the merges have caught up.
//
// Also run under ThreadSanitizer (LBD_TEST_SCALE=tsan): request counts shrink,
// client counts do not.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/system/e2e_client.hpp"

using namespace lb::e2e;
using namespace std::chrono_literals;

namespace {

constexpr int64_t i64_max = std::numeric_limits<int64_t>::max();
constexpr int64_t i64_min = std::numeric_limits<int64_t>::min();

// ===========================================================================
// Requests as the tests think of them: one struct that knows how to become a
// body and that is kept next to its reply.

struct request {
  std::string op;
  std::string board, player;
  int64_t score = 0;
  std::optional<int64_t> subscore;
  std::optional<meta_v> meta;
  bool exact = false;
  uint32_t limit = 10;
  uint64_t offset = 0;
  uint32_t radius = 5;
  std::vector<std::string> players;
  std::vector<request> items;             // batch: submits
  std::optional<std::string> order, oper; // configure

  body to_body() const {
    if (op == "submit")
      return lb::e2e::submit(board, player, score, subscore, meta);
    if (op == "batch") {
      std::vector<body> b;
      for (auto& i : items)
        b.push_back(submit_item(i.board, i.player, i.score, i.subscore, i.meta));
      return lb::e2e::batch(b);
    }
    if (op == "rank")
      return lb::e2e::rank(board, player, exact);
    if (op == "top")
      return lb::e2e::top(board, limit, offset);
    if (op == "around")
      return lb::e2e::around(board, player, radius);
    if (op == "ranks")
      return lb::e2e::ranks(board, players);
    if (op == "remove")
      return lb::e2e::remove(board, player);
    if (op == "reset")
      return lb::e2e::reset(board);
    if (op == "configure")
      return lb::e2e::configure(board, order, oper);
    return body{op}; // boards, stats, ping
  }
};

request submit_req(std::string board, std::string player, int64_t score,
                   std::optional<int64_t> sub = std::nullopt,
                   std::optional<meta_v> meta = std::nullopt) {
  request r;
  r.op = "submit";
  r.board = std::move(board);
  r.player = std::move(player);
  r.score = score;
  r.subscore = sub;
  r.meta = std::move(meta);
  return r;
}

request simple_req(std::string op, std::string board, std::string player = "") {
  request r;
  r.op = std::move(op);
  r.board = std::move(board);
  r.player = std::move(player);
  return r;
}

request configure_req(std::string board, std::optional<std::string> order,
                      std::optional<std::string> oper) {
  request r = simple_req("configure", std::move(board));
  r.order = std::move(order);
  r.oper = std::move(oper);
  return r;
}

// ===========================================================================
// Events as the service acknowledged them.

struct event {
  uint64_t seq = 0;
  request req; // a submit, remove, reset or configure
  // What the reply said: submit score/subscore/changed/new, remove and reset
  // `removed` (0/1 for remove).
  int64_t score = 0, subscore = 0;
  bool changed = false, was_new = false;
  uint64_t removed = 0;
  std::string origin; // who sent it, for messages
};

// ===========================================================================
// The reference model: PROTOCOL.md section 3 "Ordering and ties" and
// "Operators", written from the text with std::map and sorting.

int64_t sat_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    return b > 0 ? i64_max : i64_min;
  return r;
}

int64_t sat_sub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r))
    return b < 0 ? i64_max : i64_min;
  return r;
}

struct model_entry {
  int64_t score = 0, subscore = 0;
  uint64_t seq = 0; // when the entry reached (score, subscore)
  std::optional<meta_v> meta;
};

struct model_board {
  std::string order = "desc";
  std::string oper = "best";
  std::map<std::string, model_entry> entries;

  // Strictly better value (score, then subscore) under the board's order.
  bool better(int64_t s1, int64_t sub1, int64_t s2, int64_t sub2) const {
    auto a = std::make_pair(s1, sub1), b = std::make_pair(s2, sub2);
    return order == "asc" ? a < b : a > b;
  }
  bool before(const model_entry& a, const model_entry& b) const {
    if (better(a.score, a.subscore, b.score, b.subscore))
      return true;
    if (better(b.score, b.subscore, a.score, a.subscore))
      return false;
    return a.seq < b.seq; // first to reach the value ranks better
  }
  std::vector<entry> ranked() const {
    std::vector<std::pair<std::string, model_entry>> v(entries.begin(), entries.end());
    std::sort(v.begin(), v.end(),
              [this](const auto& a, const auto& b) { return before(a.second, b.second); });
    std::vector<entry> out;
    for (auto& [player, e] : v)
      out.push_back(entry{out.size() + 1, player, e.score, e.subscore, e.meta});
    return out;
  }
};

struct submit_outcome {
  int64_t score = 0, subscore = 0;
  bool changed = false, was_new = false;
};

struct model {
  std::map<std::string, model_board> boards;

  void configure(const request& r) {
    auto& b = boards[r.board];
    if (r.order)
      b.order = *r.order;
    if (r.oper)
      b.oper = *r.oper;
  }

  submit_outcome submit(const request& r, uint64_t seq) {
    auto& b = boards[r.board]; // first submit creates it: desc, best
    int64_t sub = r.subscore.value_or(0);
    auto it = b.entries.find(r.player);
    if (it == b.entries.end()) {
      int64_t s = r.score; // incr / decr start from 0
      if (b.oper == "incr")
        s = sat_add(0, r.score);
      else if (b.oper == "decr")
        s = sat_sub(0, r.score);
      b.entries[r.player] = model_entry{s, sub, seq, r.meta};
      return {s, sub, true, true};
    }
    auto& e = it->second;
    int64_t s = r.score;
    if (b.oper == "incr")
      s = sat_add(e.score, r.score);
    else if (b.oper == "decr")
      s = sat_sub(e.score, r.score);
    bool value_changed = b.oper == "best"
                           ? b.better(s, sub, e.score, e.subscore)
                           : std::make_pair(s, sub) != std::make_pair(e.score, e.subscore);
    // `best`: a worse or equal submission changes nothing, meta included.
    bool meta_changed = b.oper != "best" && r.meta && r.meta != e.meta;
    if (!value_changed && !meta_changed)
      return {e.score, e.subscore, false, false};
    if (value_changed) {
      e.score = s;
      e.subscore = sub;
      e.seq = seq;
    }
    if (r.meta) // a submit without meta keeps the stored one
      e.meta = r.meta;
    return {e.score, e.subscore, true, false};
  }

  bool remove(const request& r) {
    auto b = boards.find(r.board);
    return b != boards.end() && b->second.entries.erase(r.player) > 0;
  }

  uint64_t reset(const request& r) {
    auto b = boards.find(r.board);
    if (b == boards.end())
      return 0;
    auto n = b->second.entries.size();
    b->second.entries.clear(); // the configuration stays
    return n;
  }
};

std::string describe(const request& r) {
  std::string s = r.op + " " + r.board;
  if (!r.player.empty())
    s += "/" + r.player;
  if (r.op == "submit")
    s += " score " + std::to_string(r.score)
         + (r.subscore ? " sub " + std::to_string(*r.subscore) : "") + (r.meta ? " meta" : "");
  return s;
}

// Replays `events` in seq order through `m` and returns every disagreement
// between a reply and the model, plus duplicate seqs.
std::vector<std::string> replay(std::vector<event> events, model& m) {
  std::sort(events.begin(), events.end(),
            [](const event& a, const event& b) { return a.seq < b.seq; });
  std::vector<std::string> bad;
  for (size_t i = 0; i < events.size(); ++i) {
    auto& ev = events[i];
    auto at = "seq " + std::to_string(ev.seq) + " (" + describe(ev.req) + ", " + ev.origin + "): ";
    if (i > 0 && events[i - 1].seq == ev.seq)
      bad.push_back(at + "a seq given to two events");
    if (ev.req.op == "submit") {
      auto want = m.submit(ev.req, ev.seq);
      if (want.score != ev.score || want.subscore != ev.subscore || want.changed != ev.changed
          || want.was_new != ev.was_new)
        bad.push_back(at + "expected score " + std::to_string(want.score) + " sub "
                      + std::to_string(want.subscore) + " changed " + std::to_string(want.changed)
                      + " new " + std::to_string(want.was_new) + ", got score "
                      + std::to_string(ev.score) + " sub " + std::to_string(ev.subscore)
                      + " changed " + std::to_string(ev.changed) + " new "
                      + std::to_string(ev.was_new));
    } else if (ev.req.op == "remove") {
      auto want = m.remove(ev.req);
      if (want != (ev.removed != 0))
        bad.push_back(at + "expected removed " + std::to_string(want));
    } else if (ev.req.op == "reset") {
      auto want = m.reset(ev.req);
      if (want != ev.removed)
        bad.push_back(at + "expected removed " + std::to_string(want) + ", got "
                      + std::to_string(ev.removed));
    } else if (ev.req.op == "configure") {
      m.configure(ev.req);
    }
  }
  return bad;
}

// ===========================================================================
// Checking replies without the model: shape and invariants that hold at any
// moment, whatever the merge timing.

// Collects problems from worker threads (doctest asserts stay on the main
// thread); keeps the first few of each client's messages.
struct client_log {
  std::vector<event> events;
  std::vector<std::string> failures;
  size_t failure_count = 0;
  size_t replies = 0;
  // `ranks` replies whose entries come from different states; counted apart
  // so that they do not hide other failures (see the test "top, around and
  // ranks read one merged view").
  std::string mixed_view_sample;
  size_t mixed_view_count = 0;

  void fail(std::string what) {
    if (failures.size() < 10)
      failures.push_back(std::move(what));
    ++failure_count;
  }
};

struct mixed_view_error : reply_error {
  using reply_error::reply_error;
};

// Records the exception of a failed check.
void record(client_log& log, const std::string& where, const std::exception& e) {
  if (dynamic_cast<const mixed_view_error*>(&e) != nullptr) {
    if (log.mixed_view_count++ == 0)
      log.mixed_view_sample = where + ": " + e.what();
    return;
  }
  log.fail(where + ": " + e.what());
}

const std::set<std::string> submit_keys = {"board",     "player",  "score", "subscore", "rank",
                                           "prev_rank", "changed", "total", "seq"};
const std::set<std::string> entry_keys = {"rank", "player", "score", "subscore", "meta"};

std::set<std::string> with(std::set<std::string> keys, std::initializer_list<const char*> more) {
  keys.insert(more.begin(), more.end());
  return keys;
}

// The order of every board the load touches: true for asc.
using board_orders = std::map<std::string, bool>;

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
  log.events.push_back(ev);
  auto rank = at(o, "rank").as<uint64_t>(), total = at(o, "total").as<uint64_t>();
  if (at(o, "board").as<std::string>() != r.board || at(o, "player").as<std::string>() != r.player)
    throw reply_error("board or player not echoed");
  if (rank < 1 || rank > total)
    throw reply_error("rank " + std::to_string(rank) + " outside 1..total "
                      + std::to_string(total));
}

// Entries of `top` / `around`: consecutive ranks from `first_rank`, each no
// better than the one before it.
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

// Checks one reply of the mixed loads and records the events it acknowledges.
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

// ===========================================================================
// Running many clients.

// Sends `count` requests from next() through one DEALER with at most `depth`
// in flight, checking each reply; replies are matched by id, whatever their
// order.
void run_client(zmq::context_t& ctx, const std::string& endpoint, size_t count, size_t depth,
                const std::function<request()>& next, const board_orders& orders,
                const std::string& name, client_log& log) {
  try {
    client c(ctx, endpoint);
    std::map<uint64_t, request> pending;
    size_t sent = 0;
    while (sent < count || !pending.empty()) {
      while (sent < count && pending.size() < depth) {
        auto r = next();
        pending.emplace(c.send(r.to_body()), std::move(r));
        ++sent;
      }
      auto rep = c.receive(patience(30s));
      if (!rep) {
        log.fail(name + ": no reply within 30 s, " + std::to_string(pending.size()) + " pending");
        return;
      }
      auto id = rep->id();
      auto it = id ? pending.find(*id) : pending.end();
      if (it == pending.end()) {
        log.fail(name + ": reply with an unknown id: " + rep->text());
        continue;
      }
      ++log.replies;
      auto origin = name + " id " + std::to_string(*id);
      try {
        check_reply(it->second, *rep, orders, origin, log);
      } catch (const std::exception& e) {
        record(log, origin + " (" + describe(it->second) + ")", e);
      }
      pending.erase(it);
    }
  } catch (const std::exception& e) {
    log.fail(name + ": " + e.what());
  }
}

// One request and its check, on a client the caller keeps.
void call_checked(client& c, const request& r, const board_orders& orders, const std::string& name,
                  client_log& log) {
  try {
    auto rep = c.call(r.to_body(), patience(30s));
    ++log.replies;
    check_reply(r, rep, orders, name, log);
  } catch (const std::exception& e) {
    record(log, name + " (" + describe(r) + ")", e);
  }
}

// Runs body(i, log) on n threads at once and returns their logs.
std::vector<client_log> run_threads(size_t n, const std::function<void(size_t, client_log&)>& fn) {
  std::vector<client_log> logs(n);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; ++i)
    threads.emplace_back([&, i] { fn(i, logs[i]); });
  for (auto& t : threads)
    t.join();
  return logs;
}

// Turns the workers' problems into doctest failures; returns every event.
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

// ===========================================================================
// Comparing the service's final state with the model (after settle()).

std::string show(const std::vector<entry>& es, size_t max = 12) {
  std::string s;
  for (size_t i = 0; i < es.size() && i < max; ++i)
    s += "\n  " + to_string(es[i]);
  if (es.size() > max)
    s += "\n  ... " + std::to_string(es.size()) + " in all";
  return s;
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

// ===========================================================================
// Generating load.

// Player names: mostly short, some multi-byte UTF-8, one of the longest allowed.
std::vector<std::string> player_pool(size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; out.size() + 4 < n; ++i)
    out.push_back("p" + std::to_string(i));
  out.push_back("jo\xc3\xabl");                              // joël
  out.push_back("\xd0\xb8\xd0\xb3\xd1\x80\xd0\xbe\xd0\xba"); // игрок
  out.push_back("\xe7\x8e\xa9\xe5\xae\xb6");                 // 玩家
  out.push_back(std::string(120, 'x') + "-longest");         // 128 bytes
  return out;
}

struct board_spec {
  std::string name;
  std::optional<std::string> order, oper; // as configured; nothing = default
};

// A random submit suited to the board's operator: small ranges so that ties
// and no-op submits are common; rare extremes to exercise saturation.
request random_submit(std::mt19937_64& rng, const board_spec& b,
                      const std::vector<std::string>& players, const std::string& tag) {
  auto pick = [&](int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1));
  };
  const auto& oper = b.oper.value_or("best");
  int64_t score;
  if (oper == "incr" || oper == "decr") {
    score = pick(0, 99) < 5 ? (pick(0, 1) ? 1 : -1) * (i64_max / 3) * pick(1, 3) : pick(-3, 8);
  } else {
    auto roll = pick(0, 99);
    score = roll == 0 ? i64_max : roll == 1 ? i64_min : pick(-30, 30);
  }
  std::optional<int64_t> sub;
  if (pick(0, 9) < 6)
    sub = pick(-1, 3);
  std::optional<meta_v> meta;
  auto m = pick(0, 99);
  if (m < 25)
    meta = meta_v{tag, false};
  else if (m < 35) {
    std::string bytes(static_cast<size_t>(pick(0, 24)), '\0');
    for (auto& ch : bytes)
      ch = static_cast<char>(rng());
    meta = meta_v{bytes, true};
  } else if (m < 38) {
    meta = meta_v{std::string(256, 'm'), false}; // the largest allowed
  }
  return submit_req(b.name, players[rng() % players.size()], score, sub, meta);
}

// The mixed load of test 2: events and reads over every board.
request random_request(std::mt19937_64& rng, const std::vector<board_spec>& bs,
                       const std::vector<std::string>& players, const std::string& tag) {
  auto& b = bs[rng() % bs.size()];
  auto player = [&] { return players[rng() % players.size()]; };
  auto roll = rng() % 100;
  if (roll < 50)
    return random_submit(rng, b, players, tag);
  if (roll < 56) {
    request r;
    r.op = "batch";
    auto n = 1 + rng() % 6;
    for (size_t i = 0; i < n; ++i)
      r.items.push_back(random_submit(rng, bs[rng() % bs.size()], players, tag));
    return r;
  }
  if (roll < 64)
    return simple_req("remove", b.name, player());
  if (roll < 74) {
    auto r = simple_req("rank", b.name, player());
    r.exact = roll % 3 == 0;
    return r;
  }
  if (roll < 84) {
    auto r = simple_req("top", b.name);
    r.limit = static_cast<uint32_t>(1 + rng() % 30);
    r.offset = rng() % 40;
    return r;
  }
  if (roll < 92) {
    auto r = simple_req("around", b.name, player());
    r.radius = static_cast<uint32_t>(rng() % 6);
    return r;
  }
  auto r = simple_req("ranks", b.name);
  for (size_t n = 1 + rng() % 12; n > 0; --n)
    r.players.push_back(player());
  return r;
}

board_orders orders_of(const std::vector<board_spec>& bs) {
  board_orders o;
  for (auto& b : bs)
    o[b.name] = b.order == std::string("asc");
  return o;
}

// Configures every board (recording the events) and waits for the merge,
// so that reads during the load find every board.
void configure_all(server& s, const std::vector<board_spec>& bs, std::vector<event>& events) {
  client c(s.ctx(), s.requests());
  for (auto& b : bs) {
    auto req = configure_req(b.name, b.order, b.oper);
    auto r = c.call(req.to_body());
    REQUIRE_MESSAGE(r.ok(), r.text());
    CHECK(r.str("order") == b.order.value_or("desc"));
    CHECK(r.str("operator") == b.oper.value_or("best"));
    event ev;
    ev.req = req;
    ev.seq = r.u64("seq");
    ev.origin = "setup";
    events.push_back(ev);
  }
  s.settle();
}

uint64_t stats_seq(client& c) {
  return c.call(stats()).u64("seq");
}
std::string digest(client& c) {
  return c.call(stats()).str("digest");
}

} // namespace

// ===========================================================================
// 1. Smoke: every op once, exact keys and values.

TEST_CASE("smoke: every op once, with the reply keys of PROTOCOL.md") {
  server s;
  client c(s.ctx(), s.requests());
  const auto ok_id = std::set<std::string>{"ok", "id"};
  auto keys = [&](std::initializer_list<const char*> k) { return with(ok_id, k); };

  auto r = c.call(ping());
  CHECK(r.keys() == keys({"pong"}));
  CHECK(r.flag("pong"));

  r = c.call(configure("smoke", "desc", "best"));
  REQUIRE(r.ok());
  CHECK(r.keys() == keys({"board", "order", "operator", "seq"}));
  CHECK(r.str("board") == "smoke");
  uint64_t last_seq = r.u64("seq");
  auto next_seq = [&](const reply& x) {
    auto seq = x.u64("seq");
    CHECK(seq > last_seq);
    last_seq = seq;
  };

  r = c.call(submit("smoke", "alice", 100, 5, meta_v{"m1", false}));
  REQUIRE(r.ok());
  CHECK(r.keys() == with(submit_keys, {"ok", "id"}));
  CHECK(r.i64("score") == 100);
  CHECK(r.i64("subscore") == 5);
  CHECK(r.u64("rank") == 1);
  CHECK(r.is_nil("prev_rank"));
  CHECK(r.flag("changed"));
  CHECK(r.u64("total") == 1);
  next_seq(r);
  s.settle();

  r = c.call(submit("smoke", "bob", 50, std::nullopt, meta_v{std::string("\x00\xff", 2), true}));
  CHECK(r.u64("rank") == 2);
  CHECK(r.u64("total") == 2);
  CHECK(r.i64("subscore") == 0); // the default
  next_seq(r);
  s.settle();

  // best: a worse submission changes nothing, still gets a seq.
  r = c.call(submit("smoke", "alice", 90, 9, meta_v{"ignored", false}));
  CHECK_FALSE(r.flag("changed"));
  CHECK(r.i64("score") == 100);
  CHECK(r.i64("subscore") == 5);
  CHECK(r.u64("prev_rank") == 1);
  CHECK(r.u64("rank") == 1);
  next_seq(r);

  r = c.call(batch({submit_item("smoke", "carol", 70),
                    body().set("board", "smoke").set("player", "dave").set("score", "x"),
                    submit_item("smoke", "alice", 200)}));
  REQUIRE(r.ok());
  CHECK(r.keys() == keys({"results"}));
  auto& res = r.at("results");
  REQUIRE(res.via.array.size == 3);
  CHECK(keys_of(res.via.array.ptr[0]) == with(submit_keys, {"ok"}));
  CHECK(keys_of(res.via.array.ptr[1]) == std::set<std::string>{"ok", "error"});
  CHECK(at(at(res.via.array.ptr[1], "error"), "code").as<std::string>() == "bad_request");
  CHECK(keys_of(at(res.via.array.ptr[1], "error")) == std::set<std::string>{"code", "message"});
  CHECK(at(res.via.array.ptr[2], "changed").as<bool>());
  CHECK(at(res.via.array.ptr[2], "score").as<int64_t>() == 200);
  CHECK(at(res.via.array.ptr[2], "seq").as<uint64_t>()
        > at(res.via.array.ptr[0], "seq").as<uint64_t>());
  last_seq = at(res.via.array.ptr[2], "seq").as<uint64_t>();
  s.settle();

  // alice 200/0 (meta m1 kept), carol 70, bob 50.
  r = c.call(rank("smoke", "bob"));
  CHECK(r.keys() == keys({"board", "player", "score", "subscore", "meta", "rank", "total"}));
  CHECK(r.u64("rank") == 3);
  CHECK(r.u64("total") == 3);
  CHECK(meta_of(r.at("meta")) == meta_v{std::string("\x00\xff", 2), true});
  r = c.call(rank("smoke", "alice", true));
  CHECK(r.u64("rank") == 1);
  CHECK(r.i64("subscore") == 0);
  CHECK(meta_of(r.at("meta")) == meta_v{"m1", false}); // kept: the submit had no meta

  r = c.call(top("smoke", 2, 1));
  CHECK(r.keys() == keys({"board", "total", "entries"}));
  CHECK(r.u64("total") == 3);
  auto es = r.entries();
  REQUIRE(es.size() == 2);
  CHECK(keys_of(r.at("entries").via.array.ptr[0]) == entry_keys);
  CHECK(es[0] == entry{2, "carol", 70, 0, std::nullopt});
  CHECK(es[1].player == "bob");
  CHECK(es[1].rank == 3);

  r = c.call(around("smoke", "carol", 1));
  CHECK(r.keys() == keys({"board", "total", "entries"}));
  es = r.entries();
  REQUIRE(es.size() == 3);
  CHECK(es[0].player == "alice");
  CHECK(es[1].player == "carol");
  CHECK(es[2].player == "bob");

  r = c.call(ranks("smoke", {"bob", "nobody", "alice"}));
  CHECK(r.keys() == keys({"board", "total", "entries"}));
  es = r.entries();
  REQUIRE(es.size() == 2);
  CHECK(es[0].player == "alice");
  CHECK(es[0].rank == 1);
  CHECK(es[1].player == "bob");
  CHECK(es[1].rank == 3);

  r = c.call(remove("smoke", "bob"));
  CHECK(r.keys() == keys({"removed", "seq"}));
  CHECK(r.flag("removed"));
  next_seq(r);
  r = c.call(remove("smoke", "bob"));
  CHECK_FALSE(r.flag("removed"));
  next_seq(r);
  r = c.call(remove("no-such-board", "bob"));
  CHECK_FALSE(r.flag("removed"));

  r = c.call(configure("smoke", "asc", std::nullopt));
  CHECK(r.keys() == keys({"error"}));
  CHECK(r.error_code() == "conflict");

  r = c.call(reset("smoke"));
  CHECK(r.keys() == keys({"removed", "seq"}));
  CHECK(r.u64("removed") == 2);
  next_seq(r);
  r = c.call(reset("never-seen"));
  CHECK(r.u64("removed") == 0);

  // Configure keeps what is not given; allowed again on the empty board.
  r = c.call(configure("smoke", std::nullopt, "set"));
  REQUIRE(r.ok());
  CHECK(r.str("order") == "desc");
  CHECK(r.str("operator") == "set");
  r = c.call(submit("auto", "x", 1)); // a board created by its first submit
  REQUIRE(r.ok());
  s.settle();

  r = c.call(boards());
  CHECK(r.keys() == keys({"boards"}));
  std::map<std::string, std::string> listed;
  auto& bl = r.at("boards");
  for (uint32_t i = 0; i < bl.via.array.size; ++i) {
    auto& b = bl.via.array.ptr[i];
    CHECK(keys_of(b) == std::set<std::string>{"board", "total", "order", "operator"});
    listed[at(b, "board").as<std::string>()] = std::to_string(at(b, "total").as<uint64_t>()) + " "
                                               + at(b, "order").as<std::string>() + " "
                                               + at(b, "operator").as<std::string>();
  }
  CHECK(listed
        == std::map<std::string, std::string>{{"smoke", "0 desc set"}, {"auto", "1 desc best"}});

  r = c.call(stats());
  auto sk = r.keys();
  for (auto k : {"ok", "id", "seq", "shards", "merge", "digest"})
    CHECK_MESSAGE(sk.count(k), "stats has no " << k);
  CHECK(r.u64("seq") > last_seq);
  CHECK(r.at("shards").via.array.size == s.options().shards);
  CHECK(keys_of(r.at("shards").via.array.ptr[0])
        == std::set<std::string>{"shard", "entries", "mailbox"});
  CHECK(keys_of(r.at("merge")) == std::set<std::string>{"interval_ms", "last_merge_seq", "age_ms"});
  CHECK(at(r.at("merge"), "interval_ms").as<uint64_t>() == s.options().merge_interval_ms);
  CHECK_FALSE(r.str("digest").empty());
  // The first view the service waited for at start came from a timer tick.
  REQUIRE(sk.count("merges"));
  CHECK(keys_of(r.at("merges")) == std::set<std::string>{"count", "last_us", "max_us"});
  CHECK(at(r.at("merges"), "count").as<uint64_t>() >= 1);
  CHECK(at(r.at("merges"), "max_us").as<uint64_t>()
        >= at(r.at("merges"), "last_us").as<uint64_t>());

  // Failures: not_found for unknown boards and players, unknown_op.
  for (auto& b : {top("nope"), rank("nope", "x"), around("nope", "x"), ranks("nope", {"x"}),
                  rank("auto", "ghost"), around("auto", "ghost")}) {
    r = c.call(b);
    CHECK(r.keys() == keys({"error"}));
    CHECK(r.error_code() == "not_found");
    CHECK(r.at("error").via.map.size == 2);
  }
  r = c.call(body{"frobnicate"});
  CHECK(r.error_code() == "unknown_op");

  // Section 2: unknown keys are ignored; a nil optional key is absent.
  r = c.call(submit("auto", "y", 5, 3, meta_v{"keep", false}).set("future_key", 1));
  REQUIRE(r.ok());
  r = c.call(body{"submit"}
               .set("board", "auto")
               .set("player", "y")
               .set("score", 6)
               .set("subscore", nil{})
               .set("meta", nil{}));
  REQUIRE(r.ok());
  CHECK(r.i64("subscore") == 0);
  s.settle();
  r = c.call(rank("auto", "y"));
  CHECK(meta_of(r.at("meta")) == meta_v{"keep", false});
  CHECK(r.i64("score") == 6);
  c.send_raw(ping().set("id", nil{}).pack());
  auto pong = c.receive(patience(10s));
  REQUIRE(pong);
  CHECK_FALSE(pong->has("id"));
  // Past the end: an empty page, not an error.
  r = c.call(top("auto", 10, 1000));
  REQUIRE(r.ok());
  CHECK(r.entries().empty());
  CHECK(r.u64("total") == 2);
}

TEST_CASE("exact rank sees every acknowledged event, with no merge yet") {
  // A merge interval of a minute: after start-up, nothing merges.
  server s{make_server_options(7, 60000)};
  client c(s.ctx(), s.requests());
  for (int i = 0; i < 40; ++i)
    REQUIRE(c.call(submit("exact", "e" + std::to_string(i), i % 10)).ok());
  // desc: higher first; equal scores by seq (submission order).
  for (int i = 0; i < 40; ++i) {
    auto r = c.call(rank("exact", "e" + std::to_string(i), true));
    REQUIRE(r.ok());
    uint64_t better = 0;
    for (int j = 0; j < 40; ++j)
      better += j % 10 > i % 10 || (j % 10 == i % 10 && j < i);
    CHECK(r.u64("rank") == better + 1);
    CHECK(r.u64("total") == 40);
  }
}

TEST_CASE("smoke: REQ clients, envelopes and ids") {
  server s;
  SUBCASE("a REQ socket gets its reply") {
    zmq::socket_t req(s.ctx(), zmq::socket_type::req);
    req.set(zmq::sockopt::linger, 0);
    req.set(zmq::sockopt::rcvtimeo, static_cast<int>(patience(10s).count()));
    req.connect(s.requests());
    for (uint64_t id : {7u, 8u}) {
      auto frame = ping().id(id).pack();
      req.send(zmq::buffer(frame), zmq::send_flags::none);
      zmq::message_t m;
      REQUIRE(req.recv(m));
      CHECK_FALSE(m.more());
      auto r = reply::decode(m.to_string());
      REQUIRE(r);
      CHECK(r->flag("pong"));
      CHECK(r->id() == id);
    }
  }
  SUBCASE("a DEALER's envelope frames come back as sent") {
    zmq::socket_t d(s.ctx(), zmq::socket_type::dealer);
    d.set(zmq::sockopt::linger, 0);
    d.set(zmq::sockopt::rcvtimeo, static_cast<int>(patience(10s).count()));
    d.connect(s.requests());
    auto send3 = [&](const std::string& body_frame) {
      d.send(zmq::str_buffer("route-a"), zmq::send_flags::sndmore);
      d.send(zmq::str_buffer(""), zmq::send_flags::sndmore);
      d.send(zmq::buffer(body_frame), zmq::send_flags::none);
    };
    auto recv_all = [&] {
      std::vector<std::string> frames;
      zmq::message_t m;
      do {
        REQUIRE(d.recv(m));
        frames.push_back(m.to_string());
      } while (m.more());
      return frames;
    };
    send3(ping().id(1).pack());
    auto f = recv_all();
    REQUIRE(f.size() == 3);
    CHECK(f[0] == "route-a");
    CHECK(f[1] == "");
    CHECK(reply::decode(f[2])->flag("pong"));
    // An event goes through the actors, not the I/O thread: same envelope.
    send3(submit("env", "p", 1).id(2).pack());
    f = recv_all();
    REQUIRE(f.size() == 3);
    CHECK(f[0] == "route-a");
    CHECK(reply::decode(f[2])->id() == 2u);
    // An empty last frame is an empty body.
    send3("");
    f = recv_all();
    REQUIRE(f.size() == 3);
    CHECK(f[0] == "route-a");
    CHECK(reply::decode(f[2])->error_code() == "bad_request");
  }
  SUBCASE("ids are echoed whatever their width, and absent when not sent") {
    client c(s.ctx(), s.requests());
    for (uint64_t id :
         {uint64_t{0}, uint64_t{255}, uint64_t{1} << 32, std::numeric_limits<uint64_t>::max()}) {
      c.send_raw(ping().id(id).pack());
      auto r = c.receive(patience(10s));
      REQUIRE(r);
      CHECK(r->id() == id);
    }
    c.send_raw(ping().pack());
    auto r = c.receive(patience(10s));
    REQUIRE(r);
    CHECK(r->keys() == std::set<std::string>{"ok", "pong"});
    c.send_raw(body{"nope"}.id(77).pack()); // errors echo it too
    r = c.receive(patience(10s));
    REQUIRE(r);
    CHECK(r->id() == 77u);
    CHECK(r->error_code() == "unknown_op");
  }
  SUBCASE("a batch of 1000 items answers each, in order") {
    client c(s.ctx(), s.requests());
    std::vector<body> items;
    for (int i = 0; i < 1000; ++i)
      items.push_back(i % 100 == 99 ? submit_item("big", "", i) // empty name: fails alone
                                    : submit_item("big", "b" + std::to_string(i), i));
    auto r = c.call(lb::e2e::batch(items));
    REQUIRE(r.ok());
    auto& res = r.at("results");
    REQUIRE(res.via.array.size == 1000);
    size_t wrong = 0;
    for (uint32_t i = 0; i < 1000; ++i) {
      auto& x = res.via.array.ptr[i];
      bool good = i % 100 == 99 ? !at(x, "ok").as<bool>()
                                : at(x, "ok").as<bool>()
                                    && at(x, "player").as<std::string>() == "b" + std::to_string(i);
      wrong += !good;
    }
    CHECK(wrong == 0);
    s.settle();
    CHECK(c.call(top("big")).u64("total") == 990);
  }
  SUBCASE("a pipelined DEALER gets every reply, matched by id") {
    client c(s.ctx(), s.requests());
    // Reads, writes and stats go to different actors, so replies may overtake
    // each other; each must still answer its own request.
    std::map<uint64_t, std::string> sent; // id -> the player or op it names
    size_t n = scaled(600);
    for (size_t i = 0; i < n; ++i) {
      auto p = "p" + std::to_string(i % 50);
      switch (i % 4) {
        case 0:
          sent[c.send(submit("pipe", p, static_cast<int64_t>(i)))] = p;
          break;
        case 1:
          sent[c.send(rank("pipe", p))] = p;
          break;
        case 2:
          sent[c.send(ping())] = "ping";
          break;
        default:
          sent[c.send(stats())] = "stats";
          break;
      }
    }
    std::set<uint64_t> seen;
    size_t mismatched = 0;
    for (size_t i = 0; i < n; ++i) {
      auto r = c.receive(patience(10s));
      REQUIRE_MESSAGE(r, "only " << i << " of " << n << " replies");
      auto id = r->id();
      REQUIRE(id);
      REQUIRE(sent.count(*id));
      CHECK(seen.insert(*id).second);
      auto& what = sent[*id];
      bool match = what == "ping" ? r->has("pong")
                   : what == "stats"
                     ? r->has("digest")
                     : (r->ok() ? r->str("player") == what : r->error_code() == "not_found");
      mismatched += !match;
    }
    CHECK(seen.size() == n);
    CHECK(mismatched == 0);
  }
}

// ===========================================================================
// 2. Many concurrent clients, every operator, checked against the model.

TEST_CASE("64 pipelining clients on every operator agree with the model") {
  server s{make_server_options(3, 20)};
  const std::vector<board_spec> bs = {{"mix.desc.best", "desc", "best"},
                                      {"mix.asc.best", "asc", "best"},
                                      {"mix.desc.set", "desc", "set"},
                                      {"mix.asc.set", "asc", "set"},
                                      {"mix.desc.incr", "desc", "incr"},
                                      {"mix.asc.decr", "asc", "decr"},
                                      {"mix.defaults", std::nullopt, std::nullopt}};
  const auto players = player_pool(40);
  const auto orders = orders_of(bs);
  std::vector<event> events;
  configure_all(s, bs, events);

  const size_t clients = 64, per_client = scaled(1500);
  auto logs = run_threads(clients, [&](size_t i, client_log& log) {
    std::mt19937_64 rng{1000 + i};
    size_t n = 0;
    auto next = [&] {
      return random_request(rng, bs, players, "c" + std::to_string(i) + "-" + std::to_string(n++));
    };
    run_client(s.ctx(), s.requests(), per_client, 8 + i % 9, next, orders,
               "client " + std::to_string(i), log);
  });
  auto acked = gather(logs, clients * per_client);
  events.insert(events.end(), acked.begin(), acked.end());

  model m;
  check_replay(events, m);
  s.settle();
  client c(s.ctx(), s.requests());
  check_final_state(c, m, players);
  uint64_t max_seq = 0;
  for (auto& e : events)
    max_seq = std::max(max_seq, e.seq);
  CHECK(stats_seq(c) == max_seq);
}

// ===========================================================================
// 3. Ties: equal values rank by who reached them first.

TEST_CASE("ties are broken by the seq at which the value was reached") {
  server s{make_server_options(4, 20)};
  const std::vector<board_spec> bs
    = {{"ties.best", "desc", "best"}, {"ties.asc", "asc", "best"}, {"ties.set", "desc", "set"}};
  std::vector<event> events;
  configure_all(s, bs, events);
  const auto players = player_pool(60);

  // Eight clients race to give every player the same value, in random order.
  // On ties.best some players first get a lower value (90), and every tenth
  // gets a better (8) or worse (6) subscore; ties.asc is the same race on an
  // asc board. On ties.set half the clients set 10 and half 20 for each
  // player, so the value flips and the last change to it is what counts.
  const size_t clients = 8;
  auto logs = run_threads(clients, [&](size_t i, client_log& log) {
    std::mt19937_64 rng{7 + i};
    std::vector<request> plan;
    for (size_t p = 0; p < players.size(); ++p) {
      auto& name = players[p];
      int64_t sub = p % 10 == 0 ? 8 : p % 10 == 1 ? 6 : 7;
      if (i == p % clients)
        plan.push_back(submit_req("ties.best", name, 90, 7));
      plan.push_back(submit_req("ties.best", name, 100, sub));
      plan.push_back(submit_req("ties.asc", name, -5, sub));
      plan.push_back(submit_req("ties.set", name, 10 + 10 * static_cast<int64_t>((i + p) % 2)));
    }
    std::shuffle(plan.begin(), plan.end(), rng);
    size_t k = 0;
    run_client(
      s.ctx(), s.requests(), plan.size(), 12, [&] { return plan[k++]; }, orders_of(bs),
      "client " + std::to_string(i), log);
  });
  size_t expected = 0;
  for (size_t i = 0; i < clients; ++i)
    for (size_t p = 0; p < players.size(); ++p)
      expected += 3 + (i == p % clients);
  auto acked = gather(logs, expected);
  events.insert(events.end(), acked.begin(), acked.end());

  // Without the model: on ties.best exactly one submit per player reached its
  // final value, and the order among equal values is the order of those seqs.
  std::map<std::string, uint64_t> reached;
  std::map<std::string, int64_t> final_sub;
  for (auto& e : events)
    if (e.req.board == "ties.best" && e.changed && e.score == 100) {
      CHECK_MESSAGE(!reached.count(e.req.player), e.req.player << " changed twice at 100");
      reached[e.req.player] = e.seq;
      final_sub[e.req.player] = e.subscore;
    }
  CHECK(reached.size() == players.size());
  std::vector<std::string> want(players);
  std::sort(want.begin(), want.end(), [&](const std::string& a, const std::string& b) {
    if (final_sub[a] != final_sub[b])
      return final_sub[a] > final_sub[b];
    return reached[a] < reached[b];
  });
  s.settle();
  client c(s.ctx(), s.requests());
  auto got = read_board(c, "ties.best", 1000);
  std::vector<std::string> got_names;
  for (auto& e : got)
    got_names.push_back(e.player);
  CHECK(got_names == want);

  model m;
  check_replay(events, m);
  check_final_state(c, m, players);
}

// ===========================================================================
// 3b. PROTOCOL.md: "top, around and ranks read the same merged view".

TEST_CASE("top, around and ranks read one merged view") {
  // With a merge interval of a minute, the view changes only when `stats`
  // asks for a cut: the test decides what the merged view holds.
  server s{make_server_options(7, 60000)};
  client c(s.ctx(), s.requests());
  REQUIRE(c.call(configure("friends", "desc", "set")).ok());
  std::vector<std::string> players;
  for (int i = 0; i < 20; ++i) {
    players.push_back("f" + std::to_string(i));
    REQUIRE(c.call(submit("friends", players.back(), 100 + i)).ok());
  }
  REQUIRE(c.call(stats()).ok()); // its cut merges all 20
  // Reverse the order; no merge follows (the interval is a minute).
  for (int i = 0; i < 20; ++i)
    REQUIRE(c.call(submit("friends", players[static_cast<size_t>(i)], 100 - i)).ok());

  auto t = c.call(top("friends", 100));
  REQUIRE(t.ok());
  auto view = t.entries();
  REQUIRE(view.size() == 20);
  check_run(view, 1, false);

  // `ranks` of the whole board is `top` of the same view.
  auto r = c.call(ranks("friends", players));
  REQUIRE(r.ok());
  CHECK_MESSAGE(r.entries() == view,
                "ranks of every player:" << show(r.entries(), 20)
                                         << "\ntop of the merged view:" << show(view, 20));

  // `around` is a window of that same order.
  auto a = c.call(around("friends", "f10", 2));
  REQUIRE(a.ok());
  auto me = std::find_if(view.begin(), view.end(),
                         [](const entry& e) { return e.player == "f10"; });
  REQUIRE(me != view.end());
  auto pos = me - view.begin();
  std::vector<entry> window(view.begin() + std::max<long>(0, pos - 2),
                            view.begin() + std::min<long>(20, pos + 3));
  CHECK_MESSAGE(a.entries() == window,
                "around f10:" << show(a.entries()) << "\ntop of the merged view:" << show(window));
}

// ===========================================================================
// 4. Reset while others submit.

TEST_CASE("reset under load is one atomic event") {
  server s{make_server_options(3, 20)};
  const std::vector<board_spec> bs = {{"r.best", "desc", "best"}, {"r.incr", "asc", "incr"}};
  std::vector<event> events;
  configure_all(s, bs, events);
  const auto players = player_pool(30);
  const auto orders = orders_of(bs);

  const size_t submitters = 24, per_client = scaled(1000);
  std::atomic<size_t> running{submitters};
  auto logs = run_threads(submitters + 2, [&](size_t i, client_log& log) {
    std::mt19937_64 rng{300 + i};
    if (i < submitters) {
      auto next = [&] {
        return random_submit(rng, bs[rng() % 2], players, "s" + std::to_string(i));
      };
      run_client(s.ctx(), s.requests(), per_client, 8, next, orders,
                 "submitter " + std::to_string(i), log);
      --running;
      return;
    }
    // One client resets, one reads, both until the submitters are done.
    bool resetter = i == submitters;
    client c(s.ctx(), s.requests());
    size_t n = 0;
    while (running > 0 || n < 3) {
      request r;
      if (resetter) {
        r = simple_req("reset", n % 7 == 6 ? "r.none" : bs[n % 2].name);
      } else {
        r = simple_req(n % 2 ? "top" : "rank", bs[n % 2].name, players[n % players.size()]);
        r.limit = 100;
      }
      ++n;
      call_checked(c, r, orders, resetter ? "resetter" : "reader", log);
      std::this_thread::sleep_for(2ms);
    }
  });
  size_t expected = 0, resets = 0, resets_that_removed = 0;
  for (size_t i = 0; i < logs.size(); ++i)
    expected += i < submitters ? per_client : logs[i].replies; // the last two count their own
  auto acked = gather(logs, expected);
  for (auto& e : acked) {
    if (e.req.op != "reset")
      continue;
    ++resets;
    resets_that_removed += e.removed > 0;
    CHECK(e.removed <= players.size());
    if (e.req.board == "r.none")
      CHECK(e.removed == 0);
  }
  CHECK(resets >= 3);
  CHECK(resets_that_removed > 0); // some resets did land in the middle of the load
  events.insert(events.end(), acked.begin(), acked.end());

  model m;
  check_replay(events, m); // includes each reset's exact `removed`
  s.settle();
  client c(s.ctx(), s.requests());
  check_final_state(c, m, players);
}

// ===========================================================================
// 5. The seed scenario: 200 clients, 3 players.

TEST_CASE("200 concurrent clients writing the same 3 players") {
  server s{make_server_options(3, 20)};
  const std::vector<board_spec> bs = {{"seed.best", "desc", "best"}, {"seed.incr", "desc", "incr"}};
  std::vector<event> events;
  configure_all(s, bs, events);
  const std::vector<std::string> players = {"alpha", "beta", "gamma"};

  const size_t clients = 200, per_client = scaled(250);
  auto logs = run_threads(clients, [&](size_t i, client_log& log) {
    std::mt19937_64 rng{5000 + i};
    size_t n = 0;
    auto next = [&] {
      auto& p = players[rng() % 3];
      bool best = n++ % 2 == 0;
      return best ? submit_req("seed.best", p, static_cast<int64_t>(rng() % 1000000000),
                               static_cast<int64_t>(rng() % 10))
                  : submit_req("seed.incr", p, static_cast<int64_t>(1 + rng() % 1000));
    };
    run_client(s.ctx(), s.requests(), per_client, 4, next, orders_of(bs),
               "client " + std::to_string(i), log);
  });
  auto acked = gather(logs, clients * per_client);
  events.insert(events.end(), acked.begin(), acked.end());

  // The plain expectation, without the model: best = max, incr = sum.
  std::map<std::string, std::pair<int64_t, int64_t>> best;
  std::map<std::string, int64_t> sum;
  for (auto& e : acked) {
    auto& r = e.req;
    if (r.board == "seed.best")
      best[r.player] = std::max(best[r.player], std::make_pair(r.score, *r.subscore));
    else
      sum[r.player] += r.score;
  }
  s.settle();
  client c(s.ctx(), s.requests());
  for (auto& p : players) {
    auto r = c.call(rank("seed.best", p, true));
    REQUIRE(r.ok());
    CHECK(std::make_pair(r.i64("score"), r.i64("subscore")) == best[p]);
    r = c.call(rank("seed.incr", p, true));
    REQUIRE(r.ok());
    CHECK(r.i64("score") == sum[p]);
  }
  model m;
  check_replay(events, m);
  check_final_state(c, m, players);
}

// ===========================================================================
// 6. Ingest: fire-and-forget PUSH.

TEST_CASE("ingest applies good events and counts bad frames and items") {
  server s{make_server_options(3, 20)};
  const std::vector<board_spec> bs = {{"ing.set", "desc", "set"}, {"ing.incr", "asc", "incr"}};
  std::vector<event> events;
  configure_all(s, bs, events);
  client c(s.ctx(), s.requests());
  auto before = c.call(stats());
  const auto players = player_pool(25);

  // One PUSH socket: its frames arrive in order, so the model can replay the
  // events in send order (their seqs are not reported back).
  std::mt19937_64 rng{11};
  std::vector<request> good; // in send order
  uint64_t rejected = 0;
  {
    lb::transport::ingest_client push(s.ctx(), s.ingest());
    auto rand_submit = [&] { return random_submit(rng, bs[rng() % 2], players, "ingest"); };
    std::vector<std::string> bad_frames = {
      "",                                                     // empty
      std::string("\xc1", 1),                                 // never valid msgpack
      std::string("\x82\xa2op", 4),                           // truncated map
      std::string("\xdf\xff\xff\xff\xff", 5),                 // a map of 2^32-1 entries
      std::string("\x93\x01\x02\x03", 4),                     // not a map
      ping().pack(),                                          // not accepted on ingest
      rank("ing.set", "p1").pack(),                           // neither
      body{"nope"}.pack(),                                    // unknown op
      body{"submit"}.set("board", "ing.set").pack(),          // no player, no score
      submit("bad/board", "p1", 1).pack(),                    // bad name
      body{"batch"}.set("items", 5).pack(),                   // items not an array
      body{"batch"}.set("items", std::vector<body>{}).pack(), // empty batch
    };
    size_t rounds = scaled(50);
    for (size_t round = 0; round < rounds; ++round) {
      for (int k = 0; k < 4; ++k) {
        good.push_back(rand_submit());
        push.send(good.back().to_body().pack());
      }
      // A batch with some bad items; only those fail.
      std::vector<body> items;
      for (int k = 0; k < 6; ++k) {
        switch ((round + static_cast<size_t>(k)) % 5) {
          case 0:
            items.push_back(submit_item("bad board", "p1", 1));
            ++rejected;
            break;
          case 1:
            items.push_back(body().set("board", "ing.set").set("player", "p1").set("score", "1"));
            ++rejected;
            break;
          default: {
            good.push_back(rand_submit());
            auto& g = good.back();
            items.push_back(submit_item(g.board, g.player, g.score, g.subscore, g.meta));
          }
        }
      }
      push.send(lb::e2e::batch(items).pack());
      push.send(bad_frames[round % bad_frames.size()]);
      ++rejected;
    }
  } // closing the PUSH socket flushes it (linger)

  // Wait until the service has seen every frame.
  auto deadline = std::chrono::steady_clock::now() + patience(20s);
  uint64_t ev = 0, rej = 0;
  const uint64_t ev0 = before.u64("ingest_events"), rej0 = before.u64("ingest_rejected");
  while (std::chrono::steady_clock::now() < deadline) {
    auto st = c.call(stats());
    ev = st.u64("ingest_events") - ev0;
    rej = st.u64("ingest_rejected") - rej0;
    if (ev + rej >= good.size() + rejected)
      break;
    std::this_thread::sleep_for(20ms);
  }
  CHECK(ev == good.size());
  CHECK(rej == rejected);
  CHECK(stats_seq(c) == before.u64("seq") + good.size()); // one seq per event

  model m;
  CHECK(replay(events, m).empty()); // the configures
  uint64_t seq = before.u64("seq");
  for (auto& g : good)
    m.submit(g, ++seq);
  s.settle();
  check_final_state(c, m, players);
}

// ===========================================================================
// 7. Hostile frames on the requests socket.

namespace {

struct garbage {
  std::string name;
  std::string frame;
  std::set<std::string> codes; // acceptable error codes
  std::optional<uint64_t> id;  // echoed when set
};

std::vector<garbage> hostile_frames() {
  const std::set<std::string> bad = {"bad_request"};
  std::vector<garbage> g = {
    {"empty frame", "", bad, {}},
    {"0xc1", std::string("\xc1", 1), bad, {}},
    {"truncated map", std::string("\x82\xa2op\xa4pi", 7), bad, {}},
    {"map of 2^32-1 entries", std::string("\xdf\xff\xff\xff\xff", 5), bad, {}},
    {"array of 2^32-1", std::string("\xdd\xff\xff\xff\xff", 5), bad, {}},
    {"str of 4 GiB", std::string("\xdb\xff\xff\xff\xff", 5), bad, {}},
    {"100k-deep arrays", std::string(100000, '\x91') + "\xc0", bad, {}},
    {"100k-deep maps",
     [] {
       std::string s;
       for (int i = 0; i < 100000; ++i)
         s += std::string("\x81\xa1k", 3);
       return s + "\xc0";
     }(),
     bad,
     {}},
    {"trailing bytes", ping().pack() + "x", bad, {}},
    {"int body", std::string("\x2a", 1), bad, {}},
    {"str body", std::string("\xa4ping", 5), bad, {}},
    {"op missing", body().set("board", "b").id(3).pack(), bad, 3},
    {"op not a str", body().set("op", 1).id(4).pack(), bad, 4},
    {"op unknown", body{"explode"}.id(5).pack(), {"unknown_op"}, 5},
    {"non-str key", std::string("\x82\xa2op\xa4ping\x01\x02", 10), bad, {}},
    {"score a str",
     body{"submit"}.set("board", "g").set("player", "p").set("score", "9").id(6).pack(), bad, 6},
    {"score above int64",
     body{"submit"}
       .set("board", "g")
       .set("player", "p")
       .set("score", uint64_t{1} << 63)
       .id(7)
       .pack(),
     bad, 7},
    {"board as bin",
     body{"submit"}.set("board", bin{"g"}).set("player", "p").set("score", 1).pack(),
     bad,
     {}},
    {"board with /", submit("g/h", "p", 1).pack(), bad, {}},
    {"board of 65 bytes", submit(std::string(65, 'b'), "p", 1).pack(), bad, {}},
    {"player of 129 bytes", submit("g", std::string(129, 'p'), 1).pack(), bad, {}},
    {"player with NUL", submit("g", std::string("a\0b", 3), 1).pack(), bad, {}},
    {"player not UTF-8", submit("g", "\xff\xfe", 1).pack(), bad, {}},
    {"meta of 257 bytes",
     submit("g", "p", 1, 0, meta_v{std::string(257, 'm'), false}).pack(),
     bad,
     {}},
    {"limit 0", top("g", 0).pack(), bad, {}},
    {"limit 1001", top("g", 1001).pack(), bad, {}},
    {"radius 101", around("g", "p", 101).pack(), bad, {}},
    {"ranks of 101", ranks("g", std::vector<std::string>(101, "p")).pack(), bad, {}},
    {"batch of 1001",
     lb::e2e::batch(std::vector<body>(1001, submit_item("g", "p", 1))).pack(),
     bad,
     {}},
    {"configure order sideways", configure("g", "sideways", std::nullopt).pack(), bad, {}},
    {"negative id", ping().set("id", -1).pack(), bad, {}},
  };
  // Random bytes of many lengths; a seed for each so a failure can be replayed.
  std::mt19937_64 rng{99};
  for (size_t len : {1, 2, 3, 5, 8, 13, 31, 64, 100, 255, 1000, 4096, 65536})
    for (int k = 0; k < 20; ++k) {
      std::string f(len, '\0');
      for (auto& ch : f)
        ch = static_cast<char>(rng());
      g.push_back({"random " + std::to_string(len) + " bytes #" + std::to_string(k),
                   f,
                   {"bad_request", "unknown_op"},
                   {}});
    }
  return g;
}

} // namespace

TEST_CASE("hostile frames get bad_request and change nothing") {
  server s;
  client c(s.ctx(), s.requests());
  for (int i = 0; i < 30; ++i)
    REQUIRE(c.call(submit("g", "p" + std::to_string(i), i, i % 3, meta_v{"m", false})).ok());
  s.settle();
  auto before = c.call(stats());

  // Good clients keep reading while the garbage flows.
  std::atomic<bool> done{false};
  std::vector<client_log> good_logs(4);
  std::vector<std::thread> good;
  for (size_t i = 0; i < good_logs.size(); ++i)
    good.emplace_back([&, i] {
      client reader(s.ctx(), s.requests());
      for (size_t n = 0; !done; ++n) {
        request r = n % 3 == 0   ? simple_req("ping", "")
                    : n % 3 == 1 ? simple_req("top", "g")
                                 : simple_req("rank", "g", "p7");
        call_checked(reader, r, {}, "reader " + std::to_string(i), good_logs[i]);
      }
    });

  auto frames = hostile_frames();
  size_t wrong = 0;
  for (auto& g : frames) {
    c.send_raw(g.frame);
    auto r = c.receive(patience(10s));
    bool good_reply = r && !r->ok() && g.codes.count(r->error_code())
                      && keys_of(r->at("error")) == std::set<std::string>{"code", "message"}
                      && r->id() == g.id;
    if (!good_reply && wrong++ < 10)
      FAIL_CHECK(g.name << ": " << (r ? r->text() : "no reply"));
  }
  CHECK(wrong == 0);

  // A frame of exactly max_frame (1 MiB) is decoded; one byte more is not:
  // the connection is dropped and nothing answers.
  auto padded_ping = [](size_t total) {
    // map{op: "ping", pad: str32} = 18 bytes of overhead.
    std::string f("\x82\xa2op\xa4ping\xa3pad\xdb", 14);
    uint32_t n = static_cast<uint32_t>(total - 18);
    for (int b = 3; b >= 0; --b)
      f.push_back(static_cast<char>((n >> (8 * b)) & 0xff));
    return f + std::string(n, 'z');
  };
  {
    client big(s.ctx(), s.requests());
    big.send_raw(padded_ping(1 << 20));
    auto r = big.receive(patience(10s));
    REQUIRE_MESSAGE(r, "no reply to a frame of exactly 1 MiB");
    CHECK(r->flag("pong"));
    big.send_raw(padded_ping((1 << 20) + 1));
    CHECK_FALSE(big.receive(patience(1s)));
  }
  REQUIRE(c.call(ping()).ok()); // still serving

  done = true;
  for (auto& t : good)
    t.join();
  size_t replies = 0;
  for (auto& l : good_logs)
    replies += l.replies;
  gather(good_logs, replies);
  CHECK(replies > 0);

  auto after = c.call(stats());
  CHECK(after.str("digest") == before.str("digest"));
  CHECK(after.u64("seq") == before.u64("seq")); // no event came of the garbage
}

// ===========================================================================
// 8. Flags and signals.

TEST_CASE("flags, signals and a busy port") {
  auto exe = daemon_path();
  SUBCASE("an unknown flag: exit 2 and a message") {
    auto r = run_to_exit({exe, "--bogus=1"}, patience(10s));
    REQUIRE(r.status);
    CHECK(describe_status(*r.status) == "exit 2");
    CHECK(r.err.find("bogus") != std::string::npos);
  }
  SUBCASE("a value out of range: exit 2") {
    auto r = run_to_exit({exe, "--shards=0"}, patience(10s));
    REQUIRE(r.status);
    CHECK(describe_status(*r.status) == "exit 2");
    CHECK(r.err.find("--shards") != std::string::npos);
  }
  SUBCASE("--help: exit 0 with the usage") {
    auto r = run_to_exit({exe, "--help"}, patience(10s));
    REQUIRE(r.status);
    CHECK(describe_status(*r.status) == "exit 0");
    CHECK(r.out.find("usage:") != std::string::npos);
    CHECK(r.out.find("--requests") != std::string::npos);
  }
  SUBCASE("SIGINT and SIGTERM stop it within a second, exit 0") {
    for (int sig : {SIGINT, SIGTERM}) {
      CAPTURE(sig);
      server s;
      client c(s.ctx(), s.requests());
      REQUIRE(c.call(submit("sig", "p", 1)).ok());
      auto t0 = std::chrono::steady_clock::now();
      // The service promises 1 s; under TSan everything is slower.
      auto st = s.stop(sig, patience(1s));
      REQUIRE_MESSAGE(st, "still running " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::steady_clock::now() - t0)
                                                .count()
                                           << " ms after the signal");
      CHECK(describe_status(*st) == "exit 0");
      CHECK(s.stdout_text().find("leaderboardd: requests") != std::string::npos);
    }
  }
  SUBCASE("SIGTERM while actors still work off a backlog: exit 0, no hang") {
    // Replies produced after the I/O thread has closed its sockets have
    // nowhere to go; they must not block the actor that makes them (and with
    // it the stop).
    for (int round = 0; round < 5; ++round) {
      CAPTURE(round);
      server s;
      std::atomic<bool> stop{false};
      std::vector<std::thread> load;
      for (int i = 0; i < 4; ++i)
        load.emplace_back([&s, &stop, i] {
          client c(s.ctx(), s.requests());
          for (size_t n = 0; !stop.load(); ++n) { // closed loop, 32 in flight
            c.send(
              submit("busy", "p" + std::to_string(i) + "-" + std::to_string(n % 5000), int64_t(n)));
            if (n >= 32 && !c.receive(patience(1s)))
              break; // the service has stopped
          }
        });
      std::this_thread::sleep_for(patience(300ms));
      auto st = s.stop(SIGTERM, patience(5s));
      stop = true;
      for (auto& t : load)
        t.join();
      REQUIRE_MESSAGE(st, "still running 5 s after SIGTERM under load");
      CHECK(describe_status(*st) == "exit 0");
    }
  }
  SUBCASE("a busy port: a clear error and a non-zero exit") {
    // Hold a listening socket on a port, then ask the service for it.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 4) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    auto busy = "tcp://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    auto ep = [] { return "tcp://127.0.0.1:" + std::to_string(free_port()); };
    temp_dir data;
    for (std::string which : {"requests", "ingest", "updates"}) {
      CAPTURE(which);
      std::vector<std::string> args = {exe, "--data=" + data.path(), "--requests=" + ep(),
                                       "--ingest=" + ep(), "--updates=" + ep()};
      args.push_back(std::string("--") + which + "=" + busy);
      auto r = run_to_exit(args, patience(10s));
      REQUIRE(r.status);
      CHECK(WIFEXITED(*r.status));
      CHECK(WEXITSTATUS(*r.status) != 0);
      CHECK_MESSAGE(r.err.find(busy.substr(6)) != std::string::npos, "stderr: " << r.err);
    }
    ::close(fd);
  }
}

// ===========================================================================
// 9. The digest does not depend on the shard count.

namespace {

// A fixed sequence over every operator, sent one request at a time so that
// every run gives the events the same seqs.
std::vector<request> fixed_sequence(size_t n) {
  const std::vector<board_spec> bs = {
    {"d.best", "desc", "best"}, {"a.best", "asc", "best"},  {"d.set", "desc", "set"},
    {"a.incr", "asc", "incr"},  {"d.decr", "desc", "decr"}, {"plain", std::nullopt, std::nullopt}};
  const auto players = player_pool(30);
  std::vector<request> out;
  for (auto& b : bs)
    if (b.order || b.oper)
      out.push_back(configure_req(b.name, b.order, b.oper));
  std::mt19937_64 rng{2024};
  for (size_t i = 0; i < n; ++i) {
    auto& b = bs[rng() % bs.size()];
    auto roll = rng() % 100;
    if (roll < 80)
      out.push_back(random_submit(rng, b, players, "t" + std::to_string(i)));
    else if (roll < 95)
      out.push_back(simple_req("remove", b.name, players[rng() % players.size()]));
    else
      out.push_back(simple_req("reset", b.name));
  }
  return out;
}

// The event replies (seq and outcome) and the final digest of one run.
struct run_outcome {
  std::vector<std::string> replies;
  std::string empty_digest, digest;
  std::vector<entry> top_plain;
};

run_outcome run_sequence(uint32_t shards, const std::vector<request>& seq) {
  server s{make_server_options(shards, 20)};
  client c(s.ctx(), s.requests());
  run_outcome out;
  out.empty_digest = digest(c);
  for (auto& r : seq) {
    auto rep = c.call(r.to_body());
    REQUIRE_MESSAGE(rep.ok(), describe(r) << ": " << rep.text());
    std::string line = std::to_string(rep.u64("seq"));
    if (r.op == "submit")
      line += " " + std::to_string(rep.i64("score")) + " " + std::to_string(rep.i64("subscore"))
              + " " + std::to_string(rep.flag("changed"));
    else if (r.op == "remove")
      line += " " + std::to_string(rep.flag("removed"));
    else if (r.op == "reset")
      line += " " + std::to_string(rep.u64("removed"));
    out.replies.push_back(line);
  }
  out.digest = digest(c);
  s.settle();
  out.top_plain = read_board(c, "d.set");
  CHECK(digest(c) == out.digest);
  return out;
}

} // namespace

TEST_CASE("1, 3 and 7 shards give the same digest for the same requests") {
  auto seq = fixed_sequence(scaled(3000));
  auto one = run_sequence(1, seq);
  CHECK(one.digest != one.empty_digest);
  for (uint32_t shards : {3u, 7u}) {
    CAPTURE(shards);
    auto other = run_sequence(shards, seq);
    CHECK(other.empty_digest == one.empty_digest);
    CHECK(other.replies == one.replies);
    CHECK(other.top_plain == one.top_plain);
    CHECK(other.digest == one.digest);
  }
}
