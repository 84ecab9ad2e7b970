// Codec tests: PROTOCOL.md sections 2 (encoding), 3 (requests, replies,
// check order) and 6 (error codes), plus hostile frames and JSON rendering.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <msgpack.hpp>

#include "schemas/cron.hpp"
#include "schemas/json.hpp"
#include "schemas/reply.hpp"
#include "schemas/request.hpp"
#include "schemas/types.hpp"
#include "schemas/update.hpp"
#include "tests/unit/request_eq.hpp"

using namespace lb::schemas;

namespace {

// ---------------------------------------------------------------------------
// A tiny msgpack value builder, so tests can write frames the service would
// never produce (wrong types, duplicate keys, odd widths).

struct Bin {
  std::string b;
};
struct Raw {
  std::string bytes;
}; // already msgpack-encoded
struct V;
using Arr = std::vector<V>;
using Map = std::vector<std::pair<V, V>>;

struct V {
  std::variant<std::nullptr_t, bool, int64_t, uint64_t, double, std::string, Bin, Arr, Map, Raw> v;
  V(std::nullptr_t) : v(nullptr) {}
  V(bool b) : v(b) {}
  V(int x) : v(int64_t{x}) {}
  V(long x) : v(int64_t{x}) {}
  V(long long x) : v(int64_t{x}) {}
  V(unsigned x) : v(uint64_t{x}) {}
  V(unsigned long x) : v(uint64_t{x}) {}
  V(unsigned long long x) : v(uint64_t{x}) {}
  V(double x) : v(x) {}
  V(const char* s) : v(std::string(s)) {}
  V(std::string s) : v(std::move(s)) {}
  V(Bin b) : v(std::move(b)) {}
  V(Arr a) : v(std::move(a)) {}
  V(Map m) : v(std::move(m)) {}
  V(Raw r) : v(std::move(r)) {}
};

void pack(msgpack::packer<msgpack::sbuffer>& pk, msgpack::sbuffer& buf, const V& x) {
  std::visit(
    [&](const auto& y) {
      using T = std::decay_t<decltype(y)>;
      if constexpr (std::is_same_v<T, std::nullptr_t>)
        pk.pack_nil();
      else if constexpr (std::is_same_v<T, bool>)
        y ? pk.pack_true() : pk.pack_false();
      else if constexpr (std::is_same_v<T, int64_t>)
        pk.pack_int64(y);
      else if constexpr (std::is_same_v<T, uint64_t>)
        pk.pack_uint64(y);
      else if constexpr (std::is_same_v<T, double>) {
        // always float64: msgpack-c's pack_double writes integral values as ints
        uint64_t bits;
        std::memcpy(&bits, &y, 8);
        char b[9] = {static_cast<char>(0xcb)};
        for (int i = 0; i < 8; ++i)
          b[1 + i] = static_cast<char>(bits >> (56 - 8 * i));
        buf.write(b, 9);
      } else if constexpr (std::is_same_v<T, std::string>) {
        pk.pack_str(static_cast<uint32_t>(y.size()));
        pk.pack_str_body(y.data(), static_cast<uint32_t>(y.size()));
      } else if constexpr (std::is_same_v<T, Bin>) {
        pk.pack_bin(static_cast<uint32_t>(y.b.size()));
        pk.pack_bin_body(y.b.data(), static_cast<uint32_t>(y.b.size()));
      } else if constexpr (std::is_same_v<T, Arr>) {
        pk.pack_array(static_cast<uint32_t>(y.size()));
        for (const auto& e : y)
          pack(pk, buf, e);
      } else if constexpr (std::is_same_v<T, Map>) {
        pk.pack_map(static_cast<uint32_t>(y.size()));
        for (const auto& kv : y) {
          pack(pk, buf, kv.first);
          pack(pk, buf, kv.second);
        }
      } else {
        buf.write(y.bytes.data(), y.bytes.size());
      }
    },
    x.v);
}

std::string enc(const V& x) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pack(pk, buf, x);
  return std::string(buf.data(), buf.size());
}

Map with(Map m, Map extra) {
  for (auto& kv : extra)
    m.push_back(std::move(kv));
  return m;
}

decoded_request dec(const std::string& frame) {
  return decode_request(frame.data(), frame.size());
}
decoded_request dec(const V& x) {
  return dec(enc(x));
}
decoded_request ing(const V& x) {
  const std::string f = enc(x);
  return decode_ingest(f.data(), f.size());
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

#define CHECK_ERR(d, code_, part)                                                                  \
  do {                                                                                             \
    const decoded_request& dd_ = (d);                                                              \
    REQUIRE_MESSAGE(!dd_.ok(), "expected error containing: " << (part));                           \
    const error& e_ = std::get<error>(dd_.body);                                                   \
    CHECK_MESSAGE(e_.code == (code_), "code " << to_string(e_.code) << ": " << e_.message);        \
    CHECK_MESSAGE(contains(e_.message, part), "message: " << e_.message);                          \
  } while (0)

#define CHECK_BAD(d, part) CHECK_ERR(d, error_code::bad_request, part)

// Returns a copy, so `const auto& r = req<T>(dec(...))` never dangles.
template <class T>
T req(const decoded_request& d) {
  if (!d.ok())
    FAIL_CHECK("decode failed: " << std::get<error>(d.body).message);
  REQUIRE(d.ok());
  const auto& body = std::get<request_body>(d.body);
  REQUIRE(std::holds_alternative<T>(body));
  return std::get<T>(body);
}

const Map base_submit = {{"op", "submit"}, {"board", "b1"}, {"player", "alice"}, {"score", 10}};

std::string rep(char c, std::size_t n) {
  return std::string(n, c);
}

// ---------------------------------------------------------------------------
// Request equality (for round trips): errors compare by code only.

using lb::schemas::testing::eq;

// ---------------------------------------------------------------------------
// Reply inspection.

struct reply {
  msgpack::object_handle oh;
  const msgpack::object& root() const { return oh.get(); }
};

reply parse_reply(const std::string& s) {
  REQUIRE(check_frame(s.data(), s.size()) == "");
  std::size_t off = 0;
  reply r{msgpack::unpack(s.data(), s.size(), off)};
  REQUIRE(off == s.size());
  REQUIRE(r.root().type == msgpack::type::MAP);
  return r;
}

std::vector<std::string> keys_of(const msgpack::object& m) {
  REQUIRE(m.type == msgpack::type::MAP);
  std::vector<std::string> ks;
  for (uint32_t i = 0; i < m.via.map.size; ++i) {
    REQUIRE(m.via.map.ptr[i].key.type == msgpack::type::STR);
    ks.push_back(m.via.map.ptr[i].key.as<std::string>());
  }
  return ks;
}

const msgpack::object& at(const msgpack::object& m, const std::string& k) {
  REQUIRE(m.type == msgpack::type::MAP);
  for (uint32_t i = 0; i < m.via.map.size; ++i)
    if (m.via.map.ptr[i].key.type == msgpack::type::STR
        && m.via.map.ptr[i].key.as<std::string>() == k)
      return m.via.map.ptr[i].val;
  FAIL("key not found: " << k);
  return m; // unreachable
}

using strs = std::vector<std::string>;

std::string s_of(const msgpack::object& o) {
  REQUIRE(o.type == msgpack::type::STR);
  return o.as<std::string>();
}
uint64_t u_of(const msgpack::object& o) {
  REQUIRE(o.type == msgpack::type::POSITIVE_INTEGER);
  return o.via.u64;
}
int64_t i_of(const msgpack::object& o) {
  return o.as<int64_t>();
}
bool b_of(const msgpack::object& o) {
  REQUIRE(o.type == msgpack::type::BOOLEAN);
  return o.via.boolean;
}

} // namespace

// ===========================================================================
TEST_CASE("enum names and parsing") {
  CHECK(std::string(to_string(board_order::desc)) == "desc");
  CHECK(std::string(to_string(board_order::asc)) == "asc");
  CHECK(std::string(to_string(score_operator::best)) == "best");
  CHECK(std::string(to_string(score_operator::set)) == "set");
  CHECK(std::string(to_string(score_operator::incr)) == "incr");
  CHECK(std::string(to_string(score_operator::decr)) == "decr");
  const std::pair<error_code, const char*> codes[]
    = {{error_code::bad_request, "bad_request"}, {error_code::unknown_op, "unknown_op"},
       {error_code::not_found, "not_found"},     {error_code::conflict, "conflict"},
       {error_code::overloaded, "overloaded"},   {error_code::unauthorized, "unauthorized"},
       {error_code::internal, "internal"}};
  for (const auto& [c, name] : codes)
    CHECK(std::string(to_string(c)) == name);
  CHECK(parse_board_order("desc") == board_order::desc);
  CHECK(parse_board_order("asc") == board_order::asc);
  CHECK_FALSE(parse_board_order("DESC"));
  CHECK_FALSE(parse_board_order(""));
  for (auto o :
       {score_operator::best, score_operator::set, score_operator::incr, score_operator::decr})
    CHECK(parse_score_operator(to_string(o)) == o);
  CHECK_FALSE(parse_score_operator("max"));
  CHECK_FALSE(parse_score_operator(std::string_view("best\0", 5)));
}

TEST_CASE("board name rules") {
  CHECK(check_board_name("b") == "");
  CHECK(check_board_name(rep('x', 64)) == "");
  CHECK(check_board_name("AZaz09_.:-") == "");
  CHECK(check_board_name(rep('x', 65)) == "board: 65 bytes, at most 64 allowed");
  CHECK(contains(check_board_name(""), "board: empty"));
  CHECK(check_board_name("ab cd")
        == "board: invalid character 0x20 at byte 2 (allowed: A-Z a-z 0-9 _ . : -)");
  for (const char* bad : {"a/b", "a b", "a\tb", "é", "a+b", "a,b", "a@b", "a\"b"})
    CHECK_MESSAGE(check_board_name(bad) != "", bad);
  CHECK(contains(check_board_name(std::string("a\0b", 3)), "0x00 at byte 1"));
  CHECK(contains(check_board_name("ab\x80"), "0x80 at byte 2"));
}

TEST_CASE("player name rules") {
  CHECK(check_player_name("a") == "");
  CHECK(check_player_name(rep('p', 128)) == "");
  CHECK(check_player_name(rep('p', 129)) == "player: 129 bytes, at most 128 allowed");
  CHECK(contains(check_player_name(""), "player: empty"));
  // 64 two-byte characters = 128 bytes.
  std::string e64;
  for (int i = 0; i < 64; ++i)
    e64 += "\xc3\xa9";
  CHECK(check_player_name(e64) == "");
  CHECK(contains(check_player_name(e64 + "x"), "129 bytes"));
  // Valid multi-byte forms, including the edges of the ranges.
  for (const char* ok : {"Zoë", "名前", "😀", "a b/c\"d", "\x7f", "\xc2\x80", "\xdf\xbf",
                         "\xe0\xa0\x80", "\xed\x9f\xbf" /* U+D7FF */, "\xee\x80\x80" /* U+E000 */,
                         "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf" /* U+10FFFF */})
    CHECK_MESSAGE(check_player_name(ok) == "", ok);
  struct bad_case {
    std::string s;
    const char* expect;
  };
  const bad_case bads[] = {
    {std::string("abc\0d", 5), "player: NUL at byte 3"},
    {std::string("\0", 1), "player: NUL at byte 0"},
    {"abc\x80", "player: invalid UTF-8 at byte 3 (unexpected continuation byte)"},
    {"\xc0\x80", "invalid UTF-8 at byte 0 (overlong encoding)"}, // overlong NUL
    {"ab\xc1\xbf", "invalid UTF-8 at byte 2 (overlong encoding)"},
    {"\xe0\x80\x80", "invalid UTF-8 at byte 0 (overlong encoding)"},
    {"\xe0\x9f\xbf", "overlong"},
    {"\xf0\x80\x80\x80", "overlong"},
    {"\xf0\x8f\xbf\xbf", "overlong"},
    {"x\xed\xa0\x80", "invalid UTF-8 at byte 1 (surrogate)"}, // U+D800
    {"\xed\xbf\xbf", "surrogate"},                            // U+DFFF
    {"\xf4\x90\x80\x80", "above U+10FFFF"},                   // U+110000
    {"\xf5\x80\x80\x80", "above U+10FFFF"},
    {"\xf8\x88\x80\x80\x80", "invalid byte 0xf8"},
    {"\xff", "invalid byte 0xff"},
    {"ab\xe2\x82", "invalid UTF-8 at byte 2 (truncated sequence)"},
    {"\xc3", "truncated"},
    {"\xe2\x28\xa1", "incomplete sequence"},
    {"\xf0\x9f\x98x", "incomplete sequence"},
  };
  for (const auto& b : bads)
    CHECK_MESSAGE(contains(check_player_name(b.s), b.expect), check_player_name(b.s));
}

// ===========================================================================
TEST_CASE("each op decodes with defaults") {
  {
    const auto& r = req<submit_req>(dec(base_submit));
    CHECK(r.board == "b1");
    CHECK(r.player == "alice");
    CHECK(r.score == 10);
    CHECK(r.subscore == 0);
    CHECK_FALSE(r.meta);
  }
  {
    const auto& r = req<batch_req>(dec(
      Map{{"op", "batch"}, {"items", Arr{Map{{"board", "b"}, {"player", "p"}, {"score", -3}}}}}));
    REQUIRE(r.items.size() == 1);
    const auto& s = std::get<submit_req>(r.items[0]);
    CHECK(s.board == "b");
    CHECK(s.player == "p");
    CHECK(s.score == -3);
    CHECK(s.subscore == 0);
    CHECK_FALSE(s.meta);
  }
  {
    const auto& r = req<rank_req>(dec(Map{{"op", "rank"}, {"board", "b"}, {"player", "p"}}));
    CHECK(r.board == "b");
    CHECK(r.player == "p");
    CHECK(r.exact); // v2: reads are exact unless they say otherwise
  }
  {
    const auto& r = req<top_req>(dec(Map{{"op", "top"}, {"board", "b"}}));
    CHECK(r.board == "b");
    CHECK(r.limit == 10);
    CHECK(r.offset == 0);
    CHECK(r.exact);
  }
  {
    const auto& r = req<around_req>(dec(Map{{"op", "around"}, {"board", "b"}, {"player", "p"}}));
    CHECK(r.board == "b");
    CHECK(r.player == "p");
    CHECK(r.radius == 5);
  }
  {
    const auto& r
      = req<ranks_req>(dec(Map{{"op", "ranks"}, {"board", "b"}, {"players", Arr{"p"}}}));
    CHECK(r.board == "b");
    CHECK(r.players == strs{"p"});
  }
  {
    const auto& r = req<remove_req>(dec(Map{{"op", "remove"}, {"board", "b"}, {"player", "p"}}));
    CHECK(r.board == "b");
    CHECK(r.player == "p");
  }
  CHECK(req<reset_req>(dec(Map{{"op", "reset"}, {"board", "b"}})).board == "b");
  {
    const auto& r = req<configure_req>(dec(Map{{"op", "configure"}, {"board", "b"}}));
    CHECK(r.board == "b");
    CHECK_FALSE(r.order);
    CHECK_FALSE(r.op);
  }
  {
    const auto& r = req<boards_req>(dec(Map{{"op", "boards"}}));
    CHECK(r.exact);
    CHECK(r.limit == 1000);
    CHECK_FALSE(r.after);
  }
  CHECK_FALSE(req<top_req>(dec(Map{{"op", "top"}, {"board", "b"}})).after);
  req<stats_req>(dec(Map{{"op", "stats"}}));
  req<ping_req>(dec(Map{{"op", "ping"}}));
  CHECK_FALSE(dec(Map{{"op", "ping"}}).id);
}

