// Snapshot record bodies (docs/EVENT-LOG.md).
//
// Decoded as hostile input, like event bodies (schemas/event_record.cpp): a
// non-allocating check_frame() first, then a bounded msgpack::unpack(). The
// key-reading helpers are shared with event bodies through the internal
// schemas/msgpack_read.hpp, which only .cpp files include, so that msgpack
// stays out of the public headers of the schemas layer.
#include "schemas/snapshot_record.hpp"

#include <limits>
#include <new>

#include "schemas/cron.hpp"
#include "schemas/msgpack_read.hpp"
#include "schemas/msgpack_write.hpp"
#include "schemas/request.hpp"

namespace lb::schemas {

namespace {

using detail::quote;
using detail::type_name_of;
using detail::want_i64;
using detail::want_str;

// ---------------------------------------------------------------------------
// Encoding.

class item_writer : public detail::record_writer {
public:
  using value_writer::value_writer;

  // `kind`, then `extra` more keys.
  void begin(const char* kind, uint32_t extra) {
    map(1 + extra);
    str("kind");
    str(kind);
  }

  void operator()(const snapshot_head& h) {
    begin("head", 4);
    str("seq");
    u64(h.seq);
    str("t");
    i64(h.time_ms);
    str("boards");
    u64(h.boards);
    str("entries");
    u64(h.entries);
  }
  // The season keys only when not their defaults, so that a snapshot of
  // boards that never used seasons reads as before.
  void operator()(const snapshot_board& b) {
    const bool schedule = !b.schedule.empty(), keep = b.keep != default_keep_seasons,
               season = b.season != 1;
    begin("board", 4 + schedule + keep + season + (b.season_start_ms != 0)
                     + (b.season_start_seq != 0) + (b.anchor_ms != 0));
    str("board");
    str(b.board);
    str("order");
    str(to_string(b.order));
    str("operator");
    str(to_string(b.op));
    str("total");
    u64(b.total);
    if (schedule) {
      str("schedule");
      str(b.schedule);
    }
    if (keep) {
      str("keep");
      u64(b.keep);
    }
    if (season) {
      str("season");
      u64(b.season);
    }
    if (b.season_start_ms != 0) {
      str("season_start_ms");
      i64(b.season_start_ms);
    }
    if (b.season_start_seq != 0) {
      str("season_start_seq");
      u64(b.season_start_seq);
    }
    if (b.anchor_ms != 0) {
      str("anchor_ms");
      i64(b.anchor_ms);
    }
  }
  void operator()(const snapshot_season& x) {
    begin("season", 8);
    str("season");
    u64(x.span.season);
    str("order");
    str(to_string(x.order));
    str("operator");
    str(to_string(x.op));
    str("start_ms");
    i64(x.span.start_ms);
    str("end_ms");
    i64(x.span.end_ms);
    str("start_seq");
    u64(x.span.start_seq);
    str("end_seq");
    u64(x.span.end_seq);
    str("total");
    u64(x.total);
  }
  void operator()(const snapshot_chunk& c) {
    begin("chunk", 1);
    str("entries");
    array(c.entries.size());
    for (const auto& e : c.entries) {
      array(5);
      str(e.player);
      i64(e.score);
      i64(e.subscore);
      u64(e.seq);
      meta(e.meta);
    }
  }
  void operator()(const snapshot_end& e) {
    begin("end", 2);
    str("boards");
    u64(e.boards);
    str("entries");
    u64(e.entries);
  }
};

// ---------------------------------------------------------------------------
// Decoding.

// Value checks for chunk-entry elements and the keys below; `what` names the
// value in the message ("total", "entries[3][1]"). want_i64 and want_str are
// in schemas/msgpack_read.hpp.
bool want_u64(const msgpack::object& v, const std::string& what, uint64_t& out, std::string& err) {
  if (v.type == msgpack::type::POSITIVE_INTEGER) {
    out = v.via.u64;
    return true;
  }
  err = what
        + (v.type == msgpack::type::NEGATIVE_INTEGER
             ? ": negative, expected uint64"
             : std::string(": expected uint64, got ") + type_name_of(v));
  return false;
}

// check_*_name messages start with "board: " / "player: "; `what` replaces it.
bool want_name(const msgpack::object& v, const std::string& what, std::string& out,
               std::string (*check)(std::string_view), std::string& err) {
  std::string_view s;
  if (!want_str(v, what, s, err))
    return false;
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
  if (v.type == msgpack::type::NIL)
    return true;
  if (v.type != msgpack::type::STR && v.type != msgpack::type::BIN) {
    err = what + ": expected str, bin or nil, got " + type_name_of(v);
    return false;
  }
  const bool bin = v.type == msgpack::type::BIN;
  const std::size_t n = bin ? v.via.bin.size : v.via.str.size;
  if (n > max_meta_len) {
    err = what + ": " + std::to_string(n) + " bytes, at most " + std::to_string(max_meta_len)
          + " allowed";
    return false;
  }
  out = meta_value{std::string(bin ? v.via.bin.ptr : v.via.str.ptr, n), bin};
  return true;
}

enum key_id : uint8_t {
  k_kind,
  k_seq,
  k_t,
  k_boards,
  k_entries,
  k_board,
  k_order,
  k_operator,
  k_total,
  k_schedule,
  k_keep,
  k_season,
  k_season_start_ms,
  k_season_start_seq,
  k_anchor_ms,
  k_start_ms,
  k_end_ms,
  k_start_seq,
  k_end_seq,
  k_count
};
constexpr const char* key_names[k_count] = {"kind",
                                            "seq",
                                            "t",
                                            "boards",
                                            "entries",
                                            "board",
                                            "order",
                                            "operator",
                                            "total",
                                            "schedule",
                                            "keep",
                                            "season",
                                            "season_start_ms",
                                            "season_start_seq",
                                            "anchor_ms",
                                            "start_ms",
                                            "end_ms",
                                            "start_seq",
                                            "end_seq"};

// The known keys of one item map, read by the rules of detail::record_reader.
class item_reader : public detail::record_reader<k_count> {
public:
  item_reader() : record_reader(key_names) {}

