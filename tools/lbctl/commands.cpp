#include "tools/lbctl/commands.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <limits>
#include <optional>
#include <random>

#include <zmq.hpp>

#include "schemas/json.hpp"
#include "tools/common/numbers.hpp"
#include "tools/common/term_text.hpp"
#include "tools/lbctl/reply.hpp"
#include "transport/client.hpp"

namespace lb::lbctl {

namespace {

namespace sch = schemas;

int64_t parse_int64(const std::string& text, const std::string& what) {
  if (auto x = tools::parse_whole<int64_t>(text))
    return *x;
  throw usage_error(what + " "
                    + tools::expects(tools::whole_number(std::numeric_limits<int64_t>::min(),
                                                         std::numeric_limits<int64_t>::max()),
                                     text));
}

// A request whose flags options.hpp holds, for the board (and player) named
// by the arguments.
template <class Request>
sch::request_body for_board(Request r, const std::vector<std::string>& args) {
  r.board = args[0];
  return r;
}

template <class Request>
sch::request_body for_player(Request r, const std::vector<std::string>& args) {
  r.player = args[1];
  return for_board(std::move(r), args);
}

// Board and player names go to the service unchecked, so that people see
// its own verdict on them.
const std::vector<command> commands = {
  {"submit",
   "BOARD PLAYER SCORE [--subscore=N] [--meta=TEXT]",
   3,
   3,
   {"subscore", "meta"},
   [](const auto& a, const auto& o) {
     auto r = o.submit;
     r.score = parse_int64(a[2], "SCORE");
     if (o.meta)
       r.meta = sch::meta_value{*o.meta, false};
     return for_player(std::move(r), a);
   },
   print_submit},
  {"rank",
   "BOARD PLAYER [--merged] [--season=N]",
   2,
   2,
   {"merged", "season"},
   [](const auto& a, const auto& o) {
     sch::rank_req r;
     r.exact = !o.merged;
     r.season = o.season;
     return for_player(std::move(r), a);
   },
   print_rank},
  {"top",
   "BOARD [--limit=N] [--offset=N | --after=CURSOR] [--merged] [--season=N]",
   1,
   1,
   {"limit", "offset", "after", "merged", "season"},
   [](const auto& a, const auto& o) {
     auto r = o.top;
     r.exact = !o.merged;
     r.season = o.season;
     if (o.after) {
       if (r.offset != 0)
         throw usage_error("top takes --offset or --after, not both");
       r.after = sch::parse_top_cursor(*o.after);
       if (!r.after)
         throw usage_error("--after " + tools::printable(*o.after)
                           + " is not a top cursor: pass the next page's cursor as a top page "
                             "prints it");
     }
     return for_board(std::move(r), a);
   },
   print_entries},
  {"around",
   "BOARD PLAYER [--radius=N] [--merged] [--season=N]",
   2,
   2,
   {"radius", "merged", "season"},
   [](const auto& a, const auto& o) {
     auto r = o.around;
     r.exact = !o.merged;
     r.season = o.season;
     return for_player(std::move(r), a);
   },
   print_entries},
  {"ranks",
   "BOARD PLAYER... [--merged] [--season=N]",
   2,
   std::numeric_limits<std::size_t>::max(),
   {"merged", "season"},
   [](const auto& a, const auto& o) -> sch::request_body {
     return sch::ranks_req{a[0], {a.begin() + 1, a.end()}, !o.merged, o.season};
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
   "BOARD [--archive]",
   1,
   1,
   {"archive"},
   [](const auto& a, const auto& o) { return for_board(o.reset, a); },
   print_reset},
  {"configure",
   "BOARD [--order=desc|asc] [--operator=best|set|incr|decr] [--schedule=CRON] [--keep=N]",
   1,
   1,
   {"order", "operator", "schedule", "keep"},
   [](const auto& a, const auto& o) { return for_board(o.configure, a); },
   print_configure},
  {"seasons",
   "BOARD",
   1,
   1,
   {},
   [](const auto& a, const auto&) -> sch::request_body { return sch::seasons_req{a[0]}; },
   print_seasons},
  {"boards",
   "[--limit=N] [--after=NAME] [--all] [--merged]",
   0,
   0,
   {"limit", "after", "all", "merged"},
   [](const auto&, const auto& o) -> sch::request_body {
     auto r = o.boards;
     r.exact = !o.merged;
     r.after = o.after;
     return r;
   },
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
  // No request at all: run_keygen writes files.
  {"keygen", "NAME", 1, 1, {}, nullptr, nullptr},
};

// Why a CURVE setup may get no reply: a refused handshake is silent.
std::string curve_hint(const options& o) {
  if (o.curve_server_key.empty())
    return "(a service started with --curve-secret answers only CURVE clients: pass "
           "--curve-server-key and --curve-key)\n";
  return "(with CURVE, a service also stays silent when --curve-server-key is not its public "
         "key, or when it does not list "
         + (o.curve_key.empty() ? std::string("throwaway keys (it needs --readers=any)")
                                : "the public key of " + o.curve_key)
         + " in its key files)\n";
}

// A reply read and checked against its request's id; throws bad_reply (or
// msgpack's own errors) when it cannot be read.
msgpack::object_handle checked_reply(const std::string& frame, uint64_t id) {
  auto handle = unpack_reply(frame);
  if (const auto got = get<uint64_t>(handle.get(), "id"); got != id)
    throw bad_reply("its id is " + std::to_string(got) + ", the request's " + std::to_string(id));
  return handle;
}

std::string error_code(const msgpack::object& reply) {
  return get<bool>(reply, "ok") ? std::string() : text_at(get_map(reply, "error"), "code");
}

// Why a destructive command that the service accepted did nothing, for a
// typo to fail loudly rather than look like success; nothing when it did
// what it was asked.
std::optional<std::string> did_nothing(const command& cmd, const msgpack::object& reply,
                                       const std::vector<std::string>& args) {
  if (cmd.name == "remove" && !get<bool>(reply, "removed"))
    return tools::printable(args[1]) + " is not on board " + tools::printable(args[0]);
  return std::nullopt;
}

} // namespace

int run_keygen(const command_line& cl) {
  const auto& name = cl.positional.at(1);
  transport::curve_pair keys;
  try {
    keys = transport::make_curve_pair();
    transport::write_curve_pair(name, keys);
  } catch (const transport::key_error& e) {
    std::cerr << "lbctl: keygen: " << e.what() << '\n';
    return 1;
  }
  const auto secret_file = name + ".key", public_file = name + ".pub";
  if (cl.opts.json) {
    msgpack::sbuffer b;
    msgpack::packer<msgpack::sbuffer> p(b);
    p.pack_map(3);
    p.pack("public_key"), p.pack(keys.public_key);
    p.pack("secret_key_file"), p.pack(secret_file);
    p.pack("public_key_file"), p.pack(public_file);
    std::cout << sch::msgpack_to_json(b.data(), b.size()) << std::endl;
    return 0;
  }
  std::cout << "public key: " << keys.public_key << '\n'
            << "wrote " << secret_file << " (the secret key, mode 0600: keep it private) and "
            << public_file << '\n'
            << "for a client: list the key in " << public_file
            << " in leaderboardd's --writers, --admins or --readers file, and pass --curve-key="
            << secret_file << " to the client\n"
            << "for the service: leaderboardd --curve-secret=" << secret_file
            << ", and clients pass --curve-server-key=" << public_file << '\n';
  return 0;
}

bool command::takes(const std::string& flag) const {
  return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

const command& checked_command(const command_line& cl) {
  if (cl.positional.empty())
    throw usage_error("no command given");
  const auto& name = cl.positional[0];
  auto cmd = std::find_if(commands.begin(), commands.end(),
                          [&](const command& c) { return c.name == name; });
  if (cmd == commands.end())
    throw usage_error("unknown command '" + name + "'");
  const auto args = cl.positional.size() - 1;
  if (args < cmd->min_args || args > cmd->max_args)
    throw usage_error(cmd->name + " expects " + cmd->synopsis + ", got "
                      + tools::count(args, "argument", "arguments"));
  // All flags share one parser; a flag meant for another command would
  // otherwise be silently ignored.
  for (const auto& flag : cl.command_flags)
    if (!cmd->takes(flag))
      throw usage_error("--" + flag + " does not apply to " + cmd->name);
  return *cmd;
}

// Sends the request and prints the reply; returns the exit code. With
// `boards --all`, sends one request per page, each after the last page's
// `next`, until a page says it is the last: --json prints each page's reply
// as it comes (one line each), else one table is printed at the end.
int run_request(const command& cmd, const command_line& cl) {
  const auto& o = cl.opts;
  const std::vector<std::string> args(cl.positional.begin() + 1, cl.positional.end());
  auto body = cmd.build(args, o);
  const bool follow = cmd.name == "boards" && o.all;
  const std::chrono::milliseconds timeout(o.timeout_ms);

  const auto keys = client_keys_of(o);
  zmq::context_t ctx;
  std::optional<lb::transport::request_client> client;
  try {
    client.emplace(ctx, o.endpoint, keys);
  } catch (const zmq::error_t& e) {
    throw usage_error("--endpoint '" + o.endpoint + "': " + e.what() + " (expected e.g. "
                      + options{}.endpoint + ")");
  }
  // Random ids, so that a reply meant for another request cannot pass the check.
  std::random_device rng;
  auto no_reply = [&o] {
    std::cerr << "no reply from " << o.endpoint << " within " << o.timeout_ms
              << " ms: is leaderboardd running? (start it with: leaderboardd --requests="
              << o.endpoint << ")\n";
    std::cerr << curve_hint(o);
    return 3;
  };
  auto unreadable = [&o](const std::exception& e) {
    std::cerr << "lbctl: unreadable reply from " << o.endpoint << ": " << e.what() << '\n';
    return 1;
  };

  // The service takes `reset` and `remove` on a board it does not know as a
  // no-op (removed 0, or false): ask first, so that a mistyped name in a
  // destructive command says so instead of looking like success. An exact
  // `top` of one entry answers not_found for exactly the unknown boards.
  if (cmd.name == "reset" || cmd.name == "remove") {
    sch::top_req probe;
    probe.board = args[0];
    probe.limit = 1;
    const uint64_t id = rng();
    const auto frame = client->call(sch::encode_request(id, probe), timeout);
    if (!frame)
      return no_reply();
    try {
      const auto handle = checked_reply(*frame, id);
      if (error_code(handle.get()) == "not_found") {
        std::cerr << "nothing removed: there is no board " << tools::printable(args[0])
                  << " (lbctl boards lists them)\n";
        return 1;
      }
    } catch (const std::exception& e) {
      return unreadable(e);
    }
  }

  boards_listing listing;
  for (;;) {
    const uint64_t id = rng();
    const auto start = std::chrono::steady_clock::now();
    const auto frame = client->call(sch::encode_request(id, body), timeout);
    const std::chrono::duration<double, std::milli> round_trip = std::chrono::steady_clock::now()
                                                                 - start;
    if (!frame)
      return no_reply();

    try {
      const auto handle = checked_reply(*frame, id);
      const auto& reply = handle.get();
      if (o.json)
        std::cout << sch::msgpack_to_json(frame->data(), frame->size()) << std::endl;
      if (!get<bool>(reply, "ok")) {
        const auto& err = get_map(reply, "error");
        std::cerr << "error: " << text_at(err, "code") << ": " << text_at(err, "message") << '\n';
        return 1;
      }
      if (auto why = did_nothing(cmd, reply, args)) {
        std::cerr << "nothing removed: " << *why << '\n';
        return 1;
      }
      if (!follow) {
        if (!o.json)
          cmd.print(reply, {args, o, round_trip.count()});
        return 0;
      }
      if (!o.json)
        listing.add_page(reply);
      const auto next = next_board(reply);
      if (!next) {
        if (!o.json)
          listing.print();
        return 0;
      }
      auto& after = std::get<sch::boards_req>(body).after;
      if (after && !(*after < *next)) // a page that does not move on would never end
        throw bad_reply("its next, " + tools::printable(*next) + ", is not after "
                        + tools::printable(*after));
      after = *next;
    } catch (const std::exception& e) { // bad_reply, or msgpack's own errors
      return unreadable(e);
    }
  }
}

} // namespace lb::lbctl
