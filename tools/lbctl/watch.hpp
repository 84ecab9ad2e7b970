// lbctl watch: follows a board's update streams (PROTOCOL.md section 5) on a
// SUB socket until Ctrl-C, as a live table or as lines.
#pragma once

#include "tools/lbctl/options.hpp"

namespace lb::lbctl {

// Runs until Ctrl-C; returns the exit code.
int run_watch(const command_line& cl);

} // namespace lb::lbctl
