#include "tools/lbctl/reply.hpp"

#include <sstream>

#include "schemas/request.hpp"
#include "tools/common/term_text.hpp"

namespace lb::lbctl {

const msgpack::object& get_array(const msgpack::object& map, std::string_view key) {
  const auto* v = tools::find_key(map, key);
  if (v == nullptr || v->type != msgpack::type::ARRAY)
    throw bad_reply("no '" + std::string(key) + "' array");
  return *v;
}

const msgpack::object& get_map(const msgpack::object& map, std::string_view key) {
  const auto* v = tools::find_key(map, key);
  if (v == nullptr || v->type != msgpack::type::MAP)
    throw bad_reply("no '" + std::string(key) + "' map");
  return *v;
}

// Every element, map entry and str/bin byte takes at least one byte of the
// frame, so limits equal to its size refuse only frames whose headers claim
// more than they hold, before the parser allocates for them.
msgpack::object_handle unpack_reply(const std::string& frame) {
  const std::size_t n = frame.size();
  msgpack::unpack_limit limit(n, n, n, n, n, schemas::max_nesting_depth);
  std::size_t offset = 0;
  auto handle = msgpack::unpack(frame.data(), n, offset, nullptr, nullptr, limit);
  if (offset != n)
    throw bad_reply("trailing bytes after the reply");
  if (handle.get().type != msgpack::type::MAP)
    throw bad_reply("not a map");
  return handle;
}

std::string text(const msgpack::object& v) {
  switch (v.type) {
    case msgpack::type::NIL:
      return "";
    case msgpack::type::BOOLEAN:
      return v.via.boolean ? "true" : "false";
    case msgpack::type::POSITIVE_INTEGER:
      return std::to_string(v.via.u64);
    case msgpack::type::NEGATIVE_INTEGER:
      return std::to_string(v.via.i64);
    case msgpack::type::STR:
      return tools::printable({v.via.str.ptr, v.via.str.size});
    case msgpack::type::BIN:
      return tools::hex_text({v.via.bin.ptr, v.via.bin.size});
    default: {
      std::ostringstream s;
      s << v;
      return tools::printable(s.str());
    }
  }
}

std::string text_at(const msgpack::object& map, std::string_view key) {
  const auto* v = tools::find_key(map, key);
  if (v == nullptr)
    throw bad_reply("no '" + std::string(key) + "'");
  return text(*v);
}

} // namespace lb::lbctl