TEST_CASE("each op decodes with all keys") {
  {
    const auto d = dec(Map{{"op", "submit"},
                           {"id", 42},
                           {"board", "b"},
                           {"player", "p"},
                           {"score", -7},
                           {"subscore", 99},
                           {"meta", "m"}});
    const auto& r = req<submit_req>(d);
    CHECK(d.id == 42u);
    CHECK(r.score == -7);
    CHECK(r.subscore == 99);
    REQUIRE(r.meta);
    CHECK(r.meta->bytes == "m");
    CHECK_FALSE(r.meta->is_bin);
  }
  {
    const auto d = dec(Map{{"op", "batch"},
                           {"id", 1},
                           {"items", Arr{Map{{"board", "b"},
                                             {"player", "p"},
                                             {"score", 1},
                                             {"subscore", 2},
                                             {"meta", Bin{"\x01\x02"}}},
                                         Map{{"board", "c"}, {"player", "q"}, {"score", 3}}}}});
    const auto& r = req<batch_req>(d);
    REQUIRE(r.items.size() == 2);
    const auto& a = std::get<submit_req>(r.items[0]);
    CHECK(a.subscore == 2);
    REQUIRE(a.meta);
    CHECK(a.meta->is_bin);
    CHECK(a.meta->bytes == "\x01\x02");
    CHECK(std::get<submit_req>(r.items[1]).board == "c");
  }
  {
    const auto& r
      = req<rank_req>(dec(Map{{"op", "rank"}, {"board", "b"}, {"player", "p"}, {"exact", true}}));
    CHECK(r.exact);
  }
  {
    const auto& r
      = req<top_req>(dec(Map{{"op", "top"}, {"board", "b"}, {"limit", 1000}, {"offset", 12345}}));
    CHECK(r.limit == 1000);
    CHECK(r.offset == 12345);
  }
  {
    const auto& r = req<around_req>(
      dec(Map{{"op", "around"}, {"board", "b"}, {"player", "p"}, {"radius", 100}}));
    CHECK(r.radius == 100);
  }
  {
    const auto& r
      = req<ranks_req>(dec(Map{{"op", "ranks"}, {"board", "b"}, {"players", Arr{"p", "q", "r"}}}));
    CHECK(r.players == strs{"p", "q", "r"});
  }
  {
    const auto& r = req<configure_req>(
      dec(Map{{"op", "configure"}, {"board", "b"}, {"order", "asc"}, {"operator", "incr"}}));
    CHECK(r.order == board_order::asc);
    CHECK(r.op == score_operator::incr);
    const auto& r2
      = req<configure_req>(dec(Map{{"op", "configure"}, {"board", "b"}, {"operator", "decr"}}));
    CHECK_FALSE(r2.order);
    CHECK(r2.op == score_operator::decr);
    const auto& r3 = req<configure_req>(
      dec(Map{{"op", "configure"}, {"board", "b"}, {"order", "desc"}, {"operator", "set"}}));
    CHECK(r3.order == board_order::desc);
    CHECK(r3.op == score_operator::set);
  }
}

TEST_CASE("missing required keys") {
  CHECK_BAD(dec(Map{{"op", "submit"}, {"player", "p"}, {"score", 1}}), "board: missing");
  CHECK_BAD(dec(Map{{"op", "submit"}, {"board", "b"}, {"score", 1}}), "player: missing");
  CHECK_BAD(dec(Map{{"op", "submit"}, {"board", "b"}, {"player", "p"}}), "score: missing");
  CHECK_BAD(dec(Map{{"op", "batch"}}), "items: missing");
  CHECK_BAD(dec(Map{{"op", "rank"}, {"board", "b"}}), "player: missing");
  CHECK_BAD(dec(Map{{"op", "top"}}), "board: missing");
  CHECK_BAD(dec(Map{{"op", "around"}, {"board", "b"}}), "player: missing");
  CHECK_BAD(dec(Map{{"op", "ranks"}, {"board", "b"}}), "players: missing");
  CHECK_BAD(dec(Map{{"op", "remove"}, {"board", "b"}}), "player: missing");
  CHECK_BAD(dec(Map{{"op", "reset"}}), "board: missing");
  CHECK_BAD(dec(Map{{"op", "configure"}}), "board: missing");
  // nil for a required key is "missing"
  CHECK_BAD(dec(Map{{"op", "submit"}, {"board", nullptr}, {"player", "p"}, {"score", 1}}),
            "board: missing");
  CHECK_BAD(dec(with(Map{{"op", "submit"}, {"board", "b"}, {"player", "p"}}, {{"score", nullptr}})),
            "score: missing");
}

TEST_CASE("nil optional keys count as absent") {
  const auto& s
    = req<submit_req>(dec(with(base_submit, {{"subscore", nullptr}, {"meta", nullptr}})));
  CHECK(s.subscore == 0);
  CHECK_FALSE(s.meta);
  const auto& t = req<top_req>(
    dec(Map{{"op", "top"}, {"board", "b"}, {"limit", nullptr}, {"offset", nullptr}}));
  CHECK(t.limit == 10);
  CHECK(t.offset == 0);
  CHECK(req<around_req>(
          dec(Map{{"op", "around"}, {"board", "b"}, {"player", "p"}, {"radius", nullptr}}))
          .radius
        == 5);
  CHECK(req<rank_req>(dec(Map{{"op", "rank"}, {"board", "b"}, {"player", "p"}, {"exact", nullptr}}))
          .exact);
  const auto& c = req<configure_req>(
    dec(Map{{"op", "configure"}, {"board", "b"}, {"order", nullptr}, {"operator", nullptr}}));
  CHECK_FALSE(c.order);
  CHECK_FALSE(c.op);
  const auto d = dec(with(base_submit, {{"id", nullptr}}));
  CHECK(d.ok());
  CHECK_FALSE(d.id);
}

TEST_CASE("unknown keys are ignored, also keys of other ops") {
  const auto& s
    = req<submit_req>(dec(with(base_submit, {{"foo", Arr{1, "x", Map{{"a", nullptr}}}},
                                             {"limit", -5}, // a top key: ignored on submit
                                             {"exact", "yes"},
                                             {"zz", 1.5}})));
  CHECK(s.score == 10);
  // duplicates of ignored keys are fine too
  CHECK(dec(with(base_submit, {{"foo", 1}, {"foo", 2}, {"limit", 1}, {"limit", 2}})).ok());
}

TEST_CASE("check order: map, op present and str, op known, keys") {
  // 1. not a map
  CHECK_BAD(dec(Arr{"op", "ping"}), "body: expected map, got array");
  CHECK_BAD(dec(V("ping")), "body: expected map, got str");
  CHECK_BAD(dec(V(nullptr)), "expected map, got nil");
  CHECK_BAD(dec(V(5)), "expected map, got int");
  // non-str key, even with an unknown op
  CHECK_BAD(dec(Map{{"op", "nope"}, {1, 2}}), "body: key #1 is int, keys must be str");
  CHECK_BAD(dec(Map{{Bin{"op"}, "ping"}}), "key #0 is bin");
  // 2. op present and str
  CHECK_BAD(dec(Map{}), "op: missing");
  CHECK_BAD(dec(Map{{"board", "bad board"}}), "op: missing");
  CHECK_BAD(dec(Map{{"op", nullptr}, {"board", "bad board"}}), "op: missing");
  CHECK_BAD(dec(Map{{"op", 1}, {"board", "bad board"}}), "op: expected str, got int");
  CHECK_BAD(dec(Map{{"op", Bin{"ping"}}}), "op: expected str, got bin");
  CHECK_BAD(dec(Map{{"op", "ping"}, {"op", "ping"}}), "op: duplicate key");
  // 3. op known: an unknown op beats a bad board, a bad id and missing keys
  CHECK_ERR(dec(Map{{"op", "nope"}, {"board", "bad board"}}), error_code::unknown_op,
            "unknown op 'nope'");
  CHECK_ERR(dec(Map{{"op", "nope"}, {"id", -1}}), error_code::unknown_op, "nope");
  CHECK_ERR(dec(Map{{"op", "Submit"}}), error_code::unknown_op, "Submit");
  CHECK_ERR(dec(Map{{"op", ""}}), error_code::unknown_op, "unknown op ''");
  CHECK_ERR(dec(Map{{"op", std::string("ping\0", 5)}}), error_code::unknown_op, "'ping\\x00'");
  // the op name is quoted safely and cut short
  CHECK_ERR(dec(Map{{"op", rep('z', 1000)}}), error_code::unknown_op, rep('z', 40) + "'...");
  // 4. keys, in the protocol's key order: board before score
  CHECK_BAD(dec(Map{{"op", "submit"}, {"score", 1.5}, {"board", "x y"}, {"player", "p"}}),
            "board: invalid character");
  CHECK_BAD(dec(Map{{"op", "submit"}, {"score", 1.5}, {"board", "b"}, {"player", "p"}}),
            "score: expected int64, got float64");
}

TEST_CASE("id echo rules") {
  const V ping_ok = Map{{"op", "ping"}, {"id", 7}};
  auto d = dec(ping_ok);
  CHECK(d.ok());
  CHECK(d.id == 7u);
  CHECK(dec(Map{{"op", "ping"}, {"id", 0}}).id == 0u);
  CHECK(dec(Map{{"op", "ping"}, {"id", std::numeric_limits<uint64_t>::max()}}).id
        == std::numeric_limits<uint64_t>::max());
  // positive values sent in a signed format still count as uint64
  CHECK(dec(Map{{"op", "ping"}, {"id", Raw{"\xd0\x05"}}}).id == 5u);
  CHECK(
    dec(Map{{"op", "ping"}, {"id", Raw{std::string("\xd3\x00\x00\x00\x00\x00\x00\x01\x00", 9)}}}).id
    == 256u);
  // id comes first in the map or last: either way it is echoed on errors
  d = dec(Map{{"op", "nope"}, {"id", 9}});
  CHECK_ERR(d, error_code::unknown_op, "nope");
  CHECK(d.id == 9u);
  d = dec(Map{{"id", 10}, {"op", 3}});
  CHECK_BAD(d, "op: expected str");
  CHECK(d.id == 10u);
  d = dec(Map{{"board", "a b"}, {"op", "reset"}, {"id", 11}});
  CHECK_BAD(d, "board: invalid character");
  CHECK(d.id == 11u);
  d = dec(Map{{"id", 12}, {2, 3}});
  CHECK_BAD(d, "keys must be str");
  CHECK(d.id == 12u);
  d = dec(Map{{"id", 13}});
  CHECK_BAD(d, "op: missing");
  CHECK(d.id == 13u);
  // bad ids: bad_request at the key stage, not echoed
  d = dec(Map{{"op", "ping"}, {"id", -1}});
  CHECK_BAD(d, "id: -1 is negative");
  CHECK_FALSE(d.id);
  d = dec(Map{{"op", "ping"}, {"id", "7"}});
  CHECK_BAD(d, "id: expected uint64, got str");
  CHECK_FALSE(d.id);
  d = dec(Map{{"op", "ping"}, {"id", 7.0}});
  CHECK_BAD(d, "id: expected uint64, got float64");
  CHECK_FALSE(d.id);
  d = dec(Map{{"op", "ping"}, {"id", true}});
  CHECK_BAD(d, "id: expected uint64, got bool");
  d = dec(Map{{"op", "ping"}, {"id", 1}, {"id", 2}});
  CHECK_BAD(d, "id: duplicate key");
  CHECK_FALSE(d.id);
  // id check comes before the op's keys
  CHECK_BAD(dec(Map{{"op", "reset"}, {"id", -2}, {"board", "bad board"}}), "id: -2");
  // no id when the body is not a map or not msgpack
  CHECK_FALSE(dec(Arr{Map{{"id", 1}}}).id);
  CHECK_FALSE(dec(enc(Map{{"op", "ping"}, {"id", 1}}) + "x").id);
}

TEST_CASE("names in requests") {
  auto submit_named = [](V board, V player) {
    return dec(Map{
      {"op", "submit"}, {"board", std::move(board)}, {"player", std::move(player)}, {"score", 1}});
  };
  CHECK(submit_named(rep('b', 64), "p").ok());
  CHECK_BAD(submit_named(rep('b', 65), "p"), "board: 65 bytes, at most 64 allowed");
  CHECK_BAD(submit_named("", "p"), "board: empty");
  CHECK_BAD(submit_named("a/b", "p"), "board: invalid character 0x2f at byte 1");
  CHECK_BAD(submit_named(Bin{"b"}, "p"), "board: expected str, got bin");
  CHECK_BAD(submit_named(5, "p"), "board: expected str, got int");
  CHECK(submit_named("b", rep('p', 128)).ok());
  CHECK_BAD(submit_named("b", rep('p', 129)), "player: 129 bytes, at most 128 allowed");
  CHECK_BAD(submit_named("b", ""), "player: empty");
  CHECK_BAD(submit_named("b", Bin{"p"}), "player: expected str, got bin");
  CHECK_BAD(submit_named("b", std::string("p\0q", 3)), "player: NUL at byte 1");
  CHECK_BAD(submit_named("b", "abc\xc0\x80"), "player: invalid UTF-8 at byte 3");
  CHECK_BAD(submit_named("b", "\xed\xa0\x80"), "surrogate");
  CHECK_BAD(submit_named("b", "\xf4\x90\x80\x80"), "above U+10FFFF");
  const auto& r = req<submit_req>(submit_named("b.c:d-e_F9", "Zoë 😀"));
  CHECK(r.board == "b.c:d-e_F9");
  CHECK(r.player == "Zoë 😀");
  // other ops apply the same rules
  CHECK_BAD(dec(Map{{"op", "rank"}, {"board", "b"}, {"player", "\xff"}}), "player: invalid UTF-8");
  CHECK_BAD(dec(Map{{"op", "top"}, {"board", rep('b', 65)}}), "board: 65 bytes");
  CHECK_BAD(dec(Map{{"op", "remove"}, {"board", "b"}, {"player", rep('p', 129)}}),
            "player: 129 bytes");
  CHECK_BAD(dec(Map{{"op", "reset"}, {"board", "b b"}}), "board: invalid character");
  CHECK_BAD(dec(Map{{"op", "configure"}, {"board", Bin{"b"}}}), "board: expected str, got bin");
  CHECK_BAD(dec(Map{{"op", "around"}, {"board", "b"}, {"player", ""}}), "player: empty");
}

TEST_CASE("integers of every msgpack width") {
  auto score = [](const std::string& raw) {
    return dec(Map{{"op", "submit"}, {"board", "b"}, {"player", "p"}, {"score", Raw{raw}}});
  };
  struct c {
    std::string raw;
    int64_t value;
  };
  const c cases[] = {
    {"\x05", 5},
    {"\x7f", 127},
    {"\xcc\xff", 255},
    {std::string("\xcc\x00", 2), 0},
    {std::string("\xcd\xff\xff"), 65535},
    {std::string("\xce\xff\xff\xff\xff"), 4294967295LL},
    {std::string("\xcf\x7f\xff\xff\xff\xff\xff\xff\xff"), std::numeric_limits<int64_t>::max()},
    {std::string("\xcf\x00\x00\x00\x00\x00\x00\x00\x01", 9), 1},
    {"\xe0", -32},
    {"\xff", -1},
    {"\xd0\x80", -128},
    {"\xd0\x05", 5},
    {std::string("\xd1\x80\x00", 3), -32768},
    {std::string("\xd2\x80\x00\x00\x00", 5), -2147483648LL},
    {std::string("\xd3\x80\x00\x00\x00\x00\x00\x00\x00", 9), std::numeric_limits<int64_t>::min()},
    {std::string("\xd3\x7f\xff\xff\xff\xff\xff\xff\xff"), std::numeric_limits<int64_t>::max()},
  };
  for (const auto& x : cases) {
    const auto d = score(x.raw);
    CAPTURE(x.value);
    CHECK(req<submit_req>(d).score == x.value);
  }
  // 2^63 as uint64 does not fit int64
  CHECK_BAD(score(std::string("\xcf\x80\x00\x00\x00\x00\x00\x00\x00", 9)),
            "score: 9223372036854775808 out of range for int64");
  CHECK_BAD(score("\xcf\xff\xff\xff\xff\xff\xff\xff\xff"), "out of range for int64");
  // floats are never ints, even integral ones
  CHECK_BAD(score(std::string("\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00", 9)),
            "score: expected int64, got float64");
  CHECK_BAD(score(std::string("\xca\x3f\x80\x00\x00", 5)), "score: expected int64, got float32");
  CHECK_BAD(score("\xa1"
                  "1"),
            "score: expected int64, got str");
  CHECK_BAD(score("\xc3"), "score: expected int64, got bool");
  // subscore: same rules
  CHECK(req<submit_req>(dec(with(base_submit, {{"subscore", std::numeric_limits<int64_t>::min()}})))
          .subscore
        == std::numeric_limits<int64_t>::min());
  CHECK_BAD(dec(with(base_submit, {{"subscore", 1ull << 63}})),
            "subscore: 9223372036854775808 out of range");
  CHECK_BAD(dec(with(base_submit, {{"subscore", 0.5}})), "subscore: expected int64, got float64");
  // limit in every width
  for (const std::string& raw :
       {std::string("\x0a"), std::string("\xcc\x0a"), std::string("\xcd\x00\x0a", 3),
        std::string("\xce\x00\x00\x00\x0a", 5),
        std::string("\xcf\x00\x00\x00\x00\x00\x00\x00\x0a", 9), std::string("\xd0\x0a"),
        std::string("\xd3\x00\x00\x00\x00\x00\x00\x00\x0a", 9)})
    CHECK(req<top_req>(dec(Map{{"op", "top"}, {"board", "b"}, {"limit", Raw{raw}}})).limit == 10);
}

