// lb-replay: reads lbd's event log offline (docs/EVENT-LOG.md). `inspect`
// checks it, `rebuild` computes the state it describes and that state's
// digest, `send` re-publishes its events to a running leaderboardd.
//
// Exit codes: 0 ok; 1 damage found, error replies, a send target that
// already holds events, or a log that cannot be read; 2 a bad command line;
// 3 the service stopped answering.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "actors/storage/status.hpp"
#include "schemas/types.hpp"
#include "tools/common/flags.hpp"
#include "tools/lb-replay/common.hpp"

namespace {

namespace rp = lb::replay;

const char* intro = R"(usage: lb-replay COMMAND LOG... [options]

Reads leaderboardd's event log offline: checks it, rebuilds the state it
describes, or sends its events to a running service.

LOG is a data folder (leaderboardd --data: its segments in order, and its
snapshots) or event-log segment files (events-<first seq>.log), read in the
order given.

commands:
  inspect LOG...      per file and in total: records, events by type, seq and
                      time ranges, boards by event count; then every record's
                      checksum and body is checked, to the end of each file
                      even past damage. Exit 1 if anything is damaged
  rebuild LOG... [--board=B] [--until-seq=N] [--top=N] [--season=N]
                      rebuilds the state in this process and prints its
                      digest (the one `lbctl stats` shows for the same data)
                      and each board's top N; with --season, the final
                      standings of closed season N of every board that
                      keeps it. A folder starts from its snapshot, as
                      leaderboardd does; files from their first event
  send LOG... --to=EP [--speed=X | --max] [--board=B] [--from-seq=N]
       [--until-seq=N] [--window=N] [--timeout-ms=N] [--force]
       [--curve-server-key=KEY|FILE --curve-key=FILE]
                      re-publishes the events in seq order over one
                      connection, so the service applies them in the log's
                      order. Send into a service with an empty --data folder
                      to reproduce the log's state: send refuses a service
                      that already holds events (stats seq > 0) unless
                      --force. A folder must hold its whole log: record
                      sessions to replay with leaderboardd --retain

)";

const char* outro = R"(
exit codes: 0 ok; 1 damage found (inspect), error replies or a target that
already holds events (send), or a log that cannot be read; 2 bad command
line; 3 the service stopped answering.

examples:
  lb-replay inspect ./data
  lb-replay rebuild ./data --board=arena --top=3
  lb-replay rebuild ./data --board=weekly --season=12
  lb-replay rebuild data/events-00000000000000000001.log --until-seq=5000 --json
  lb-replay send ./data --to=tcp://127.0.0.1:7500 --max
  lb-replay send ./data --to=tcp://10.0.0.5:7400 --curve-server-key=server.pub \
      --curve-key=replay.key
)";

std::vector<lb::tools::flag> flag_table(rp::options& o) {
  using namespace lb::tools;
  return {
    switch_flag("json", "print one JSON document on stdout instead of text", o.json),
    text_flag("board", "B", "only this board's events", o.board),
    whole_flag("until-seq", "N", "only events with seq <= N", o.until_seq, 0, rp::no_limit)
      .default_is(""),
    whole_flag("from-seq", "N", "send: only events with seq >= N", o.from_seq, 0, rp::no_limit)
      .default_is(""),
    whole_flag("top", "N", "rebuild: entries shown per board, 0..1000", o.top, 0,
               lb::schemas::max_top_limit),
    whole_flag("season", "N",
               "rebuild: show closed season N of each board that keeps it, not the live boards",
               o.season, 1, std::numeric_limits<uint32_t>::max())
      .default_is(""),
    text_flag("to", "EP", "send: the service's requests endpoint, e.g. tcp://127.0.0.1:7400", o.to),
    real_flag(
      "speed", "X", "send: keep the recorded pace, X times faster; 0.5 is half speed", o.speed,
      [](double x) { return x > 0; }, "a positive number (2 = twice the recorded pace)",
      "; use --max for no pacing at all"),
    switch_flag("max",
                "send: as fast as the service answers; runs of submits go as batches of up to "
                "100",
                o.max),
    // ZeroMQ queues up to 1000 messages per connection before send() blocks,
    // and a blocked send would never time out: the window stays below that.
    whole_flag("window", "N", "send: requests in flight, 1..1000", o.window, 1, 1000),
    whole_flag("timeout-ms", "N",
               "send: give up (exit 3) when the service has not answered for this long",
               o.timeout_ms, 1, 3'600'000),
    text_flag("curve-server-key", "KEY|FILE",
              "send: the service's CURVE public key (40 Z85 characters) or a file holding it, "
              "for a service started with --curve-secret",
              o.curve_server_key),
    text_flag("curve-key", "FILE",
              "send: this client's CURVE secret key file (`lbctl keygen NAME` writes NAME.key); "
              "its public key must be in the service's --writers or --admins file",
              o.curve_key),
    switch_flag("force",
                "send: even into a service that already holds events (without it, send "
                "refuses one whose stats seq is above 0)",
                o.force),
    help_flag(),
  };
}

