// Request decoding (PROTOCOL.md sections 2, 3, 4 and 6).
//
// A frame goes through two bounded stages:
//  1. check_frame() walks the bytes without allocating: one well-formed
//     object, no trailing bytes, nesting <= max_nesting_depth, and no header
//     (array, map, str, bin, ext) claiming more than the bytes that follow.
//     So a 5-byte "array of 2^32-1" or "str of 4 GiB" is refused before the
//     parser allocates anything.
//  2. msgpack::unpack() with an unpack_limit derived from the frame size (a
//     second line of defence) into a thread-local zone that is cleared after
//     each frame; str/bin values reference the frame instead of being copied.
//     Since every element takes >= 1 byte of the frame, the parser allocates
//     at most ~sizeof(msgpack::object_kv) (48 B) per frame byte.
// Both stages are detail::bounded_unpack (schemas/msgpack_read.hpp), which
// the event-log and snapshot record bodies use too.
//
// Decisions where PROTOCOL.md is silent (also listed in the lead's report):
//  - `id` is echoed only when the body is a map with exactly one `id` key
//    whose value is a msgpack positive int (0..2^64-1). A negative, float,
//    str, ... `id` is a bad_request at the key-check stage (so an unknown op
//    still gives unknown_op), and that id is not echoed. A nil `id` is absent.
//  - Duplicate keys: a key that the op reads (and `op`, `id`) appearing twice
//    is bad_request ("board: duplicate key"), never "first/last wins", so two
//    parsers can never disagree about a request. A duplicated `op` fails at
//    the `op` stage. Duplicates of keys the op ignores are ignored.
//  - A non-str map key makes the body not a "map with string keys": it fails
//    at the first stage (bad_request) even if `op` is unknown; `id` is still
//    echoed when valid.
//  - Nesting deeper than max_nesting_depth (8) anywhere, even under an
//    unknown key, is bad_request.
//  - `ranks.players`: duplicate names are dropped (first occurrence kept);
//    a request with a duplicate is valid.
//  - Batch items: an item's own `op` and `id` are unknown keys (ignored). An
//    item error's message names the key without the item index (the result
//    slot gives the index), e.g. "score: missing", "item: expected map, got int".
//  - Name errors give 0-based byte offsets.
//  - Paging (PROTOCOL.md "Paging"): `top` takes `after` (a cursor: a str of
//    48 lowercase hex digits, as the service writes them) or `offset`, not
//    both; `boards` takes `limit` (1..1000) and `after` (a valid board name).
//  - Seasons (PROTOCOL.md "Seasons"): the reads' `season` is read after
//    `exact`, reset's `archive` after `board`, configure's `schedule` and
//    `keep` after `operator`. Every bad `season` gets the protocol's one
//    message, "season must be a positive integer (1..4294967295), got X".
//    `schedule` is the only key whose check reads a clock: an expression
//    that parses but has no next firing after now is refused.
#include "schemas/request.hpp"

#include <array>
#include <chrono>
#include <cstring>
#include <limits>
#include <new>

#include "schemas/cron.hpp"
#include "schemas/msgpack_read.hpp"

