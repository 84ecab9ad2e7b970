// lb-bench workloads: which op, board, player and score each request gets.
// Everything derives from one seed, so a run is repeatable and every target
// of one lb-bench run sees the same sequence of requests.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace lb::bench {

enum class op_kind { submit, rank, top, around };

struct workload_options {
  uint64_t boards = 1;
  uint64_t players = 100000;
  double zipf = 0; // 0: uniform player choice; s > 0: Zipf(s), player 0 hottest
  // Relative weights of the ops, e.g. submit=100 or submit=70,rank=20,top=10.
  uint64_t w_submit = 100, w_rank = 0, w_top = 0, w_around = 0;
  std::string scores = "uniform"; // uniform: 0..score_max; exp: mean score_max/10, most low
  uint64_t score_max = 1000000;
  uint64_t seed = 1;
};

// Parses "submit=70,rank=20,top=10" into o's weights; returns an error or "".
std::string parse_mix(const std::string& text, workload_options& o);
std::string mix_text(const workload_options& o);

struct op {
  op_kind kind;
  uint32_t board;  // index: board name is board_name(board)
  uint32_t player; // index: player name is player_name(player)
  int64_t score;
};

std::string board_name(uint32_t i);
std::string player_name(uint32_t i);

// The shared, read-only part: the Zipf CDF is built once per run.
class workload {
public:
  explicit workload(const workload_options& o);
  const workload_options& options() const { return o_; }
  uint32_t pick_player(double u) const; // u uniform in [0, 1)

private:
  workload_options o_;
  std::vector<double> cdf_; // empty when uniform
};

// One client's stream of ops: seeded from (seed, client), so client k issues
// the same ops against every target.
class op_stream {
public:
  op_stream(std::shared_ptr<const workload> w, uint64_t client);
  op next();

private:
  std::shared_ptr<const workload> w_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
};

} // namespace lb::bench
