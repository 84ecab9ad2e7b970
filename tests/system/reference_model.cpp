#include "tests/system/reference_model.hpp"

#include <algorithm>
#include <limits>
#include <utility>

namespace lb::e2e {

namespace {

constexpr int64_t i64_max = std::numeric_limits<int64_t>::max();
constexpr int64_t i64_min = std::numeric_limits<int64_t>::min();

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

} // namespace

bool model_board::better(int64_t s1, int64_t sub1, int64_t s2, int64_t sub2) const {
  auto a = std::make_pair(s1, sub1), b = std::make_pair(s2, sub2);
  return order == "asc" ? a < b : a > b;
}

bool model_board::before(const model_entry& a, const model_entry& b) const {
  if (better(a.score, a.subscore, b.score, b.subscore))
    return true;
  if (better(b.score, b.subscore, a.score, a.subscore))
    return false;
  return a.seq < b.seq; // first to reach the value ranks better
}

std::vector<entry> model_board::ranked() const {
  std::vector<std::pair<std::string, model_entry>> v(entries.begin(), entries.end());
  std::sort(v.begin(), v.end(),
            [this](const auto& a, const auto& b) { return before(a.second, b.second); });
  std::vector<entry> out;
  for (auto& [player, e] : v)
    out.push_back(entry{out.size() + 1, player, e.score, e.subscore, e.meta});
  return out;
}

uint64_t model_board::rank_of(const std::string& player) const {
  auto me = entries.find(player);
  if (me == entries.end())
    return 0;
  uint64_t better_ones = 0;
  for (const auto& [name, e] : entries)
    better_ones += name != player && before(e, me->second);
  return better_ones + 1;
}

void model::configure(const request& r) {
  auto& b = boards[r.board];
  if (r.order)
    b.order = *r.order;
  if (r.oper)
    b.oper = *r.oper;
}

submit_outcome model::submit(const request& r, uint64_t seq) {
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

bool model::remove(const request& r) {
  auto b = boards.find(r.board);
  return b != boards.end() && b->second.entries.erase(r.player) > 0;
}

uint64_t model::reset(const request& r) {
  auto b = boards.find(r.board);
  if (b == boards.end())
    return 0;
  auto n = b->second.entries.size();
  b->second.entries.clear(); // the configuration stays
  return n;
}

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
      auto prev = m.boards[ev.req.board].rank_of(ev.req.player);
      auto want = m.submit(ev.req, ev.seq);
      const auto& b = m.boards[ev.req.board];
      auto rank = b.rank_of(ev.req.player);
      uint64_t total = b.entries.size();
      auto prev_rank = prev == 0 ? std::nullopt : std::optional<uint64_t>{prev};
      if (rank != ev.rank || total != ev.total || prev_rank != ev.prev_rank)
        bad.push_back(at + "expected rank " + std::to_string(rank) + " of " + std::to_string(total)
                      + " (before: " + std::to_string(prev) + "), got rank "
                      + std::to_string(ev.rank) + " of " + std::to_string(ev.total)
                      + " (before: " + std::to_string(ev.prev_rank.value_or(0)) + ")");
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

} // namespace lb::e2e
