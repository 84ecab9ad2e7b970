// msgpack -> compact JSON. The input is checked and unpacked with the same
// bounds as requests (check_frame, then an unpack_limit from the size), so
// rendering recursion is at most max_nesting_depth deep.
//
// Rendering rules: str as a JSON string (valid UTF-8 kept as is, other bytes
// as \u00XX, control characters escaped); bin as {"$bin":"<base64>"}; ext as
// {"$ext":{"type":<int>,"data":"<base64>"}}; non-finite floats as null; a map
// key that is not a str becomes a string holding the key's JSON text.
#include "schemas/json.hpp"
#include "schemas/request.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

#include <msgpack.hpp>

namespace lb::schemas {

namespace {

// Length of the well-formed UTF-8 sequence at p[0..n), or 0 if there is none.
std::size_t utf8_seq(const unsigned char* p, std::size_t n) {
  const unsigned char c = p[0];
  std::size_t len;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c < 0x80)
    return 1;
  if (c < 0xC2)
    return 0;
  if (c < 0xE0) {
    len = 2;
  } else if (c < 0xF0) {
    len = 3;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
  } else if (c < 0xF5) {
    len = 4;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else {
    return 0;
  }
  if (n < len)
    return 0;
  if (p[1] < lo || p[1] > hi)
    return 0;
  for (std::size_t k = 2; k < len; ++k)
    if ((p[k] & 0xC0) != 0x80)
      return 0;
  return len;
}

void escape_byte(std::string& out, unsigned char c) {
  static const char digits[] = "0123456789abcdef";
  out += "\\u00";
  out += digits[c >> 4];
  out += digits[c & 15];
}

void json_string(std::string& out, const char* data, std::size_t size) {
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  out += '"';
  std::size_t i = 0;
  while (i < size) {
    const unsigned char c = p[i];
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        ++i;
        continue;
      case '\\':
        out += "\\\\";
        ++i;
        continue;
      case '\b':
        out += "\\b";
        ++i;
        continue;
      case '\f':
        out += "\\f";
        ++i;
        continue;
      case '\n':
        out += "\\n";
        ++i;
        continue;
      case '\r':
        out += "\\r";
        ++i;
        continue;
      case '\t':
        out += "\\t";
        ++i;
        continue;
      default:
        break;
    }
    if (c < 0x20) {
      escape_byte(out, c);
      ++i;
      continue;
    }
    const std::size_t len = utf8_seq(p + i, size - i);
    if (len == 0) {
      escape_byte(out, c);
      ++i;
    } else {
      out.append(data + i, len);
      i += len;
    }
  }
  out += '"';
}

void base64(std::string& out, const char* data, std::size_t size) {
  static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  std::size_t i = 0;
  for (; i + 3 <= size; i += 3) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += tbl[v & 63];
  }
  if (size - i == 1) {
    const uint32_t v = uint32_t{p[i]} << 16;
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += "==";
  } else if (size - i == 2) {
    const uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    out += tbl[v >> 18];
    out += tbl[(v >> 12) & 63];
    out += tbl[(v >> 6) & 63];
    out += '=';
  }
}

template <class T>
void number(std::string& out, T v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void render(std::string& out, const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL:
      out += "null";
      return;
    case msgpack::type::BOOLEAN:
      out += o.via.boolean ? "true" : "false";
      return;
    case msgpack::type::POSITIVE_INTEGER:
      number(out, o.via.u64);
      return;
    case msgpack::type::NEGATIVE_INTEGER:
      number(out, o.via.i64);
      return;
    case msgpack::type::FLOAT32:
      if (!std::isfinite(o.via.f64))
        out += "null";
      else
        number(out, static_cast<float>(o.via.f64));
      return;
    case msgpack::type::FLOAT64:
      if (!std::isfinite(o.via.f64))
        out += "null";
      else
        number(out, o.via.f64);
      return;
    case msgpack::type::STR:
      json_string(out, o.via.str.ptr, o.via.str.size);
      return;
    case msgpack::type::BIN:
      out += "{\"$bin\":\"";
      base64(out, o.via.bin.ptr, o.via.bin.size);
      out += "\"}";
      return;
    case msgpack::type::EXT:
      out += "{\"$ext\":{\"type\":";
      number(out, static_cast<int>(o.via.ext.type()));
      out += ",\"data\":\"";
      base64(out, o.via.ext.data(), o.via.ext.size);
      out += "\"}}";
      return;
    case msgpack::type::ARRAY:
      out += '[';
      for (uint32_t i = 0; i < o.via.array.size; ++i) {
        if (i)
          out += ',';
        render(out, o.via.array.ptr[i]);
      }
      out += ']';
      return;
    case msgpack::type::MAP:
      out += '{';
      for (uint32_t i = 0; i < o.via.map.size; ++i) {
        if (i)
          out += ',';
        const msgpack::object_kv& kv = o.via.map.ptr[i];
        if (kv.key.type == msgpack::type::STR) {
          json_string(out, kv.key.via.str.ptr, kv.key.via.str.size);
        } else {
          std::string key;
          render(key, kv.key);
          json_string(out, key.data(), key.size());
        }
        out += ':';
        render(out, kv.val);
      }
      out += '}';
      return;
  }
  throw std::runtime_error("msgpack_to_json: unknown msgpack type");
}

bool reference_all(msgpack::type::object_type, std::size_t, void*) {
  return true;
}

} // namespace

std::string msgpack_to_json(const char* data, std::size_t size) {
  const std::string why = check_frame(data, size);
  if (!why.empty())
    throw std::runtime_error("msgpack_to_json: " + why);
  msgpack::zone zone;
  const msgpack::unpack_limit limit(size, size / 2, size, size, size, max_nesting_depth);
  std::size_t off = 0;
  bool referenced = false;
  msgpack::object o;
  try {
    o = msgpack::unpack(zone, data, size, off, referenced, &reference_all, nullptr, limit);
  } catch (const msgpack::unpack_error& e) {
    throw std::runtime_error(std::string("msgpack_to_json: ") + e.what());
  }
  if (off != size)
    throw std::runtime_error("msgpack_to_json: trailing bytes");
  std::string out;
  out.reserve(size * 2 + 16);
  render(out, o);
  return out;
}

} // namespace lb::schemas
