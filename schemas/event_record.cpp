// Event-log record bodies (docs/EVENT-LOG.md).
//
// A body that passed its checksum is still read as hostile input: a bug in an
// older writer, a hand-edited file or a checksum collision must give an error
// message, never a crash or a huge allocation. So decoding goes through the
// same two bounded stages as requests (schemas/decode.cpp): check_frame()
// without allocating, then msgpack::unpack() with an unpack_limit derived
// from the body size, into a thread-local zone cleared after each body
// (detail::decode_record in schemas/msgpack_read.hpp).
#include "schemas/event_record.hpp"

#include <limits>
#include <new>

#include "schemas/cron.hpp"
#include "schemas/msgpack_read.hpp"
#include "schemas/msgpack_write.hpp"

namespace lb::schemas {

namespace {

using detail::quote;

// ---------------------------------------------------------------------------
// Encoding.

class body_writer : public detail::record_writer {
public:
  using value_writer::value_writer;

  // The four keys every event has; `extra` more follow.
  void common(uint32_t extra, uint64_t seq, int64_t time_ms, const char* type,
              const std::string& board) {
    map(4 + extra);
    str("seq");
    u64(seq);
    str("t");
    i64(time_ms);
    str("type");
    str(type);
    str("board");
    str(board);
  }
};

// ---------------------------------------------------------------------------
// Decoding.

enum key_id : uint8_t {
  k_seq,
  k_t,
  k_type,
  k_board,
  k_player,
  k_score,
  k_subscore,
  k_meta,
  k_order,
  k_operator,
  k_existing_only,
  k_schedule,
  k_keep,
  k_season,
  k_end_ms,
  k_start_ms,
  k_scheduled,
  k_count
};
constexpr const char* key_names[k_count]
  = {"seq",      "t",      "type",   "board",    "player",        "score",
     "subscore", "meta",   "order",  "operator", "existing_only", "schedule",
     "keep",     "season", "end_ms", "start_ms", "scheduled"};

// The known keys of one body map, read by the rules of detail::record_reader.
class event_reader : public detail::record_reader<k_count> {
public:
  event_reader() : record_reader(key_names) {}

  bool u64(key_id k, uint64_t& out) {
    const msgpack::object* v = nullptr;
    if (!required(k, v))
      return false;
    if (v->type == msgpack::type::NEGATIVE_INTEGER)
      return fail(k, std::to_string(v->via.i64) + " is negative, expected uint64");
    if (v->type != msgpack::type::POSITIVE_INTEGER)
      return wrong_type(k, "uint64", *v);
    out = v->via.u64;
    return true;
  }

