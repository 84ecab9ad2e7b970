// Event-log record bodies (docs/EVENT-LOG.md).
//
// A body that passed its checksum is still read as hostile input: a bug in an
// older writer, a hand-edited file or a checksum collision must give an error
// message, never a crash or a huge allocation. So decoding goes through the
// same two bounded stages as requests (schemas/decode.cpp): check_frame()
// without allocating, then msgpack::unpack() with an unpack_limit derived
// from the body size, into a thread-local zone cleared after each body.
#include "schemas/event_record.hpp"

#include <cstring>
#include <limits>
#include <new>

#include <msgpack.hpp>

namespace lb::schemas {

namespace {

// ---------------------------------------------------------------------------
// Encoding.

struct append_stream {
  std::string& s;
  void write(const char* p, std::size_t n) { s.append(p, n); }
};

class body_writer {
public:
  explicit body_writer(std::string& out) : stream_{out}, pk_(stream_) {}

  void map(uint32_t n) { pk_.pack_map(n); }
  void str(std::string_view s) {
    pk_.pack_str(static_cast<uint32_t>(s.size()));
    pk_.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
  }
  void u64(uint64_t v) { pk_.pack_uint64(v); }
  void i64(int64_t v) { pk_.pack_int64(v); }
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

  // The four keys every event has; `extra` more follow.
  void common(uint32_t extra, uint64_t seq, int64_t time_ms, const char* type,
              const std::string& board) {
    map(4 + extra);
    str("seq"); u64(seq);
    str("t"); i64(time_ms);
    str("type"); str(type);
    str("board"); str(board);
  }

private:
  append_stream stream_;
  msgpack::packer<append_stream> pk_;
};

// ---------------------------------------------------------------------------
// Decoding.

const char* type_name_of(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL: return "nil";
    case msgpack::type::BOOLEAN: return "bool";
    case msgpack::type::POSITIVE_INTEGER: return "int";
    case msgpack::type::NEGATIVE_INTEGER: return "int";
    case msgpack::type::FLOAT32: return "float32";
    case msgpack::type::FLOAT64: return "float64";
    case msgpack::type::STR: return "str";
    case msgpack::type::BIN: return "bin";
    case msgpack::type::ARRAY: return "array";
    case msgpack::type::MAP: return "map";
    case msgpack::type::EXT: return "ext";
  }
  return "unknown type";
}

std::string_view str_of(const msgpack::object& o) { return {o.via.str.ptr, o.via.str.size}; }

// A value from the log quoted in a message: printable ASCII, at most 40 bytes.
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
  if (s.size() > n) out += "...";
  return out;
}

enum key_id : uint8_t {
  k_seq, k_t, k_type, k_board, k_player, k_score, k_subscore, k_meta, k_order, k_operator, k_count
};
constexpr const char* key_names[k_count] = {"seq",   "t",        "type", "board", "player",
                                            "score", "subscore", "meta", "order", "operator"};

int lookup_key(std::string_view k) {
  for (int i = 0; i < k_count; ++i)
    if (k == key_names[i]) return i;
  return -1;
}

// The known keys of one body map. A value of nil counts as absent, as in
// requests; a duplicated known key is an error (no "first wins" that two
// readers could disagree on); unknown keys are skipped, so a newer writer may
// add keys.
class event_reader {
public:
  std::string err;

  bool scan(const msgpack::object& o) {
    if (o.type != msgpack::type::MAP) return fail_body(std::string("expected map, got ") + type_name_of(o));
    const msgpack::object_map& m = o.via.map;
    for (uint32_t i = 0; i < m.size; ++i) {
      const msgpack::object& k = m.ptr[i].key;
      if (k.type != msgpack::type::STR)
        return fail_body(std::string("map key ") + std::to_string(i) + " is a " + type_name_of(k) + ", expected str");
      const int id = lookup_key(str_of(k));
      if (id < 0) continue;
      if (val_[id]) return fail(static_cast<key_id>(id), "duplicate key");
      val_[id] = &m.ptr[i].val;
    }
    for (auto& v : val_)
      if (v && v->type == msgpack::type::NIL) v = nullptr;
    return true;
  }

