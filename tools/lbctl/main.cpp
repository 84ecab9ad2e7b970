// lbctl: a command-line client for leaderboardd, for trying the service in a
// terminal and for scripts (--json). One run sends one request on a DEALER
// socket and prints its reply (PROTOCOL.md section 3), or, with `watch`,
// follows a board's update streams on a SUB socket (section 5).
//
// Exit codes: 0 success, 1 an error reply (or one lbctl cannot read), 2 a bad
// command line, 3 no reply within the timeout.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack.hpp>
#include <zmq.hpp>

#include "schemas/json.hpp"
#include "schemas/request.hpp"
#include "schemas/types.hpp"
#include "tools/common/flags.hpp"
#include "tools/common/msgpack_map.hpp"
#include "tools/common/numbers.hpp"
#include "tools/common/table.hpp"
#include "tools/common/term_text.hpp"
#include "transport/client.hpp"

namespace {

namespace sch = lb::schemas;
using lb::tools::count;
using lb::tools::find_key;
using lb::tools::hex_text;
using lb::tools::printable;
using lb::tools::table;

const char* usage = R"(usage: lbctl [options] COMMAND ARGS...

Command-line client for leaderboardd: sends one request, prints the reply.

commands:
  submit BOARD PLAYER SCORE [--subscore=N] [--meta=TEXT]
                      record a score (SCORE and N are int64; subscore breaks
                      ties); prints the entry as stored and its rank
  rank BOARD PLAYER [--exact]
                      a player's entry and rank; --exact waits until every
                      event acknowledged so far is counted
  top BOARD [--limit=N] [--offset=N]
                      the best entries (limit 1..1000, default 10)
  around BOARD PLAYER [--radius=N]
                      a player and N neighbours each side (0..100, default 5)
  ranks BOARD PLAYER...
                      the given players (a friends list), best first
  remove BOARD PLAYER delete a player's entry
  reset BOARD         empty a board; its configuration stays
  configure BOARD [--order=desc|asc] [--operator=best|set|incr|decr]
                      how a board ranks (desc: higher is better) and combines
                      a new score with the stored one; only while the board
                      is empty. A new board starts as desc, best
  boards              every board with its size, order and operator
  stats               sequence number, state digest, shards, merge age,
                      update stream counters
  ping                check that the service answers
  watch BOARD [--player=P] [--raw]
                      follow the board live until Ctrl-C: a top table that
                      redraws on every top/ update; --player: that player's
                      rank changes, one per line; --raw: every top/, rank/
                      and score/ message of the board, one per line

options (--name=value or --name value, before or after the command):
  --endpoint=EP       the service's requests socket (default tcp://127.0.0.1:7400)
  --updates=EP        the service's updates socket, for watch
                      (default tcp://127.0.0.1:7402)
  --json              print the reply as one line of JSON (watch: each
                      message as {"topic": ..., "body": ...})
  --timeout-ms=N      how long to wait for the reply (default 5000)
  --help              this text

exit codes: 0 ok, 1 the service replied with an error, 2 bad command line,
3 no reply within the timeout.

example session:
  $ lbctl submit arena alice 120 --meta="level 7"
  alice on arena: score 120, rank 1 of 1 (new), seq 1
  $ lbctl submit arena bob 150
  bob on arena: score 150, rank 1 of 2 (new), seq 2
  $ lbctl submit arena alice 110
  alice on arena: score 120 (unchanged), rank 2 of 2, seq 3
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
  ladder: order asc, operator set, seq 4
  $ lbctl watch arena --player=alice
  alice on arena: rank 2 (was 1), score 120, seq 5
)";

const char* default_endpoint = "tcp://127.0.0.1:7400";
const char* default_updates = "tcp://127.0.0.1:7402";

// A command line lbctl cannot send: exit code 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A reply that breaks the protocol: exit code 1.
struct bad_reply : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// flag_parser stores a flag's value as text, and argv never holds a NUL, so
// a lone NUL marks a flag that was not given (while --meta= still means an
// empty meta).
const std::string not_given(1, '\0');

struct options {
  std::string endpoint = default_endpoint;
  std::string updates = default_updates;
  bool json = false;
  uint64_t timeout_ms = 5000;
  bool exact = false;
  bool raw = false;
  std::map<std::string, std::string> values; // the commands' valued flags

