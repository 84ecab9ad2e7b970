// Snapshot record bodies (docs/EVENT-LOG.md).
//
// Decoded as hostile input, like event bodies (schemas/event_record.cpp): a
// non-allocating check_frame() first, then a bounded msgpack::unpack(). The
// small key-reading helpers are repeated here rather than shared through a
// header, so that msgpack stays out of every header of the schemas layer.
#include "schemas/snapshot_record.hpp"

#include <limits>
#include <new>

#include <msgpack.hpp>

#include "schemas/request.hpp"

namespace lb::schemas {

namespace {

// ---------------------------------------------------------------------------
// Encoding.

struct append_stream {
  std::string& s;
  void write(const char* p, std::size_t n) { s.append(p, n); }
};

class item_writer {
public:
  explicit item_writer(std::string& out) : stream_{out}, pk_(stream_) {}

  void str(std::string_view s) {
    pk_.pack_str(static_cast<uint32_t>(s.size()));
    pk_.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
  }
  void u64(uint64_t v) { pk_.pack_uint64(v); }
  void i64(int64_t v) { pk_.pack_int64(v); }
  void meta(const std::optional<meta_value>& m) {
    if (!m) {
      pk_.pack_nil();
      return;
    }
    const auto n = static_cast<uint32_t>(m->bytes.size());
    if (m->is_bin) {
      pk_.pack_bin(n);
      pk_.pack_bin_body(m->bytes.data(), n);
    } else {
      pk_.pack_str(n);
      pk_.pack_str_body(m->bytes.data(), n);
    }
  }
  // `kind`, then `extra` more keys.
  void begin(const char* kind, uint32_t extra) {
    pk_.pack_map(1 + extra);
    str("kind");
    str(kind);
  }

