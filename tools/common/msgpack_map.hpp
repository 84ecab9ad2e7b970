// Looking up keys in msgpack maps (service replies), shared by lbctl and
// lb-replay.
#pragma once

#include <string_view>

#include <msgpack.hpp>

namespace lb::tools {

// The value under the str key `key`, or nullptr when `map` is not a map or
// has no such key.
const msgpack::object* find_key(const msgpack::object& map, std::string_view key);

} // namespace lb::tools