struct command {
  const char* name;
  int (*run)(const rp::options&);
  std::vector<std::string> flags; // the flags it takes besides --json
};

const std::vector<command> commands = {
  {"inspect", rp::run_inspect, {}},
  {"rebuild", rp::run_rebuild, {"board", "until-seq", "top", "season"}},
  {"send",
   rp::run_send,
   {"to", "speed", "max", "board", "from-seq", "until-seq", "window", "timeout-ms",
    "curve-server-key", "curve-key", "force"}},
};

// The command that the command line names, checked against the flags given
// and they against each other; throws usage_error.
const command& checked_command(const lb::tools::flag_parser& flags, const rp::options& o) {
  const auto& positional = flags.positional();
  if (positional.empty())
    throw rp::usage_error("no command given: inspect, rebuild or send");
  const command* cmd = nullptr;
  for (const auto& c : commands)
    if (positional[0] == c.name)
      cmd = &c;
  if (cmd == nullptr)
    throw rp::usage_error("unknown command '" + positional[0] + "': inspect, rebuild or send");
  for (const auto& name : flags.given())
    if (name != "json" && std::find(cmd->flags.begin(), cmd->flags.end(), name) == cmd->flags.end())
      throw rp::usage_error("--" + name + " does not apply to " + cmd->name);
  if (auto why = lb::schemas::check_board_name(o.board); flags.given("board") && !why.empty())
    throw rp::usage_error("--board: " + why);
  if (flags.given("speed") && o.max)
    throw rp::usage_error("--speed and --max exclude each other: pick one");
  if (o.from_seq > o.until_seq)
    throw rp::usage_error("--from-seq " + std::to_string(o.from_seq) + " is past --until-seq "
                          + std::to_string(o.until_seq) + ": nothing would be sent");
  return *cmd;
}

} // namespace

int main(int argc, char** argv) {
  rp::options o;
  lb::tools::flag_parser flags{
    "lb-replay",
    intro,
    {{"options (--name=value or --name value, before or after the command):", flag_table(o)}},
    outro};
  if (auto rc = flags.parse(argc, argv))
    return *rc;
  try {
    const auto& cmd = checked_command(flags, o);
    o.logs.assign(flags.positional().begin() + 1, flags.positional().end());
    return cmd.run(o);
  } catch (const rp::usage_error& e) {
    std::cerr << "lb-replay: " << e.what() << "\n(see lb-replay --help)\n";
    return rp::exit_usage;
  } catch (const lb::storage::storage_error& e) {
    std::cerr << "lb-replay: " << e.what() << '\n';
    return rp::exit_failed;
  } catch (const std::exception& e) { // a file system error, or out of memory
    std::cerr << "lb-replay: " << e.what() << '\n';
    return rp::exit_failed;
  }
}
