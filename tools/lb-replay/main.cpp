// lb-replay: reads lbd's event log offline (docs/EVENT-LOG.md). `inspect`
// checks it, `rebuild` computes the state it describes and that state's
// digest, `send` re-publishes its events to a running leaderboardd.
//
// Exit codes: 0 ok; 1 damage found, error replies, or a log that cannot be
// read; 2 a bad command line; 3 the service stopped answering.
#include <iostream>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "actors/storage/log_files.hpp"
#include "schemas/types.hpp"
#include "tools/common/flags.hpp"
#include "tools/common/numbers.hpp"
#include "tools/lb-replay/common.hpp"

namespace {

namespace rp = lb::replay;

const char* usage = R"(usage: lb-replay COMMAND LOG... [options]

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
  rebuild LOG... [--board=B] [--until-seq=N] [--top=N]
                      rebuilds the state in this process and prints its
                      digest (the one `lbctl stats` shows for the same data)
                      and each board's top N. A folder starts from its
                      snapshot, as leaderboardd does; files from their first
                      event
  send LOG... --to=EP [--speed=X | --max] [--board=B] [--from-seq=N]
       [--until-seq=N] [--window=N] [--timeout-ms=N]
                      re-publishes the events in seq order over one
                      connection, so the service applies them in the log's
                      order. Send into a service with an empty --data folder
                      to reproduce the log's state

options (--name=value or --name value, before or after the command):
  --json              print one JSON document on stdout instead of text
  --board=B           only this board's events
  --until-seq=N       only events with seq <= N
  --from-seq=N        send: only events with seq >= N
  --top=N             rebuild: entries shown per board (0..1000, default 10)
  --to=EP             send: the service's requests endpoint, e.g. tcp://127.0.0.1:7400
  --speed=X           send: keep the recorded pace, X times faster (default 1;
                      0.5 is half speed)
  --max               send: as fast as the service answers; runs of submits
                      go as batches of up to 100
  --window=N          send: requests in flight (1..1000, default 256)
  --timeout-ms=N      send: give up (exit 3) when the service has not
                      answered for this long (default 5000)
  --help              this text

exit codes: 0 ok; 1 damage found (inspect), error replies (send), or a log
that cannot be read; 2 bad command line; 3 the service stopped answering.

examples:
  lb-replay inspect ./data
  lb-replay rebuild ./data --board=arena --top=3
  lb-replay rebuild data/events-00000000000000000001.log --until-seq=5000 --json
  lb-replay send ./data --to=tcp://127.0.0.1:7500 --max
)";

// flag_parser keeps a flag's value as text, and argv never holds a NUL, so a
// lone NUL marks a flag that was not given.
const std::string not_given(1, '\0');

struct command {
  const char* name;
  int (*run)(const rp::options&);
  std::vector<std::string> flags; // the flags it takes besides --json
};

const std::vector<command> commands = {
  {"inspect", rp::run_inspect, {}},
  {"rebuild", rp::run_rebuild, {"board", "until-seq", "top"}},
  {"send",
   rp::run_send,
   {"to", "speed", "max", "board", "from-seq", "until-seq", "window", "timeout-ms"}},
};

uint64_t parse_u64(const std::string& text, const std::string& flag, uint64_t min, uint64_t max) {
  if (auto x = lb::tools::parse_whole(text, min, max))
    return *x;
  throw rp::usage_error("--" + flag + " "
                        + lb::tools::expects(lb::tools::whole_number(min, max), text));
}

double parse_speed(const std::string& text) {
  if (auto x = lb::tools::parse_real(text); x && *x > 0)
    return *x;
  throw rp::usage_error(
    "--speed " + lb::tools::expects("a positive number (2 = twice the recorded pace)", text)
    + "; use --max for no pacing at all");
}

// Fills `o` from the flags given, checking each against the command.
void apply_flags(const command& cmd, const std::map<std::string, std::string>& values, bool max,
                 rp::options& o) {
  auto takes = [&](const std::string& f) {
    for (const auto& g : cmd.flags)
      if (g == f)
        return true;
    return false;
  };
  for (const auto& [name, value] : values)
    if (value != not_given && !takes(name))
      throw rp::usage_error("--" + name + " does not apply to " + cmd.name);
  if (max && !takes("max"))
    throw rp::usage_error(std::string("--max does not apply to ") + cmd.name);
  auto given = [&](const char* name) -> std::optional<std::string> {
    const auto& v = values.at(name);
    return v == not_given ? std::nullopt : std::optional<std::string>(v);
  };
  const uint64_t u64_max = std::numeric_limits<uint64_t>::max();
  if (auto v = given("board")) {
    if (auto why = lb::schemas::check_board_name(*v); !why.empty())
      throw rp::usage_error("--board: " + why);
    o.board = *v;
  }
  if (auto v = given("until-seq"))
    o.until_seq = parse_u64(*v, "until-seq", 0, u64_max);
  if (auto v = given("from-seq"))
    o.from_seq = parse_u64(*v, "from-seq", 0, u64_max);
  if (auto v = given("top"))
    o.top = parse_u64(*v, "top", 0, lb::schemas::max_top_limit);
  if (auto v = given("to"))
    o.to = *v;
  // ZeroMQ queues up to 1000 messages per connection before send() blocks,
  // and a blocked send would never time out: the window stays below that.
  if (auto v = given("window"))
    o.window = parse_u64(*v, "window", 1, 1000);
  if (auto v = given("timeout-ms"))
    o.timeout_ms = parse_u64(*v, "timeout-ms", 1, 3'600'000);
  if (auto v = given("speed")) {
    if (max)
      throw rp::usage_error("--speed and --max exclude each other: pick one");
    o.speed = parse_speed(*v);
  }
  o.max = max;
  if (o.from_seq > o.until_seq)
    throw rp::usage_error("--from-seq " + std::to_string(o.from_seq) + " is past --until-seq "
                          + std::to_string(o.until_seq) + ": nothing would be sent");
}

} // namespace

int main(int argc, char** argv) {
  rp::options o;
  bool max = false;
  std::map<std::string, std::string> values;
  lb::tools::flag_parser flags{"lb-replay", usage};
  flags.add_switch("json", o.json);
  flags.add_switch("max", max);
  for (const char* name :
       {"board", "until-seq", "from-seq", "top", "to", "speed", "window", "timeout-ms"})
    flags.add(name, values.emplace(name, not_given).first->second);
  if (auto rc = flags.parse(argc, argv))
    return *rc;

  try {
    const auto& positional = flags.positional();
    if (positional.empty())
      throw rp::usage_error("no command given: inspect, rebuild or send");
    const command* cmd = nullptr;
    for (const auto& c : commands)
      if (positional[0] == c.name)
        cmd = &c;
    if (cmd == nullptr)
      throw rp::usage_error("unknown command '" + positional[0] + "': inspect, rebuild or send");
    apply_flags(*cmd, values, max, o);
    o.logs.assign(positional.begin() + 1, positional.end());
    return cmd->run(o);
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