TEST_CASE("ranges of limit, offset, radius") {
  auto top = [](V limit, V offset) {
    return dec(Map{
      {"op", "top"}, {"board", "b"}, {"limit", std::move(limit)}, {"offset", std::move(offset)}});
  };
  CHECK(req<top_req>(top(1, 0)).limit == 1);
  CHECK(req<top_req>(top(1000, 0)).limit == 1000);
  CHECK_BAD(top(0, 0), "limit: 0 out of range 1..1000");
  CHECK_BAD(top(1001, 0), "limit: 1001 out of range 1..1000");
  CHECK_BAD(top(-1, 0), "limit: -1 out of range 1..1000");
  CHECK_BAD(top(std::numeric_limits<uint64_t>::max(), 0),
            "limit: 18446744073709551615 out of range");
  CHECK_BAD(top(10.0, 0), "limit: expected int, got float64");
  CHECK_BAD(top("10", 0), "limit: expected int, got str");
  CHECK(req<top_req>(top(10, std::numeric_limits<uint64_t>::max())).offset
        == std::numeric_limits<uint64_t>::max());
  CHECK_BAD(top(10, -1), "offset: -1 out of range, must be >= 0");
  CHECK_BAD(top(10, std::numeric_limits<int64_t>::min()), "offset: -9223372036854775808");
  CHECK_BAD(top(10, 1.0), "offset: expected int, got float64");
  auto around = [](V radius) {
    return dec(
      Map{{"op", "around"}, {"board", "b"}, {"player", "p"}, {"radius", std::move(radius)}});
  };
  CHECK(req<around_req>(around(0)).radius == 0);
  CHECK(req<around_req>(around(100)).radius == 100);
  CHECK_BAD(around(101), "radius: 101 out of range 0..100");
  CHECK_BAD(around(-1), "radius: -1 out of range 0..100");
  CHECK_BAD(around(5.5), "radius: expected int, got float64");
  CHECK_BAD(around(Raw{std::string("\xca\x40\xa0\x00\x00", 5)}),
            "radius: expected int, got float32");
}

TEST_CASE("paging: boards limit and after") {
  auto boards = [](Map extra) { return dec(with(Map{{"op", "boards"}}, std::move(extra))); };
  {
    const auto& r = req<boards_req>(boards({{"limit", 1}, {"after", "arena"}, {"exact", false}}));
    CHECK(r.limit == 1);
    REQUIRE(r.after);
    CHECK(*r.after == "arena");
    CHECK_FALSE(r.exact);
  }
  CHECK(req<boards_req>(boards({{"limit", 1000}})).limit == 1000);
  CHECK(req<boards_req>(boards({{"limit", nullptr}, {"after", nullptr}})).limit == 1000);
  CHECK_FALSE(req<boards_req>(boards({{"after", nullptr}})).after);
  // The longest board name is a valid `after`; it need not exist.
  CHECK(req<boards_req>(boards({{"after", rep('z', 64)}})).after == rep('z', 64));
  CHECK_BAD(boards({{"limit", 0}}), "limit: 0 out of range 1..1000");
  CHECK_BAD(boards({{"limit", 1001}}), "limit: 1001 out of range 1..1000");
  CHECK_BAD(boards({{"limit", -5}}), "limit: -5 out of range 1..1000");
  CHECK_BAD(boards({{"limit", 2.0}}), "limit: expected int, got float64");
  CHECK_BAD(boards({{"limit", "10"}}), "limit: expected int, got str");
  CHECK_BAD(boards({{"after", 7}}), "after: expected str (a board name), got int");
  CHECK_BAD(boards({{"after", Bin{"arena"}}}), "after: expected str (a board name), got bin");
  CHECK_BAD(boards({{"after", ""}}), "after: empty, 1..64 bytes allowed");
  CHECK_BAD(boards({{"after", rep('a', 65)}}), "after: 65 bytes, at most 64 allowed");
  CHECK_BAD(boards({{"after", "a b"}}), "after: invalid character 0x20 at byte 1");
  CHECK_BAD(boards({{"after", "a"}, {"after", "b"}}), "after: duplicate key");
  CHECK_BAD(boards({{"limit", 5}, {"limit", 5}}), "limit: duplicate key");
}

TEST_CASE("paging: top cursors") {
  const std::string cur = "00000000000000ff" + rep('0', 15) + "1" + "8000000000000000";
  auto top = [](Map extra) {
    return dec(with(Map{{"op", "top"}, {"board", "b"}}, std::move(extra)));
  };
  {
    const auto& r = req<top_req>(top({{"after", cur}, {"limit", 7}}));
    REQUIRE(r.after);
    CHECK(*r.after == top_cursor{0xff, 1, uint64_t{1} << 63});
    CHECK(r.limit == 7);
    CHECK(r.offset == 0);
  }
  CHECK(req<top_req>(top({{"after", rep('0', 48)}})).after == top_cursor{0, 0, 0});
  CHECK(req<top_req>(top({{"after", rep('f', 48)}})).after
        == top_cursor{~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}});
  CHECK_FALSE(req<top_req>(top({{"after", nullptr}})).after);
  // to_string and parse_top_cursor are inverses; only the service's own
  // form (48 lowercase hex digits) parses.
  const top_cursor c{0x0123456789abcdefULL, 0xfedcba9876543210ULL, 42};
  CHECK(to_string(c).size() == top_cursor_len);
  CHECK(parse_top_cursor(to_string(c)) == c);
  CHECK_FALSE(parse_top_cursor(""));
  CHECK_FALSE(parse_top_cursor(rep('0', 47)));
  CHECK_FALSE(parse_top_cursor(rep('0', 49)));
  CHECK_FALSE(parse_top_cursor(rep('A', 48)));
  // Hostile cursors: wrong type, length, digits, bytes; each a clear
  // bad_request whose message is printable.
  CHECK_BAD(top({{"after", 12}}),
            "after: expected str (a cursor from a top reply's next), got int");
  CHECK_BAD(top({{"after", Bin{std::string(24, '\0')}}}), "after: expected str");
  CHECK_BAD(top({{"after", Arr{1, 2, 3}}}), "after: expected str");
  CHECK_BAD(top({{"after", ""}}), "after: '' is not a top cursor");
  CHECK_BAD(top({{"after", rep('0', 47)}}),
            "is not a top cursor (a top reply's next: 48 lowercase hex digits)");
  CHECK_BAD(top({{"after", rep('0', 49)}}), "is not a top cursor");
  CHECK_BAD(top({{"after", rep('0', 47) + "g"}}), "is not a top cursor");
  CHECK_BAD(top({{"after", rep('0', 47) + "F"}}), "is not a top cursor");
  CHECK_BAD(top({{"after", rep('0', 47) + "-"}}), "is not a top cursor");
  const auto hostile = top({{"after", std::string("\x00\xff\n\x7f", 4) + rep('0', 44)}});
  CHECK_BAD(hostile, "is not a top cursor");
  for (char ch : std::get<error>(hostile.body).message)
    CHECK((ch >= 0x20 && ch <= 0x7e));
  CHECK_BAD(top({{"after", rep('0', 100000)}}), "is not a top cursor");
  // `after` or `offset`, not both (a nil offset is absent)
  CHECK_BAD(top({{"after", cur}, {"offset", 0}}), "after: cannot be combined with offset");
  CHECK_BAD(top({{"offset", 5}, {"after", cur}}), "after: cannot be combined with offset");
  CHECK(req<top_req>(top({{"after", cur}, {"offset", nullptr}})).after);
  CHECK_BAD(top({{"after", cur}, {"after", cur}}), "after: duplicate key");
  // A bad limit is reported before the cursor (the keys' order).
  CHECK_BAD(top({{"after", "x"}, {"limit", 0}}), "limit: 0 out of range");
  // `after` of another op is an unknown key there, and ignored.
  CHECK(dec(Map{{"op", "rank"}, {"board", "b"}, {"player", "p"}, {"after", 5}}).ok());
}

TEST_CASE("exact, order and operator") {
  auto rank = [](V exact) {
    return dec(Map{{"op", "rank"}, {"board", "b"}, {"player", "p"}, {"exact", std::move(exact)}});
  };
  CHECK(req<rank_req>(rank(true)).exact);
  CHECK_FALSE(req<rank_req>(rank(false)).exact);
  CHECK_BAD(rank(1), "exact: expected bool, got int");
  CHECK_BAD(rank("true"), "exact: expected bool, got str");
  // Every read takes `exact` (PROTOCOL.md v2), default true.
  CHECK_FALSE(req<top_req>(dec(Map{{"op", "top"}, {"board", "b"}, {"exact", false}})).exact);
  CHECK_FALSE(
    req<around_req>(dec(Map{{"op", "around"}, {"board", "b"}, {"player", "p"}, {"exact", false}}))
      .exact);
  CHECK_FALSE(req<ranks_req>(
                dec(Map{{"op", "ranks"}, {"board", "b"}, {"players", Arr{"p"}}, {"exact", false}}))
                .exact);
  CHECK_FALSE(req<boards_req>(dec(Map{{"op", "boards"}, {"exact", false}})).exact);
  CHECK(req<boards_req>(dec(Map{{"op", "boards"}})).exact);
  CHECK_BAD(dec(Map{{"op", "boards"}, {"exact", 0}}), "exact: expected bool, got int");
  auto conf = [](V order, V op) {
    return dec(Map{{"op", "configure"},
                   {"board", "b"},
                   {"order", std::move(order)},
                   {"operator", std::move(op)}});
  };
  CHECK(conf("asc", "best").ok());
  CHECK_BAD(conf("up", "best"), "order: 'up' is not one of desc, asc");
  CHECK_BAD(conf("DESC", "best"), "order: 'DESC'");
  CHECK_BAD(conf(1, "best"), "order: expected str, got int");
  CHECK_BAD(conf(Bin{"asc"}, "best"), "order: expected str, got bin");
  CHECK_BAD(conf("asc", "max"), "operator: 'max' is not one of best, set, incr, decr");
  CHECK_BAD(conf("asc", 2), "operator: expected str, got int");
  CHECK_BAD(conf("asc", "\x01\xff"), "operator: '\\x01\\xff'");
}

TEST_CASE("meta: str or bin, at most 256 bytes") {
  auto meta = [](V m) { return dec(with(base_submit, {{"meta", std::move(m)}})); };
  {
    const auto& r = req<submit_req>(meta(rep('m', 256)));
    REQUIRE(r.meta);
    CHECK(r.meta->bytes == rep('m', 256));
    CHECK_FALSE(r.meta->is_bin);
  }
  {
    const auto& r = req<submit_req>(meta(Bin{std::string(256, '\0')}));
    REQUIRE(r.meta);
    CHECK(r.meta->bytes == std::string(256, '\0'));
    CHECK(r.meta->is_bin);
  }
  {
    const auto& r = req<submit_req>(meta(""));
    REQUIRE(r.meta);
    CHECK(r.meta->bytes.empty());
  }
  // str meta is opaque: not checked as UTF-8
  CHECK(req<submit_req>(meta(std::string("\xff\x00", 2))).meta->bytes
        == std::string("\xff\x00", 2));
  CHECK_BAD(meta(rep('m', 257)), "meta: 257 bytes, at most 256 allowed");
  CHECK_BAD(meta(Bin{rep('m', 257)}), "meta: 257 bytes, at most 256 allowed");
  CHECK_BAD(meta(1), "meta: expected str or bin, got int");
  CHECK_BAD(meta(Arr{}), "meta: expected str or bin, got array");
  CHECK_BAD(meta(Map{}), "meta: expected str or bin, got map");
  CHECK_BAD(meta(Raw{"\xd4\x01\x02"}), "meta: expected str or bin, got ext");
}

TEST_CASE("duplicate keys") {
  CHECK_BAD(dec(with(base_submit, {{"board", "b2"}})), "board: duplicate key");
  CHECK_BAD(dec(with(base_submit, {{"score", 10}})), "score: duplicate key");
  CHECK_BAD(dec(with(base_submit, {{"meta", nullptr}, {"meta", "x"}})), "meta: duplicate key");
  CHECK_BAD(dec(Map{{"op", "top"}, {"board", "b"}, {"limit", 5}, {"limit", 6}}),
            "limit: duplicate key");
  // a duplicated op fails at the op stage, before the op is looked up
  CHECK_BAD(dec(Map{{"op", "nope"}, {"op", "nope"}}), "op: duplicate key");
}

TEST_CASE("batch") {
  auto item = [](int score) {
    return V(Map{{"board", "b"}, {"player", "p" + std::to_string(score)}, {"score", score}});
  };
  auto batch = [&](std::size_t n) {
    Arr items;
    for (std::size_t i = 0; i < n; ++i)
      items.push_back(item(static_cast<int>(i)));
    return Map{{"op", "batch"}, {"items", std::move(items)}};
  };
  CHECK_BAD(dec(batch(0)), "items: empty, 1..1000 items allowed");
  CHECK(req<batch_req>(dec(batch(1))).items.size() == 1);
  {
    const auto d = dec(batch(1000));
    const auto& r = req<batch_req>(d);
    REQUIRE(r.items.size() == 1000);
    CHECK(std::get<submit_req>(r.items[999]).score == 999);
    CHECK(std::get<submit_req>(r.items[999]).player == "p999");
  }
  CHECK_BAD(dec(batch(1001)), "items: 1001 items, at most 1000 allowed");
  CHECK_BAD(dec(Map{{"op", "batch"}, {"items", Map{{"board", "b"}}}}),
            "items: expected array, got map");
  CHECK_BAD(dec(Map{{"op", "batch"}, {"items", "x"}}), "items: expected array, got str");
  CHECK_BAD(dec(Map{{"op", "batch"}, {"items", nullptr}}), "items: missing");

  // one bad item fails only itself
  const auto d = dec(Map{
    {"op", "batch"},
    {"id", 5},
    {"items",
     Arr{item(1), Map{{"board", "b"}, {"player", "x"}, {"score", 1.5}}, 7,
         Map{{"board", "b"}, {"player", "y"}, {"score", 2}, {"op", "rank"}, {"id", -1}},
         Map{{"board", "b"}, {1, 2}},
         Map{{"board", "b"}, {"player", "z"}, {"score", 3}, {"score", 4}},
         Map{{"board", "bad board"}, {"player", "z"}, {"score", 3}},
         Map{{"board", "b"}, {"player", "z"}},
         Map{{"board", "b"}, {"player", "z"}, {"score", 1}, {"meta", rep('m', 257)}}, item(9)}}});
  CHECK(d.id == 5u);
  const auto& r = req<batch_req>(d);
  REQUIRE(r.items.size() == 10);
  auto item_err = [&](std::size_t i) -> const error& {
    REQUIRE(std::holds_alternative<error>(r.items[i]));
    return std::get<error>(r.items[i]);
  };
  CHECK(std::get<submit_req>(r.items[0]).score == 1);
  CHECK(item_err(1).code == error_code::bad_request);
  CHECK(item_err(1).message == "score: expected int64, got float64");
  CHECK(item_err(2).message == "item: expected map, got int");
  // an item's own op and id are unknown keys
  CHECK(std::get<submit_req>(r.items[3]).player == "y");
  CHECK(item_err(4).message == "item: key #1 is int, keys must be str");
  CHECK(item_err(5).message == "score: duplicate key");
  CHECK(contains(item_err(6).message, "board: invalid character 0x20"));
  CHECK(item_err(7).message == "score: missing");
  CHECK(item_err(8).message == "meta: 257 bytes, at most 256 allowed");
  CHECK(std::get<submit_req>(r.items[9]).score == 9);
  // every item bad still decodes as a batch
  const auto& all_bad = req<batch_req>(dec(Map{{"op", "batch"}, {"items", Arr{1, 2}}}));
  CHECK(all_bad.items.size() == 2);
  CHECK(std::holds_alternative<error>(all_bad.items[0]));
}

TEST_CASE("ranks players list") {
  auto ranks = [](Arr players) {
    return dec(Map{{"op", "ranks"}, {"board", "b"}, {"players", std::move(players)}});
  };
  auto names = [](std::size_t n) {
    Arr a;
    for (std::size_t i = 0; i < n; ++i)
      a.push_back("p" + std::to_string(i));
    return a;
  };
  CHECK_BAD(ranks({}), "players: empty, 1..100 names allowed");
  CHECK(req<ranks_req>(ranks(names(1))).players.size() == 1);
  CHECK(req<ranks_req>(ranks(names(100))).players.size() == 100);
  CHECK_BAD(ranks(names(101)), "players: 101 names, at most 100 allowed");
  CHECK_BAD(ranks({"a", "", "c"}), "players[1]: empty");
  CHECK_BAD(ranks({"a", rep('p', 129)}), "players[1]: 129 bytes, at most 128 allowed");
  CHECK_BAD(ranks({"a", "b", "\xc0\xaf"}), "players[2]: invalid UTF-8 at byte 0");
  CHECK_BAD(ranks({std::string("a\0", 2)}), "players[0]: NUL at byte 1");
  CHECK_BAD(ranks({"a", 5}), "players[1]: expected str, got int");
  CHECK_BAD(ranks({Bin{"a"}}), "players[0]: expected str, got bin");
  CHECK_BAD(dec(Map{{"op", "ranks"}, {"board", "b"}, {"players", "a"}}),
            "players: expected array, got str");
  // duplicates are dropped, first occurrence kept
  CHECK(req<ranks_req>(ranks({"b", "a", "b", "c", "a"})).players == strs{"b", "a", "c"});
  // 100 identical names: still within the limit, one name left
  Arr same(100, V("x"));
  CHECK(req<ranks_req>(ranks(same)).players == strs{"x"});
}