  std::optional<std::string> value(const std::string& name) const {
    const auto& v = values.at(name);
    return v == not_given ? std::nullopt : std::optional<std::string>(v);
  }
};

// A number on the command line, in the flag parser's wording.
template <class T>
T parse_number(const std::string& text, const std::string& what, T min, T max) {
  if (auto x = lb::tools::parse_whole(text, min, max))
    return *x;
  throw usage_error(what + " " + lb::tools::expects(lb::tools::whole_number(min, max), text));
}

int64_t parse_int64(const std::string& text, const std::string& what) {
  return parse_number(text, what, std::numeric_limits<int64_t>::min(),
                      std::numeric_limits<int64_t>::max());
}

// ---------------------------------------------------------------- replies

template <class T>
T get(const msgpack::object& map, std::string_view key) {
  const auto* v = find_key(map, key);
  if (v == nullptr)
    throw bad_reply("no '" + std::string(key) + "'");
  try {
    return v->as<T>();
  } catch (const msgpack::type_error&) {
    throw bad_reply("'" + std::string(key) + "' has the wrong type");
  }
}

const msgpack::object& get_array(const msgpack::object& map, std::string_view key) {
  const auto* v = find_key(map, key);
  if (v == nullptr || v->type != msgpack::type::ARRAY)
    throw bad_reply("no '" + std::string(key) + "' array");
  return *v;
}

const msgpack::object& get_map(const msgpack::object& map, std::string_view key) {
  const auto* v = find_key(map, key);
  if (v == nullptr || v->type != msgpack::type::MAP)
    throw bad_reply("no '" + std::string(key) + "' map");
  return *v;
}

// Every element, map entry and str/bin byte takes at least one byte of the
// frame, so limits equal to its size refuse only frames whose headers claim
// more than they hold, before the parser allocates for them.
msgpack::object_handle unpack_reply(const std::string& frame) {
  const std::size_t n = frame.size();
  msgpack::unpack_limit limit(n, n, n, n, n, sch::max_nesting_depth);
  std::size_t offset = 0;
  auto handle = msgpack::unpack(frame.data(), n, offset, nullptr, nullptr, limit);
  if (offset != n)
    throw bad_reply("trailing bytes after the reply");
  if (handle.get().type != msgpack::type::MAP)
    throw bad_reply("not a map");
  return handle;
}

// Any reply value as one line of text; bin (a meta sent as bytes) in hex.
std::string text(const msgpack::object& v) {
  switch (v.type) {
    case msgpack::type::NIL:
      return "";
    case msgpack::type::BOOLEAN:
      return v.via.boolean ? "true" : "false";
    case msgpack::type::POSITIVE_INTEGER:
      return std::to_string(v.via.u64);
    case msgpack::type::NEGATIVE_INTEGER:
      return std::to_string(v.via.i64);
    case msgpack::type::STR:
      return printable({v.via.str.ptr, v.via.str.size});
    case msgpack::type::BIN:
      return hex_text({v.via.bin.ptr, v.via.bin.size});
    default: {
      std::ostringstream s;
      s << v;
      return printable(s.str());
    }
  }
}

// A key every reply of its kind has, as display text.
std::string text_at(const msgpack::object& map, std::string_view key) {
  const auto* v = find_key(map, key);
  if (v == nullptr)
    throw bad_reply("no '" + std::string(key) + "'");
  return text(*v);
}

// ---------------------------------------------------------------- commands

// What a command's printer gets besides the reply.
struct call {
  const std::vector<std::string>& args;
  const options& opts;
  double round_trip_ms;
};

void print_submit(const msgpack::object& r, const call&) {
  std::cout << text_at(r, "player") << " on " << text_at(r, "board") << ": score "
            << get<int64_t>(r, "score");
  if (auto sub = get<int64_t>(r, "subscore"); sub != 0)
    std::cout << " (subscore " << sub << ")";
  const bool changed = get<bool>(r, "changed");
  if (!changed)
    std::cout << " (unchanged)";
  std::cout << ", rank " << get<uint64_t>(r, "rank") << " of " << get<uint64_t>(r, "total");
  const auto* prev = find_key(r, "prev_rank");
  if (prev == nullptr || prev->is_nil())
    std::cout << " (new)";
  else if (changed)
    std::cout << " (was " << text(*prev) << ")";
  std::cout << ", seq " << get<uint64_t>(r, "seq") << '\n';
}

void print_rank(const msgpack::object& r, const call&) {
  std::cout << "board: " << text_at(r, "board") << '\n'
            << "player: " << text_at(r, "player") << '\n'
            << "rank: " << get<uint64_t>(r, "rank") << " of " << get<uint64_t>(r, "total") << '\n'
            << "score: " << get<int64_t>(r, "score") << '\n'
            << "subscore: " << get<int64_t>(r, "subscore") << '\n';
  if (const auto* meta = find_key(r, "meta"); meta != nullptr && !meta->is_nil())
    std::cout << "meta: " << text(*meta) << '\n';
}

// top, around and ranks share one reply shape.
void print_entries(const msgpack::object& r, const call&) {
  const auto& entries = get_array(r, "entries");
  std::cout << text_at(r, "board") << ": " << count(get<uint64_t>(r, "total"), "entry", "entries")
            << '\n';
  if (entries.via.array.size == 0) {
    std::cout << "(none in this range)\n";
    return;
  }
  table t({"RANK", "PLAYER", "SCORE", "SUBSCORE", "META"}, {true, false, true, true, false});
  for (uint32_t i = 0; i < entries.via.array.size; ++i) {
    const auto& e = entries.via.array.ptr[i];
    if (e.type != msgpack::type::MAP)
      throw bad_reply("an entry is not a map");
    t.add({std::to_string(get<uint64_t>(e, "rank")), text_at(e, "player"),
           std::to_string(get<int64_t>(e, "score")), std::to_string(get<int64_t>(e, "subscore")),
           text_at(e, "meta")});
  }
  std::cout << t.render();
}

// The service leaves out players not on the board; say which, so that a
// typo in a name does not go unnoticed.
void print_ranks(const msgpack::object& r, const call& c) {
  print_entries(r, c);
  const auto& entries = get_array(r, "entries");
  std::string missing;
  for (auto player = c.args.begin() + 1; player != c.args.end(); ++player) {
    bool found = false;
    for (uint32_t i = 0; i < entries.via.array.size && !found; ++i)
      found = get<std::string>(entries.via.array.ptr[i], "player") == *player;
    if (!found)
      missing += (missing.empty() ? "" : ", ") + printable(*player);
  }
  if (!missing.empty())
    std::cout << "not on " << printable(c.args[0]) << ": " << missing << '\n';
}

void print_remove(const msgpack::object& r, const call& c) {
  const auto board = printable(c.args[0]), player = printable(c.args[1]);
  if (get<bool>(r, "removed"))
    std::cout << "removed " << player << " from " << board;
  else
    std::cout << player << " was not on " << board << ": nothing removed";
  std::cout << ", seq " << get<uint64_t>(r, "seq") << '\n';
}

void print_reset(const msgpack::object& r, const call& c) {
  std::cout << "reset " << printable(c.args[0]) << ": "
            << count(get<uint64_t>(r, "removed"), "entry", "entries") << " removed, seq "
            << get<uint64_t>(r, "seq") << '\n';
}

void print_configure(const msgpack::object& r, const call&) {
  std::cout << text_at(r, "board") << ": order " << text_at(r, "order") << ", operator "
            << text_at(r, "operator") << ", seq " << get<uint64_t>(r, "seq") << '\n';
}

void print_boards(const msgpack::object& r, const call&) {
  const auto& boards = get_array(r, "boards");
  if (boards.via.array.size == 0) {
    std::cout << "no boards yet\n";
    return;
  }
  table t({"BOARD", "ENTRIES", "ORDER", "OPERATOR"}, {false, true, false, false});
  for (uint32_t i = 0; i < boards.via.array.size; ++i) {
    const auto& b = boards.via.array.ptr[i];
    if (b.type != msgpack::type::MAP)
      throw bad_reply("a board is not a map");
    t.add({text_at(b, "board"), std::to_string(get<uint64_t>(b, "total")), text_at(b, "order"),
           text_at(b, "operator")});
  }
  std::cout << t.render();
}

// The protocol lets stats grow ("whatever else helps an operator"), so keys
// beyond merge and shards are shown as they come.
void print_stats(const msgpack::object& r, const call&) {
  for (uint32_t i = 0; i < r.via.map.size; ++i) {
    const auto& kv = r.via.map.ptr[i];
    const auto key = text(kv.key);
    if (key != "ok" && key != "id" && key != "merge" && key != "shards")
      std::cout << key << ": " << text(kv.val) << '\n';
  }
  const auto& merge = get_map(r, "merge");
  std::cout << "merge: every " << get<uint64_t>(merge, "interval_ms") << " ms, last at seq "
            << get<uint64_t>(merge, "last_merge_seq") << ", " << get<uint64_t>(merge, "age_ms")
            << " ms ago\n";
  const auto& shards = get_array(r, "shards");
  table t({"SHARD", "ENTRIES", "MAILBOX"}, {true, true, true});
  for (uint32_t i = 0; i < shards.via.array.size; ++i) {
    const auto& s = shards.via.array.ptr[i];
    if (s.type != msgpack::type::MAP)
      throw bad_reply("a shard is not a map");
    t.add({std::to_string(get<uint64_t>(s, "shard")), std::to_string(get<uint64_t>(s, "entries")),
           std::to_string(get<uint64_t>(s, "mailbox"))});
  }
  std::cout << t.render();
}

void print_pong(const msgpack::object&, const call& c) {
  std::ostringstream ms;
  ms.precision(2);
  ms << std::fixed << c.round_trip_ms;
  std::cout << "pong from " << c.opts.endpoint << " in " << ms.str() << " ms\n";
}

struct command {
  std::string name;
  std::string synopsis;           // arguments and flags, for messages
  std::size_t min_args, max_args; // positionals after the command
  std::vector<std::string> flags; // the flags it takes beyond the global ones
  sch::request_body (*build)(const std::vector<std::string>& args, const options& o);
  void (*print)(const msgpack::object& reply, const call& c);

