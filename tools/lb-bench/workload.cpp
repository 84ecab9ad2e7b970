#include "tools/lb-bench/workload.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "tools/common/numbers.hpp"

namespace lb::bench {

std::string parse_mix(const std::string& text, workload_options& o) {
  uint64_t s = 0, r = 0, t = 0, a = 0;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    auto eq = part.find('=');
    if (eq == std::string::npos)
      return "--mix: expected OP=WEIGHT items like submit=70,rank=30, got '" + part + "'";
    const auto name = part.substr(0, eq);
    const auto parsed = tools::parse_whole<uint64_t>(std::string_view(part).substr(eq + 1), 0,
                                                     1000000);
    if (!parsed)
      return "--mix: weight of '" + name + "' must be a whole number up to 1000000";
    const uint64_t w = *parsed;
    if (name == "submit")
      s = w;
    else if (name == "rank")
      r = w;
    else if (name == "top")
      t = w;
    else if (name == "around")
      a = w;
    else
      return "--mix: unknown op '" + name + "' (submit, rank, top, around)";
  }
  if (s + r + t + a == 0)
    return "--mix: every weight is 0; give at least one op a weight";
  o.w_submit = s, o.w_rank = r, o.w_top = t, o.w_around = a;
  return "";
}

std::string mix_text(const workload_options& o) {
  std::string out;
  auto add = [&](const char* n, uint64_t w) {
    if (w == 0)
      return;
    if (!out.empty())
      out += ',';
    out += std::string(n) + "=" + std::to_string(w);
  };
  add("submit", o.w_submit), add("rank", o.w_rank), add("top", o.w_top), add("around", o.w_around);
  return out;
}

std::string board_name(uint32_t i) {
  return "bench" + std::to_string(i);
}
// 14 bytes up to 10,000,000 players, like the ids of the Redis
// reference figure, so bytes per entry compare.
std::string player_name(uint32_t i) {
  char name[24];
  std::snprintf(name, sizeof name, "player-%07u", i);
  return name;
}

workload::workload(const workload_options& o) : o_(o) {
  if (o.zipf > 0) {
    // P(k) ~ 1/(k+1)^s; a CDF of doubles (8 bytes a player) and a binary
    // search per pick: exact, and fast enough next to a network round trip.
    cdf_.resize(o.players);
    double sum = 0;
    for (uint64_t k = 0; k < o.players; ++k) {
      sum += 1.0 / std::pow(static_cast<double>(k + 1), o.zipf);
      cdf_[k] = sum;
    }
    for (auto& c : cdf_)
      c /= sum;
  }
}

uint32_t workload::pick_player(double u) const {
  if (cdf_.empty())
    return static_cast<uint32_t>(std::min<uint64_t>(o_.players - 1, u * o_.players));
  auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
  return static_cast<uint32_t>(std::min<std::size_t>(cdf_.size() - 1, it - cdf_.begin()));
}

op_stream::op_stream(std::shared_ptr<const workload> w, uint64_t client)
  : w_(std::move(w)), rng_(w_->options().seed * 0x9E3779B97F4A7C15ULL + client) {}

op op_stream::next() {
  const auto& o = w_->options();
  const uint64_t total = o.w_submit + o.w_rank + o.w_top + o.w_around;
  const uint64_t x = rng_() % total;
  op out{};
  out.kind = x < o.w_submit                        ? op_kind::submit
             : x < o.w_submit + o.w_rank           ? op_kind::rank
             : x < o.w_submit + o.w_rank + o.w_top ? op_kind::top
                                                   : op_kind::around;
  out.board = static_cast<uint32_t>(rng_() % o.boards);
  out.player = w_->pick_player(unit_(rng_));
  if (o.scores == "exp") {
    const double v = -std::log(1.0 - unit_(rng_)) * (o.score_max / 10.0);
    out.score = static_cast<int64_t>(std::min<double>(v, static_cast<double>(o.score_max)));
  } else {
    out.score = static_cast<int64_t>(rng_() % (o.score_max + 1));
  }
  return out;
}

} // namespace lb::bench
