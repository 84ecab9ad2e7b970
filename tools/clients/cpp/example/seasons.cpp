// Seasons on the lbd client library: a weekly schedule that keeps 3 closed
// seasons, a season closed by hand (reset with archive), the season/ message
// that says so, and reads of the closed season's final standings.
//
//   seasons [REQUESTS [UPDATES]]   (default tcp://127.0.0.1:7400, :7402)
#include <chrono>
#include <iostream>
#include <string>

#include <lbd/client.hpp>

namespace {

using namespace std::chrono_literals;

const std::string board = "cup";

void print_entries(const std::vector<lbd::entry>& entries) {
  for (const auto& e : entries)
    std::cout << ' ' << e.rank << '=' << e.player << ':' << e.score;
  std::cout << '\n';
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
    // Mondays at 00:00 UTC the service closes the season; 3 stay readable.
    auto cfg = lb.configure(board, std::nullopt, std::nullopt, std::string("0 0 * * 1"), 3);
    std::cout << "configured " << cfg.board << ": schedule " << cfg.schedule.value_or("-")
              << ", keep " << cfg.keep << '\n';

    lbd::submit_result last;
    for (int i = 0; i < 5; ++i)
      last = lb.submit(board, "p" + std::to_string(i), i * 100);
    std::cout << "submitted 5: " << last.player << " is #" << last.rank << " of " << last.total
              << ", percentile " << last.percentile << '\n';
    auto live = lb.rank(board, "p2");
    std::cout << "rank p2: " << live.rank << " of " << live.total << ", percentile "
              << live.percentile << '\n';

    // season/ sends nothing on subscribing: a follow() after it, once its
    // first message is in, says the season/ subscription is live too.
    lbd::subscriber feed(opts);
    feed.watch_seasons(board);
    feed.follow(board, "p2");
    for (auto u = feed.next(3s);; u = feed.next(3s)) {
      if (!u)
        throw lbd::error("no_reply", "no follow/ message within 3 s");
      if (u->player())
        break;
    }

    auto closed = lb.reset(board, true);
    std::cout << "reset " << board << " with archive: closed season " << closed.season.value_or(0)
              << " (" << closed.removed << " entries, seq " << closed.seq << ")\n";

    // The merge after the reset publishes the closed season.
    const lbd::season_state* s = nullptr;
    std::optional<lbd::update> u;
    while (!s) {
      u = feed.next(3s);
      if (!u)
        throw lbd::error("no_reply", "no season/ message within 3 s");
      s = u->closed_season();
    }
    std::cout << u->topic << " season " << s->season << ": " << s->total << " entries, seq "
              << s->start_seq << ".." << s->end_seq << ", top";
    print_entries(s->entries);

    auto all = lb.seasons(board);
    std::cout << "seasons of " << all.board << ": current " << all.current << ", next rollover "
              << (all.next_ms ? "scheduled" : "none") << ',';
    for (const auto& x : all.seasons)
      std::cout << ' ' << x.season << '(' << (x.current ? "current" : "closed") << ", " << x.total
                << " entries)";
    std::cout << '\n';

    auto top = lb.top(board, 3, 0, true, s->season);
    std::cout << "season " << top.season.value_or(0) << " top 3 (seq " << top.seq << "):";
    print_entries(top.entries);
    auto old = lb.rank(board, "p2", true, s->season);
    std::cout << "season " << old.season.value_or(0) << " rank p2: " << old.rank << " of "
              << old.total << ", percentile " << old.percentile << '\n';

    // The closed season is as it ended, and the same wherever it is read.
    const bool agree = closed.season == s->season && s->end_seq == closed.seq
                       && top.seq == closed.seq && old.rank == live.rank
                       && all.current == s->season + 1 && lb.top(board).entries.empty();
    if (!agree)
      std::cerr << "seasons: the reset, season/ message, seasons and reads disagree\n";
    return agree ? 0 : 1;
  } catch (const lbd::error& e) {
    std::cerr << "seasons: " << e.what() << '\n';
    return 1;
  }
}
