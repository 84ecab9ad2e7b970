// The service's replies (PROTOCOL.md section 3) as lbctl reads them: typed
// lookups that throw bad_reply when a reply breaks the protocol, and any
// value as one line of text safe for a terminal.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include <msgpack.hpp>

#include "tools/common/msgpack_map.hpp"

namespace lb::lbctl {

// A reply that breaks the protocol: exit code 1.
struct bad_reply : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class T>
T get(const msgpack::object& map, std::string_view key) {
  const auto* v = tools::find_key(map, key);
  if (v == nullptr)
    throw bad_reply("no '" + std::string(key) + "'");
  try {
    return v->as<T>();
  } catch (const msgpack::type_error&) {
    throw bad_reply("'" + std::string(key) + "' has the wrong type");
  }
}

const msgpack::object& get_array(const msgpack::object& map, std::string_view key);
const msgpack::object& get_map(const msgpack::object& map, std::string_view key);

// One frame as a reply: a msgpack map and nothing after it.
msgpack::object_handle unpack_reply(const std::string& frame);

// Any reply value as one line of text; bin (a meta sent as bytes) in hex.
std::string text(const msgpack::object& v);
// A key every reply of its kind has, as display text.
std::string text_at(const msgpack::object& map, std::string_view key);

} // namespace lb::lbctl