namespace lb::schemas {

// ---------------------------------------------------------------------------
// Stage 1: structural check without allocation.

std::string check_frame(const char* data, std::size_t size) {
  if (size == 0)
    return "empty frame";
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  uint64_t rem[max_nesting_depth + 1]; // objects still to read, per level
  unsigned level = 0;
  rem[0] = 1;
  uint64_t outstanding = 1; // sum of rem[]: each needs at least one byte
  std::size_t pos = 0;
  auto be = [&](std::size_t at, unsigned n) {
    uint64_t v = 0;
    for (unsigned i = 0; i < n; ++i)
      v = (v << 8) | p[at + i];
    return v;
  };
  for (;;) {
    while (rem[level] == 0) {
      if (level == 0)
        goto done;
      --level;
    }
    if (pos >= size)
      return "truncated frame: " + std::to_string(outstanding) + " more object(s) expected at byte "
             + std::to_string(pos);
    const std::size_t at = pos;
    const unsigned char b = p[pos++];
    --rem[level];
    --outstanding;
    unsigned len_bytes = 0; // size of a length field that follows the type byte
    uint64_t fixed = 0;     // payload bytes known from the type byte
    uint64_t extra = 0;     // payload bytes added to the length field (ext type)
    const char* kind = nullptr;
    bool is_map = false, is_array = false;
    uint64_t count = 0;
    if (b <= 0x7f || b >= 0xe0) {
      // fixint
    } else if (b <= 0x8f) {
      is_map = true;
      count = b & 0x0f;
    } else if (b <= 0x9f) {
      is_array = true;
      count = b & 0x0f;
    } else if (b <= 0xbf) {
      kind = "str";
      fixed = b & 0x1f;
    } else {
      switch (b) {
        case 0xc0:
        case 0xc2:
        case 0xc3:
          break;
        case 0xc1:
          return "invalid msgpack: reserved byte 0xc1 at byte " + std::to_string(at);
        case 0xc4:
          kind = "bin";
          len_bytes = 1;
          break;
        case 0xc5:
          kind = "bin";
          len_bytes = 2;
          break;
        case 0xc6:
          kind = "bin";
          len_bytes = 4;
          break;
        case 0xc7:
          kind = "ext";
          len_bytes = 1;
          extra = 1;
          break;
        case 0xc8:
          kind = "ext";
          len_bytes = 2;
          extra = 1;
          break;
        case 0xc9:
          kind = "ext";
          len_bytes = 4;
          extra = 1;
          break;
        case 0xca:
          fixed = 4;
          break;
        case 0xcb:
          fixed = 8;
          break;
        case 0xcc:
        case 0xd0:
          fixed = 1;
          break;
        case 0xcd:
        case 0xd1:
          fixed = 2;
          break;
        case 0xce:
        case 0xd2:
          fixed = 4;
          break;
        case 0xcf:
        case 0xd3:
          fixed = 8;
          break;
        case 0xd4:
          fixed = 2;
          break;
        case 0xd5:
          fixed = 3;
          break;
        case 0xd6:
          fixed = 5;
          break;
        case 0xd7:
          fixed = 9;
          break;
        case 0xd8:
          fixed = 17;
          break;
        case 0xd9:
          kind = "str";
          len_bytes = 1;
          break;
        case 0xda:
          kind = "str";
          len_bytes = 2;
          break;
        case 0xdb:
          kind = "str";
          len_bytes = 4;
          break;
        case 0xdc:
          is_array = true;
          len_bytes = 2;
          break;
        case 0xdd:
          is_array = true;
          len_bytes = 4;
          break;
        case 0xde:
          is_map = true;
          len_bytes = 2;
          break;
        case 0xdf:
          is_map = true;
          len_bytes = 4;
          break;
        default:
          break;
      }
    }
    if (len_bytes) {
      if (size - pos < len_bytes)
        return "truncated frame: header at byte " + std::to_string(at) + " is cut off";
      const uint64_t n = be(pos, len_bytes);
      pos += len_bytes;
      if (is_map || is_array)
        count = n;
      else
        fixed = n + extra;
    }
    const uint64_t left = size - pos;
    if (is_map || is_array) {
      if (level + 1 > max_nesting_depth)
        return "nesting deeper than " + std::to_string(max_nesting_depth) + " at byte "
               + std::to_string(at);
      const uint64_t children = is_map ? 2 * count : count;
      if (children > left || outstanding + children > left)
        return std::string(is_map ? "map" : "array") + " header at byte " + std::to_string(at)
               + " claims " + std::to_string(count) + " entries but only " + std::to_string(left)
               + " bytes follow";
      if (children) {
        rem[++level] = children;
        outstanding += children;
      }
    } else if (fixed) {
      if (fixed > left) {
        if (kind)
          return std::string(kind) + " at byte " + std::to_string(at) + " claims "
                 + std::to_string(fixed - extra) + " bytes but only " + std::to_string(left)
                 + " follow";
        return "truncated frame: value at byte " + std::to_string(at) + " is cut off";
      }
      pos += static_cast<std::size_t>(fixed);
    }
  }
done:
  if (pos != size)
    return "trailing bytes: the body ends at byte " + std::to_string(pos) + " of "
           + std::to_string(size);
  return {};
}

namespace {

// ---------------------------------------------------------------------------
// Helpers.

using detail::quote;
using detail::str_of;
using detail::type_name_of;

enum key_id : uint8_t {
  k_op,
  k_id,
  k_board,
  k_player,
  k_score,
  k_subscore,
  k_meta,
  k_items,
  k_exact,
  k_limit,
  k_offset,
  k_radius,
  k_players,
  k_order,
  k_operator,
  k_after,
  k_source,
  k_season,
  k_archive,
  k_schedule,
  k_keep,
  k_count,
  k_unknown
};

constexpr const char* key_names[k_count]
  = {"op",       "id",    "board",  "player", "score",   "subscore", "meta",
     "items",    "exact", "limit",  "offset", "radius",  "players",  "order",
     "operator", "after", "source", "season", "archive", "schedule", "keep"};
static_assert(k_count <= 32, "key_table::dup is a 32-bit mask");

key_id lookup_key(std::string_view k) {
  switch (k.size()) {
    case 2:
      if (k == "op")
        return k_op;
      if (k == "id")
        return k_id;
      break;
    case 4:
      if (k == "meta")
        return k_meta;
      if (k == "keep")
        return k_keep;
      break;
    case 5:
      if (k == "board")
        return k_board;
      if (k == "score")
        return k_score;
      if (k == "items")
        return k_items;
      if (k == "exact")
        return k_exact;
      if (k == "limit")
        return k_limit;
      if (k == "order")
        return k_order;
      if (k == "after")
        return k_after;
      break;
    case 6:
      if (k == "player")
        return k_player;
      if (k == "offset")
        return k_offset;
      if (k == "radius")
        return k_radius;
      if (k == "source")
        return k_source;
      if (k == "season")
        return k_season;
      break;
    case 7:
      if (k == "players")
        return k_players;
      if (k == "archive")
        return k_archive;
      break;
    case 8:
      if (k == "subscore")
        return k_subscore;
      if (k == "operator")
        return k_operator;
      if (k == "schedule")
        return k_schedule;
      break;
    default:
      break;
  }
  return k_unknown;
}

enum class op_id : uint8_t {
  submit,
  batch,
  rank,
  top,
  around,
  ranks,
  remove,
  reset,
  configure,
  boards,
  stats,
  ping,
  seasons,
  unknown
};

op_id lookup_op(std::string_view s) {
  switch (s.size()) {
    case 3:
      if (s == "top")
        return op_id::top;
      break;
    case 4:
      if (s == "rank")
        return op_id::rank;
      if (s == "ping")
        return op_id::ping;
      break;
    case 5:
      if (s == "batch")
        return op_id::batch;
      if (s == "ranks")
        return op_id::ranks;
      if (s == "reset")
        return op_id::reset;
      if (s == "stats")
        return op_id::stats;
      break;
    case 6:
      if (s == "submit")
        return op_id::submit;
      if (s == "around")
        return op_id::around;
      if (s == "remove")
        return op_id::remove;
      if (s == "boards")
        return op_id::boards;
      break;
    case 7:
      if (s == "seasons")
        return op_id::seasons;
      break;
    case 9:
      if (s == "configure")
        return op_id::configure;
      break;
    default:
      break;
  }
  return op_id::unknown;
}

// Where each known key of one map is; keys seen twice are flagged.
struct key_table {
  std::array<const msgpack::object*, k_count> val{};
  uint32_t dup = 0;
  int64_t bad_key = -1; // index of the first non-str key
  const msgpack::object* bad_key_obj = nullptr;