TEST_CASE("ingest accepts submit and batch only") {
  CHECK(req<submit_req>(ing(base_submit)).player == "alice");
  CHECK(req<batch_req>(ing(Map{{"op", "batch"},
                               {"items", Arr{Map{{"board", "b"}, {"player", "p"}, {"score", 1}}}}}))
          .items.size()
        == 1);
  CHECK_BAD(ing(Map{{"op", "rank"}, {"board", "b"}, {"player", "p"}}),
            "op: 'rank' is not accepted on ingest");
  CHECK_BAD(ing(Map{{"op", "ping"}}), "not accepted on ingest");
  CHECK_BAD(ing(Map{{"op", "nope"}}), "op: unknown op 'nope' (ingest accepts submit and batch)");
  CHECK_BAD(ing(Map{{"op", 1}}), "op: expected str");
  CHECK_BAD(ing(Arr{}), "body: expected map");
  CHECK_BAD(ing(with(base_submit, {{"score", "x"}})), "score: duplicate key");
  CHECK_BAD(ing(Map{{"op", "submit"}, {"board", "b"}, {"player", "p"}, {"score", "x"}}),
            "score: expected int64");
  const std::string empty;
  CHECK_BAD(decode_ingest(empty.data(), 0), "empty frame");
  CHECK_BAD(decode_ingest("\xc1", 1), "reserved byte 0xc1");
}

TEST_CASE("ingest source: read as early as id, checked on ingest only") {
  const auto src = [](const V& v) { return with(base_submit, {{"source", v}}); };
  SUBCASE("valid sources are kept") {
    for (const std::string& name :
         {std::string("gs-1"), std::string("a"), std::string("eu.west:server_7-b"), rep('s', 64)}) {
      CAPTURE(name);
      const auto d = ing(src(name));
      CHECK(req<submit_req>(d).player == "alice");
      CHECK(d.source == name);
    }
    const auto b = ing(Map{{"op", "batch"},
                           {"source", "gs-2"},
                           {"items", Arr{Map{{"board", "b"}, {"player", "p"}, {"score", 1}}}}});
    CHECK(req<batch_req>(b).items.size() == 1);
    CHECK(b.source == "gs-2");
  }
  SUBCASE("no source, or nil: none") {
    CHECK_FALSE(ing(base_submit).source);
    const auto d = ing(src(nullptr));
    CHECK(d.ok());
    CHECK_FALSE(d.source);
  }
  SUBCASE("a bad source refuses the frame, and is not read") {
    struct bad_case {
      V value;
      const char* message;
    };
    const bad_case cases[] = {
      {"", "source: empty, 1..64 bytes allowed"},
      {rep('s', 65), "source: 65 bytes, at most 64 allowed"},
      {"gs/1", "source: invalid character 0x2f at byte 2 (allowed: A-Z a-z 0-9 _ . : -)"},
      {"g s", "source: invalid character 0x20 at byte 1"},
      {"*other*", "source: invalid character 0x2a at byte 0"},
      {"Zo\xc3\xab", "source: invalid character 0xc3 at byte 2"},
      {7, "source: expected str, got int"},
      {Bin{"gs-1"}, "source: expected str, got bin"},
      {Arr{"gs-1"}, "source: expected str, got array"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.message);
      const auto d = ing(src(c.value));
      CHECK_BAD(d, c.message);
      CHECK_FALSE(d.source);
    }
    const auto dup = ing(with(src("gs-1"), {{"source", "gs-1"}}));
    CHECK_BAD(dup, "source: duplicate key");
    CHECK_FALSE(dup.source);
  }
  SUBCASE("a frame refused for another reason keeps its readable source") {
    const auto missing = ing(Map{{"op", "submit"}, {"source", "gs-1"}, {"board", "b"}});
    CHECK_BAD(missing, "player: missing");
    CHECK(missing.source == "gs-1");
    const auto op = ing(Map{{"source", "gs-1"}, {"op", "rank"}});
    CHECK_BAD(op, "not accepted on ingest");
    CHECK(op.source == "gs-1");
    const auto no_op = ing(Map{{"source", "gs-1"}});
    CHECK_BAD(no_op, "op: missing");
    CHECK(no_op.source == "gs-1");
    const auto key = ing(Map{{"source", "gs-1"}, {1, 2}, {"op", "submit"}});
    CHECK_BAD(key, "body: key #1 is int");
    CHECK(key.source == "gs-1");
    const auto empty_batch = ing(Map{{"op", "batch"}, {"source", "gs-1"}, {"items", Arr{}}});
    CHECK_BAD(empty_batch, "items: empty");
    CHECK(empty_batch.source == "gs-1");
    // Not a map, or not msgpack: nothing is readable.
    CHECK_FALSE(ing(Arr{"source", "gs-1"}).source);
    const std::string cut = enc(src("gs-1")).substr(0, 20);
    CHECK_FALSE(decode_ingest(cut.data(), cut.size()).source);
  }
  SUBCASE("a batch item's source is an unknown key") {
    const auto b
      = ing(Map{{"op", "batch"},
                {"items", Arr{Map{{"board", "b"}, {"player", "p"}, {"score", 1}, {"source", 5}}}}});
    CHECK(std::holds_alternative<submit_req>(req<batch_req>(b).items[0]));
    CHECK_FALSE(b.source);
  }
  SUBCASE("on requests a source is ignored, even a bad one") {
    for (const V& v : {V("gs-1"), V(""), V(7), V("a/b")}) {
      const auto d = dec(src(v));
      CHECK(req<submit_req>(d).player == "alice");
      CHECK_FALSE(d.source);
    }
  }
  SUBCASE("encode_request writes it after id, and it reads back") {
    submit_req s;
    s.board = "b";
    s.player = "p";
    s.score = 3;
    const std::string f = encode_request(9, s, "gs-1");
    std::size_t off = 0;
    auto oh = msgpack::unpack(f.data(), f.size(), off);
    CHECK(keys_of(oh.get()) == strs{"op", "id", "source", "board", "player", "score", "subscore"});
    const auto d = decode_ingest(f.data(), f.size());
    CHECK(d.source == "gs-1");
    CHECK(d.id == 9u);
    CHECK(eq(std::get<request_body>(d.body), request_body{s}));
    CHECK(encode_request(9, s) == encode_request(9, s, ""));
  }
}

TEST_CASE("source name rules") {
  CHECK(check_source_name("gs-1") == "");
  CHECK(check_source_name(rep('A', max_source_len)) == "");
  CHECK(check_source_name("") == "source: empty, 1..64 bytes allowed");
  CHECK(check_source_name(std::string("a\0", 2))
        == std::string("source: invalid character 0x00 at byte 1 ")
             + "(allowed: A-Z a-z 0-9 _ . : -)");
  // The board rules still name the board.
  CHECK(check_board_name("a b")
        == std::string("board: invalid character 0x20 at byte 1 ")
             + "(allowed: A-Z a-z 0-9 _ . : -)");
}

TEST_CASE("hostile frames") {
  auto raw = [](const std::string& s) { return decode_request(s.data(), s.size()); };
  CHECK_BAD(decode_request(nullptr, 0), "empty frame");
  CHECK_BAD(raw("\xc1"), "reserved byte 0xc1 at byte 0");
  CHECK_BAD(raw("\x81\xa2op\xc1"), "reserved byte 0xc1 at byte 4");
  // truncated map: 2 pairs announced, 1 key present
  CHECK_BAD(raw("\x82\xa2op"), "map header at byte 0 claims 2 entries");
  CHECK_BAD(raw("\x81\xa2op"), "truncated frame");
  CHECK_BAD(raw("\x81\xa2op\xa4pin"), "str at byte 4 claims 4 bytes but only 3 follow");
  CHECK_BAD(raw("\x81\xa2op\xcd\x01"), "truncated frame");
  CHECK_BAD(raw("\x81\xa2op\xda\x01"), "truncated frame: header at byte 4 is cut off");
  // trailing bytes
  const std::string ping = enc(Map{{"op", "ping"}});
  CHECK(raw(ping).ok());
  CHECK_BAD(raw(ping + std::string(1, '\0')),
            "trailing bytes: the body ends at byte " + std::to_string(ping.size()));
  CHECK_BAD(raw(ping + ping), "trailing bytes");

  using clock = std::chrono::steady_clock;
  auto fast = [&](const std::string& frame, const std::string& part) {
    const auto t0 = clock::now();
    const auto d = raw(frame);
    const auto us
      = std::chrono::duration_cast<std::chrono::microseconds>(clock::now() - t0).count();
    CHECK_BAD(d, part);
    CHECK_MESSAGE(us < 20000, "took " << us << " us");
    // rejected by the allocation-free pre-check, before msgpack::unpack runs
    CHECK(check_frame(frame.data(), frame.size()) != "");
  };
  // headers claiming 2^32-1 entries / bytes: refused before anything is allocated
  fast("\xdd\xff\xff\xff\xff",
       "array header at byte 0 claims 4294967295 entries but only 0 bytes follow");
  fast("\xdf\xff\xff\xff\xff", "map header at byte 0 claims 4294967295 entries");
  fast("\xdc\xff\xff", "array header at byte 0 claims 65535 entries");
  fast("\xde\xff\xff" + std::string(1000, '\xc0'),
       "map header at byte 0 claims 65535 entries but only 1000 bytes follow");
  fast("\xdb\xff\xff\xff\xff", "str at byte 0 claims 4294967295 bytes but only 0 follow");
  fast("\xc6\xff\xff\xff\xff"
       "abc",
       "bin at byte 0 claims 4294967295 bytes but only 3 follow");
  fast("\xc9\xff\xff\xff\xff\x01", "ext at byte 0 claims 4294967295 bytes");
  // the same headers inside an otherwise fine request
  const std::string prefix = "\x82\xa2op\xa4ping\xa1x";
  fast(prefix + "\xdd\xff\xff\xff\xff", "array header at byte 11 claims 4294967295 entries");
  fast(prefix + "\xdf\xff\xff\xff\xff", "map header at byte 11 claims");
  fast(prefix + "\xdb\xff\xff\xff\xff", "str at byte 11 claims 4294967295 bytes");
  CHECK(raw(prefix + "\xc0").ok());
  // sum of claims beyond the frame: 2 arrays of 3 in 7 bytes
  fast("\x92\x93\xc0\xc0\xc0\x93\xc0",
       "array header at byte 5 claims 3 entries but only 1 bytes follow");
  // 100,000-deep nesting
  fast(std::string(100000, '\x91') + "\xc0", "nesting deeper than 8 at byte 8");
  {
    std::string deep;
    for (int i = 0; i < 100000; ++i)
      deep += "\x81\xa1k";
    fast(deep + "\xc0", "nesting deeper than 8");
  }
  // depth 8 is allowed (under an unknown key), 9 is not
  CHECK(raw(prefix + std::string(7, '\x91') + "\xc0").ok());
  CHECK_BAD(raw(prefix + std::string(8, '\x91') + "\xc0"), "nesting deeper than 8 at byte 18");
  CHECK(raw(prefix + std::string(6, '\x91') + "\x90").ok());
  CHECK_BAD(raw(prefix + std::string(7, '\x91') + "\x90"), "nesting deeper than 8 at byte 18");

  // every single-byte frame is handled; none is a valid request
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const auto d = decode_request(&c, 1);
    CHECK_FALSE(d.ok());
    CHECK(std::get<error>(d.body).code == error_code::bad_request);
    CHECK_FALSE(d.id);
  }
  // every truncation of a valid frame is a bad_request and never crashes
  const std::string full = enc(Map{
    {"op", "batch"},
    {"id", 3},
    {"items", Arr{Map{{"board", "b"}, {"player", "p"}, {"score", -70000}, {"meta", Bin{"xyz"}}}}}});
  REQUIRE(raw(full).ok());
  for (std::size_t n = 0; n < full.size(); ++n)
    CHECK_BAD(raw(full.substr(0, n)), "");
}

TEST_CASE("a 1 MiB frame holding a valid batch decodes") {
  Arr items;
  const std::string pad(720, 'x');
  for (int i = 0; i < 1000; ++i)
    items.push_back(Map{{"board", "big"},
                        {"player", "player-" + std::to_string(i)},
                        {"score", i},
                        {"subscore", -i},
                        {"meta", Bin{rep('m', 256)}},
                        {"pad", pad}});
  const std::string frame = enc(Map{{"op", "batch"}, {"id", 77}, {"items", std::move(items)}});
  CHECK(frame.size() > 1000000);
  CHECK(frame.size() <= default_max_frame);
  const auto t0 = std::chrono::steady_clock::now();
  const auto d = decode_request(frame.data(), frame.size());
  const auto ms
    = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
        .count();
  CHECK_MESSAGE(ms < 2000, "took " << ms << " ms");
  CHECK(d.id == 77u);
  const auto& r = req<batch_req>(d);
  REQUIRE(r.items.size() == 1000);
  const auto& last = std::get<submit_req>(r.items[999]);
  CHECK(last.player == "player-999");
  CHECK(last.subscore == -999);
  REQUIRE(last.meta);
  CHECK(last.meta->bytes.size() == 256);
  // and the same frame plus one byte is refused
  CHECK_BAD(dec(frame + "x"), "trailing bytes");
}

TEST_CASE("encode_request -> decode_request round trip for every op") {
  submit_req s;
  s.board = "board.1";
  s.player = "Zoë";
  s.score = std::numeric_limits<int64_t>::min();
  s.subscore = std::numeric_limits<int64_t>::max();
  submit_req s_meta = s;
  s_meta.meta = meta_value{std::string("\x00\xff", 2), true};
  submit_req s_str = s;
  s_str.score = 5;
  s_str.meta = meta_value{"hello", false};
  batch_req b;
  b.items = {s, s_meta, error{error_code::bad_request, "x"}, s_str};
  rank_req rk{"b", "p", true};
  top_req tp{"b", 1000, std::numeric_limits<uint64_t>::max()};
  top_req tc{"b", 3, 0, false, top_cursor{1, ~uint64_t{0}, 7}};
  boards_req bp{false, 1, std::string("a.b:c-d_e")};
  boards_req bl{true, 250, std::nullopt};
  around_req ar{"b", "p", 0};
  ranks_req rs{"b", {"a", "b", "c"}};
  remove_req rm{"b", "p"};
  reset_req rt{"b"};
  configure_req c1{"b", std::nullopt, std::nullopt};
  configure_req c2{"b", board_order::asc, std::nullopt};
  configure_req c3{"b", board_order::desc, score_operator::decr};
  const std::vector<request_body> bodies = {s,           s_meta,
                                            s_str,       b,
                                            rk,          rank_req{"b", "p", false},
                                            tp,          top_req{"b", 10, 0},
                                            ar,          rs,
                                            rm,          rt,
                                            c1,          c2,
                                            c3,          boards_req{},
                                            stats_req{}, ping_req{},
                                            tc,          bp,
                                            bl};
  for (const auto& body : bodies) {
    for (const std::optional<uint64_t>& id :
         {std::optional<uint64_t>{}, std::optional<uint64_t>{0},
          std::optional<uint64_t>{std::numeric_limits<uint64_t>::max()}}) {
      CAPTURE(body.index());
      const std::string frame = encode_request(id, body);
      const auto d = decode_request(frame.data(), frame.size());
      REQUIRE_MESSAGE(d.ok(), std::get<error>(d.body).message);
      CHECK(d.id == id);
      CHECK(eq(std::get<request_body>(d.body), body));
      // the same frames are accepted on ingest for submit and batch only
      const auto di = decode_ingest(frame.data(), frame.size());
      CHECK(di.ok() == (body.index() <= 1));
    }
  }
  // optional keys are written only when set; the op comes first
  const auto first_keys = [](const std::string& f) {
    std::size_t off = 0;
    auto oh = msgpack::unpack(f.data(), f.size(), off);
    return keys_of(oh.get());
  };
  CHECK(first_keys(encode_request(std::nullopt, s))
        == strs{"op", "board", "player", "score", "subscore"});
  CHECK(first_keys(encode_request(1, s_meta))
        == strs{"op", "id", "board", "player", "score", "subscore", "meta"});
  CHECK(first_keys(encode_request(std::nullopt, c1)) == strs{"op", "board"});
  CHECK(first_keys(encode_request(std::nullopt, c2)) == strs{"op", "board", "order"});
  CHECK(first_keys(encode_request(std::nullopt, c3)) == strs{"op", "board", "order", "operator"});
  CHECK(first_keys(encode_request(std::nullopt, ping_req{})) == strs{"op"});
  CHECK(first_keys(encode_request(std::nullopt, boards_req{})) == strs{"op"});
  CHECK(first_keys(encode_request(std::nullopt, bp)) == strs{"op", "limit", "after", "exact"});
  CHECK(first_keys(encode_request(std::nullopt, tc))
        == strs{"op", "board", "limit", "after", "exact"});
  // a batch's error item is written as nil and decodes back to an error item
  const std::string bf = encode_request(std::nullopt, b);
  const auto& back = req<batch_req>(dec(bf));
  REQUIRE(back.items.size() == 4);
  CHECK(std::get<error>(back.items[2]).message == "item: expected map, got nil");
  CHECK(std::get<submit_req>(back.items[1]).meta->is_bin);
  CHECK_FALSE(std::get<submit_req>(back.items[3]).meta->is_bin);
}

