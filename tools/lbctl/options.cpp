#include "tools/lbctl/options.hpp"

#include <algorithm>
#include <limits>

#include "schemas/types.hpp"
#include "tools/common/flags.hpp"

namespace lb::lbctl {

namespace {

const char* intro = R"(usage: lbctl [options] COMMAND ARGS...

Command-line client for leaderboardd: sends one request, prints the reply.

commands:
  submit BOARD PLAYER SCORE [--subscore=N] [--meta=TEXT]
                      record a score (SCORE is an int64); prints the entry as
                      stored and its rank
  rank BOARD PLAYER [--merged] [--season=N]
                      a player's entry, rank and percentile (the share of
                      the board ranked below)
  top BOARD [--limit=N] [--offset=N | --after=CURSOR] [--merged] [--season=N]
                      the best entries; prints the cursor of the next page,
                      which --after takes
  around BOARD PLAYER [--radius=N] [--merged] [--season=N]
                      a player and N neighbours each side
  ranks BOARD PLAYER... [--merged] [--season=N]
                      the given players (a friends list), best first
  remove BOARD PLAYER delete a player's entry; exit 1 if the board does not
                      exist or the player is not on it
  reset BOARD [--archive]
                      empty a board's current season; its configuration
                      stays. With --archive, close the season instead: it is
                      kept (readable with --season) and the next one starts
                      empty. Exit 1 if the board does not exist
  configure BOARD [--order=desc|asc] [--operator=best|set|incr|decr]
            [--schedule=CRON] [--keep=N]
                      how a board ranks and combines a new score with the
                      stored one (only while the board is empty; a new board
                      starts as desc, best), and when its seasons roll over
                      and how many closed ones it keeps (any time)
  seasons BOARD       a board's seasons: the kept closed ones and the
                      current one, with when each ran, its seqs and its
                      entries; the schedule and the next rollover
  boards [--limit=N] [--after=NAME] [--all] [--merged]
                      the boards in name order with their size, order,
                      operator and season settings, a page at a time (up to
                      1000 by default): the page after the board NAME, or
                      with --all every page to the last
  stats               sequence number, state digest, shards, merge age,
                      update stream counters, ingest frames by source
  ping                check that the service answers
  watch BOARD [--player=P] [--raw]
                      follow the board live until Ctrl-C: a top table that
                      redraws on every top/ update
  keygen NAME         make a CURVE key pair for a client (or the service):
                      writes NAME.key (secret, mode 0600) and NAME.pub,
                      never over existing files; sends nothing

)";

const char* outro = R"(
exit codes: 0 ok, 1 the service replied with an error, or reset or remove
found nothing to remove (no such board, no such player on it; the message
says which), or keygen could not write the files, 2 bad command line, 3 no
reply within the timeout.

CURVE: against a service started with --curve-secret, pass its public key
(--curve-server-key) and this client's secret key (--curve-key). A service
that refuses the key does not answer: lbctl then exits 3.

example session:
  $ lbctl submit arena alice 120 --meta="level 7"
  alice on arena: score 120, rank 1 of 1 (new), percentile 0, seq 1
  $ lbctl submit arena bob 150
  bob on arena: score 150, rank 1 of 2 (new), percentile 50, seq 2
  $ lbctl submit arena alice 110
  alice on arena: score 120 (unchanged), rank 2 of 2, percentile 0, seq 3
  $ lbctl top arena
  arena: 2 entries
  RANK  PLAYER  SCORE  SUBSCORE  META
     1  bob       150         0
     2  alice     120         0  level 7
  $ lbctl rank arena alice --json
  {"ok":true,"id":3141592,"board":"arena","player":"alice","score":120,...}
  $ lbctl rank arena carol
  error: not_found: player 'carol' is not on board 'arena'
  $ lbctl configure ladder --order=asc --operator=set
  ladder: order asc, operator set, no schedule, keep 1, seq 4
  $ lbctl configure arena --schedule='0 0 * * 1' --keep=4
  arena: order desc, operator best, schedule '0 0 * * 1', keep 4, seq 5
  $ lbctl reset arena --archive
  reset arena: season 1 closed and kept (2 entries), season 2 started, seq 6
  $ lbctl top arena --season=1 --limit=1
  arena, season 1 (closed, as of seq 6): 2 entries
  RANK  PLAYER  SCORE  SUBSCORE  META
     1  bob       150         0
  $ lbctl seasons arena
  arena: season 2 is current; schedule '0 0 * * 1' (UTC), next rollover
  2026-12-07T00:00:00Z; keeps 4 closed seasons
  SEASON  START                     END                       START_SEQ  END_SEQ  ENTRIES
       1  -                         2026-12-05T16:40:12.345Z          1        6        2
       2  2026-12-05T16:40:12.345Z  -                                 7        -        0  <- current
  as of seq 6
  $ lbctl watch arena --player=alice
  alice on arena: rank 1 of 40, score 150, seq 4
  alice on arena: rank 2 of 40 (was 1), score 150, seq 5
  $ lbctl keygen alice
  $ lbctl --curve-server-key=server.pub --curve-key=alice.key top arena
)";

std::vector<tools::flag> global_flags(options& o) {
  using namespace tools;
  return {
    text_flag("endpoint", "EP", "the service's requests socket", o.endpoint),
    text_flag("updates", "EP", "the service's updates socket, for watch", o.updates)
      .default_is("port 7402 on --endpoint's host"),
    switch_flag(
      "json",
      R"(print the reply as one line of JSON (watch: each message as {"topic": ..., "body": ...}))",
      o.json),
    whole_flag("timeout-ms", "N", "how long to wait for the reply", o.timeout_ms, 1, 3'600'000),
    text_flag("curve-server-key", "KEY|FILE",
              "the service's CURVE public key (40 Z85 characters) or a file holding it, for a "
              "service started with --curve-secret; alone, lbctl makes a throwaway key pair, "
              "which only a service whose --readers=any admits",
              o.curve_server_key),
    text_flag("curve-key", "FILE",
              "this client's CURVE secret key file, as `lbctl keygen NAME` writes it (NAME.key); "
              "its public key must be in the service's --readers, --writers or --admins file",
              o.curve_key),
    help_flag(),
  };
}

