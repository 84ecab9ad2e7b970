// The msgpack writer every message encoder shares (replies, requests,
// updates), on top of the value writer that record bodies use too
// (msgpack_write.hpp).
//
// The packer writes straight into the std::string that is returned (one
// buffer per message, sized from an estimate of its size), rather than into
// an msgpack::sbuffer that would then be copied into a string.
#pragma once

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>

#include "schemas/msgpack_write.hpp"
#include "schemas/reply.hpp"

namespace lb::schemas::detail {

// Writes into a string that is sized ahead (from an estimate) and trimmed at
// the end: one allocation per reply, a memcpy per piece.
struct string_stream {
  std::string& s;
  std::size_t used = 0;
  void write(const char* p, std::size_t n) {
    if (s.size() - used < n)
      s.resize(std::max(s.size() * 2, used + n));
    std::memcpy(&s[used], p, n);
    used += n;
  }
};

class writer : public value_writer<string_stream> {
public:
  using value_writer::value_writer;
  // Writes from `at` on, keeping what `out` holds before it.
  writer(std::string& out, std::size_t at) : value_writer(out) { stream_.used = at; }
  // The end of what was written (from the start of the string).
  std::size_t size() const { return stream_.used; }

  // A key literal as one fixstr write (all keys are < 32 bytes).
  template <std::size_t N>
  void key(const char (&k)[N]) {
    static_assert(N - 1 < 32, "fixstr");
    char buf[N];
    buf[0] = static_cast<char>(0xa0 | (N - 1));
    std::memcpy(buf + 1, k, N - 1);
    stream_.write(buf, N);
  }
  void opt_u64(const std::optional<uint64_t>& v) { v ? u64(*v) : nil(); }
  void opt_i64(const std::optional<int64_t>& v) { v ? i64(*v) : nil(); }
  void opt_str(const std::optional<std::string>& v) { v ? str(*v) : nil(); }

  // Reply pieces.
  void error_map(const error& e) {
    map(2);
    key("code");
    str(to_string(e.code));
    key("message");
    str(e.message);
  }
  void submit_keys(const submit_reply& r) {
    key("board");
    str(r.board);
    key("player");
    str(r.player);
    key("score");
    i64(r.score);
    key("subscore");
    i64(r.subscore);
    key("rank");
    u64(r.rank);
    key("prev_rank");
    opt_u64(r.prev_rank);
    key("changed");
    boolean(r.changed);
    key("total");
    u64(r.total);
    key("percentile");
    f64(percentile(r.rank, r.total));
    key("seq");
    u64(r.seq);
  }
  static constexpr uint32_t submit_key_count = 10;
  void entry(const entry_view& e) {
    map(5);
    key("rank");
    u64(e.rank);
    key("player");
    str(e.player);
    key("score");
    i64(e.score);
    key("subscore");
    i64(e.subscore);
    key("meta");
    meta(e.meta);
  }
};

// Generous size estimates, so that one allocation usually suffices.
inline std::size_t meta_size(const std::optional<meta_value>& m) {
  return m ? m->bytes.size() + 5 : 1;
}
inline std::size_t entry_size(const entry_view& e) {
  return 64 + e.player.size() + meta_size(e.meta);
}

} // namespace lb::schemas::detail