// ===========================================================================
// Seasons (PROTOCOL.md "Seasons").

namespace {

// The parser's own verdict on an expression, as decode reports it.
std::string cron_why(const std::string& s) {
  std::string why;
  CHECK_FALSE(cron_schedule::parse(s, &why));
  return why;
}

} // namespace

TEST_CASE("seasons: `season` on the four reads") {
  const std::vector<Map> reads = {
    {{"op", "rank"}, {"board", "b"}, {"player", "p"}},
    {{"op", "top"}, {"board", "b"}},
    {{"op", "around"}, {"board", "b"}, {"player", "p"}},
    {{"op", "ranks"}, {"board", "b"}, {"players", Arr{"p"}}},
  };
  auto season_of = [](const decoded_request& d) -> std::optional<uint32_t> {
    REQUIRE_MESSAGE(d.ok(), std::get<error>(d.body).message);
    return std::visit(
      [](const auto& r) -> std::optional<uint32_t> {
        using T = std::decay_t<decltype(r)>;
        if constexpr (
          std::is_same_v<
            T,
            rank_req> || std::is_same_v<T, top_req> || std::is_same_v<T, around_req> || std::is_same_v<T, ranks_req>)
          return r.season;
        else
          return std::nullopt;
      },
      std::get<request_body>(d.body));
  };
  for (const auto& base : reads) {
    CAPTURE(s_of(msgpack::unpack(enc(base).data(), enc(base).size())->via.map.ptr[0].val));
    CHECK_FALSE(season_of(dec(base)));
    CHECK_FALSE(season_of(dec(with(base, {{"season", nullptr}}))));
    CHECK(season_of(dec(with(base, {{"season", 1}}))) == 1u);
    CHECK(season_of(dec(with(base, {{"season", 7u}}))) == 7u);
    CHECK(season_of(dec(with(base, {{"season", std::numeric_limits<uint32_t>::max()}})))
          == std::numeric_limits<uint32_t>::max());
    // The protocol's one message for every bad value, naming the key.
    CHECK_BAD(dec(with(base, {{"season", 0}})), "season must be a positive integer");
    CHECK_BAD(dec(with(base, {{"season", 0}})), "got 0");
    CHECK_BAD(dec(with(base, {{"season", -1}})), "season must be a positive integer");
    CHECK_BAD(dec(with(base, {{"season", -1}})), "got -1");
    CHECK_BAD(dec(with(base, {{"season", uint64_t{1} << 32}})), "got 4294967296");
    CHECK_BAD(dec(with(base, {{"season", std::numeric_limits<uint64_t>::max()}})),
              "season must be a positive integer (1..4294967295), got 18446744073709551615");
    CHECK_BAD(dec(with(base, {{"season", "3"}})), "season must be a positive integer");
    CHECK_BAD(dec(with(base, {{"season", "3"}})), "got str");
    CHECK_BAD(dec(with(base, {{"season", 2.0}})), "got float64");
    CHECK_BAD(dec(with(base, {{"season", true}})), "got bool");
    CHECK_BAD(dec(with(base, {{"season", Arr{1}}})), "got array");
    CHECK_BAD(dec(with(base, {{"season", 1}, {"season", 1}})), "season: duplicate key");
    // `season` comes after `exact` in the check order.
    CHECK_BAD(dec(with(base, {{"season", 0}, {"exact", 1}})), "exact: expected bool");
  }
  // Other ops ignore it, as any key they do not read.
  CHECK(dec(with(base_submit, {{"season", "x"}})).ok());
  CHECK(dec(Map{{"op", "reset"}, {"board", "b"}, {"season", 0}}).ok());
  // the board is checked first
  CHECK_BAD(dec(Map{{"op", "top"}, {"board", "a b"}, {"season", 0}}), "board: invalid character");
}

TEST_CASE("seasons: reset `archive`") {
  CHECK_FALSE(req<reset_req>(dec(Map{{"op", "reset"}, {"board", "b"}})).archive);
  CHECK_FALSE(
    req<reset_req>(dec(Map{{"op", "reset"}, {"board", "b"}, {"archive", nullptr}})).archive);
  CHECK_FALSE(
    req<reset_req>(dec(Map{{"op", "reset"}, {"board", "b"}, {"archive", false}})).archive);
  CHECK(req<reset_req>(dec(Map{{"op", "reset"}, {"board", "b"}, {"archive", true}})).archive);
  CHECK_BAD(dec(Map{{"op", "reset"}, {"board", "b"}, {"archive", 1}}),
            "archive: expected bool, got int");
  CHECK_BAD(dec(Map{{"op", "reset"}, {"board", "b"}, {"archive", "true"}}),
            "archive: expected bool, got str");
  CHECK_BAD(dec(Map{{"op", "reset"}, {"board", "b"}, {"archive", true}, {"archive", true}}),
            "archive: duplicate key");
  CHECK_BAD(dec(Map{{"op", "reset"}, {"archive", 1}}), "board: missing");
}

TEST_CASE("seasons: configure `schedule` and `keep`") {
  auto conf = [](Map extra) {
    return dec(with(Map{{"op", "configure"}, {"board", "b"}}, std::move(extra)));
  };
  {
    const auto& r = req<configure_req>(conf({}));
    CHECK_FALSE(r.schedule);
    CHECK_FALSE(r.keep);
  }
  {
    const auto& r = req<configure_req>(conf({{"schedule", nullptr}, {"keep", nullptr}}));
    CHECK_FALSE(r.schedule);
    CHECK_FALSE(r.keep);
  }
  {
    const auto& r = req<configure_req>(conf({{"schedule", "0 0 * * 1"}, {"keep", 4}}));
    CHECK(r.schedule == std::string("0 0 * * 1"));
    CHECK(r.keep == 4u);
    CHECK_FALSE(r.order);
  }
  // six fields: seconds first
  CHECK(req<configure_req>(conf({{"schedule", "30 0 0 * * *"}})).schedule
        == std::string("30 0 0 * * *"));
  // "" removes the schedule: set, and empty
  CHECK(req<configure_req>(conf({{"schedule", ""}})).schedule == std::string());
  CHECK(req<configure_req>(conf({{"keep", 1}})).keep == 1u);
  CHECK(req<configure_req>(conf({{"keep", max_keep_seasons}})).keep == max_keep_seasons);
  // keep: 1..1000
  CHECK_BAD(conf({{"keep", 0}}), "keep: 0 out of range 1..1000");
  CHECK_BAD(conf({{"keep", 1001}}), "keep: 1001 out of range 1..1000");
  CHECK_BAD(conf({{"keep", -1}}), "keep: -1 out of range 1..1000");
  CHECK_BAD(conf({{"keep", std::numeric_limits<uint64_t>::max()}}), "keep: 18446744073709551615");
  CHECK_BAD(conf({{"keep", "4"}}), "keep: expected int, got str");
  CHECK_BAD(conf({{"keep", 4.0}}), "keep: expected int, got float64");
  CHECK_BAD(conf({{"keep", 2}, {"keep", 2}}), "keep: duplicate key");
  // schedule: a str of at most 128 bytes that parses and fires
  CHECK_BAD(conf({{"schedule", 5}}), "schedule: expected str (a cron expression), got int");
  CHECK_BAD(conf({{"schedule", Bin{"0 0 * * 1"}}}), "schedule: expected str");
  CHECK_BAD(conf({{"schedule", Arr{"0 0 * * 1"}}}), "schedule: expected str");
  CHECK_BAD(conf({{"schedule", rep(' ', max_cron_len + 1)}}),
            "schedule: 129 bytes, at most 128 allowed");
  CHECK_BAD(conf({{"schedule", rep('x', 100000)}}), "schedule: 100000 bytes, at most 128");
  CHECK_BAD(conf({{"schedule", "a"}, {"schedule", "a"}}), "schedule: duplicate key");
  // a bad expression: the parser's why, after "schedule: "
  for (const std::string bad : {"0 25 * * *", "* * *", "0 0 * * * * *", "x 0 * * *", " "}) {
    CAPTURE(bad);
    const std::string why = cron_why(bad);
    CHECK_FALSE(why.empty());
    const auto d = conf({{"schedule", bad}});
    CHECK_BAD(d, "schedule: " + why);
    if (!d.ok())
      CHECK(std::get<error>(d.body).message == "schedule: " + why);
  }
  // the protocol's example
  CHECK(std::get<error>(conf({{"schedule", "0 25 * * *"}}).body).message
        == "schedule: field 2 (hour): 25 is out of range 0-23");
  // One that parses but never fires: Feb 30.
  CHECK(std::get<error>(conf({{"schedule", "0 0 30 2 *"}}).body).message
        == "schedule: '0 0 30 2 *' never fires");
  CHECK_BAD(conf({{"schedule", "0 0 0 30 2 *"}}), "never fires");
  // kept as the parser gives it back: trimmed
  CHECK(req<configure_req>(conf({{"schedule", "  0 0 * * 1 "}})).schedule
        == std::string("0 0 * * 1"));
  // check order: board, order, operator, schedule, keep
  CHECK_BAD(conf({{"keep", 0}, {"schedule", 1}}), "schedule: expected str");
  CHECK_BAD(conf({{"schedule", 1}, {"operator", "max"}}), "operator: 'max'");
  CHECK_BAD(dec(Map{{"op", "configure"}, {"schedule", 1}}), "board: missing");
  // other ops ignore them
  CHECK(dec(Map{{"op", "reset"}, {"board", "b"}, {"schedule", 1}, {"keep", 0}}).ok());
}

TEST_CASE("seasons: the `seasons` op") {
  const auto d = dec(Map{{"op", "seasons"}, {"id", 3}, {"board", "arena"}});
  CHECK(req<seasons_req>(d).board == "arena");
  CHECK(d.id == 3u);
  CHECK_BAD(dec(Map{{"op", "seasons"}}), "board: missing");
  CHECK_BAD(dec(Map{{"op", "seasons"}, {"board", 1}}), "board: expected str, got int");
  CHECK_BAD(dec(Map{{"op", "seasons"}, {"board", "a b"}}), "board: invalid character");
  CHECK(dec(Map{{"op", "seasons"}, {"board", "b"}, {"season", 0}}).ok()); // not a key it reads
  CHECK_ERR(dec(Map{{"op", "Seasons"}, {"board", "b"}}), error_code::unknown_op, "Seasons");
  CHECK_ERR(dec(Map{{"op", "season"}, {"board", "b"}}), error_code::unknown_op, "season");
  // not on ingest
  CHECK_BAD(ing(Map{{"op", "seasons"}, {"board", "b"}}), "not accepted on ingest");
}

TEST_CASE("seasons: encode_request -> decode_request round trip") {
  auto with_season = [](auto r, uint32_t s) {
    r.season = s;
    return r;
  };
  configure_req cs{"b", std::nullopt, std::nullopt, std::string("0 0 * * 1"), 4u};
  configure_req cr{"b", board_order::asc, score_operator::set, std::string(), std::nullopt};
  configure_req ck{"b", std::nullopt, std::nullopt, std::nullopt, max_keep_seasons};
  reset_req ra{"b", true};
  top_req tc{"b", 3, 0, false, top_cursor{1, 2, 3}, 9u};
  const std::vector<request_body> bodies = {
    with_season(rank_req{"b", "p", true}, 1),
    with_season(rank_req{"b", "p", false}, std::numeric_limits<uint32_t>::max()),
    with_season(top_req{"b", 5, 7}, 2),
    tc,
    with_season(around_req{"b", "p", 3}, 4),
    with_season(ranks_req{"b", {"x", "y"}, false}, 5),
    ra,
    reset_req{"b", false},
    cs,
    cr,
    ck,
    seasons_req{"arena"},
  };
  for (const auto& body : bodies) {
    for (const std::optional<uint64_t>& id :
         {std::optional<uint64_t>{}, std::optional<uint64_t>{5}}) {
      CAPTURE(body.index());
      const std::string frame = encode_request(id, body);
      const auto d = decode_request(frame.data(), frame.size());
      REQUIRE_MESSAGE(d.ok(), std::get<error>(d.body).message);
      CHECK(d.id == id);
      CHECK(eq(std::get<request_body>(d.body), body));
    }
  }
  const auto keys = [](const request_body& b) {
    const std::string f = encode_request(std::nullopt, b);
    std::size_t off = 0;
    auto oh = msgpack::unpack(f.data(), f.size(), off);
    return keys_of(oh.get());
  };
  // optional keys only when set
  CHECK(keys(rank_req{"b", "p"}) == strs{"op", "board", "player"});
  CHECK(keys(with_season(rank_req{"b", "p"}, 2)) == strs{"op", "board", "player", "season"});
  CHECK(keys(tc) == strs{"op", "board", "limit", "after", "exact", "season"});
  CHECK(keys(reset_req{"b"}) == strs{"op", "board"});
  CHECK(keys(ra) == strs{"op", "board", "archive"});
  CHECK(keys(cs) == strs{"op", "board", "schedule", "keep"});
  CHECK(keys(cr) == strs{"op", "board", "order", "operator", "schedule"});
  CHECK(keys(seasons_req{"b"}) == strs{"op", "board"});
  // "" goes on the wire as "": it removes the schedule
  const std::string f = encode_request(std::nullopt, cr);
  CHECK(req<configure_req>(dec(f)).schedule == std::string());
}

// ===========================================================================
TEST_CASE("encode_reply: error") {
  const std::string a = encode_reply(std::nullopt,
                                     error{error_code::unknown_op, "op: unknown op 'x'"});
  auto r = parse_reply(a);
  CHECK(keys_of(r.root()) == strs{"ok", "error"});
  CHECK_FALSE(b_of(at(r.root(), "ok")));
  const auto& e = at(r.root(), "error");
  CHECK(keys_of(e) == strs{"code", "message"});
  CHECK(s_of(at(e, "code")) == "unknown_op");
  CHECK(s_of(at(e, "message")) == "op: unknown op 'x'");
  auto r2 = parse_reply(encode_reply(uint64_t{99}, error{error_code::not_found, "no such board"}));
  CHECK(keys_of(r2.root()) == strs{"ok", "id", "error"});
  CHECK(u_of(at(r2.root(), "id")) == 99);
  CHECK(s_of(at(at(r2.root(), "error"), "code")) == "not_found");
  for (auto c : {error_code::bad_request, error_code::conflict, error_code::overloaded,
                 error_code::unauthorized, error_code::internal}) {
    auto r3 = parse_reply(encode_reply(std::nullopt, error{c, ""}));
    CHECK(s_of(at(at(r3.root(), "error"), "code")) == to_string(c));
  }
}