  void operator()(const snapshot_head& h) {
    begin("head", 4);
    str("seq"); u64(h.seq);
    str("t"); i64(h.time_ms);
    str("boards"); u64(h.boards);
    str("entries"); u64(h.entries);
  }
  void operator()(const snapshot_board& b) {
    begin("board", 4);
    str("board"); str(b.board);
    str("order"); str(to_string(b.order));
    str("operator"); str(to_string(b.op));
    str("total"); u64(b.total);
  }
  void operator()(const snapshot_chunk& c) {
    begin("chunk", 1);
    str("entries");
    pk_.pack_array(static_cast<uint32_t>(c.entries.size()));
    for (const auto& e : c.entries) {
      pk_.pack_array(5);
      str(e.player);
      i64(e.score);
      i64(e.subscore);
      u64(e.seq);
      meta(e.meta);
    }
  }
  void operator()(const snapshot_end& e) {
    begin("end", 2);
    str("boards"); u64(e.boards);
    str("entries"); u64(e.entries);
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

// Value checks shared by map keys and chunk-entry elements; `what` names the
// value in the message ("total", "entries[3][1]").
bool want_u64(const msgpack::object& v, const std::string& what, uint64_t& out, std::string& err) {
  if (v.type == msgpack::type::POSITIVE_INTEGER) {
    out = v.via.u64;
    return true;
  }
  err = what + (v.type == msgpack::type::NEGATIVE_INTEGER ? ": negative, expected uint64"
                                                          : std::string(": expected uint64, got ") + type_name_of(v));
  return false;
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

bool want_str(const msgpack::object& v, const std::string& what, std::string_view& out, std::string& err) {
  if (v.type != msgpack::type::STR) {
    err = what + ": expected str, got " + type_name_of(v);
    return false;
  }
  out = str_of(v);
  return true;
}

// check_*_name messages start with "board: " / "player: "; `what` replaces it.
bool want_name(const msgpack::object& v, const std::string& what, std::string& out,
               std::string (*check)(std::string_view), std::string& err) {
  std::string_view s;
  if (!want_str(v, what, s, err)) return false;
  std::string why = check(s);
  if (!why.empty()) {
    const auto colon = why.find(": ");
    err = what + why.substr(colon == std::string::npos ? why.size() : colon);
    return false;
  }
  out.assign(s);
  return true;
}

bool want_meta(const msgpack::object& v, const std::string& what, std::optional<meta_value>& out,
               std::string& err) {
  if (v.type == msgpack::type::NIL) return true;
  if (v.type != msgpack::type::STR && v.type != msgpack::type::BIN) {
    err = what + ": expected str, bin or nil, got " + type_name_of(v);
    return false;
  }
  const bool bin = v.type == msgpack::type::BIN;
  const std::size_t n = bin ? v.via.bin.size : v.via.str.size;
  if (n > max_meta_len) {
    err = what + ": " + std::to_string(n) + " bytes, at most " + std::to_string(max_meta_len) + " allowed";
    return false;
  }
  out = meta_value{std::string(bin ? v.via.bin.ptr : v.via.str.ptr, n), bin};
  return true;
}

enum key_id : uint8_t { k_kind, k_seq, k_t, k_boards, k_entries, k_board, k_order, k_operator, k_total, k_count };
constexpr const char* key_names[k_count] = {"kind",  "seq",   "t",        "boards", "entries",
                                            "board", "order", "operator", "total"};

// The known keys of one item map: nil counts as absent, a duplicated known
// key is an error, unknown keys are skipped (forward compatibility).
class item_reader {
public:
  std::string err;

  bool scan(const msgpack::object& o) {
    if (o.type != msgpack::type::MAP) return fail("body: expected map, got " + std::string(type_name_of(o)));
    const msgpack::object_map& m = o.via.map;
    for (uint32_t i = 0; i < m.size; ++i) {
      const msgpack::object& k = m.ptr[i].key;
      if (k.type != msgpack::type::STR)
        return fail("body: map key " + std::to_string(i) + " is a " + type_name_of(k) + ", expected str");
      const std::string_view name = str_of(k);
      for (int id = 0; id < k_count; ++id) {
        if (name != key_names[id]) continue;
        if (val_[id]) return fail(std::string(key_names[id]) + ": duplicate key");
        val_[id] = &m.ptr[i].val;
      }
    }
    for (auto& v : val_)
      if (v && v->type == msgpack::type::NIL) v = nullptr;
    return true;
  }

  const msgpack::object* required(key_id k) {
    if (!val_[k]) fail(std::string(key_names[k]) + ": missing");
    return val_[k];
  }
  bool u64(key_id k, uint64_t& out) {
    const msgpack::object* v = required(k);
    return v && want_u64(*v, key_names[k], out, err);
  }
  bool i64(key_id k, int64_t& out) {
    const msgpack::object* v = required(k);
    return v && want_i64(*v, key_names[k], out, err);
  }
  bool str(key_id k, std::string_view& out) {
    const msgpack::object* v = required(k);
    return v && want_str(*v, key_names[k], out, err);
  }
  template <class T>
  bool enum_value(key_id k, std::optional<T> (*parse)(std::string_view), const char* allowed, T& out) {
    std::string_view s;
    if (!str(k, s)) return false;
    const std::optional<T> v = parse(s);
    if (!v) return fail(std::string(key_names[k]) + ": " + quote(s) + " is not one of " + allowed);
    out = *v;
    return true;
  }

  bool head(snapshot_head& h) {
    return u64(k_seq, h.seq) && i64(k_t, h.time_ms) && u64(k_boards, h.boards) && u64(k_entries, h.entries);
  }
  bool board(snapshot_board& b) {
    const msgpack::object* v = required(k_board);
    return v && want_name(*v, "board", b.board, check_board_name, err) &&
           enum_value(k_order, parse_board_order, "desc, asc", b.order) &&
           enum_value(k_operator, parse_score_operator, "best, set, incr, decr", b.op) && u64(k_total, b.total);
  }
  bool end(snapshot_end& e) { return u64(k_boards, e.boards) && u64(k_entries, e.entries); }

  bool chunk(snapshot_chunk& c) {
    const msgpack::object* v = required(k_entries);
    if (!v) return false;
    if (v->type != msgpack::type::ARRAY) return fail("entries: expected array, got " + std::string(type_name_of(*v)));
    const uint32_t n = v->via.array.size;
    if (n > max_snapshot_chunk)
      return fail("entries: " + std::to_string(n) + " entries, at most " + std::to_string(max_snapshot_chunk) +
                  " allowed in one chunk");
    c.entries.resize(n);
    for (uint32_t i = 0; i < n; ++i)
      if (!entry(v->via.array.ptr[i], "entries[" + std::to_string(i) + "]", c.entries[i])) return false;
    return true;
  }

private:
  bool fail(std::string why) {
    err = std::move(why);
    return false;
  }

  // [player, score, subscore, seq, meta-or-nil]; elements past the fifth are
  // ignored, so a newer writer may append fields.
  bool entry(const msgpack::object& o, const std::string& at, snapshot_entry& e) {
    if (o.type != msgpack::type::ARRAY) return fail(at + ": expected array, got " + type_name_of(o));
    if (o.via.array.size < 5)
      return fail(at + ": " + std::to_string(o.via.array.size) +
                  " elements, expected 5 (player, score, subscore, seq, meta)");
    const msgpack::object* x = o.via.array.ptr;
    return want_name(x[0], at + "[0] player", e.player, check_player_name, err) &&
           want_i64(x[1], at + "[1] score", e.score, err) && want_i64(x[2], at + "[2] subscore", e.subscore, err) &&
           want_u64(x[3], at + "[3] seq", e.seq, err) && want_meta(x[4], at + "[4] meta", e.meta, err);
  }

  const msgpack::object* val_[k_count] = {};
};

bool read_item(item_reader& rd, std::string_view kind, snapshot_item& item) {
  if (kind == "head") return rd.head(item.emplace<snapshot_head>());
  if (kind == "board") return rd.board(item.emplace<snapshot_board>());
  if (kind == "chunk") return rd.chunk(item.emplace<snapshot_chunk>());
  if (kind == "end") return rd.end(item.emplace<snapshot_end>());
  rd.err = "kind: unknown snapshot record kind " + quote(kind) +
           " (head, board, chunk, end; a newer lbd may have written this snapshot)";
  return false;
}

msgpack::zone& item_zone() {
  thread_local msgpack::zone z;
  return z;
}

struct zone_clear {
  msgpack::zone& z;
  ~zone_clear() { z.clear(); }
};

bool reference_all(msgpack::type::object_type, std::size_t, void*) { return true; }

// May throw (bad_alloc, or an unpack error check_frame missed).
std::variant<snapshot_item, std::string> decode_or_throw(const char* data, std::size_t size) {
  std::string why = check_frame(data, size);
  if (!why.empty()) return "body: " + why;
  msgpack::zone& zone = item_zone();
  zone_clear clear_after{zone};
  const msgpack::unpack_limit limit(size, size / 2, size, size, size, max_nesting_depth);
  std::size_t off = 0;
  bool referenced = false;
  const msgpack::object o = msgpack::unpack(zone, data, size, off, referenced, &reference_all, nullptr, limit);
  if (off != size) return std::string("body: trailing bytes after the map");

  item_reader rd;
  snapshot_item item;
  std::string_view kind;
  if (!rd.scan(o) || !rd.str(k_kind, kind) || !read_item(rd, kind, item)) return std::move(rd.err);
  return item;
}

} // namespace

void append_snapshot_item(std::string& out, const snapshot_item& item) {
  item_writer w(out);
  std::visit(w, item);
}

std::variant<snapshot_item, std::string> decode_snapshot_item(const char* data, std::size_t size) {
  try {
    return decode_or_throw(data, size);
  } catch (const std::bad_alloc&) {
    return std::string("out of memory while decoding a snapshot record");
  } catch (const msgpack::unpack_error& e) {
    return std::string("body: ") + e.what();
  } catch (const std::exception& e) {
    return std::string("body: ") + e.what();
  } catch (...) {
    return std::string("body: unknown exception while decoding");
  }
}

} // namespace lb::schemas