  bool u64(key_id k, uint64_t& out) {
    const msgpack::object* v = nullptr;
    return required(k, v) && want_u64(*v, key_names[k], out, err);
  }

  // Optional keys: absent (or nil) leaves the default.
  bool opt_u64(key_id k, uint64_t& out) {
    const msgpack::object* v = value(k);
    return !v || want_u64(*v, key_names[k], out, err);
  }
  bool opt_i64(key_id k, int64_t& out) {
    const msgpack::object* v = value(k);
    return !v || want_i64(*v, key_names[k], out, err);
  }
  bool u32(key_id k, bool is_required, uint64_t lo, uint64_t hi, uint32_t& out) {
    const msgpack::object* v = value(k);
    if (!v)
      return is_required ? fail(k, "missing") : true;
    uint64_t x = 0;
    if (!want_u64(*v, key_names[k], x, err))
      return false;
    if (x < lo || x > hi)
      return fail(k, std::to_string(x) + " out of range " + std::to_string(lo) + ".."
                       + std::to_string(hi));
    out = static_cast<uint32_t>(x);
    return true;
  }
  bool schedule(std::string& out) {
    const msgpack::object* v = value(k_schedule);
    if (!v)
      return true;
    std::string_view s;
    if (!want_str(*v, "schedule", s, err))
      return false;
    if (std::string why = schedule_problem(s); !why.empty())
      return fail(k_schedule, why);
    out.assign(s);
    return true;
  }