TEST_CASE("encode_reply: submit, with and without prev_rank") {
  submit_reply s{"b", "p", -5, 7, 3, std::nullopt, true, 10, 12345};
  auto r = parse_reply(encode_reply(uint64_t{1}, s));
  CHECK(keys_of(r.root())
        == strs{"ok", "id", "board", "player", "score", "subscore", "rank", "prev_rank", "changed",
                "total", "percentile", "seq"});
  CHECK(b_of(at(r.root(), "ok")));
  CHECK(u_of(at(r.root(), "id")) == 1);
  CHECK(s_of(at(r.root(), "board")) == "b");
  CHECK(s_of(at(r.root(), "player")) == "p");
  CHECK(i_of(at(r.root(), "score")) == -5);
  CHECK(i_of(at(r.root(), "subscore")) == 7);
  CHECK(u_of(at(r.root(), "rank")) == 3);
  CHECK(at(r.root(), "prev_rank").type == msgpack::type::NIL);
  CHECK(b_of(at(r.root(), "changed")));
  CHECK(u_of(at(r.root(), "total")) == 10);
  CHECK(u_of(at(r.root(), "seq")) == 12345);
  s.prev_rank = 4;
  s.changed = false;
  s.score = std::numeric_limits<int64_t>::min();
  s.seq = std::numeric_limits<uint64_t>::max();
  auto r2 = parse_reply(encode_reply(std::nullopt, s));
  CHECK(keys_of(r2.root())
        == strs{"ok", "board", "player", "score", "subscore", "rank", "prev_rank", "changed",
                "total", "percentile", "seq"});
  CHECK(u_of(at(r2.root(), "prev_rank")) == 4);
  CHECK_FALSE(b_of(at(r2.root(), "changed")));
  CHECK(i_of(at(r2.root(), "score")) == std::numeric_limits<int64_t>::min());
  CHECK(u_of(at(r2.root(), "seq")) == std::numeric_limits<uint64_t>::max());
}

TEST_CASE("encode_reply: batch") {
  batch_reply b;
  b.results.push_back(submit_reply{"b", "p", 1, 2, 1, 1, false, 1, 7});
  b.results.push_back(error{error_code::bad_request, "score: missing"});
  b.results.push_back(submit_reply{"b", "q", 3, 0, 1, std::nullopt, true, 2, 8});
  auto r = parse_reply(encode_reply(uint64_t{2}, b));
  CHECK(keys_of(r.root()) == strs{"ok", "id", "results"});
  const auto& res = at(r.root(), "results");
  REQUIRE(res.type == msgpack::type::ARRAY);
  REQUIRE(res.via.array.size == 3);
  const auto& a0 = res.via.array.ptr[0];
  CHECK(keys_of(a0)
        == strs{"ok", "board", "player", "score", "subscore", "rank", "prev_rank", "changed",
                "total", "percentile", "seq"});
  CHECK(b_of(at(a0, "ok")));
  CHECK(u_of(at(a0, "prev_rank")) == 1);
  CHECK(u_of(at(a0, "seq")) == 7);
  const auto& a1 = res.via.array.ptr[1];
  CHECK(keys_of(a1) == strs{"ok", "error"});
  CHECK_FALSE(b_of(at(a1, "ok")));
  CHECK(s_of(at(at(a1, "error"), "code")) == "bad_request");
  CHECK(s_of(at(at(a1, "error"), "message")) == "score: missing");
  const auto& a2 = res.via.array.ptr[2];
  CHECK(s_of(at(a2, "player")) == "q");
  CHECK(at(a2, "prev_rank").type == msgpack::type::NIL);
  // an empty batch reply is still well-formed
  auto r2 = parse_reply(encode_reply(std::nullopt, batch_reply{}));
  CHECK(at(r2.root(), "results").via.array.size == 0);
}

TEST_CASE("encode_reply: rank with nil, str and bin meta") {
  rank_reply rr{"b", entry_view{5, "p", 100, -1, std::nullopt}, 50, 77};
  auto r = parse_reply(encode_reply(std::nullopt, rr));
  CHECK(keys_of(r.root())
        == strs{"ok", "board", "player", "score", "subscore", "meta", "rank", "total", "percentile",
                "seq"});
  CHECK(u_of(at(r.root(), "seq")) == 77);
  CHECK(s_of(at(r.root(), "board")) == "b");
  CHECK(s_of(at(r.root(), "player")) == "p");
  CHECK(i_of(at(r.root(), "score")) == 100);
  CHECK(i_of(at(r.root(), "subscore")) == -1);
  CHECK(at(r.root(), "meta").type == msgpack::type::NIL);
  CHECK(u_of(at(r.root(), "rank")) == 5);
  CHECK(u_of(at(r.root(), "total")) == 50);
  rr.entry.meta = meta_value{"hi", false};
  auto r2 = parse_reply(encode_reply(std::nullopt, rr));
  CHECK(s_of(at(r2.root(), "meta")) == "hi");
  rr.entry.meta = meta_value{std::string("\x00\x01\xff", 3), true};
  auto r3 = parse_reply(encode_reply(uint64_t{4}, rr));
  const auto& m = at(r3.root(), "meta");
  REQUIRE(m.type == msgpack::type::BIN);
  CHECK(std::string(m.via.bin.ptr, m.via.bin.size) == std::string("\x00\x01\xff", 3));
  rr.entry.meta = meta_value{rep('z', 256), true};
  auto r4 = parse_reply(encode_reply(std::nullopt, rr));
  CHECK(at(r4.root(), "meta").via.bin.size == 256);
}

TEST_CASE("encode_reply: entries (top, around, ranks)") {
  entries_reply e;
  e.board = "b";
  e.total = 1000;
  e.seq = 12;
  e.entries.push_back(entry_view{1, "a", 10, 1, meta_value{"m", false}});
  e.entries.push_back(entry_view{2, "b", 9, 0, std::nullopt});
  e.entries.push_back(entry_view{3, "c", -9, 0, meta_value{"\x01", true}});
  auto r = parse_reply(encode_reply(uint64_t{3}, e));
  CHECK(keys_of(r.root()) == strs{"ok", "id", "board", "total", "seq", "entries"});
  CHECK(u_of(at(r.root(), "total")) == 1000);
  CHECK(u_of(at(r.root(), "seq")) == 12);
  const auto& es = at(r.root(), "entries");
  REQUIRE(es.type == msgpack::type::ARRAY);
  REQUIRE(es.via.array.size == 3);
  for (uint32_t i = 0; i < 3; ++i)
    CHECK(keys_of(es.via.array.ptr[i]) == strs{"rank", "player", "score", "subscore", "meta"});
  CHECK(u_of(at(es.via.array.ptr[0], "rank")) == 1);
  CHECK(s_of(at(es.via.array.ptr[0], "player")) == "a");
  CHECK(i_of(at(es.via.array.ptr[0], "score")) == 10);
  CHECK(i_of(at(es.via.array.ptr[0], "subscore")) == 1);
  CHECK(s_of(at(es.via.array.ptr[0], "meta")) == "m");
  CHECK(at(es.via.array.ptr[1], "meta").type == msgpack::type::NIL);
  CHECK(at(es.via.array.ptr[2], "meta").type == msgpack::type::BIN);
  CHECK(i_of(at(es.via.array.ptr[2], "score")) == -9);
  // many entries: the reply is still one well-formed map
  entries_reply big;
  big.board = "b";
  for (int i = 0; i < 1000; ++i)
    big.entries.push_back(entry_view{uint64_t(i + 1), "player" + std::to_string(i), i, 0,
                                     meta_value{rep('m', 256), false}});
  auto rb = parse_reply(encode_reply(std::nullopt, big));
  CHECK(at(rb.root(), "entries").via.array.size == 1000);
  // top (paged): `next` is the last entry's cursor, or nil on the last page
  e.paged = true;
  auto rt = parse_reply(encode_reply(std::nullopt, e));
  CHECK(keys_of(rt.root()) == strs{"ok", "board", "total", "seq", "entries", "next"});
  CHECK(at(rt.root(), "next").type == msgpack::type::NIL);
  e.next = top_cursor{0x0123456789abcdefULL, 0, std::numeric_limits<uint64_t>::max()};
  auto rn = parse_reply(encode_reply(std::nullopt, e));
  CHECK(s_of(at(rn.root(), "next")) == "0123456789abcdef" + rep('0', 16) + rep('f', 16));
  // and it is what a top request takes back as `after`
  const auto& t
    = req<top_req>(dec(Map{{"op", "top"}, {"board", "b"}, {"after", s_of(at(rn.root(), "next"))}}));
  REQUIRE(t.after);
  CHECK(*t.after == *e.next);
}

TEST_CASE("encode_reply: remove, reset, configure, boards, pong") {
  auto r = parse_reply(encode_reply(std::nullopt, remove_reply{true, 8}));
  CHECK(keys_of(r.root()) == strs{"ok", "removed", "seq"});
  CHECK(b_of(at(r.root(), "removed")));
  CHECK(u_of(at(r.root(), "seq")) == 8);
  auto r1 = parse_reply(encode_reply(std::nullopt, remove_reply{false, 9}));
  CHECK_FALSE(b_of(at(r1.root(), "removed")));

  auto r2 = parse_reply(encode_reply(uint64_t{6}, reset_reply{1234, 9}));
  CHECK(keys_of(r2.root()) == strs{"ok", "id", "removed", "seq"});
  CHECK(u_of(at(r2.root(), "removed")) == 1234);
  CHECK(u_of(at(r2.root(), "seq")) == 9);

  auto r3 = parse_reply(
    encode_reply(std::nullopt, configure_reply{"b", board_order::asc, score_operator::incr, 10}));
  CHECK(keys_of(r3.root()) == strs{"ok", "board", "order", "operator", "seq", "schedule", "keep"});
  CHECK(s_of(at(r3.root(), "board")) == "b");
  CHECK(s_of(at(r3.root(), "order")) == "asc");
  CHECK(s_of(at(r3.root(), "operator")) == "incr");
  CHECK(u_of(at(r3.root(), "seq")) == 10);

  boards_reply bs;
  bs.seq = 31;
  bs.boards.push_back(board_info{"a", 3, board_order::desc, score_operator::best});
  bs.boards.push_back(board_info{"z", 0, board_order::asc, score_operator::decr});
  auto r4 = parse_reply(encode_reply(std::nullopt, bs));
  CHECK(keys_of(r4.root()) == strs{"ok", "seq", "boards", "next"});
  CHECK(at(r4.root(), "next").type == msgpack::type::NIL); // the last page
  CHECK(u_of(at(r4.root(), "seq")) == 31);
  const auto& arr = at(r4.root(), "boards");
  REQUIRE(arr.via.array.size == 2);
  CHECK(keys_of(arr.via.array.ptr[0])
        == strs{"board", "total", "order", "operator", "season", "schedule", "keep"});
  CHECK(s_of(at(arr.via.array.ptr[0], "board")) == "a");
  CHECK(u_of(at(arr.via.array.ptr[0], "total")) == 3);
  CHECK(s_of(at(arr.via.array.ptr[0], "order")) == "desc");
  CHECK(s_of(at(arr.via.array.ptr[0], "operator")) == "best");
  CHECK(s_of(at(arr.via.array.ptr[1], "order")) == "asc");
  CHECK(s_of(at(arr.via.array.ptr[1], "operator")) == "decr");
  auto r4b = parse_reply(encode_reply(std::nullopt, boards_reply{}));
  CHECK(at(r4b.root(), "boards").via.array.size == 0);
  // A page with more after it, from the merged view (which counts boards).
  bs.next = "z";
  bs.total = 5000;
  auto r4c = parse_reply(encode_reply(uint64_t{2}, bs));
  CHECK(keys_of(r4c.root()) == strs{"ok", "id", "seq", "boards", "next", "total"});
  CHECK(s_of(at(r4c.root(), "next")) == "z");
  CHECK(u_of(at(r4c.root(), "total")) == 5000);
  // A full page of the longest names and schedules stays far below the
  // default max frame.
  boards_reply full;
  full.seq = std::numeric_limits<uint64_t>::max();
  for (uint32_t i = 0; i < max_boards_limit; ++i)
    full.boards.push_back(board_info{rep('b', max_board_len - 8) + std::to_string(10000000 + i),
                                     std::numeric_limits<uint64_t>::max(), board_order::desc,
                                     score_operator::best, std::numeric_limits<uint32_t>::max(),
                                     rep('*', max_cron_len), max_keep_seasons});
  full.next = full.boards.back().board;
  full.total = std::numeric_limits<uint64_t>::max();
  const std::string full_frame = encode_reply(std::numeric_limits<uint64_t>::max(), full);
  CHECK(full_frame.size() < default_max_frame / 3);
  CHECK(at(parse_reply(full_frame).root(), "boards").via.array.size == max_boards_limit);

  auto r5 = parse_reply(encode_reply(uint64_t{5}, pong_reply{}));
  CHECK(keys_of(r5.root()) == strs{"ok", "id", "pong"});
  CHECK(b_of(at(r5.root(), "ok")));
  CHECK(b_of(at(r5.root(), "pong")));
}

TEST_CASE("encode_reply: stats") {
  stats_reply s;
  s.seq = 100;
  s.shards = {shard_stats{0, 10, 1}, shard_stats{1, 20, 0}};
  s.merge_interval_ms = 50;
  s.last_merge_seq = 99;
  s.merge_age_ms = 12;
  s.digest = "abcdef0123456789";
  s.boards = 3;
  s.entries = 30;
  s.requests = 1000;
  s.rejected = 4;
  s.ingest_events = 500;
  s.ingest_rejected = 6;
  s.uptime_ms = 123456;
  s.log = log_stats{"group", 98, 4096, 7, 2};
  s.updates_published = 77;
  s.updates_dropped = 3;
  s.merges = merge_timing{40, 1200, 9000};
  s.clients.connections = 5;
  s.clients.unauthorized = 2;
  s.clients.replies_dropped = 1;
  s.ingest_sources = {{other_sources, {5, 40, 2}}, {"gs-1", {3, 17, 1}}, {"gs-2", {1, 0, 1}}};
  auto r = parse_reply(encode_reply(uint64_t{1}, s));
  CHECK(keys_of(r.root())
        == strs{"ok", "id", "seq", "shards", "merge", "digest", "boards", "entries", "requests",
                "rejected", "ingest_events", "ingest_rejected", "ingest_sources", "uptime_ms",
                "log", "updates", "merges", "clients"});
  const auto& cl = at(r.root(), "clients");
  CHECK(keys_of(cl)
        == strs{"connections", "refused_connections", "refused_keys", "unauthorized",
                "overloaded_busy", "overloaded_unread", "overloaded_memory", "reply_backlog_bytes",
                "replies_dropped", "replies_orphaned", "bad_envelopes"});
  CHECK(u_of(at(cl, "connections")) == 5);
  CHECK(u_of(at(cl, "unauthorized")) == 2);
  CHECK(u_of(at(cl, "replies_dropped")) == 1);
  CHECK(u_of(at(cl, "refused_keys")) == 0);
  const auto& mt = at(r.root(), "merges");
  CHECK(keys_of(mt) == strs{"count", "last_us", "max_us"});
  CHECK(u_of(at(mt, "count")) == 40);
  CHECK(u_of(at(mt, "last_us")) == 1200);
  CHECK(u_of(at(mt, "max_us")) == 9000);
  CHECK(u_of(at(r.root(), "seq")) == 100);
  const auto& sh = at(r.root(), "shards");
  REQUIRE(sh.via.array.size == 2);
  CHECK(keys_of(sh.via.array.ptr[1]) == strs{"shard", "entries", "mailbox"});
  CHECK(u_of(at(sh.via.array.ptr[1], "shard")) == 1);
  CHECK(u_of(at(sh.via.array.ptr[1], "entries")) == 20);
  CHECK(u_of(at(sh.via.array.ptr[0], "mailbox")) == 1);
  const auto& m = at(r.root(), "merge");
  CHECK(keys_of(m) == strs{"interval_ms", "last_merge_seq", "age_ms"});
  CHECK(u_of(at(m, "interval_ms")) == 50);
  CHECK(u_of(at(m, "last_merge_seq")) == 99);
  CHECK(u_of(at(m, "age_ms")) == 12);
  CHECK(s_of(at(r.root(), "digest")) == "abcdef0123456789");
  CHECK(u_of(at(r.root(), "boards")) == 3);
  CHECK(u_of(at(r.root(), "entries")) == 30);
  CHECK(u_of(at(r.root(), "requests")) == 1000);
  CHECK(u_of(at(r.root(), "rejected")) == 4);
  CHECK(u_of(at(r.root(), "ingest_events")) == 500);
  CHECK(u_of(at(r.root(), "ingest_rejected")) == 6);
  CHECK(u_of(at(r.root(), "uptime_ms")) == 123456);
  const auto& lg = at(r.root(), "log");
  CHECK(keys_of(lg) == strs{"fsync", "durable_seq", "bytes", "syncs", "refused"});
  CHECK(s_of(at(lg, "fsync")) == "group");
  CHECK(u_of(at(lg, "durable_seq")) == 98);
  CHECK(u_of(at(lg, "bytes")) == 4096);
  CHECK(u_of(at(lg, "syncs")) == 7);
  CHECK(u_of(at(lg, "refused")) == 2);
  const auto& up = at(r.root(), "updates");
  CHECK(keys_of(up) == strs{"published", "dropped"});
  CHECK(u_of(at(up, "published")) == 77);
  CHECK(u_of(at(up, "dropped")) == 3);
  const auto& src = at(r.root(), "ingest_sources");
  CHECK(keys_of(src) == strs{"*other*", "gs-1", "gs-2"});
  for (const auto& name : keys_of(src))
    CHECK(keys_of(at(src, name)) == strs{"frames", "accepted", "rejected"});
  CHECK(u_of(at(at(src, "gs-1"), "frames")) == 3);
  CHECK(u_of(at(at(src, "gs-1"), "accepted")) == 17);
  CHECK(u_of(at(at(src, "gs-1"), "rejected")) == 1);
  CHECK(u_of(at(at(src, "*other*"), "accepted")) == 40);
  CHECK(u_of(at(at(src, "gs-2"), "rejected")) == 1);
  // None yet: an empty map, not a missing key.
  auto none = parse_reply(encode_reply(std::nullopt, stats_reply{}));
  CHECK(at(none.root(), "ingest_sources").type == msgpack::type::MAP);
  CHECK(at(none.root(), "ingest_sources").via.map.size == 0);
  // Many sources fit the estimate-sized buffer as well as a few.
  stats_reply many;
  for (std::size_t i = 0; i < max_stats_sources; ++i)
    many.ingest_sources.emplace_back(rep('x', 64) + std::to_string(i), source_counts{1, 2, 3});
  auto big = parse_reply(encode_reply(std::nullopt, many));
  CHECK(at(big.root(), "ingest_sources").via.map.size == max_stats_sources);
}

