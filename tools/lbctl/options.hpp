// lbctl's command line: the options every command takes, the flags of one
// command each, and the table that binds them (options.cpp), whose usage
// text prints each member's initial value as its default.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "schemas/request.hpp"
#include "transport/client.hpp"

namespace lb::lbctl {

// A command line lbctl cannot send: exit code 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct options {
  std::string endpoint = "tcp://127.0.0.1:7400"; // the service's requests socket
  // Its updates socket, for watch; without --updates, the default port on
  // --endpoint's host (updates_near).
  std::string updates = "tcp://127.0.0.1:7402";
  bool json = false;
  uint64_t timeout_ms = 5000;
  std::string curve_server_key; // the service's public key, or a file holding it
  std::string curve_key;        // this client's secret key file

  // The flags of one command each, held as the request fields they set, so
  // that their defaults are the requests' own.
  schemas::submit_req submit;        // --subscore
  std::optional<std::string> meta;   // submit --meta
  bool merged = false;               // reads: exact: false
  schemas::top_req top;              // --limit, --offset
  schemas::boards_req boards;        // --limit
  std::optional<std::string> after;  // top: a cursor; boards: a board name
  bool all = false;                  // boards: follow `next` to the last page
  schemas::around_req around;        // --radius
  schemas::configure_req configure;  // --order, --operator, --schedule, --keep
  std::optional<uint32_t> season;    // rank, top, around, ranks: a closed season
  schemas::reset_req reset;          // --archive
  std::optional<std::string> player; // watch --player
  bool raw = false;                  // watch --raw
};

struct command_line {
  options opts;
  std::vector<std::string> positional;    // the command and its arguments
  std::vector<std::string> command_flags; // the flags of one command that were given
};

// Fills `cl` from argv. Returns an exit code when lbctl should stop now (0
// after --help, 2 for a bad flag, with the message printed), nothing
// otherwise.
std::optional<int> parse_command_line(int argc, char** argv, command_line& cl);

// The updates socket of the service whose requests socket is `endpoint`, as
// leaderboardd's defaults place it: the same host, port 7402. An endpoint
// that is not tcp://HOST:PORT gives the default.
std::string updates_near(const std::string& endpoint);

// The keys --curve-server-key and --curve-key name, for every socket lbctl
// opens; throws usage_error when they cannot be used.
transport::client_keys client_keys_of(const options& o);

} // namespace lb::lbctl