  bool head(snapshot_head& h) {
    return u64(k_seq, h.seq) && i64(k_t, h.time_ms) && u64(k_boards, h.boards)
           && u64(k_entries, h.entries);
  }
  bool board(snapshot_board& b) {
    const msgpack::object* v = nullptr;
    return required(k_board, v) && want_name(*v, "board", b.board, check_board_name, err)
           && enum_value(k_order, parse_board_order, "desc, asc", b.order)
           && enum_value(k_operator, parse_score_operator, "best, set, incr, decr", b.op)
           && u64(k_total, b.total) && schedule(b.schedule)
           && u32(k_keep, false, 1, max_keep_seasons, b.keep)
           && u32(k_season, false, 1, std::numeric_limits<uint32_t>::max(), b.season)
           && opt_i64(k_season_start_ms, b.season_start_ms)
           && opt_u64(k_season_start_seq, b.season_start_seq) && opt_i64(k_anchor_ms, b.anchor_ms);
  }
  bool season(snapshot_season& x) {
    return u32(k_season, true, 1, std::numeric_limits<uint32_t>::max(), x.span.season)
           && enum_value(k_order, parse_board_order, "desc, asc", x.order)
           && enum_value(k_operator, parse_score_operator, "best, set, incr, decr", x.op)
           && i64(k_start_ms, x.span.start_ms) && i64(k_end_ms, x.span.end_ms)
           && u64(k_start_seq, x.span.start_seq) && u64(k_end_seq, x.span.end_seq)
           && u64(k_total, x.total);
  }
  bool end(snapshot_end& e) { return u64(k_boards, e.boards) && u64(k_entries, e.entries); }

  bool chunk(snapshot_chunk& c) {
    const msgpack::object* v = nullptr;
    if (!required(k_entries, v))
      return false;
    if (v->type != msgpack::type::ARRAY)
      return fail("entries: expected array, got " + std::string(type_name_of(*v)));
    const uint32_t n = v->via.array.size;
    if (n > max_snapshot_chunk)
      return fail("entries: " + std::to_string(n) + " entries, at most "
                  + std::to_string(max_snapshot_chunk) + " allowed in one chunk");
    c.entries.resize(n);
    for (uint32_t i = 0; i < n; ++i)
      if (!entry(v->via.array.ptr[i], "entries[" + std::to_string(i) + "]", c.entries[i]))
        return false;
    return true;
  }

private:
  // [player, score, subscore, seq, meta-or-nil]; elements past the fifth are
  // ignored, so a newer writer may append fields.
  bool entry(const msgpack::object& o, const std::string& at, snapshot_entry& e) {
    if (o.type != msgpack::type::ARRAY)
      return fail(at + ": expected array, got " + type_name_of(o));
    if (o.via.array.size < 5)
      return fail(at + ": " + std::to_string(o.via.array.size)
                  + " elements, expected 5 (player, score, subscore, seq, meta)");
    const msgpack::object* x = o.via.array.ptr;
    return want_name(x[0], at + "[0] player", e.player, check_player_name, err)
           && want_i64(x[1], at + "[1] score", e.score, err)
           && want_i64(x[2], at + "[2] subscore", e.subscore, err)
           && want_u64(x[3], at + "[3] seq", e.seq, err)
           && want_meta(x[4], at + "[4] meta", e.meta, err);
  }
};

bool read_item(item_reader& rd, std::string_view kind, snapshot_item& item) {
  if (kind == "head")
    return rd.head(item.emplace<snapshot_head>());
  if (kind == "board")
    return rd.board(item.emplace<snapshot_board>());
  if (kind == "chunk")
    return rd.chunk(item.emplace<snapshot_chunk>());
  if (kind == "end")
    return rd.end(item.emplace<snapshot_end>());
  if (kind == "season")
    return rd.season(item.emplace<snapshot_season>());
  rd.err = "kind: unknown snapshot record kind " + quote(kind)
           + " (head, board, chunk, end, season; a newer lbd may have written this snapshot)";
  return false;
}

// May throw (bad_alloc).
std::variant<snapshot_item, std::string> read_record(const msgpack::object& o) {
  item_reader rd;
  snapshot_item item;
  std::string_view kind;
  if (!rd.scan(o) || !rd.str(k_kind, kind) || !read_item(rd, kind, item))
    return std::move(rd.err);
  return item;
}

} // namespace

void append_snapshot_item(std::string& out, const snapshot_item& item) {
  item_writer w(out);
  std::visit(w, item);
}

std::variant<snapshot_item, std::string> decode_snapshot_item(const char* data, std::size_t size) {
  return detail::decode_record<snapshot_item>(
    data, size, "out of memory while decoding a snapshot record", read_record);
}

} // namespace lb::schemas