  void scan(const msgpack::object_map& m) {
    for (uint32_t i = 0; i < m.size; ++i) {
      const msgpack::object_kv& kv = m.ptr[i];
      if (kv.key.type != msgpack::type::STR) {
        if (bad_key < 0) {
          bad_key = i;
          bad_key_obj = &kv.key;
        }
        continue;
      }
      const key_id k = lookup_key(str_of(kv.key));
      if (k == k_unknown)
        continue;
      if (val[k])
        dup |= 1u << k;
      val[k] = &kv.val;
    }
  }
  std::string bad_key_message(const char* what) const {
    return std::string(what) + ": key #" + std::to_string(bad_key) + " is "
           + type_name_of(*bad_key_obj) + ", keys must be str";
  }
};

// Reads the keys of one map by the rules of section 3; the first problem
// is kept in `err` and every reader returns false from then on.
struct reader {
  const key_table& t;
  error err;

  explicit reader(const key_table& table) : t(table) { err.code = error_code::bad_request; }

  bool fail(key_id k, std::string what) {
    err.message = key_names[k];
    err.message += ": ";
    err.message += what;
    return false;
  }

  // Sets v to the value, or nullptr when absent or nil.
  bool value(key_id k, const msgpack::object*& v) {
    if (t.dup & (1u << k))
      return fail(k, "duplicate key");
    v = t.val[k];
    if (v && v->type == msgpack::type::NIL)
      v = nullptr;
    return true;
  }