  bool required(key_id k, const msgpack::object*& out) {
    out = val_[k];
    return out ? true : fail(k, "missing");
  }

  bool u64(key_id k, uint64_t& out) {
    const msgpack::object* v = nullptr;
    if (!required(k, v)) return false;
    if (v->type == msgpack::type::NEGATIVE_INTEGER)
      return fail(k, std::to_string(v->via.i64) + " is negative, expected uint64");
    if (v->type != msgpack::type::POSITIVE_INTEGER) return wrong_type(k, "uint64", *v);
    out = v->via.u64;
    return true;
  }

  bool i64(key_id k, int64_t& out) {
    const msgpack::object* v = nullptr;
    if (!required(k, v)) return false;
    if (v->type == msgpack::type::NEGATIVE_INTEGER) {
      out = v->via.i64;
      return true;
    }
    if (v->type != msgpack::type::POSITIVE_INTEGER) return wrong_type(k, "int64", *v);
    if (v->via.u64 > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return fail(k, std::to_string(v->via.u64) + " is out of the int64 range");
    out = static_cast<int64_t>(v->via.u64);
    return true;
  }

  bool str(key_id k, std::string_view& out) {
    const msgpack::object* v = nullptr;
    if (!required(k, v)) return false;
    if (v->type != msgpack::type::STR) return wrong_type(k, "str", *v);
    out = str_of(*v);
    return true;
  }

  // check_board_name / check_player_name messages already start with the key.
  bool name(key_id k, std::string& out, std::string (*check)(std::string_view)) {
    std::string_view s;
    if (!str(k, s)) return false;
    std::string why = check(s);
    if (!why.empty()) {
      err = std::move(why);
      return false;
    }
    out.assign(s);
    return true;
  }
  bool board(std::string& out) { return name(k_board, out, check_board_name); }
  bool player(std::string& out) { return name(k_player, out, check_player_name); }

  bool meta(std::optional<meta_value>& out) {
    const msgpack::object* v = val_[k_meta];
    if (!v) return true;
    if (v->type != msgpack::type::STR && v->type != msgpack::type::BIN) return wrong_type(k_meta, "str or bin", *v);
    const bool bin = v->type == msgpack::type::BIN;
    const std::size_t n = bin ? v->via.bin.size : v->via.str.size;
    if (n > max_meta_len)
      return fail(k_meta, std::to_string(n) + " bytes, at most " + std::to_string(max_meta_len) + " allowed");
    out = meta_value{std::string(bin ? v->via.bin.ptr : v->via.str.ptr, n), bin};
    return true;
  }

  template <class T>
  bool enum_value(key_id k, std::optional<T> (*parse)(std::string_view), const char* allowed, T& out) {
    std::string_view s;
    if (!str(k, s)) return false;
    const std::optional<T> v = parse(s);
    if (!v) return fail(k, quote(s) + " is not one of " + allowed);
    out = *v;
    return true;
  }

private:
  bool fail(key_id k, const std::string& why) {
    err = std::string(key_names[k]) + ": " + why;
    return false;
  }
  bool fail_body(const std::string& why) {
    err = "body: " + why;
    return false;
  }
  bool wrong_type(key_id k, const char* want, const msgpack::object& got) {
    return fail(k, std::string("expected ") + want + ", got " + type_name_of(got));
  }

  const msgpack::object* val_[k_count] = {};
};

bool read_body(event_reader& rd, std::string_view type, event_body& body) {
  if (type == "submit") {
    auto& e = body.emplace<submit_req>();
    return rd.board(e.board) && rd.player(e.player) && rd.i64(k_score, e.score) && rd.i64(k_subscore, e.subscore) &&
           rd.meta(e.meta);
  }
  if (type == "remove") {
    auto& e = body.emplace<remove_req>();
    return rd.board(e.board) && rd.player(e.player);
  }
  if (type == "reset") return rd.board(body.emplace<reset_req>().board);
  if (type == "configure") {
    auto& e = body.emplace<configure_event_body>();
    return rd.board(e.board) && rd.enum_value(k_order, parse_board_order, "desc, asc", e.order) &&
           rd.enum_value(k_operator, parse_score_operator, "best, set, incr, decr", e.op);
  }
  rd.err = "type: unknown event type " + quote(type) +
           " (submit, remove, reset, configure; a newer lbd may have written this log)";
  return false;
}

msgpack::zone& body_zone() {
  thread_local msgpack::zone z;
  return z;
}

struct zone_clear {
  msgpack::zone& z;
  ~zone_clear() { z.clear(); }
};

bool reference_all(msgpack::type::object_type, std::size_t, void*) { return true; }

// May throw (bad_alloc, or an unpack error check_frame missed).
std::variant<event_record, std::string> decode_or_throw(const char* data, std::size_t size) {
  std::string why = check_frame(data, size);
  if (!why.empty()) return "body: " + why;
  msgpack::zone& zone = body_zone();
  zone_clear clear_after{zone};
  const msgpack::unpack_limit limit(size, size / 2, size, size, size, max_nesting_depth);
  std::size_t off = 0;
  bool referenced = false;
  const msgpack::object o = msgpack::unpack(zone, data, size, off, referenced, &reference_all, nullptr, limit);
  if (off != size) return std::string("body: trailing bytes after the map");

  event_reader rd;
  event_record r;
  std::string_view type;
  if (!rd.scan(o) || !rd.u64(k_seq, r.seq) || !rd.i64(k_t, r.time_ms) || !rd.str(k_type, type) ||
      !read_body(rd, type, r.body))
    return std::move(rd.err);
  return r;
}

} // namespace

