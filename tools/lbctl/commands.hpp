// lbctl's commands: what each takes, the request it builds and how its reply
// is shown; and sending one request.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <msgpack.hpp>

#include "schemas/request.hpp"
#include "tools/lbctl/options.hpp"
#include "tools/lbctl/print.hpp"

namespace lb::lbctl {

struct command {
  std::string name;
  std::string synopsis;           // arguments and flags, for messages
  std::size_t min_args, max_args; // positionals after the command
  std::vector<std::string> flags; // the flags it takes beyond the global ones
  // Both none for watch, which follows the update streams instead.
  schemas::request_body (*build)(const std::vector<std::string>& args, const options& o);
  void (*print)(const msgpack::object& reply, const call& c);

  bool takes(const std::string& flag) const;
};

// The command that the command line names, checked against its arguments
// and flags before anything is sent; throws usage_error.
const command& checked_command(const command_line& cl);

// Sends the command's request and prints the reply; returns the exit code.
int run_request(const command& cmd, const command_line& cl);

// keygen NAME: writes NAME.key and NAME.pub, sending nothing; returns the
// exit code.
int run_keygen(const command_line& cl);

} // namespace lb::lbctl
