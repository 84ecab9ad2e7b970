// Writing msgpack into a std::string, shared by the reply and request
// encoders (encode.cpp) and the event-log and snapshot record bodies
// (event_record.cpp, snapshot_record.cpp).
//
// Internal to the schemas layer: only its .cpp files include this header, so
// msgpack stays out of the public headers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include <msgpack.hpp>

#include "schemas/types.hpp"

namespace lb::schemas::detail {

// Appends to the string as it goes (record bodies).
struct append_stream {
  std::string& s;
  void write(const char* p, std::size_t n) { s.append(p, n); }
};

// The values the schemas write, packed through a Stream built from `out`
// (a struct whose first member is the std::string&).
template <class Stream>
class value_writer {
public:
  explicit value_writer(std::string& out) : stream_{out}, pk_(stream_) {}
  // pk_ refers to stream_: a copy would write through the original's stream.
  value_writer(const value_writer&) = delete;
  value_writer& operator=(const value_writer&) = delete;

  void str(std::string_view s) {
    pk_.pack_str(static_cast<uint32_t>(s.size()));
    pk_.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
  }
  void u64(uint64_t v) { pk_.pack_uint64(v); }
  void i64(int64_t v) { pk_.pack_int64(v); }
  // Always a float64 (0xcb): msgpack-c's pack_double writes a whole number
  // such as 100.0 as an int, and the protocol promises a float.
  void f64(double v) {
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    char buf[9];
    buf[0] = static_cast<char>(0xcb);
    for (int i = 8; i >= 1; --i, bits >>= 8)
      buf[i] = static_cast<char>(bits & 0xff);
    stream_.write(buf, sizeof buf);
  }
  void boolean(bool b) { b ? pk_.pack_true() : pk_.pack_false(); }
  void nil() { pk_.pack_nil(); }
  void map(uint32_t n) { pk_.pack_map(n); }
  void array(std::size_t n) { pk_.pack_array(static_cast<uint32_t>(n)); }
  // str or bin, as the client sent it.
  void meta(const meta_value& m) {
    const auto n = static_cast<uint32_t>(m.bytes.size());
    if (m.is_bin) {
      pk_.pack_bin(n);
      pk_.pack_bin_body(m.bytes.data(), n);
    } else {
      pk_.pack_str(n);
      pk_.pack_str_body(m.bytes.data(), n);
    }
  }
  // nil when there is none.
  void meta(const std::optional<meta_value>& m) {
    if (!m)
      return nil();
    meta(*m);
  }

protected:
  Stream stream_;
  msgpack::packer<Stream> pk_;
};

using record_writer = value_writer<append_stream>;

} // namespace lb::schemas::detail