std::vector<tools::flag> command_flags(options& o) {
  using namespace tools;
  using schemas::board_order;
  using schemas::score_operator;
  return {
    whole_flag("subscore", "N", "submit: an int64 that breaks ties between equal scores",
               o.submit.subscore, std::numeric_limits<int64_t>::min(),
               std::numeric_limits<int64_t>::max()),
    text_flag("meta", "TEXT", "submit: text kept with the entry", o.meta),
    switch_flag("merged",
                "rank, top, around, ranks, boards: answer from the latest merged view "
                "(exact: false), up to a merge interval old, for less work",
                o.merged),
    // One flag for two requests: top's limit (default 10) and boards' (the
    // service's default, 1000, unless given).
    flag{"limit", "N",
         "top: entries, 1.." + std::to_string(schemas::max_top_limit)
           + "; boards: boards per page, 1.." + std::to_string(schemas::max_boards_limit),
         std::to_string(o.top.limit) + " for top, " + std::to_string(o.boards.limit)
           + " for boards",
         "",
         tools::detail::whole_setter<uint32_t>(
           1, std::min(schemas::max_top_limit, schemas::max_boards_limit),
           [&o](uint32_t x) {
             o.top.limit = x;
             o.boards.limit = x;
           })},
    whole_flag("offset", "N", "top: best entries skipped", o.top.offset, 0,
               std::numeric_limits<uint64_t>::max()),
    text_flag("after", "CURSOR|NAME",
              "top: start after the entry of this cursor (the next page's, as a top page "
              "prints it) instead of --offset; boards: start after this board name",
              o.after),
    switch_flag("all", "boards: every page, following each page's next to the last", o.all),
    whole_flag("radius", "N", "around: neighbours each side, 0..100", o.around.radius, 0,
               schemas::max_radius),
    choice_flag("order", "ORDER", "configure: desc (higher is better) or asc", o.configure.order,
                std::vector{board_order::desc, board_order::asc}),
    choice_flag("operator", "OP",
                "configure: how a new score combines with the stored one: best, set, incr or "
                "decr",
                o.configure.op,
                std::vector{score_operator::best, score_operator::set, score_operator::incr,
                            score_operator::decr}),
    flag{"season", "N",
         "rank, top, around, ranks: read the closed season N (as `lbctl seasons` lists "
         "them) instead of the current one",
         "the current season", "",
         tools::detail::whole_setter<uint32_t>(1, std::numeric_limits<uint32_t>::max(),
                                               [&o](uint32_t x) { o.season = x; })},
    switch_flag("archive",
                "reset: close the current season and keep it, readable with --season, "
                "instead of dropping its entries",
                o.reset.archive),
    text_flag("schedule", "CRON",
              "configure: when the board's seasons roll over: a cron expression in UTC, 5 "
              "fields (min hour dom mon dow) or 6 with seconds first, e.g. '0 0 * * 1' "
              "(Mondays 00:00 UTC); --schedule= removes the schedule",
              o.configure.schedule),
    flag{"keep", "N",
         "configure: how many closed seasons the board keeps, 1.."
           + std::to_string(schemas::max_keep_seasons),
         "the board's setting; " + std::to_string(schemas::default_keep_seasons)
           + " for a new board",
         "",
         tools::detail::whole_setter<uint32_t>(1, schemas::max_keep_seasons,
                                               [&o](uint32_t x) { o.configure.keep = x; })},
    text_flag("player", "P", "watch: that player's rank now, then every change of it, one per line",
              o.player),
    switch_flag("raw",
                "watch: every top/, rank/ and score/ message of the board instead, one per line",
                o.raw),
  };
}

} // namespace

std::optional<int> parse_command_line(int argc, char** argv, command_line& cl) {
  auto per_command = command_flags(cl.opts);
  std::vector<std::string> names;
  for (const auto& f : per_command)
    names.push_back(f.name);
  tools::flag_parser flags{
    "lbctl",
    intro,
    {{"options (--name=value or --name value, before or after the command):",
      global_flags(cl.opts)},
     {"flags of one command (as the commands above name them):", std::move(per_command)}},
    outro};
  if (auto rc = flags.parse(argc, argv))
    return rc;
  cl.positional = flags.positional();
  if (!flags.given("updates"))
    cl.opts.updates = updates_near(cl.opts.endpoint);
  for (const auto& name : names)
    if (flags.given(name))
      cl.command_flags.push_back(name);
  return std::nullopt;
}

std::string updates_near(const std::string& endpoint) {
  const std::string defaults = options{}.updates, tcp = "tcp://";
  const auto colon = endpoint.rfind(':'); // tcp://[::1]:7400 too
  if (endpoint.compare(0, tcp.size(), tcp) != 0 || colon == std::string::npos
      || colon <= tcp.size())
    return defaults;
  return endpoint.substr(0, colon) + defaults.substr(defaults.rfind(':'));
}

transport::client_keys client_keys_of(const options& o) {
  try {
    return transport::load_client_keys(o.curve_server_key, o.curve_key);
  } catch (const transport::key_error& e) {
    throw usage_error(e.what());
  }
}

} // namespace lb::lbctl
