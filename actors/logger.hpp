// The service's log lines: one line per call, prefixed with the program's
// name ("leaderboardd: ..."), written with a single stdio call so that lines
// from different actors' threads never interleave. Notes and problems
// alike go to stderr: one stream, in order, for whatever collects the log
// (systemd's journal, a test harness), and stderr is unbuffered in any
// stdio. Debian's CAF is built with its own logger compiled out, so this is
// the one place that writes the service's log.
#pragma once

#include <string_view>

namespace lb::actors::logger {

// The prefix of every line; set once, before any actor runs.
void set_program(std::string_view name);

void note(std::string_view line);
void problem(std::string_view line);

} // namespace lb::actors::logger