  bool required(key_id k, const msgpack::object*& v) {
    if (!value(k, v))
      return false;
    return v || fail(k, "missing");
  }

  bool board(std::string& out) {
    const msgpack::object* v = nullptr;
    if (!required(k_board, v))
      return false;
    if (v->type != msgpack::type::STR)
      return fail(k_board, std::string("expected str, got ") + type_name_of(*v));
    const std::string_view s = str_of(*v);
    std::string why = check_board_name(s);
    if (!why.empty()) {
      err.message = std::move(why);
      return false;
    }
    out.assign(s.data(), s.size());
    return true;
  }

  bool player(std::string& out) {
    const msgpack::object* v = nullptr;
    if (!required(k_player, v))
      return false;
    if (v->type != msgpack::type::STR)
      return fail(k_player, std::string("expected str, got ") + type_name_of(*v));
    const std::string_view s = str_of(*v);
    std::string why = check_player_name(s);
    if (!why.empty()) {
      err.message = std::move(why);
      return false;
    }
    out.assign(s.data(), s.size());
    return true;
  }

  bool int64_value(key_id k, bool is_required, int64_t& out) {
    const msgpack::object* v = nullptr;
    if (!(is_required ? required(k, v) : value(k, v)))
      return false;
    if (!v)
      return true;
    if (v->type == msgpack::type::POSITIVE_INTEGER) {
      if (v->via.u64 > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return fail(k, std::to_string(v->via.u64) + " out of range for int64");
      out = static_cast<int64_t>(v->via.u64);
      return true;
    }
    if (v->type == msgpack::type::NEGATIVE_INTEGER) {
      out = v->via.i64;
      return true;
    }
    return fail(k, std::string("expected int64, got ") + type_name_of(*v));
  }

  // Optional unsigned integer in lo..hi.
  template <class T>
  bool uint_value(key_id k, uint64_t lo, uint64_t hi, T& out) {
    const msgpack::object* v = nullptr;
    if (!value(k, v))
      return false;
    if (!v)
      return true;
    const bool unbounded = hi == std::numeric_limits<uint64_t>::max();
    auto range = [&] {
      return unbounded ? " out of range, must be >= " + std::to_string(lo)
                       : " out of range " + std::to_string(lo) + ".." + std::to_string(hi);
    };
    if (v->type == msgpack::type::NEGATIVE_INTEGER)
      return fail(k, std::to_string(v->via.i64) + range());
    if (v->type != msgpack::type::POSITIVE_INTEGER)
      return fail(k, std::string("expected int, got ") + type_name_of(*v));
    if (v->via.u64 < lo || v->via.u64 > hi)
      return fail(k, std::to_string(v->via.u64) + range());
    out = static_cast<T>(v->via.u64);
    return true;
  }

  // The same, left unset when the key is absent or nil.
  template <class T>
  bool uint_value(key_id k, uint64_t lo, uint64_t hi, std::optional<T>& out) {
    T x{};
    if (!uint_value(k, lo, hi, x))
      return false;
    if (given(k))
      out = x;
    return true;
  }

  bool bool_value(key_id k, bool& out) {
    const msgpack::object* v = nullptr;
    if (!value(k, v))
      return false;
    if (!v)
      return true;
    if (v->type != msgpack::type::BOOLEAN)
      return fail(k, std::string("expected bool, got ") + type_name_of(*v));
    out = v->via.boolean;
    return true;
  }

  bool meta(std::optional<meta_value>& out) {
    const msgpack::object* v = nullptr;
    if (!value(k_meta, v))
      return false;
    if (!v)
      return true;
    if (v->type != msgpack::type::STR && v->type != msgpack::type::BIN)
      return fail(k_meta, std::string("expected str or bin, got ") + type_name_of(*v));
    // str and bin share the layout of via.str / via.bin.
    const bool is_bin = v->type == msgpack::type::BIN;
    const char* p = is_bin ? v->via.bin.ptr : v->via.str.ptr;
    const uint32_t n = is_bin ? v->via.bin.size : v->via.str.size;
    if (n > max_meta_len)
      return fail(k_meta, std::to_string(n) + " bytes, at most " + std::to_string(max_meta_len)
                            + " allowed");
    out.emplace();
    out->bytes.assign(p, n);
    out->is_bin = is_bin;
    return true;
  }

  template <class E, class Parse>
  bool enum_value(key_id k, Parse parse, const char* allowed, std::optional<E>& out) {
    const msgpack::object* v = nullptr;
    if (!value(k, v))
      return false;
    if (!v)
      return true;
    if (v->type != msgpack::type::STR)
      return fail(k, std::string("expected str, got ") + type_name_of(*v));
    out = parse(str_of(*v));
    if (!out)
      return fail(k, quote(str_of(*v)) + " is not one of " + allowed);
    return true;
  }

  // Whether the key is given (present and not nil).
  bool given(key_id k) const { return t.val[k] != nullptr && t.val[k]->type != msgpack::type::NIL; }

  // top `after`: a cursor from an earlier top reply's `next`.
  bool top_after(std::optional<top_cursor>& out) {
    const msgpack::object* v = nullptr;
    if (!value(k_after, v))
      return false;
    if (!v)
      return true;
    if (v->type != msgpack::type::STR)
      return fail(k_after, std::string("expected str (a cursor from a top reply's next), got ")
                             + type_name_of(*v));
    out = parse_top_cursor(str_of(*v));
    if (!out)
      return fail(k_after, quote(str_of(*v)) + " is not a top cursor (a top reply's next: "
                             + std::to_string(top_cursor_len) + " lowercase hex digits)");
    if (given(k_offset))
      return fail(k_after, "cannot be combined with offset (a page starts at one or the other)");
    return true;
  }

  // boards `after`: a board name, which need not exist.
  bool boards_after(std::optional<std::string>& out) {
    const msgpack::object* v = nullptr;
    if (!value(k_after, v))
      return false;
    if (!v)
      return true;
    if (v->type != msgpack::type::STR)
      return fail(k_after, std::string("expected str (a board name), got ") + type_name_of(*v));
    const std::string_view s = str_of(*v);
    std::string why = check_board_name(s);
    if (!why.empty()) {
      constexpr std::string_view prefix = "board: ";
      if (why.compare(0, prefix.size(), prefix) == 0)
        why.erase(0, prefix.size());
      return fail(k_after, std::move(why));
    }
    out.emplace(s);
    return true;
  }

  // Reads' `season` (PROTOCOL.md "Seasons"): a season's number, 1..2^32-1.
  // One message for every wrong value, as the protocol gives it.
  bool season(std::optional<uint32_t>& out) {
    const msgpack::object* v = nullptr;
    if (!value(k_season, v))
      return false;
    if (!v)
      return true;
    if (v->type == msgpack::type::POSITIVE_INTEGER && v->via.u64 >= 1
        && v->via.u64 <= std::numeric_limits<uint32_t>::max()) {
      out = static_cast<uint32_t>(v->via.u64);
      return true;
    }
    err.message = "season must be a positive integer (1.."
                  + std::to_string(std::numeric_limits<uint32_t>::max()) + "), got ";
    if (v->type == msgpack::type::POSITIVE_INTEGER)
      err.message += std::to_string(v->via.u64);
    else if (v->type == msgpack::type::NEGATIVE_INTEGER)
      err.message += std::to_string(v->via.i64);
    else
      err.message += type_name_of(*v);
    return false;
  }

  // configure `schedule`: a cron expression (schemas/cron.hpp) that fires,
  // or "" to remove the board's schedule.
  bool schedule(std::optional<std::string>& out) {
    const msgpack::object* v = nullptr;
    if (!value(k_schedule, v))
      return false;
    if (!v)
      return true;
    if (v->type != msgpack::type::STR)
      return fail(k_schedule,
                  std::string("expected str (a cron expression), got ") + type_name_of(*v));
    const std::string_view s = str_of(*v);
    if (s.size() > max_cron_len)
      return fail(k_schedule, std::to_string(s.size()) + " bytes, at most "
                                + std::to_string(max_cron_len) + " allowed");
    if (s.empty()) {
      out.emplace();
      return true;
    }
    std::string why;
    const std::optional<cron_schedule> cron = cron_schedule::parse(s, &why);
    if (!cron)
      return fail(k_schedule, std::move(why));
    // The one place decoding reads a clock: whether the expression ever
    // fires again is a question about now (a Feb 30 never does; a fixed
    // date in the past no longer does). A request decoded twice around such
    // a boundary may get two answers; the service decides once, at decode.
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
    if (!cron->next_after(now_ms))
      return fail(k_schedule, quote(s) + " never fires");
    out = cron->text(); // trimmed
    return true;
  }

  // An ingest frame's optional `source`.
  bool source() {
    const msgpack::object* v = nullptr;
    if (!value(k_source, v))
      return false;
    if (!v)
      return true;
    if (v->type != msgpack::type::STR)
      return fail(k_source, std::string("expected str, got ") + type_name_of(*v));
    std::string why = check_source_name(str_of(*v));
    if (!why.empty()) {
      err.message = std::move(why);
      return false;
    }
    return true;
  }

  bool submit(submit_req& r) {
    return board(r.board) && player(r.player) && int64_value(k_score, true, r.score)
           && int64_value(k_subscore, false, r.subscore) && meta(r.meta);
  }

  bool batch(batch_req& r) {
    const msgpack::object* v = nullptr;
    if (!required(k_items, v))
      return false;
    if (v->type != msgpack::type::ARRAY)
      return fail(k_items, std::string("expected array, got ") + type_name_of(*v));
    const uint32_t n = v->via.array.size;
    if (n == 0)
      return fail(k_items, "empty, 1.." + std::to_string(max_batch_items) + " items allowed");
    if (n > max_batch_items)
      return fail(k_items, std::to_string(n) + " items, at most " + std::to_string(max_batch_items)
                             + " allowed");
    r.items.clear();
    r.items.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      const msgpack::object& item = v->via.array.ptr[i];
      if (item.type != msgpack::type::MAP) {
        r.items.emplace_back(error{error_code::bad_request,
                                   std::string("item: expected map, got ") + type_name_of(item)});
        continue;
      }
      key_table it;
      it.scan(item.via.map);
      if (it.bad_key >= 0) {
        r.items.emplace_back(error{error_code::bad_request, it.bad_key_message("item")});
        continue;
      }
      reader rd(it);
      submit_req s;
      if (rd.submit(s))
        r.items.emplace_back(std::move(s));
      else
        r.items.emplace_back(std::move(rd.err));
    }
    return true;
  }