  bool takes(const std::string& flag) const {
    return std::find(flags.begin(), flags.end(), flag) != flags.end();
  }
};

// Board and player names go to the service unchecked, so that people see
// its own verdict on them.
const std::vector<command> commands = {
  {"submit",
   "BOARD PLAYER SCORE [--subscore=N] [--meta=TEXT]",
   3,
   3,
   {"subscore", "meta"},
   [](const auto& a, const auto& o) -> sch::request_body {
     sch::submit_req r{a[0], a[1], parse_int64(a[2], "SCORE"), 0, std::nullopt};
     if (auto sub = o.value("subscore"))
       r.subscore = parse_int64(*sub, "--subscore");
     if (auto meta = o.value("meta"))
       r.meta = sch::meta_value{*meta, false};
     return r;
   },
   print_submit},
  {"rank",
   "BOARD PLAYER [--exact]",
   2,
   2,
   {"exact"},
   [](const auto& a, const auto& o) -> sch::request_body {
     return sch::rank_req{a[0], a[1], o.exact};
   },
   print_rank},
  {"top",
   "BOARD [--limit=N] [--offset=N]",
   1,
   1,
   {"limit", "offset"},
   [](const auto& a, const auto& o) -> sch::request_body {
     sch::top_req r{a[0]};
     if (auto limit = o.value("limit"))
       r.limit = parse_number<uint32_t>(*limit, "--limit", 1, sch::max_top_limit);
     if (auto offset = o.value("offset"))
       r.offset = parse_number<uint64_t>(*offset, "--offset", 0,
                                         std::numeric_limits<uint64_t>::max());
     return r;
   },
   print_entries},
  {"around",
   "BOARD PLAYER [--radius=N]",
   2,
   2,
   {"radius"},
   [](const auto& a, const auto& o) -> sch::request_body {
     sch::around_req r{a[0], a[1]};
     if (auto radius = o.value("radius"))
       r.radius = parse_number<uint32_t>(*radius, "--radius", 0, sch::max_radius);
     return r;
   },
   print_entries},
  {"ranks",
   "BOARD PLAYER...",
   2,
   std::numeric_limits<std::size_t>::max(),
   {},
   [](const auto& a, const auto&) -> sch::request_body {
     return sch::ranks_req{a[0], {a.begin() + 1, a.end()}};
   },
   print_ranks},
  {"remove",
   "BOARD PLAYER",
   2,
   2,
   {},
   [](const auto& a, const auto&) -> sch::request_body {
     return sch::remove_req{a[0], a[1]};
   },
   print_remove},
  {"reset",
   "BOARD",
   1,
   1,
   {},
   [](const auto& a, const auto&) -> sch::request_body { return sch::reset_req{a[0]}; },
   print_reset},
  {"configure",
   "BOARD [--order=desc|asc] [--operator=best|set|incr|decr]",
   1,
   1,
   {"order", "operator"},
   [](const auto& a, const auto& o) -> sch::request_body {
     sch::configure_req r{a[0], std::nullopt, std::nullopt};
     if (auto order = o.value("order"); order && !(r.order = sch::parse_board_order(*order)))
       throw usage_error("--order expects desc or asc, got '" + *order + "'");
     if (auto op = o.value("operator"); op && !(r.op = sch::parse_score_operator(*op)))
       throw usage_error("--operator expects best, set, incr or decr, got '" + *op + "'");
     return r;
   },
   print_configure},
  {"boards",
   "no arguments",
   0,
   0,
   {},
   [](const auto&, const auto&) -> sch::request_body { return sch::boards_req{}; },
   print_boards},
  {"stats",
   "no arguments",
   0,
   0,
   {},
   [](const auto&, const auto&) -> sch::request_body { return sch::stats_req{}; },
   print_stats},
  {"ping",
   "no arguments",
   0,
   0,
   {},
   [](const auto&, const auto&) -> sch::request_body { return sch::ping_req{}; },
   print_pong},
  // Not one request: run_watch follows the update streams instead.
  {"watch", "BOARD [--player=P] [--raw]", 1, 1, {"player", "raw"}, nullptr, nullptr},
};

const command& find_command(const std::string& name) {
  for (const auto& c : commands)
    if (c.name == name)
      return c;
  throw usage_error("unknown command '" + name + "'");
}

// The checks a command line gets before anything is sent.
void check_usage(const command& cmd, const std::vector<std::string>& args, const options& o) {
  if (args.size() < cmd.min_args || args.size() > cmd.max_args)
    throw usage_error(cmd.name + " expects " + cmd.synopsis + ", got "
                      + count(args.size(), "argument", "arguments"));
  // All flags share one parser; a flag meant for another command would
  // otherwise be silently ignored.
  for (const auto& [name, value] : o.values)
    if (value != not_given && !cmd.takes(name))
      throw usage_error("--" + name + " does not apply to " + cmd.name);
  if (o.exact && !cmd.takes("exact"))
    throw usage_error("--exact does not apply to " + cmd.name);
  if (o.raw && !cmd.takes("raw"))
    throw usage_error("--raw does not apply to " + cmd.name);
}

// Sends the request and prints the reply; returns the exit code.
int run(const command& cmd, const std::vector<std::string>& args, const options& o) {
  const auto body = cmd.build(args, o);
  // Random, so that a reply meant for another request cannot pass the check.
  const uint64_t id = std::random_device{}();
  const std::chrono::milliseconds timeout(o.timeout_ms);

  zmq::context_t ctx;
  std::optional<lb::transport::request_client> client;
  try {
    client.emplace(ctx, o.endpoint);
  } catch (const zmq::error_t& e) {
    throw usage_error("--endpoint '" + o.endpoint + "': " + e.what() + " (expected e.g. "
                      + default_endpoint + ")");
  }
  const auto start = std::chrono::steady_clock::now();
  const auto frame = client->call(sch::encode_request(id, body), timeout);
  const std::chrono::duration<double, std::milli> round_trip = std::chrono::steady_clock::now()
                                                               - start;
  if (!frame) {
    std::cerr << "no reply from " << o.endpoint << " within " << o.timeout_ms
              << " ms: is leaderboardd running? (start it with: leaderboardd --requests="
              << o.endpoint << ")\n";
    return 3;
  }

  try {
    const auto handle = unpack_reply(*frame);
    const auto& reply = handle.get();
    if (const auto got = get<uint64_t>(reply, "id"); got != id)
      throw bad_reply("its id is " + std::to_string(got) + ", the request's " + std::to_string(id));
    if (o.json)
      std::cout << sch::msgpack_to_json(frame->data(), frame->size()) << '\n';
    if (!get<bool>(reply, "ok")) {
      const auto& err = get_map(reply, "error");
      std::cerr << "error: " << text_at(err, "code") << ": " << text_at(err, "message") << '\n';
      return 1;
    }
    if (!o.json)
      cmd.print(reply, {args, o, round_trip.count()});
    return 0;
  } catch (const std::exception& e) { // bad_reply, or msgpack's own errors
    std::cerr << "lbctl: unreadable reply from " << o.endpoint << ": " << e.what() << '\n';
    return 1;
  }
}

// ---------------------------------------------------------------- watch

volatile std::sig_atomic_t interrupted = 0;

void on_interrupt(int) {
  interrupted = 1;
}

// A JSON string, escaped as the replies' strings are.
std::string json_string(const std::string& s) {
  msgpack::sbuffer b;
  msgpack::packer<msgpack::sbuffer>(b).pack(s);
  return sch::msgpack_to_json(b.data(), b.size());
}

std::string rank_text(const msgpack::object& v) {
  return v.is_nil() ? "none" : text(v);
}

std::string clock_now() {
  auto t = std::time(nullptr);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", std::localtime(&t));
  return buf;
}

// One line per rank/ message: what a player's rank did.
void print_rank_change(const msgpack::object& b) {
  const auto* rank = find_key(b, "rank");
  const auto* prev = find_key(b, "prev_rank");
  if (rank == nullptr || prev == nullptr)
    throw bad_reply("no 'rank' or 'prev_rank'");
  std::cout << text_at(b, "player") << " on " << text_at(b, "board") << ": ";
  if (rank->is_nil())
    std::cout << "removed (was rank " << rank_text(*prev) << ")";
  else
    std::cout << "rank " << text(*rank)
              << (prev->is_nil() ? std::string(" (new)") : " (was " + text(*prev) + ")")
              << ", score " << get<int64_t>(b, "score");
  if (auto sub = get<int64_t>(b, "subscore"); sub != 0)
    std::cout << " (subscore " << sub << ")";
  std::cout << ", seq " << get<uint64_t>(b, "seq") << '\n';
}

void print_raw(std::string_view kind, const msgpack::object& b) {
  if (kind == "top") {
    const auto& entries = get_array(b, "entries");
    std::cout << "top " << text_at(b, "board") << ": seq " << get<uint64_t>(b, "seq") << ", "
              << count(get<uint64_t>(b, "total"), "entry", "entries");
    for (uint32_t i = 0; i < entries.via.array.size; ++i) {
      const auto& e = entries.via.array.ptr[i];
      if (e.type != msgpack::type::MAP)
        throw bad_reply("an entry is not a map");
      std::cout << (i == 0 ? ": " : ", ") << get<uint64_t>(e, "rank") << ' ' << text_at(e, "player")
                << ' ' << get<int64_t>(e, "score");
    }
    std::cout << '\n';
  } else if (kind == "rank") {
    std::cout << "rank ";
    print_rank_change(b);
  } else {
    std::cout << "score " << text_at(b, "board") << ' ' << text_at(b, "player") << ": "
              << get<int64_t>(b, "score") << '/' << get<int64_t>(b, "subscore") << ", seq "
              << get<uint64_t>(b, "seq") << '\n';
  }
}

// The live table: the screen cleared and redrawn (ANSI: cursor home, erase).
void draw_table(const msgpack::object& top, const std::string& board, const options& o,
                const std::string& note) {
  std::cout << "\x1b[H\x1b[2J";
  static const std::vector<std::string> no_args;
  print_entries(top, {no_args, o, 0});
  std::cout << '\n'
            << note << "; watching " << printable(board) << " on " << o.updates
            << " (Ctrl-C to stop)" << std::endl;
}

// Runs until Ctrl-C; returns the exit code.
int run_watch(const std::vector<std::string>& args, const options& o) {
  const auto& board = args[0];
  const auto player = o.value("player");
  const bool lines = player || o.raw || o.json;
  std::vector<std::string> topics;
  if (player)
    topics = {"rank/" + board + "/" + *player};
  else if (lines)
    topics = {"top/" + board + "/", "rank/" + board + "/", "score/" + board + "/"};
  else
    topics = {"top/" + board + "/"};

  struct sigaction sa {};
  sa.sa_handler = on_interrupt; // no SA_RESTART: a blocked poll returns at once
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  zmq::context_t ctx;
  std::optional<lb::transport::update_subscriber> sub;
  try {
    sub.emplace(ctx, o.updates, topics);
  } catch (const zmq::error_t& e) {
    throw usage_error("--updates '" + o.updates + "': " + e.what() + " (expected e.g. "
                      + default_updates + ")");
  }

  if (!lines) {
    // Until the board's top K next changes, show it as it is now.
    lb::transport::request_client client(ctx, o.endpoint);
    const uint64_t id = std::random_device{}();
    std::optional<std::string> frame;
    try {
      frame = client.call(sch::encode_request(id, sch::top_req{board}),
                          std::chrono::milliseconds(o.timeout_ms));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR)
        throw;
      return 0; // Ctrl-C before the service answered
    }
    std::string note = "no reply from " + o.endpoint + " yet; waiting for the first update";
    try {
      if (frame) {
        auto handle = unpack_reply(*frame);
        if (get<bool>(handle.get(), "ok")) {
          draw_table(handle.get(), board, o, "as of " + clock_now());
          note.clear();
        } else {
          note = "error: " + text_at(get_map(handle.get(), "error"), "message")
                 + "; waiting for the first update";
        }
      }
    } catch (const std::exception& e) {
      note = std::string("unreadable reply: ") + e.what();
    }
    if (!note.empty())
      std::cout << note << " on " << o.updates << " (Ctrl-C to stop)" << std::endl;
  }

