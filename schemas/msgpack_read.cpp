#include "schemas/msgpack_read.hpp"

#include "schemas/request.hpp"

namespace lb::schemas::detail {

namespace {

msgpack::zone& frame_zone() {
  thread_local msgpack::zone z;
  return z;
}

bool reference_all(msgpack::type::object_type, std::size_t, void*) {
  return true;
}

} // namespace

const char* type_name_of(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL:
      return "nil";
    case msgpack::type::BOOLEAN:
      return "bool";
    case msgpack::type::POSITIVE_INTEGER:
      return "int";
    case msgpack::type::NEGATIVE_INTEGER:
      return "int";
    case msgpack::type::FLOAT32:
      return "float32";
    case msgpack::type::FLOAT64:
      return "float64";
    case msgpack::type::STR:
      return "str";
    case msgpack::type::BIN:
      return "bin";
    case msgpack::type::ARRAY:
      return "array";
    case msgpack::type::MAP:
      return "map";
    case msgpack::type::EXT:
      return "ext";
  }
  return "unknown type";
}

std::string quote(std::string_view s) {
  static const char digits[] = "0123456789abcdef";
  std::string out = "'";
  const std::size_t n = s.size() < 40 ? s.size() : 40;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  out += '\'';
  if (s.size() > n)
    out += "...";
  return out;
}

bounded_unpack::bounded_unpack(const char* data, std::size_t size)
  : frame_error_(check_frame(data, size)) {
  if (!frame_error_.empty())
    return;
  msgpack::zone& zone = frame_zone();
  zone_ = &zone;
  try {
    const msgpack::unpack_limit limit(size, size / 2, size, size, size, max_nesting_depth);
    std::size_t off = 0;
    bool referenced = false;
    object_ = msgpack::unpack(zone, data, size, off, referenced, &reference_all, nullptr, limit);
    trailing_ = off != size;
  } catch (...) {
    // The destructor does not run when the constructor throws.
    zone.clear();
    throw;
  }
}

bounded_unpack::~bounded_unpack() {
  if (zone_)
    zone_->clear();
}

bool want_i64(const msgpack::object& v, const std::string& what, int64_t& out, std::string& err) {
  if (v.type == msgpack::type::NEGATIVE_INTEGER) {
    out = v.via.i64;
    return true;
  }
  if (v.type != msgpack::type::POSITIVE_INTEGER) {
    err = what + ": expected int64, got " + type_name_of(v);
    return false;
  }
  if (v.via.u64 > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    err = what + ": " + std::to_string(v.via.u64) + " is out of the int64 range";
    return false;
  }
  out = static_cast<int64_t>(v.via.u64);
  return true;
}

bool want_str(const msgpack::object& v, const std::string& what, std::string_view& out,
              std::string& err) {
  if (v.type != msgpack::type::STR) {
    err = what + ": expected str, got " + type_name_of(v);
    return false;
  }
  out = str_of(v);
  return true;
}

} // namespace lb::schemas::detail
