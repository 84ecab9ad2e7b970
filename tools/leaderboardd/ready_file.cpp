#include "tools/leaderboardd/ready_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <msgpack.hpp>

#include "schemas/json.hpp"

namespace lb::daemon {

std::string connectable(const std::string& bound) {
  for (auto [any, loopback] : {std::pair{"tcp://0.0.0.0:", "tcp://127.0.0.1:"},
                               std::pair{"tcp://[::]:", "tcp://[::1]:"}}) {
    const std::string prefix = any;
    if (bound.compare(0, prefix.size(), prefix) == 0)
      return loopback + bound.substr(prefix.size());
  }
  return bound;
}

std::string ready_text(long pid, const bound_endpoints& eps) {
  // Through msgpack so that the one JSON writer escapes whatever an
  // endpoint holds (an ipc:// path may hold anything).
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_map(4);
  pk.pack("pid");
  pk.pack(static_cast<int64_t>(pid));
  pk.pack("requests");
  pk.pack(connectable(eps.requests));
  pk.pack("ingest");
  pk.pack(connectable(eps.ingest));
  pk.pack("updates");
  pk.pack(connectable(eps.updates));
  return schemas::msgpack_to_json(buf.data(), buf.size()) + "\n";
}

void write_atomically(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp";
  auto fail = [&](const std::string& what) {
    const std::string reason = std::strerror(errno);
    std::remove(temp.c_str());
    throw std::runtime_error("cannot write the ready file " + path + ": " + what + ": " + reason);
  };
  std::FILE* f = std::fopen(temp.c_str(), "w");
  if (!f)
    fail("create " + temp);
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !written)
    fail("write " + temp);
  if (std::rename(temp.c_str(), path.c_str()) != 0)
    fail("rename " + temp);
}

} // namespace lb::daemon