  while (!interrupted) {
    std::optional<lb::transport::update_message> m;
    try {
      m = sub->receive(std::chrono::milliseconds(250));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR)
        continue;
      throw;
    }
    if (!m)
      continue;
    try {
      auto handle = unpack_reply(m->body);
      const auto& b = handle.get();
      // Prefix matching: rank/b/al also delivers rank/b/alice.
      if (player && get<std::string>(b, "player") != *player)
        continue;
      auto kind = std::string_view(m->topic).substr(0, m->topic.find('/'));
      if (o.json)
        std::cout << "{\"topic\":" << json_string(m->topic)
                  << ",\"body\":" << sch::msgpack_to_json(m->body.data(), m->body.size()) << "}"
                  << std::endl;
      else if (!lines)
        draw_table(b, board, o,
                   "seq " + std::to_string(get<uint64_t>(b, "seq")) + ", updated " + clock_now());
      else if (player)
        print_rank_change(b);
      else
        print_raw(kind, b);
      std::cout.flush(); // lines reach a pipe as they come
    } catch (const std::exception& e) {
      std::cerr << "lbctl: unreadable update on " << printable(m->topic) << ": " << e.what()
                << '\n';
    }
  }
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  options o;
  lb::tools::flag_parser flags{"lbctl", usage};
  flags.add("endpoint", o.endpoint);
  flags.add("updates", o.updates);
  flags.add_switch("json", o.json);
  flags.add_switch("raw", o.raw);
  flags.add("timeout-ms", o.timeout_ms, 1, 3'600'000);
  flags.add_switch("exact", o.exact);
  for (const char* name :
       {"subscore", "meta", "limit", "offset", "radius", "order", "operator", "player"})
    flags.add(name, o.values.emplace(name, not_given).first->second);
  if (auto rc = flags.parse(argc, argv))
    return *rc;

  try {
    const auto& positional = flags.positional();
    if (positional.empty())
      throw usage_error("no command given");
    const auto& cmd = find_command(positional[0]);
    const std::vector<std::string> args(positional.begin() + 1, positional.end());
    check_usage(cmd, args, o);
    return cmd.name == "watch" ? run_watch(args, o) : run(cmd, args, o);
  } catch (const usage_error& e) {
    std::cerr << "lbctl: " << e.what() << "\n(see lbctl --help)\n";
    return 2;
  }
}