const std::string& board_of(const event_body& body) {
  return std::visit([](const auto& e) -> const std::string& { return e.board; }, body);
}

const char* type_name(const event_body& body) {
  switch (body.index()) {
    case 0: return "submit";
    case 1: return "remove";
    case 2: return "reset";
    default: return "configure";
  }
}

void append_event(std::string& out, uint64_t seq, int64_t time_ms, const submit_req& e) {
  body_writer w(out);
  w.common(e.meta ? 4 : 3, seq, time_ms, "submit", e.board);
  w.str("player"); w.str(e.player);
  w.str("score"); w.i64(e.score);
  w.str("subscore"); w.i64(e.subscore);
  if (e.meta) {
    w.str("meta");
    w.meta(*e.meta);
  }
}

void append_event(std::string& out, uint64_t seq, int64_t time_ms, const remove_req& e) {
  body_writer w(out);
  w.common(1, seq, time_ms, "remove", e.board);
  w.str("player"); w.str(e.player);
}

void append_event(std::string& out, uint64_t seq, int64_t time_ms, const reset_req& e) {
  body_writer w(out);
  w.common(0, seq, time_ms, "reset", e.board);
}

void append_event(std::string& out, uint64_t seq, int64_t time_ms, const configure_event_body& e) {
  body_writer w(out);
  w.common(2, seq, time_ms, "configure", e.board);
  w.str("order"); w.str(to_string(e.order));
  w.str("operator"); w.str(to_string(e.op));
}

void append_event(std::string& out, const event_record& r) {
  std::visit([&](const auto& e) { append_event(out, r.seq, r.time_ms, e); }, r.body);
}

std::variant<event_record, std::string> decode_event(const char* data, std::size_t size) {
  try {
    return decode_or_throw(data, size);
  } catch (const std::bad_alloc&) {
    return std::string("out of memory while decoding an event body");
  } catch (const msgpack::unpack_error& e) {
    return std::string("body: ") + e.what();
  } catch (const std::exception& e) {
    return std::string("body: ") + e.what();
  } catch (...) {
    return std::string("body: unknown exception while decoding");
  }
}

} // namespace lb::schemas