// ===========================================================================
// Update streams (PROTOCOL.md section 5): topics and bodies.

TEST_CASE("update topics end where a prefix subscription needs them to") {
  CHECK(top_topic("arena") == "top/arena/");
  CHECK(score_topic("arena") == "score/arena/");
  CHECK(rank_topic("arena", "alice") == "rank/arena/alice");
  // Player names may hold '/' and any UTF-8; the topic carries them as sent.
  CHECK(rank_topic("a.b:c-d_1", "x/y Zoë") == "rank/a.b:c-d_1/x/y Zoë");
  // A board's topics never match another board's prefix ("a/" vs "ab/").
  CHECK(top_topic("ab").rfind(top_topic("a"), 0) == std::string::npos);
}

TEST_CASE("encode_update: top") {
  top_update u;
  u.board = "arena";
  u.seq = 42;
  u.total = 1000;
  u.entries = {entry_view{1, "bob", 150, -2, meta_value{"hi", false}},
               entry_view{2, "alice", 120, 0, std::nullopt},
               entry_view{3, "carol", std::numeric_limits<int64_t>::min(), 7,
                          meta_value{std::string("\x00\xff", 2), true}}};
  auto r = parse_reply(encode_update(u));
  CHECK(keys_of(r.root()) == strs{"board", "seq", "total", "entries"});
  CHECK(s_of(at(r.root(), "board")) == "arena");
  CHECK(u_of(at(r.root(), "seq")) == 42);
  CHECK(u_of(at(r.root(), "total")) == 1000);
  const auto& es = at(r.root(), "entries");
  REQUIRE(es.type == msgpack::type::ARRAY);
  REQUIRE(es.via.array.size == 3);
  // Entries exactly as in a `top` reply: the same encoder writes both.
  auto top = parse_reply(encode_reply(std::nullopt, entries_reply{"arena", 1000, 42, u.entries}));
  const auto& te = at(top.root(), "entries");
  for (uint32_t i = 0; i < 3; ++i) {
    CHECK(keys_of(es.via.array.ptr[i]) == strs{"rank", "player", "score", "subscore", "meta"});
    CHECK(es.via.array.ptr[i] == te.via.array.ptr[i]);
  }
  CHECK(u_of(at(es.via.array.ptr[0], "rank")) == 1);
  CHECK(s_of(at(es.via.array.ptr[0], "player")) == "bob");
  CHECK(i_of(at(es.via.array.ptr[0], "subscore")) == -2);
  CHECK(s_of(at(es.via.array.ptr[0], "meta")) == "hi");
  CHECK(at(es.via.array.ptr[1], "meta").is_nil());
  CHECK(i_of(at(es.via.array.ptr[2], "score")) == std::numeric_limits<int64_t>::min());
  CHECK(at(es.via.array.ptr[2], "meta").type == msgpack::type::BIN);

  // A reset: no entries, total 0.
  auto empty = parse_reply(encode_update(top_update{"arena", 43, 0, {}}));
  CHECK(u_of(at(empty.root(), "total")) == 0);
  CHECK(at(empty.root(), "entries").type == msgpack::type::ARRAY);
  CHECK(at(empty.root(), "entries").via.array.size == 0);
}

TEST_CASE("encode_update: rank") {
  rank_update u;
  u.board = "arena";
  u.player = "alice";
  u.score = -5;
  u.subscore = std::numeric_limits<int64_t>::max();
  u.rank = 3;
  u.prev_rank = 7;
  u.seq = std::numeric_limits<uint64_t>::max();
  auto r = parse_reply(encode_update(u));
  CHECK(keys_of(r.root())
        == strs{"board", "player", "score", "subscore", "rank", "prev_rank", "seq"});
  CHECK(s_of(at(r.root(), "board")) == "arena");
  CHECK(s_of(at(r.root(), "player")) == "alice");
  CHECK(i_of(at(r.root(), "score")) == -5);
  CHECK(i_of(at(r.root(), "subscore")) == std::numeric_limits<int64_t>::max());
  CHECK(u_of(at(r.root(), "rank")) == 3);
  CHECK(u_of(at(r.root(), "prev_rank")) == 7);
  CHECK(u_of(at(r.root(), "seq")) == std::numeric_limits<uint64_t>::max());

  SUBCASE("new: prev_rank nil") {
    u.prev_rank.reset();
    auto n = parse_reply(encode_update(u));
    CHECK(at(n.root(), "prev_rank").is_nil());
    CHECK(u_of(at(n.root(), "rank")) == 3);
  }
  SUBCASE("removed: rank nil") {
    u.rank.reset();
    auto n = parse_reply(encode_update(u));
    CHECK(at(n.root(), "rank").is_nil());
    CHECK(u_of(at(n.root(), "prev_rank")) == 7);
  }
  SUBCASE("a 128-byte player name") {
    std::string long_name(128, 'p');
    u.player = long_name;
    auto n = parse_reply(encode_update(u));
    CHECK(s_of(at(n.root(), "player")) == long_name);
  }
}

TEST_CASE("encode_update: score") {
  score_update u{9, "arena", "bob", std::numeric_limits<int64_t>::min(), -1};
  auto r = parse_reply(encode_update(u));
  CHECK(keys_of(r.root()) == strs{"seq", "board", "player", "score", "subscore"});
  CHECK(u_of(at(r.root(), "seq")) == 9);
  CHECK(s_of(at(r.root(), "board")) == "arena");
  CHECK(s_of(at(r.root(), "player")) == "bob");
  CHECK(i_of(at(r.root(), "score")) == std::numeric_limits<int64_t>::min());
  CHECK(i_of(at(r.root(), "subscore")) == -1);
  // Rendered as JSON for `lbctl watch --json`.
  const auto f = encode_update(u);
  CHECK(
    msgpack_to_json(f.data(), f.size())
    == R"({"seq":9,"board":"arena","player":"bob","score":-9223372036854775808,"subscore":-1})");
}

TEST_CASE("encode_update: follow") {
  follow_update u;
  u.board = "arena";
  u.player = "alice";
  u.rank = 2;
  u.prev_rank = 1;
  u.score = -7;
  u.subscore = 3;
  u.total = 40;
  u.seq = 99;
  auto r = parse_reply(encode_update(u));
  CHECK(keys_of(r.root())
        == strs{"board", "player", "rank", "prev_rank", "score", "subscore", "total", "seq"});
  CHECK(s_of(at(r.root(), "board")) == "arena");
  CHECK(s_of(at(r.root(), "player")) == "alice");
  CHECK(u_of(at(r.root(), "rank")) == 2);
  CHECK(u_of(at(r.root(), "prev_rank")) == 1);
  CHECK(i_of(at(r.root(), "score")) == -7);
  CHECK(i_of(at(r.root(), "subscore")) == 3);
  CHECK(u_of(at(r.root(), "total")) == 40);
  CHECK(u_of(at(r.root(), "seq")) == 99);

  SUBCASE("not on the board: rank, score and subscore nil") {
    follow_update off{"arena", "zed", std::nullopt, 4, std::nullopt, std::nullopt, 0, 100};
    auto n = parse_reply(encode_update(off));
    CHECK(at(n.root(), "rank").is_nil());
    CHECK(u_of(at(n.root(), "prev_rank")) == 4);
    CHECK(at(n.root(), "score").is_nil());
    CHECK(at(n.root(), "subscore").is_nil());
    CHECK(u_of(at(n.root(), "total")) == 0);
  }
}

// ===========================================================================
TEST_CASE("seasons: percentile") {
  CHECK(percentile(1, 4) == 75.0);
  CHECK(percentile(4, 4) == 0.0);
  CHECK(percentile(1, 1) == 0.0);
  CHECK(percentile(0, 0) == 0.0);
  CHECK(percentile(1, 0) == 0.0);
  CHECK(percentile(2, 3) == doctest::Approx(100.0 / 3));
  CHECK(percentile(1, 1000000) == doctest::Approx(99.9999));
}

namespace {

// A float64 as the protocol writes it (never narrowed to an int or float32).
double f64_of(const msgpack::object& o) {
  REQUIRE(o.type == msgpack::type::FLOAT64);
  return o.via.f64;
}

} // namespace

TEST_CASE("seasons: percentile in submit, batch and rank replies is a float64") {
  // 100.0 and 0.0 are whole numbers: still float64 on the wire
  const std::string sf = encode_reply(std::nullopt,
                                      submit_reply{"b", "p", 1, 0, 1, std::nullopt, true, 1, 2});
  auto s = parse_reply(sf);
  CHECK(f64_of(at(s.root(), "percentile")) == 0.0);
  CHECK(sf.find(std::string("\xaapercentile\xcb", 12)) != std::string::npos);
  auto s2 = parse_reply(
    encode_reply(std::nullopt, submit_reply{"b", "p", 1, 0, 1, std::nullopt, true, 4, 2}));
  CHECK(f64_of(at(s2.root(), "percentile")) == 75.0);
  batch_reply b;
  b.results.push_back(submit_reply{"b", "p", 1, 2, 3, 1, false, 8, 7});
  b.results.push_back(error{error_code::bad_request, "score: missing"});
  auto rb = parse_reply(encode_reply(std::nullopt, b));
  const auto& res = at(rb.root(), "results");
  CHECK(f64_of(at(res.via.array.ptr[0], "percentile")) == 62.5);
  CHECK(keys_of(res.via.array.ptr[1]) == strs{"ok", "error"});
  rank_reply rr{"b", entry_view{1, "p", 100, 0, std::nullopt}, 10, 77};
  auto r = parse_reply(encode_reply(std::nullopt, rr));
  CHECK(f64_of(at(r.root(), "percentile")) == 90.0);
  rr.entry.rank = 10;
  CHECK(f64_of(at(parse_reply(encode_reply(std::nullopt, rr)).root(), "percentile")) == 0.0);
}

TEST_CASE("seasons: `season` in read replies only when the request named one") {
  rank_reply rr{"b", entry_view{2, "p", 100, 0, std::nullopt}, 4, 77};
  CHECK(keys_of(parse_reply(encode_reply(std::nullopt, rr)).root()).back() == "seq");
  rr.season = 3;
  auto r = parse_reply(encode_reply(uint64_t{1}, rr));
  CHECK(keys_of(r.root())
        == strs{"ok", "id", "board", "player", "score", "subscore", "meta", "rank", "total",
                "percentile", "seq", "season"});
  CHECK(u_of(at(r.root(), "season")) == 3);
  CHECK(f64_of(at(r.root(), "percentile")) == 50.0);

  entries_reply e;
  e.board = "b";
  e.total = 2;
  e.seq = 12;
  e.entries.push_back(entry_view{1, "a", 10, 0, std::nullopt});
  e.season = std::numeric_limits<uint32_t>::max();
  auto re = parse_reply(encode_reply(std::nullopt, e));
  CHECK(keys_of(re.root()) == strs{"ok", "board", "total", "seq", "entries", "season"});
  CHECK(u_of(at(re.root(), "season")) == std::numeric_limits<uint32_t>::max());
  // a top page of a closed season: next, then season
  e.paged = true;
  e.season = 1;
  auto rt = parse_reply(encode_reply(std::nullopt, e));
  CHECK(keys_of(rt.root()) == strs{"ok", "board", "total", "seq", "entries", "next", "season"});
  CHECK(u_of(at(rt.root(), "season")) == 1);
}

TEST_CASE("seasons: reset, configure and boards replies") {
  auto r = parse_reply(encode_reply(std::nullopt, reset_reply{5, 9, std::nullopt}));
  CHECK(keys_of(r.root()) == strs{"ok", "removed", "seq"});
  auto ra = parse_reply(encode_reply(std::nullopt, reset_reply{5, 9, 4u}));
  CHECK(keys_of(ra.root()) == strs{"ok", "removed", "seq", "season"});
  CHECK(u_of(at(ra.root(), "season")) == 4);

  configure_reply c{"b", board_order::desc, score_operator::best, 10};
  auto rc = parse_reply(encode_reply(std::nullopt, c));
  CHECK(at(rc.root(), "schedule").is_nil());
  CHECK(u_of(at(rc.root(), "keep")) == 1);
  c.schedule = "0 0 * * 1";
  c.keep = 4;
  auto rc2 = parse_reply(encode_reply(std::nullopt, c));
  CHECK(s_of(at(rc2.root(), "schedule")) == "0 0 * * 1");
  CHECK(u_of(at(rc2.root(), "keep")) == 4);

  boards_reply bs;
  bs.boards.push_back(board_info{"a", 3, board_order::desc, score_operator::best});
  bs.boards.push_back(
    board_info{"z", 0, board_order::asc, score_operator::set, 12, std::string("0 * * * *"), 1000});
  auto rb = parse_reply(encode_reply(std::nullopt, bs));
  const auto& arr = at(rb.root(), "boards");
  CHECK(u_of(at(arr.via.array.ptr[0], "season")) == 1);
  CHECK(at(arr.via.array.ptr[0], "schedule").is_nil());
  CHECK(u_of(at(arr.via.array.ptr[0], "keep")) == 1);
  CHECK(u_of(at(arr.via.array.ptr[1], "season")) == 12);
  CHECK(s_of(at(arr.via.array.ptr[1], "schedule")) == "0 * * * *");
  CHECK(u_of(at(arr.via.array.ptr[1], "keep")) == 1000);
}