  bool players(std::vector<std::string>& out) {
    const msgpack::object* v = nullptr;
    if (!required(k_players, v))
      return false;
    if (v->type != msgpack::type::ARRAY)
      return fail(k_players, std::string("expected array, got ") + type_name_of(*v));
    const uint32_t n = v->via.array.size;
    if (n == 0)
      return fail(k_players, "empty, 1.." + std::to_string(max_ranks_players) + " names allowed");
    if (n > max_ranks_players)
      return fail(k_players, std::to_string(n) + " names, at most "
                               + std::to_string(max_ranks_players) + " allowed");
    out.clear();
    out.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      const msgpack::object& p = v->via.array.ptr[i];
      auto where = [i] { return "players[" + std::to_string(i) + "]: "; };
      if (p.type != msgpack::type::STR) {
        err.message = where() + "expected str, got " + type_name_of(p);
        return false;
      }
      const std::string_view s = str_of(p);
      std::string why = check_player_name(s);
      if (!why.empty()) {
        constexpr std::string_view prefix = "player: ";
        if (why.compare(0, prefix.size(), prefix) == 0)
          why.erase(0, prefix.size());
        err.message = where() + why;
        return false;
      }
      bool seen = false;
      for (const std::string& q : out)
        if (q == s) {
          seen = true;
          break;
        }
      if (!seen)
        out.emplace_back(s);
    }
    return true;
  }
};

void set_error(decoded_request& out, error_code code, const char* msg) noexcept {
  try {
    out.body = error{code, msg};
  } catch (...) {
    out.body = error{code, std::string()};
  }
}

// Fills `out`; may throw (bad_alloc, or an unpack error check_frame missed).
void decode_into(decoded_request& out, const char* data, std::size_t size, bool ingest) {
  auto bad = [&](std::string msg) { out.body = error{error_code::bad_request, std::move(msg)}; };
  const detail::bounded_unpack frame(data, size);
  if (!frame.frame_error().empty())
    return bad(frame.frame_error());
  if (frame.trailing())
    return bad("trailing bytes after the body");
  const msgpack::object& o = frame.object();

  // 1. A map with str keys.
  if (o.type != msgpack::type::MAP)
    return bad(std::string("body: expected map, got ") + type_name_of(o));
  key_table t;
  t.scan(o.via.map);
  if (const msgpack::object* id = t.val[k_id];
      id && !(t.dup & (1u << k_id)) && id->type == msgpack::type::POSITIVE_INTEGER)
    out.id = id->via.u64;
  // An ingest frame's source is read as early as its id, so that a frame
  // refused for any other reason is still acknowledged to its sender.
  if (const msgpack::object* src = t.val[k_source]; ingest && src && !(t.dup & (1u << k_source))
                                                    && src->type == msgpack::type::STR
                                                    && check_source_name(str_of(*src)).empty())
    out.source.emplace(str_of(*src));
  if (t.bad_key >= 0)
    return bad(t.bad_key_message("body"));

  // 2. `op` present and a str.
  if (t.dup & (1u << k_op))
    return bad("op: duplicate key");
  const msgpack::object* opv = t.val[k_op];
  if (!opv || opv->type == msgpack::type::NIL)
    return bad("op: missing");
  if (opv->type != msgpack::type::STR)
    return bad(std::string("op: expected str, got ") + type_name_of(*opv));

  // 3. `op` known.
  const op_id op = lookup_op(str_of(*opv));
  if (ingest) {
    if (op == op_id::unknown)
      return bad("op: unknown op " + quote(str_of(*opv)) + " (ingest accepts submit and batch)");
    if (op != op_id::submit && op != op_id::batch)
      return bad("op: " + quote(str_of(*opv))
                 + " is not accepted on ingest (only submit and batch)");
  } else if (op == op_id::unknown) {
    out.body = error{error_code::unknown_op, "op: unknown op " + quote(str_of(*opv))};
    return;
  }

  // 4. Every key the op reads, in the order of the protocol table.
  reader rd(t);
  const msgpack::object* idv = nullptr;
  if (!rd.value(k_id, idv))
    return bad(std::move(rd.err.message));
  if (idv && idv->type != msgpack::type::POSITIVE_INTEGER) {
    if (idv->type == msgpack::type::NEGATIVE_INTEGER)
      return bad("id: " + std::to_string(idv->via.i64) + " is negative, expected uint64");
    return bad(std::string("id: expected uint64, got ") + type_name_of(*idv));
  }
  // On `requests` a source is ignored, as any key the op does not read.
  if (ingest && !rd.source())
    return bad(std::move(rd.err.message));

  request_body& body = std::get<request_body>(out.body);
  bool ok = true;
  switch (op) {
    case op_id::submit:
      ok = rd.submit(body.emplace<submit_req>());
      break;
    case op_id::batch:
      ok = rd.batch(body.emplace<batch_req>());
      break;
    case op_id::rank: {
      auto& r = body.emplace<rank_req>();
      ok = rd.board(r.board) && rd.player(r.player) && rd.bool_value(k_exact, r.exact)
           && rd.season(r.season);
      break;
    }
    case op_id::top: {
      auto& r = body.emplace<top_req>();
      ok = rd.board(r.board) && rd.uint_value(k_limit, 1, max_top_limit, r.limit)
           && rd.uint_value(k_offset, 0, std::numeric_limits<uint64_t>::max(), r.offset)
           && rd.top_after(r.after) && rd.bool_value(k_exact, r.exact) && rd.season(r.season);
      break;
    }
    case op_id::around: {
      auto& r = body.emplace<around_req>();
      ok = rd.board(r.board) && rd.player(r.player)
           && rd.uint_value(k_radius, 0, max_radius, r.radius) && rd.bool_value(k_exact, r.exact)
           && rd.season(r.season);
      break;
    }
    case op_id::ranks: {
      auto& r = body.emplace<ranks_req>();
      ok = rd.board(r.board) && rd.players(r.players) && rd.bool_value(k_exact, r.exact)
           && rd.season(r.season);
      break;
    }
    case op_id::remove: {
      auto& r = body.emplace<remove_req>();
      ok = rd.board(r.board) && rd.player(r.player);
      break;
    }
    case op_id::reset: {
      auto& r = body.emplace<reset_req>();
      ok = rd.board(r.board) && rd.bool_value(k_archive, r.archive);
      break;
    }
    case op_id::configure: {
      auto& r = body.emplace<configure_req>();
      ok = rd.board(r.board) && rd.enum_value(k_order, parse_board_order, "desc, asc", r.order)
           && rd.enum_value(k_operator, parse_score_operator, "best, set, incr, decr", r.op)
           && rd.schedule(r.schedule) && rd.uint_value(k_keep, 1, max_keep_seasons, r.keep);
      break;
    }
    case op_id::boards: {
      auto& r = body.emplace<boards_req>();
      ok = rd.uint_value(k_limit, 1, max_boards_limit, r.limit) && rd.boards_after(r.after)
           && rd.bool_value(k_exact, r.exact);
      break;
    }
    case op_id::stats:
      body.emplace<stats_req>();
      break;
    case op_id::ping:
      body.emplace<ping_req>();
      break;
    case op_id::seasons:
      ok = rd.board(body.emplace<seasons_req>().board);
      break;
    case op_id::unknown:
      break;
  }
  if (!ok)
    out.body = std::move(rd.err);
}

decoded_request decode_impl(const char* data, std::size_t size, bool ingest) noexcept {
  decoded_request out;
  try {
    decode_into(out, data, size, ingest);
  } catch (const std::bad_alloc&) {
    set_error(out, error_code::internal, "out of memory while decoding the request");
  } catch (const msgpack::unpack_error& e) {
    set_error(out, error_code::bad_request, e.what());
  } catch (const std::exception& e) {
    set_error(out, error_code::internal, e.what());
  } catch (...) {
    set_error(out, error_code::internal, "unknown exception while decoding the request");
  }
  return out;
}

} // namespace

decoded_request decode_request(const char* data, std::size_t size) {
  return decode_impl(data, size, false);
}

decoded_request decode_ingest(const char* data, std::size_t size) {
  return decode_impl(data, size, true);
}

} // namespace lb::schemas
