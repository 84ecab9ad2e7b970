// --ready-file: tells a supervisor, a test fixture or a script that the
// service answers and where, so that nobody polls for it or guesses ports.
#pragma once

#include <string>

namespace lb::daemon {

struct bound_endpoints {
  std::string requests, ingest, updates;
};

// A bound endpoint as a client on this machine connects to it: a wildcard
// address (tcp://0.0.0.0:P, tcp://[::]:P, which is what `*` binds) becomes
// the loopback address; anything else is unchanged.
std::string connectable(const std::string& bound);

// The file's text: {"pid": N, "requests": EP, "ingest": EP, "updates": EP}
// with connectable() endpoints.
std::string ready_text(long pid, const bound_endpoints& eps);

// Writes `text` to `path` by way of a temporary file next to it and a
// rename, so that a reader sees either no file or all of it. Throws
// std::runtime_error naming the path.
void write_atomically(const std::string& path, const std::string& text);

} // namespace lb::daemon