TEST_CASE("seasons: the seasons reply") {
  seasons_reply s;
  s.board = "arena";
  s.current = 6;
  s.keep = 3;
  s.seq = 900;
  s.seasons.push_back(season_info{season_span{3, 0, 1000, 1, 100}, false, 40});
  s.seasons.push_back(season_info{season_span{4, 1000, 2000, 101, 300}, false, 0});
  s.seasons.push_back(season_info{season_span{5, 2000, 3000, 301, 500}, false, 7});
  s.seasons.push_back(season_info{season_span{6, 3000, 0, 501, 0}, true, 12});
  auto r = parse_reply(encode_reply(uint64_t{8}, s));
  CHECK(keys_of(r.root())
        == strs{"ok", "id", "board", "current", "schedule", "next_ms", "keep", "seq", "seasons"});
  CHECK(s_of(at(r.root(), "board")) == "arena");
  CHECK(u_of(at(r.root(), "current")) == 6);
  CHECK(at(r.root(), "schedule").is_nil());
  CHECK(at(r.root(), "next_ms").is_nil());
  CHECK(u_of(at(r.root(), "keep")) == 3);
  CHECK(u_of(at(r.root(), "seq")) == 900);
  const auto& arr = at(r.root(), "seasons");
  REQUIRE(arr.type == msgpack::type::ARRAY);
  REQUIRE(arr.via.array.size == 4);
  for (uint32_t i = 0; i < 4; ++i)
    CHECK(keys_of(arr.via.array.ptr[i])
          == strs{"season", "start_ms", "end_ms", "start_seq", "end_seq", "total", "current"});
  const auto& first = arr.via.array.ptr[0];
  CHECK(u_of(at(first, "season")) == 3);
  CHECK(at(first, "start_ms").is_nil()); // 0: unknown
  CHECK(i_of(at(first, "end_ms")) == 1000);
  CHECK(u_of(at(first, "start_seq")) == 1);
  CHECK(u_of(at(first, "end_seq")) == 100);
  CHECK(u_of(at(first, "total")) == 40);
  CHECK_FALSE(b_of(at(first, "current")));
  CHECK(i_of(at(arr.via.array.ptr[1], "start_ms")) == 1000);
  const auto& cur = arr.via.array.ptr[3];
  CHECK(u_of(at(cur, "season")) == 6);
  CHECK(i_of(at(cur, "start_ms")) == 3000);
  CHECK(at(cur, "end_ms").is_nil());
  CHECK(u_of(at(cur, "start_seq")) == 501);
  CHECK(at(cur, "end_seq").is_nil());
  CHECK(u_of(at(cur, "total")) == 12);
  CHECK(b_of(at(cur, "current")));
  // with a schedule: str and the next boundary (an int, may be far off)
  s.schedule = "0 0 * * 1";
  s.next_ms = int64_t{1} << 42;
  auto r2 = parse_reply(encode_reply(std::nullopt, s));
  CHECK(s_of(at(r2.root(), "schedule")) == "0 0 * * 1");
  CHECK(i_of(at(r2.root(), "next_ms")) == int64_t{1} << 42);
  // a new board: one season, the current one
  seasons_reply fresh;
  fresh.board = "b";
  fresh.seasons.push_back(season_info{season_span{}, true, 0});
  auto r3 = parse_reply(encode_reply(std::nullopt, fresh));
  CHECK(u_of(at(r3.root(), "current")) == 1);
  CHECK(at(r3.root(), "seasons").via.array.size == 1);
  // a full list (keep 1000 and the current) stays well under a frame
  seasons_reply full;
  full.board = rep('b', max_board_len);
  full.schedule = rep('*', max_cron_len);
  for (uint32_t i = 0; i <= max_keep_seasons; ++i)
    full.seasons.push_back(season_info{
      season_span{std::numeric_limits<uint32_t>::max() - 1000 + i,
                  std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(),
                  std::numeric_limits<uint64_t>::max(), std::numeric_limits<uint64_t>::max()},
      i == max_keep_seasons, std::numeric_limits<uint64_t>::max()});
  const std::string ff = encode_reply(std::numeric_limits<uint64_t>::max(), full);
  CHECK(ff.size() < default_max_frame / 4);
  CHECK(at(parse_reply(ff).root(), "seasons").via.array.size == max_keep_seasons + 1);
}

TEST_CASE("seasons: the season/ update") {
  CHECK(season_topic("arena") == "season/arena/");
  CHECK(season_topic("ab").rfind(season_topic("a"), 0) == std::string::npos);
  season_update u;
  u.board = "arena";
  u.span = season_span{4, 0, 1700000000000, 101, 300};
  u.total = 2;
  u.entries = {entry_view{1, "bob", 150, -2, meta_value{"hi", false}},
               entry_view{2, "alice", 120, 0, std::nullopt}};
  std::string body = encode_update(u);
  auto r = parse_reply(body);
  CHECK(
    keys_of(r.root())
    == strs{"board", "season", "start_ms", "end_ms", "start_seq", "end_seq", "total", "entries"});
  CHECK(s_of(at(r.root(), "board")) == "arena");
  CHECK(u_of(at(r.root(), "season")) == 4);
  CHECK(at(r.root(), "start_ms").is_nil());
  CHECK(i_of(at(r.root(), "end_ms")) == 1700000000000);
  CHECK(u_of(at(r.root(), "start_seq")) == 101);
  CHECK(u_of(at(r.root(), "end_seq")) == 300);
  CHECK(u_of(at(r.root(), "total")) == 2);
  // entries exactly as in a top reply
  auto top = parse_reply(encode_reply(std::nullopt, entries_reply{"arena", 2, 300, u.entries}));
  const auto& es = at(r.root(), "entries");
  REQUIRE(es.via.array.size == 2);
  for (uint32_t i = 0; i < 2; ++i)
    CHECK(es.via.array.ptr[i] == at(top.root(), "entries").via.array.ptr[i]);
  u.span.start_ms = 1690000000000;
  CHECK(i_of(at(parse_reply(encode_update(u)).root(), "start_ms")) == 1690000000000);
  // the publisher adds stream_seq, as on top/
  REQUIRE(append_stream_seq(body, 17));
  auto rs = parse_reply(body);
  CHECK(keys_of(rs.root()).back() == "stream_seq");
  CHECK(u_of(at(rs.root(), "stream_seq")) == 17);
  // an empty closed season
  auto e = parse_reply(encode_update(season_update{"b", season_span{1, 0, 5, 0, 1}, 0, {}}));
  CHECK(at(e.root(), "entries").via.array.size == 0);
}

TEST_CASE("follow/ prefixes: only follow/<board>/<player> with valid names") {
  CHECK(follow_topic("arena", "alice") == "follow/arena/alice");
  auto t = parse_follow_prefix("follow/arena/alice");
  REQUIRE(t);
  CHECK(t->board == "arena");
  CHECK(t->player == "alice");
  // Player names may hold '/': everything after the board is the player.
  t = parse_follow_prefix("follow/a.b:c-d_1/x/y Zoë");
  REQUIRE(t);
  CHECK(t->board == "a.b:c-d_1");
  CHECK(t->player == "x/y Zoë");
  CHECK(parse_follow_prefix(follow_topic("b", rep('p', 128))));
  for (std::string_view bad :
       {"", "f", "follow/", "follow/arena", "follow/arena/", "rank/arena/alice",
        "Follow/arena/alice", "follow/are na/alice", "follow//alice"})
    CHECK_MESSAGE(!parse_follow_prefix(bad), bad);
  CHECK_FALSE(parse_follow_prefix(follow_topic(rep('b', 65), "p")));
  CHECK_FALSE(parse_follow_prefix(follow_topic("b", rep('p', 129))));
  CHECK_FALSE(parse_follow_prefix(std::string("follow/b/a\0b", 12)));
  CHECK_FALSE(parse_follow_prefix("follow/b/\xff"));
}

namespace {

// A map of n entries "k0".."k(n-1)" -> i, as a producer would encode it.
std::string map_of(uint32_t n) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  pk.pack_map(n);
  for (uint32_t i = 0; i < n; ++i) {
    pk.pack("k" + std::to_string(i));
    pk.pack_uint32(i);
  }
  return std::string(buf.data(), buf.size());
}

} // namespace

TEST_CASE("append_stream_seq: one more key, the body otherwise as it was") {
  // Around each header change: fixmap (<= 15 entries), map16 (<= 65535), map32.
  for (uint32_t n : {0u, 1u, 8u, 14u, 15u, 16u, 65534u, 65535u, 65536u}) {
    CAPTURE(n);
    const auto original = map_of(n);
    // The header is the smallest that holds n + 1 (what a packer writes).
    const std::size_t header = n + 1 < 16 ? 1 : n + 1 < 65536 ? 3 : 5;
    const auto expected_header = map_of(n + 1).substr(0, header);
    for (uint64_t seq : {uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{65536},
                         std::numeric_limits<uint64_t>::max()}) {
      CAPTURE(seq);
      auto body = original;
      REQUIRE(append_stream_seq(body, seq));
      CHECK(body.substr(0, header) == expected_header);
      auto r = parse_reply(body); // the whole body, one map, nothing left over
      const auto& m = r.root().via.map;
      REQUIRE(m.size == n + 1);
      for (uint32_t i = 0; i < n; i += (n > 20 ? 997 : 1)) {
        CHECK(s_of(m.ptr[i].key) == "k" + std::to_string(i));
        CHECK(u_of(m.ptr[i].val) == i);
      }
      CHECK(s_of(m.ptr[n].key) == "stream_seq");
      CHECK(u_of(m.ptr[n].val) == seq);
    }
  }

  SUBCASE("an update body decodes with its keys and stream_seq") {
    auto body = encode_update(score_update{9, "arena", "bob", 5, 0});
    REQUIRE(append_stream_seq(body, 12));
    auto r = parse_reply(body);
    CHECK(keys_of(r.root()) == strs{"seq", "board", "player", "score", "subscore", "stream_seq"});
    CHECK(u_of(at(r.root(), "seq")) == 9);
    CHECK(u_of(at(r.root(), "stream_seq")) == 12);
    CHECK(msgpack_to_json(body.data(), body.size())
          == R"({"seq":9,"board":"arena","player":"bob","score":5,"subscore":0,"stream_seq":12})");
  }
  SUBCASE("not a map: refused, the body untouched") {
    for (const std::string& bad : {std::string(), enc(Arr{1, 2}), enc("str"), enc(5),
                                   std::string("\xde\x00", 2), std::string("\xdf\x00", 2)}) {
      auto body = bad;
      CHECK_FALSE(append_stream_seq(body, 1));
      CHECK(body == bad);
    }
    // A map32 that is full.
    std::string full("\xdf\xff\xff\xff\xff", 5);
    auto body = full;
    CHECK_FALSE(append_stream_seq(body, 1));
    CHECK(body == full);
  }
}

TEST_CASE("ingest acks: topic and body") {
  CHECK(ack_topic("gs-1") == "ack/gs-1/");
  // One source's topic never matches another's prefix ("gs-1/" vs "gs-10/").
  CHECK(ack_topic("gs-10").rfind(ack_topic("gs-1"), 0) == std::string::npos);

  ingest_ack a;
  a.source = "gs-1";
  a.accepted = 2;
  a.first_seq = 11;
  a.last_seq = 13;
  a.refuse(1, error{error_code::bad_request, "score: missing"});
  auto r = parse_reply(encode_update(a));
  CHECK(keys_of(r.root())
        == strs{"source", "accepted", "rejected", "first_seq", "last_seq", "errors",
                "errors_truncated", "memory_full"});
  CHECK(s_of(at(r.root(), "source")) == "gs-1");
  CHECK(u_of(at(r.root(), "accepted")) == 2);
  CHECK(u_of(at(r.root(), "rejected")) == 1);
  CHECK(u_of(at(r.root(), "first_seq")) == 11);
  CHECK(u_of(at(r.root(), "last_seq")) == 13);
  CHECK_FALSE(b_of(at(r.root(), "errors_truncated")));
  CHECK_FALSE(b_of(at(r.root(), "memory_full")));
  const auto& errs = at(r.root(), "errors");
  REQUIRE(errs.type == msgpack::type::ARRAY);
  REQUIRE(errs.via.array.size == 1);
  CHECK(keys_of(errs.via.array.ptr[0]) == strs{"item", "code", "message"});
  CHECK(u_of(at(errs.via.array.ptr[0], "item")) == 1);
  CHECK(s_of(at(errs.via.array.ptr[0], "code")) == "bad_request");
  CHECK(s_of(at(errs.via.array.ptr[0], "message")) == "score: missing");
  const auto f = encode_update(a);
  CHECK(msgpack_to_json(f.data(), f.size())
        == R"({"source":"gs-1","accepted":2,"rejected":1,"first_seq":11,"last_seq":13,)"
           R"("errors":[{"item":1,"code":"bad_request","message":"score: missing"}],)"
           R"("errors_truncated":false,"memory_full":false})");

  SUBCASE("nothing accepted: seqs nil, the frame's error has no item") {
    ingest_ack b;
    b.source = "gs-1";
    b.refuse(std::nullopt, error{error_code::bad_request, "op: missing"});
    auto n = parse_reply(encode_update(b));
    CHECK(u_of(at(n.root(), "accepted")) == 0);
    CHECK(u_of(at(n.root(), "rejected")) == 1);
    CHECK(at(n.root(), "first_seq").is_nil());
    CHECK(at(n.root(), "last_seq").is_nil());
    CHECK(at(at(n.root(), "errors").via.array.ptr[0], "item").is_nil());
  }
  SUBCASE("at most 100 errors, then errors_truncated") {
    ingest_ack b;
    b.source = "gs-1";
    for (uint32_t i = 0; i < max_batch_items; ++i)
      b.refuse(i, error{error_code::bad_request, "item: expected map, got int"});
    b.refuse(std::nullopt, error{error_code::overloaded, "log refused"}, 5);
    b.memory_full = true;
    auto n = parse_reply(encode_update(b));
    CHECK(u_of(at(n.root(), "rejected")) == max_batch_items + 5);
    const auto& e = at(n.root(), "errors");
    REQUIRE(e.via.array.size == max_ack_errors);
    CHECK(u_of(at(e.via.array.ptr[max_ack_errors - 1], "item")) == max_ack_errors - 1);
    CHECK(b_of(at(n.root(), "errors_truncated")));
    CHECK(b_of(at(n.root(), "memory_full")));
  }
}

// ===========================================================================
TEST_CASE("msgpack_to_json") {
  auto js = [](const V& v) {
    const std::string f = enc(v);
    return msgpack_to_json(f.data(), f.size());
  };
  CHECK(js(Map{{"a", 1}, {"b", Arr{true, false, nullptr, -1, 2.5}}})
        == R"({"a":1,"b":[true,false,null,-1,2.5]})");
  CHECK(js(Map{}) == "{}");
  CHECK(js(Arr{}) == "[]");
  CHECK(js(std::numeric_limits<uint64_t>::max()) == "18446744073709551615");
  CHECK(js(std::numeric_limits<int64_t>::min()) == "-9223372036854775808");
  CHECK(js(Raw{std::string("\xca\x3d\xcc\xcc\xcd", 5)}) == "0.1"); // float32 0.1, shortest form
  CHECK(js(0.1) == "0.1");
  CHECK(js(std::numeric_limits<double>::infinity()) == "null");
  CHECK(js(std::numeric_limits<double>::quiet_NaN()) == "null");
  // string escaping
  CHECK(js("q\"b\\n\n\r\t\b\f\x01\x1f/") == R"("q\"b\\n\n\r\t\b\f\u0001\u001f/")");
  CHECK(js("Zoë 😀") == "\"Zoë 😀\"");
  CHECK(js(std::string("a\0b", 3)) == R"("a\u0000b")");
  // bytes that are not UTF-8 are escaped one by one
  CHECK(js("\xff\xc3(\xed\xa0\x80") == R"("\u00ff\u00c3(\u00ed\u00a0\u0080")");
  // bin as base64
  CHECK(js(Bin{""}) == R"({"$bin":""})");
  CHECK(js(Bin{"\x01"}) == R"({"$bin":"AQ=="})");
  CHECK(js(Bin{"\x01\x02"}) == R"({"$bin":"AQI="})");
  CHECK(js(Bin{"\x01\x02\x03"}) == R"({"$bin":"AQID"})");
  CHECK(js(Bin{std::string("\xfb\xff\xfe\x00", 4)}) == R"({"$bin":"+//+AA=="})");
  // ext
  CHECK(js(Raw{"\xd4\x05\x41"}) == R"({"$ext":{"type":5,"data":"QQ=="}})");
  // map keys that are not str become their JSON text, in a string
  CHECK(js(Map{{1, "a"}, {-2, "b"}, {nullptr, 0}, {true, 1}})
        == R"({"1":"a","-2":"b","null":0,"true":1})");
  CHECK(js(Map{{Arr{1, "x"}, 1}}) == R"({"[1,\"x\"]":1})");
  CHECK(js(Map{{Map{{"k", "v"}}, 1}}) == R"({"{\"k\":\"v\"}":1})");
  CHECK(js(Map{{Bin{"\x01"}, 1}}) == R"({"{\"$bin\":\"AQ==\"}":1})");
  // a real reply renders
  const std::string rep_frame
    = encode_reply(uint64_t{7}, submit_reply{"b", "p", 1, 0, 1, std::nullopt, true, 1, 2});
  CHECK(
    msgpack_to_json(rep_frame.data(), rep_frame.size())
    == R"({"ok":true,"id":7,"board":"b","player":"p","score":1,"subscore":0,"rank":1,"prev_rank":null,"changed":true,"total":1,"percentile":0,"seq":2})");
  // malformed input throws runtime_error with a readable message
  auto throws = [](const std::string& f, const std::string& part) {
    try {
      (void) msgpack_to_json(f.data(), f.size());
      FAIL_CHECK("no exception for a bad frame, expected: " << part);
    } catch (const std::runtime_error& e) {
      CHECK_MESSAGE(contains(e.what(), part), std::string(e.what()));
    }
  };
  throws("", "empty frame");
  throws("\xc1", "reserved byte 0xc1");
  throws("\x91", "array header at byte 0 claims 1 entries but only 0 bytes follow");
  throws("\x81\xa1k", "truncated frame");
  throws("\xc0\xc0", "trailing bytes");
  throws("\xdd\xff\xff\xff\xff", "claims 4294967295 entries");
  throws("\xdb\xff\xff\xff\xff", "claims 4294967295 bytes");
  throws(std::string(100000, '\x91') + "\xc0", "nesting deeper than 8");
  CHECK(msgpack_to_json(std::string(8, '\x91').append("\xc0").data(), 9) == "[[[[[[[[null]]]]]]]]");
}
