// An example game server on the lbd client library: a match loop that hands
// each finished match's results to the service without waiting (the async
// API) and picks the replies up once a tick, while it follows one player's
// rank feed; then it reads the top 10 and that player's rank.
//
//   game_server [REQUESTS [UPDATES]]   (default tcp://127.0.0.1:7400, :7402)
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <lbd/client.hpp>

namespace {

using namespace std::chrono_literals;

const std::string board = "arena";
const std::string followed = "player-3";
constexpr int players = 12;
constexpr int matches = 6;
constexpr int per_match = 8;

// A deterministic "match": per_match players and their scores.
std::vector<lbd::submission> play_match(int match) {
  std::vector<lbd::submission> results;
  for (int i = 0; i < per_match; ++i) {
    const int p = (match * 5 + i) % players;
    results.push_back({board, "player-" + std::to_string(p), (match * 37 + p * 53) % 1000, match,
                       std::string("match-") + std::to_string(match)});
  }
  return results;
}

} // namespace

int main(int argc, char** argv) {
  lbd::options opts;
  if (argc > 1)
    opts.endpoint = argv[1];
  if (argc > 2)
    opts.updates = argv[2];
  opts.timeout = 3s;

  try {
    lbd::client lb(opts);
    lbd::subscriber feed(opts);
    // The feed sends the player's state when following starts and after
    // every merge that moves the player, whoever caused it.
    feed.follow(board, followed);
    std::optional<lbd::player_state> state;
    int changes = 0;
    auto on_update = [&](lbd::update& u) {
      if (u.gap) // lost messages: this one is the whole state anyway
        std::cerr << "follow: " << u.missed << " messages lost\n";
      state = *u.player();
      ++changes;
    };

    // The loop: a match ends every third tick; replies and the feed are
    // picked up each tick without blocking it.
    int sent = 0, accepted = 0, refused = 0;
    auto on_reply = [&](lbd::reply& r) {
      if (!r.ok()) {
        std::cerr << "batch refused: " << r.failure().what() << '\n';
        return;
      }
      for (const auto& item : r.batch())
        ++(std::holds_alternative<lbd::submit_result>(item) ? accepted : refused);
    };
    for (int tick = 0, match = 0; match < matches || lb.in_flight() > 0; ++tick) {
      if (match < matches && tick % 3 == 0) {
        auto results = play_match(match++);
        sent += static_cast<int>(results.size());
        lb.send_batch(results);
      }
      lb.poll(0ms, on_reply);
      feed.poll(0ms, on_update);
      std::this_thread::sleep_for(5ms); // the rest of the tick's work
    }
    std::cout << "submitted " << sent << " results: " << accepted << " accepted, " << refused
              << " refused\n";

    auto top = lb.top(board, 10);
    std::cout << "top " << top.entries.size() << " of " << top.total << " (seq " << top.seq << "):";
    for (const auto& e : top.entries)
      std::cout << ' ' << e.rank << '=' << e.player << ':' << e.score;
    std::cout << '\n';

    auto me = lb.rank(board, followed);
    std::cout << "rank " << followed << ": " << me.rank << " of " << me.total << ", score "
              << me.score << '\n';

    // The feed follows the merged view, at most a merge interval behind:
    // once it is quiet, its last state is the player's rank.
    while (feed.poll(300ms, on_update) > 0) {
    }
    if (state) {
      std::cout << "follow " << state->player << ": rank "
                << (state->rank ? std::to_string(*state->rank) : "-") << " of " << state->total
                << ", score " << (state->score ? std::to_string(*state->score) : "-") << " ("
                << changes << " messages)\n";
    } else {
      std::cout << "follow " << followed << ": no message\n";
    }
    return accepted == sent ? 0 : 1;
  } catch (const lbd::error& e) {
    std::cerr << "game_server: " << e.what() << '\n';
    return 1;
  }
}
