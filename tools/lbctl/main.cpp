// lbctl: a command-line client for leaderboardd, for trying the service in a
// terminal and for scripts (--json). One run sends one request on a DEALER
// socket and prints its reply (PROTOCOL.md section 3), or, with `watch`,
// follows a board's update streams on a SUB socket (section 5); `keygen`
// writes a CURVE key pair for the sockets of a service that asks for one.
//
// Exit codes: 0 success, 1 an error reply (or one lbctl cannot read), or a
// reset or remove that found nothing to remove, 2 a bad command line, 3 no
// reply within the timeout.
#include <iostream>

#include "tools/lbctl/commands.hpp"
#include "tools/lbctl/options.hpp"
#include "tools/lbctl/watch.hpp"

int main(int argc, char** argv) {
  using namespace lb::lbctl;
  command_line cl;
  if (auto rc = parse_command_line(argc, argv, cl))
    return *rc;
  try {
    const auto& cmd = checked_command(cl);
    if (cmd.name == "keygen")
      return run_keygen(cl);
    return cmd.name == "watch" ? run_watch(cl) : run_request(cmd, cl);
  } catch (const usage_error& e) {
    std::cerr << "lbctl: " << e.what() << "\n(see lbctl --help)\n";
    return 2;
  }
}