  // check_board_name / check_player_name messages already start with the key.
  bool name(key_id k, std::string& out, std::string (*check)(std::string_view)) {
    std::string_view s;
    if (!str(k, s))
      return false;
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

  bool flag(key_id k, bool& out) {
    const msgpack::object* v = value(k);
    if (!v)
      return true;
    if (v->type != msgpack::type::BOOLEAN)
      return wrong_type(k, "bool", *v);
    out = v->via.boolean;
    return true;
  }

  // An unsigned value in lo..hi; absent (or nil) leaves `out` as it is
  // unless the key is required.
  bool bounded(key_id k, bool is_required, uint64_t lo, uint64_t hi, uint32_t& out) {
    const msgpack::object* v = value(k);
    if (!v)
      return is_required ? fail(k, "missing") : true;
    if (v->type == msgpack::type::NEGATIVE_INTEGER)
      return fail(k, std::to_string(v->via.i64) + " is negative, expected uint");
    if (v->type != msgpack::type::POSITIVE_INTEGER)
      return wrong_type(k, "uint", *v);
    if (v->via.u64 < lo || v->via.u64 > hi)
      return fail(k, std::to_string(v->via.u64) + " out of range " + std::to_string(lo) + ".."
                       + std::to_string(hi));
    out = static_cast<uint32_t>(v->via.u64);
    return true;
  }

  // configure's `schedule`: absent is none. Held to the request's rules
  // except that it may no longer fire (that depends on the clock).
  bool schedule(std::string& out) {
    const msgpack::object* v = value(k_schedule);
    if (!v)
      return true;
    if (v->type != msgpack::type::STR)
      return wrong_type(k_schedule, "str", *v);
    const std::string_view s = detail::str_of(*v);
    if (std::string why = schedule_problem(s); !why.empty())
      return fail(k_schedule, why);
    out.assign(s);
    return true;
  }

  bool meta(std::optional<meta_value>& out) {
    const msgpack::object* v = value(k_meta);
    if (!v)
      return true;
    if (v->type != msgpack::type::STR && v->type != msgpack::type::BIN)
      return wrong_type(k_meta, "str or bin", *v);
    const bool bin = v->type == msgpack::type::BIN;
    const std::size_t n = bin ? v->via.bin.size : v->via.str.size;
    if (n > max_meta_len)
      return fail(k_meta, std::to_string(n) + " bytes, at most " + std::to_string(max_meta_len)
                            + " allowed");
    out = meta_value{std::string(bin ? v->via.bin.ptr : v->via.str.ptr, n), bin};
    return true;
  }
};

bool read_body(event_reader& rd, std::string_view type, event_body& body) {
  if (type == "submit") {
    auto& e = body.emplace<submit_req>();
    return rd.board(e.board) && rd.player(e.player) && rd.i64(k_score, e.score)
           && rd.i64(k_subscore, e.subscore) && rd.meta(e.meta)
           && rd.flag(k_existing_only, e.existing_only);
  }
  if (type == "remove") {
    auto& e = body.emplace<remove_req>();
    return rd.board(e.board) && rd.player(e.player);
  }
  if (type == "reset")
    return rd.board(body.emplace<reset_req>().board);
  if (type == "configure") {
    auto& e = body.emplace<configure_event_body>();
    return rd.board(e.board) && rd.enum_value(k_order, parse_board_order, "desc, asc", e.order)
           && rd.enum_value(k_operator, parse_score_operator, "best, set, incr, decr", e.op)
           && rd.schedule(e.schedule) && rd.bounded(k_keep, false, 1, max_keep_seasons, e.keep);
  }
  if (type == "rollover") {
    auto& e = body.emplace<rollover_body>();
    return rd.board(e.board)
           && rd.bounded(k_season, true, 1, std::numeric_limits<uint32_t>::max(), e.season)
           && rd.i64(k_end_ms, e.end_ms) && rd.i64(k_start_ms, e.start_ms)
           && rd.flag(k_scheduled, e.scheduled);
  }
  rd.err = "type: unknown event type " + quote(type)
           + " (submit, remove, reset, configure, rollover; a newer lbd may have written this "
             "log)";
  return false;
}

// May throw (bad_alloc).
std::variant<event_record, std::string> read_record(const msgpack::object& o) {
  event_reader rd;
  event_record r;
  std::string_view type;
  if (!rd.scan(o) || !rd.u64(k_seq, r.seq) || !rd.i64(k_t, r.time_ms) || !rd.str(k_type, type)
      || !read_body(rd, type, r.body))
    return std::move(rd.err);
  return r;
}

} // namespace

const std::string& board_of(const event_body& body) {
  return std::visit([](const auto& e) -> const std::string& { return e.board; }, body);
}

const char* type_name(const event_body& body) {
  switch (body.index()) {
    case 0:
      return "submit";
    case 1:
      return "remove";
    case 2:
      return "reset";
    case 3:
      return "configure";
    default:
      return "rollover";
  }
}

void append_event(std::string& out, uint64_t seq, int64_t time_ms, const submit_req& e) {
  body_writer w(out);
  w.common(3 + (e.meta ? 1 : 0) + (e.existing_only ? 1 : 0), seq, time_ms, "submit", e.board);
  w.str("player");
  w.str(e.player);
  w.str("score");
  w.i64(e.score);
  w.str("subscore");
  w.i64(e.subscore);
  if (e.meta) {
    w.str("meta");
    w.meta(*e.meta);
  }
  if (e.existing_only) {
    w.str("existing_only");
    w.boolean(true);
  }
}

void append_event(std::string& out, uint64_t seq, int64_t time_ms, const remove_req& e) {
  body_writer w(out);
  w.common(1, seq, time_ms, "remove", e.board);
  w.str("player");
  w.str(e.player);
}

void append_event(std::string& out, uint64_t seq, int64_t time_ms, const reset_req& e) {
  body_writer w(out);
  w.common(0, seq, time_ms, "reset", e.board);
}

// `schedule` and `keep` only when not their defaults, so that a log without
// seasons reads as before and older readers of it see nothing new.
void append_event(std::string& out, uint64_t seq, int64_t time_ms, const configure_event_body& e) {
  const bool schedule = !e.schedule.empty(), keep = e.keep != default_keep_seasons;
  body_writer w(out);
  w.common(2 + (schedule ? 1 : 0) + (keep ? 1 : 0), seq, time_ms, "configure", e.board);
  w.str("order");
  w.str(to_string(e.order));
  w.str("operator");
  w.str(to_string(e.op));
  if (schedule) {
    w.str("schedule");
    w.str(e.schedule);
  }
  if (keep) {
    w.str("keep");
    w.u64(e.keep);
  }
}

void append_event(std::string& out, uint64_t seq, int64_t time_ms, const rollover_body& e) {
  body_writer w(out);
  w.common(4, seq, time_ms, "rollover", e.board);
  w.str("season");
  w.u64(e.season);
  w.str("end_ms");
  w.i64(e.end_ms);
  w.str("start_ms");
  w.i64(e.start_ms);
  w.str("scheduled");
  w.boolean(e.scheduled);
}

void append_event(std::string& out, const event_record& r) {
  std::visit([&](const auto& e) { append_event(out, r.seq, r.time_ms, e); }, r.body);
}

std::variant<event_record, std::string> decode_event(const char* data, std::size_t size) {
  return detail::decode_record<event_record>(
    data, size, "out of memory while decoding an event body", read_record);
}

} // namespace lb::schemas
