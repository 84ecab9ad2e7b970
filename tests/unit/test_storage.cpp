// The storage layer of the event log (docs/EVENT-LOG.md): record bodies,
// framing and damage classification, the segment writer, snapshots, and
// recovery end to end in a temporary folder.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include <msgpack.hpp>

#include "actors/ranking/digest.hpp"
#include "actors/ranking/merged_ranking.hpp"
#include "actors/storage/data_dir.hpp"
#include "actors/storage/event_reader.hpp"
#include "actors/storage/log_format.hpp"
#include "actors/storage/log_reader.hpp"
#include "actors/storage/log_writer.hpp"
#include "actors/storage/recovery.hpp"
#include "actors/storage/recovery_plan.hpp"
#include "actors/storage/replay_state.hpp"
#include "actors/storage/snapshot_file.hpp"
#include "schemas/cron.hpp"
#include "schemas/event_record.hpp"
#include "schemas/snapshot_record.hpp"

namespace fs = std::filesystem;
using namespace lb::ranking;
using namespace lb::storage;
using namespace lb::schemas;

namespace {

// The records as they were before seasons: the season fields at their
// defaults (aggregate initialization would leave them out, which
// -Wmissing-field-initializers refuses).
configure_event_body conf_body(std::string board, board_order order, score_operator op) {
  configure_event_body e;
  e.board = std::move(board);
  e.order = order;
  e.op = op;
  return e;
}
snapshot_board board_rec(std::string board, board_order order = {}, score_operator op = {},
                         uint64_t total = 0) {
  snapshot_board b;
  b.board = std::move(board);
  b.order = order;
  b.op = op;
  b.total = total;
  return b;
}

constexpr int64_t i64max = std::numeric_limits<int64_t>::max();
constexpr int64_t i64min = std::numeric_limits<int64_t>::min();

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string t = (fs::temp_directory_path() / "lbd-storage-XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_file(const fs::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  REQUIRE(out.good());
}

void flip(const fs::path& p, uint64_t offset, unsigned char mask) {
  std::string data = read_file(p);
  REQUIRE(offset < data.size());
  data[offset] = static_cast<char>(data[offset] ^ mask);
  write_file(p, data);
}

template <class F>
std::string pack(F&& f) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  f(pk);
  return std::string(buf.data(), buf.size());
}

void pstr(msgpack::packer<msgpack::sbuffer>& pk, std::string_view s) {
  pk.pack_str(static_cast<uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

std::string body_of(const event_record& r) {
  std::string out;
  append_event(out, r);
  return out;
}

std::string decode_error(const std::string& body) {
  auto d = decode_event(body.data(), body.size());
  return d.index() == 1 ? std::get<1>(d) : std::string();
}

event_record decode_ok(const std::string& body) {
  auto d = decode_event(body.data(), body.size());
  INFO((d.index() == 1 ? std::get<1>(d) : std::string()));
  REQUIRE(d.index() == 0);
  return std::get<0>(d);
}

// Offsets of the good records of a file, and its scan; throws storage_error
// when the file cannot be read.
scan_result scan_offsets(const fs::path& p, file_kind kind, std::vector<uint64_t>& offsets,
                         bool skip = false) {
  offsets.clear();
  scan_result r;
  throw_if_error(scan_file(
    p, kind,
    [&](uint64_t off, std::string_view) {
      offsets.push_back(off);
      return std::string();
    },
    r, skip ? on_damage::skip : on_damage::stop));
  return r;
}

data_files files_in(const fs::path& dir) {
  data_files f;
  throw_if_error(list_files(dir, f));
  return f;
}

std::vector<file_info> list_segments(const fs::path& dir) {
  return files_in(dir).segments;
}

fs::path snapshot_to(const fs::path& dir, const global_view& view, int64_t time_ms) {
  fs::path written;
  throw_if_error(write_snapshot(dir, view, time_ms, written));
  return written;
}

// The snapshot in `file`, read into `into`; throws storage_error on damage.
snapshot_summary load_snapshot(const fs::path& file, std::vector<replay_state>& into) {
  snapshot_summary s;
  throw_if_error(read_snapshot(file, into, s));
  return s;
}

// ---------------------------------------------------------------------------
// A random workload: submits (ties, extremes, meta of both kinds), removes,
// resets, and configures right after a reset (the service allows configure
// only on an empty board). Seqs have gaps, as refused events leave.

std::vector<event_record> make_events(std::size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto pick = [&](uint64_t k) { return std::uniform_int_distribution<uint64_t>(0, k - 1)(rng); };
  const std::vector<std::string> boards = {"arena", "b.2", "c:3-x", "d_4"};
  std::vector<std::string> players;
  for (int i = 0; i < 250; ++i)
    players.push_back((i % 7 == 0 ? "jo\xc3\xa9-" : "p") + std::to_string(i));
  std::vector<event_record> out;
  uint64_t seq = 0;
  int64_t t = 1700000000000;
  auto push = [&](event_body body) {
    seq += 1 + (pick(10) == 0 ? pick(3) : 0);
    t += static_cast<int64_t>(pick(3));
    out.push_back(event_record{seq, t, std::move(body)});
  };
  while (out.size() < n) {
    const std::string& board = boards[pick(boards.size())];
    const std::string& player = players[pick(players.size())];
    const uint64_t r = pick(1000);
    if (r < 880) {
      submit_req s;
      s.board = board;
      s.player = player;
      const uint64_t kind = pick(50);
      s.score = kind == 0 ? i64max : kind == 1 ? i64min : static_cast<int64_t>(pick(40)) - 10;
      s.subscore = static_cast<int64_t>(pick(3));
      const uint64_t m = pick(4);
      if (m == 1)
        s.meta = meta_value{"m" + std::to_string(pick(5)), false};
      if (m == 2)
        s.meta = meta_value{std::string("\0\xff", 2) + std::to_string(pick(5)), true};
      s.existing_only = pick(20) == 0; // logged past --max-memory
      push(std::move(s));
    } else if (r < 890) {
      submit_req s{board, player, 1, 0, std::nullopt, true};
      push(std::move(s));
    } else if (r < 960) {
      push(remove_req{board, player});
    } else if (r < 985) {
      push(reset_req{board});
    } else {
      push(reset_req{board});
      push(conf_body(board, pick(2) ? board_order::asc : board_order::desc,
                     static_cast<score_operator>(pick(4))));
    }
  }
  return out;
}

// Writes events as the log actor would: a record per event, rolling at the
// size limit.
void write_log(const fs::path& dir, const std::vector<event_record>& events, uint64_t segment_bytes,
               std::size_t from = 0, std::size_t to = SIZE_MAX) {
  log_writer w(dir, segment_bytes);
  const auto segs = list_segments(dir);
  if (segs.empty()) {
    REQUIRE(w.open({}, 0, 0).ok());
  } else {
    std::vector<uint64_t> offs;
    const scan_result r = scan_offsets(segs.back().path, file_kind::segment, offs);
    REQUIRE(w.open(segs.back().path, r.good_end, from ? events[from - 1].seq : 0).ok());
  }
  std::string body, rec;
  for (std::size_t i = from; i < events.size() && i < to; ++i) {
    body.clear();
    rec.clear();
    append_event(body, events[i]);
    append_record(rec, body);
    REQUIRE(w.write(rec, events[i].seq).ok());
    if (w.full())
      REQUIRE(w.roll().ok());
  }
  REQUIRE(w.sync().ok());
}

replay_state apply_all(const std::vector<event_record>& events, uint64_t up_to_seq = UINT64_MAX) {
  replay_state st;
  for (const auto& ev : events)
    if (ev.seq <= up_to_seq)
      st.apply(ev);
  return st;
}

// The shards' boards as one view, parts indexed by shard, as the merge actor
// builds it.
global_view merged(std::vector<replay_state>& shards, uint64_t seq) {
  std::map<std::string, std::shared_ptr<board_view>> boards;
  for (std::size_t i = 0; i < shards.size(); ++i) {
    for (auto& [name, part] : shards[i].boards()) {
      auto& bv = boards[name];
      if (!bv) {
        bv = std::make_shared<board_view>();
        bv->name = name;
        bv->parts.resize(shards.size());
      }
      bv->config = part.config();
      bv->parts[i] = part.freeze();
    }
  }
  global_view v;
  v.seq = seq;
  std::vector<board_view_ptr> all;
  for (auto& [name, bv] : boards) {
    for (auto& p : bv->parts)
      bv->total += p.size();
    all.push_back(bv);
  }
  v.boards = v.boards.with(all);
  return v;
}

// Everything a view holds, the tie-breaking seq of each entry included
// (state_digest leaves it out).
std::string dump(const global_view& v) {
  std::ostringstream os;
  for (auto& bv : v.boards) {
    os << bv->name << ' ' << to_string(bv->config.order) << ' ' << to_string(bv->config.op) << ' '
       << bv->total << '\n';
    view_ranking(*bv).walk(0, bv->total, [&](uint64_t, const rank_key& k, const entry_rec& rec) {
      os << "  " << rec.name() << ' ' << k.primary << ' ' << k.secondary << ' ' << k.seq;
      if (auto m = rec.meta())
        os << (m->is_bin ? " bin:" : " str:") << m->bytes;
      os << '\n';
    });
  }
  return os.str();
}

std::string dump_of(recovered_state& r) {
  auto v = merged(r.shards, r.last_seq);
  return dump(v);
}

std::string dump_of(replay_state& st) {
  auto v = st.freeze(0);
  return dump(v);
}

recovered_state recover_dir(const fs::path& dir, uint32_t shards, bool repair = false) {
  recovery_options o;
  o.dir = dir;
  o.shards = shards;
  o.repair = repair;
  recovered_state r;
  throw_if_error(recover(o, r));
  return r;
}

std::string recover_error(const fs::path& dir, bool repair = false) {
  try {
    recover_dir(dir, 3, repair);
  } catch (const storage_error& e) {
    return e.what();
  }
  return {};
}

} // namespace

// ---------------------------------------------------------------------------
// Record bodies.

TEST_CASE("event bodies round trip for every type") {
  std::vector<event_record> cases;
  cases.push_back({1, 1700000000000, submit_req{"arena", "alice", 100, 0, std::nullopt}});
  cases.push_back({2, -1, submit_req{"arena", "bob", i64min, i64max, meta_value{"hello", false}}});
  cases.push_back({UINT64_MAX, i64max,
                   submit_req{"b", "\xe2\x82\xac", i64max, i64min, meta_value{"hello", true}}});
  cases.push_back(
    {4, i64min, submit_req{"b", "x", -1, 0, meta_value{std::string("\0\x01\xff", 3), true}}});
  cases.push_back({5, 0, submit_req{"b", "y", 0, 0, meta_value{"", false}}});
  cases.push_back(
    {6, 0, submit_req{"b", "z", 0, 0, meta_value{std::string(max_meta_len, 'm'), true}}});
  cases.push_back({6, 0, submit_req{"b", "z", 3, 1, std::nullopt, true}});
  cases.push_back({6, 0, submit_req{"b", "z", 3, 1, meta_value{"m", false}, true}});
  cases.push_back({7, 5, remove_req{"arena", "alice"}});
  cases.push_back({8, 5, reset_req{std::string(max_board_len, 'B')}});
  for (auto o : {board_order::desc, board_order::asc})
    for (auto op :
         {score_operator::best, score_operator::set, score_operator::incr, score_operator::decr})
      cases.push_back({9, 5, conf_body("cfg", o, op)});

  for (const auto& c : cases) {
    const std::string body = body_of(c);
    const event_record r = decode_ok(body);
    CHECK(r.seq == c.seq);
    CHECK(r.time_ms == c.time_ms);
    REQUIRE(r.body.index() == c.body.index());
    CHECK(std::string(type_name(r.body)) == type_name(c.body));
    CHECK(board_of(r.body) == board_of(c.body));
    if (auto* s = std::get_if<submit_req>(&c.body)) {
      auto& d = std::get<submit_req>(r.body);
      CHECK(d.player == s->player);
      CHECK(d.score == s->score);
      CHECK(d.subscore == s->subscore);
      CHECK(d.existing_only == s->existing_only);
      CHECK(d.meta.has_value() == s->meta.has_value());
      if (s->meta)
        CHECK(*d.meta == *s->meta);
    } else if (auto* m = std::get_if<remove_req>(&c.body)) {
      CHECK(std::get<remove_req>(r.body).player == m->player);
    } else if (auto* g = std::get_if<configure_event_body>(&c.body)) {
      CHECK(std::get<configure_event_body>(r.body).order == g->order);
      CHECK(std::get<configure_event_body>(r.body).op == g->op);
    }
    // The per-type overloads write the same bytes as the record form.
    std::string again;
    std::visit([&](const auto& e) { append_event(again, c.seq, c.time_ms, e); }, c.body);
    CHECK(again == body);
  }
  CHECK(std::string(type_name(event_body{reset_req{"x"}})) == "reset");
}

TEST_CASE("a submit logged past --max-memory updates an entry but adds none on replay") {
  std::vector<event_record> events;
  events.push_back({1, 0, submit_req{"arena", "alice", 10, 0, std::nullopt}});
  events.push_back({2, 0, submit_req{"arena", "alice", 20, 0, std::nullopt, true}});
  events.push_back({3, 0, submit_req{"arena", "bob", 30, 0, std::nullopt, true}});
  events.push_back({4, 0, submit_req{"other", "carol", 30, 0, std::nullopt, true}});
  std::vector<event_record> decoded;
  for (const auto& e : events)
    decoded.push_back(decode_ok(body_of(e)));
  auto st = apply_all(decoded);
  CHECK(st.entries() == 1);
  REQUIRE(st.boards().count("arena") == 1);
  const auto* alice = st.boards().at("arena").find("alice");
  REQUIRE(alice != nullptr);
  CHECK(st.boards().at("arena").find("bob") == nullptr);
  CHECK(st.boards().count("other") == 0);
}

TEST_CASE("event bodies: unknown keys are ignored, nil counts as absent") {
  const std::string body = pack([](auto& pk) {
    pk.pack_map(9);
    pstr(pk, "future");
    pk.pack_array(2);
    pk.pack_int(1);
    pk.pack_nil();
    pstr(pk, "seq");
    pk.pack_uint64(7);
    pstr(pk, "t");
    pk.pack_int64(-3);
    pstr(pk, "type");
    pstr(pk, "submit");
    pstr(pk, "board");
    pstr(pk, "arena");
    pstr(pk, "player");
    pstr(pk, "p");
    pstr(pk, "score");
    pk.pack_int(-5);
    pstr(pk, "subscore");
    pk.pack_uint8(9);
    pstr(pk, "meta");
    pk.pack_nil();
  });
  const event_record r = decode_ok(body);
  CHECK(r.seq == 7);
  auto& s = std::get<submit_req>(r.body);
  CHECK(s.score == -5);
  CHECK(s.subscore == 9);
  CHECK_FALSE(s.meta.has_value());
}

TEST_CASE("hostile event bodies give errors, never a crash") {
  // A body with one key replaced (or left out, when `value` packs nothing).
  auto submit_with = [](const std::string& key, auto value) {
    return pack([&](auto& pk) {
      const char* keys[] = {"seq", "t", "type", "board", "player", "score", "subscore"};
      pk.pack_map(7);
      for (const char* k : keys) {
        pstr(pk, k);
        if (key == k) {
          value(pk);
          continue;
        }
        const std::string_view name = k;
        if (name == "seq")
          pk.pack_uint64(1);
        else if (name == "t")
          pk.pack_int64(1);
        else if (name == "type")
          pstr(pk, "submit");
        else if (name == "board")
          pstr(pk, "arena");
        else if (name == "player")
          pstr(pk, "alice");
        else
          pk.pack_int64(1);
      }
    });
  };
  auto bin = [](std::string_view s) {
    return [s](auto& pk) {
      pk.pack_bin(static_cast<uint32_t>(s.size()));
      pk.pack_bin_body(s.data(), static_cast<uint32_t>(s.size()));
    };
  };
  auto str = [](std::string s) { return [s](auto& pk) { pstr(pk, s); }; };

  CHECK(decode_error(submit_with("", [](auto&) {})) == "");
  CHECK(decode_error(submit_with("score", str("1"))) == "score: expected int64, got str");
  CHECK(decode_error(submit_with("score", [](auto& pk) { pk.pack_uint64(uint64_t{1} << 63); }))
        == "score: 9223372036854775808 is out of the int64 range");
  CHECK(decode_error(submit_with("score", [](auto& pk) { pk.pack_double(1.5); }))
        == "score: expected int64, got float64");
  CHECK(decode_error(submit_with("seq", [](auto& pk) { pk.pack_int64(-1); }))
        == "seq: -1 is negative, expected uint64");
  CHECK(decode_error(submit_with("seq", [](auto& pk) { pk.pack_nil(); })) == "seq: missing");
  CHECK(decode_error(submit_with("board", bin("arena"))) == "board: expected str, got bin");
  CHECK(contains(decode_error(submit_with("board", str("a b"))), "board: invalid character"));
  CHECK(contains(decode_error(submit_with("board", str(std::string(65, 'a')))), "board: 65 bytes"));
  CHECK(contains(decode_error(submit_with("player", str(std::string("a\0b", 3)))),
                 "player: NUL at byte 1"));
  CHECK(contains(decode_error(submit_with("player", str("\xc3"))), "player: invalid UTF-8"));
  CHECK(contains(decode_error(submit_with("player", str(""))), "player: empty"));
  CHECK(contains(decode_error(submit_with("type", str("rename"))),
                 "type: unknown event type 'rename'"));
  CHECK(decode_error(submit_with("type", [](auto& pk) { pk.pack_int(1); }))
        == "type: expected str, got int");

  // Missing keys of each type.
  auto map_of = [](std::vector<std::pair<std::string, std::string>> kv) {
    return pack([&](auto& pk) {
      pk.pack_map(static_cast<uint32_t>(kv.size()));
      for (auto& [k, v] : kv) {
        pstr(pk, k);
        if (k == "seq" || k == "t")
          pk.pack_uint64(1);
        else
          pstr(pk, v);
      }
    });
  };
  CHECK(decode_error(map_of({{"seq", ""}, {"t", ""}, {"type", "remove"}, {"board", "a"}}))
        == "player: missing");
  CHECK(decode_error(map_of({{"seq", ""}, {"t", ""}, {"type", "reset"}})) == "board: missing");
  CHECK(decode_error(map_of({{"seq", ""}, {"type", "reset"}, {"board", "a"}})) == "t: missing");
  CHECK(decode_error(
          map_of({{"seq", ""}, {"t", ""}, {"type", "configure"}, {"board", "a"}, {"order", "asc"}}))
        == "operator: missing");
  CHECK(decode_error(map_of({{"seq", ""},
                             {"t", ""},
                             {"type", "configure"},
                             {"board", "a"},
                             {"order", "up"},
                             {"operator", "set"}}))
        == "order: 'up' is not one of desc, asc");
  CHECK(decode_error(
          map_of({{"seq", ""}, {"t", ""}, {"type", "reset"}, {"board", "a"}, {"board", "b"}}))
        == "board: duplicate key");

  // Meta: str or bin, at most max_meta_len bytes.
  std::string meta_ok
    = body_of({1, 1, submit_req{"a", "p", 1, 1, meta_value{std::string(256, 'x'), true}}});
  CHECK(decode_error(meta_ok) == "");
  std::string too_long
    = body_of({1, 1, submit_req{"a", "p", 1, 1, meta_value{std::string(257, 'x'), false}}});
  CHECK(decode_error(too_long) == "meta: 257 bytes, at most 256 allowed");

  // Not a map, non-str keys, trailing bytes, huge claimed lengths, nesting.
  CHECK(decode_error(pack([](auto& pk) { pk.pack_array(0); })) == "body: expected map, got array");
  CHECK(contains(decode_error(pack([](auto& pk) {
                   pk.pack_map(1);
                   pk.pack_int(1);
                   pk.pack_int(1);
                 })),
                 "body: map key 0 is a int, expected str"));
  CHECK(contains(decode_error(meta_ok + "x"), "trailing bytes"));
  CHECK(contains(decode_error(std::string("\xdb\xff\xff\xff\xff", 5)), "claims"));
  CHECK(contains(decode_error(std::string("\xdf\xff\xff\xff\xff", 5)), "claims"));
  CHECK(contains(decode_error(std::string("\xdd\xff\xff\xff\xff", 5)), "claims"));
  CHECK(contains(decode_error(std::string(20, '\x91') + "\x80"), "nesting"));
  CHECK(decode_error("") != "");
  CHECK(contains(decode_error(std::string(1, '\xc1')), "reserved"));

  // Every cut of a valid body is an error; random bit flips never crash.
  const std::string full
    = body_of({99, 5, submit_req{"arena", "alice", -7, 3, meta_value{"mmm", true}}});
  for (std::size_t n = 0; n < full.size(); ++n)
    CHECK(decode_error(full.substr(0, n)) != "");
  std::mt19937_64 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string b = full;
    for (int k = 0; k < 3; ++k)
      b[rng() % b.size()] ^= static_cast<char>(1u << (rng() % 8));
    (void) decode_event(b.data(), b.size());
    std::string junk(rng() % 64, '\0');
    for (auto& c : junk)
      c = static_cast<char>(rng());
    (void) decode_event(junk.data(), junk.size());
    (void) decode_snapshot_item(junk.data(), junk.size());
  }
}

// ---------------------------------------------------------------------------
// Seasons (issue 15): configure's schedule and keep, the rollover record.

namespace {

// The keys of a record body, in order.
std::vector<std::string> body_keys(const std::string& body) {
  std::size_t off = 0;
  auto oh = msgpack::unpack(body.data(), body.size(), off);
  REQUIRE(oh.get().type == msgpack::type::MAP);
  std::vector<std::string> keys;
  for (uint32_t i = 0; i < oh.get().via.map.size; ++i)
    keys.push_back(oh.get().via.map.ptr[i].key.as<std::string>());
  return keys;
}

using key_list = std::vector<std::string>;

} // namespace

TEST_CASE("seasons: rollover and configure-with-schedule event bodies round trip") {
  std::vector<event_record> cases;
  cases.push_back(
    {10, 1700000000000, rollover_body{"arena", 1, 1700000000000, 1700000000000, true}});
  cases.push_back(
    {UINT64_MAX, i64min,
     rollover_body{std::string(max_board_len, 'r'), UINT32_MAX, i64max, i64min, false}});
  cases.push_back({11, 0, rollover_body{"b", 7, 0, 0, false}});
  configure_event_body c = conf_body("cfg", board_order::asc, score_operator::incr);
  c.schedule = "0 0 * * 1";
  c.keep = 4;
  cases.push_back({12, 5, c});
  c.schedule = "30 0 0 * * *";
  c.keep = max_keep_seasons;
  cases.push_back({13, 5, c});
  c.schedule.clear();
  c.keep = 2;
  cases.push_back({14, 5, c});
  c.schedule = std::string(max_cron_len - 9, ' ') + "0 0 * * *";
  c.keep = 1;
  cases.push_back({15, 5, c});
  for (const auto& ev : cases) {
    const std::string body = body_of(ev);
    const event_record r = decode_ok(body);
    CHECK(r.seq == ev.seq);
    CHECK(r.time_ms == ev.time_ms);
    REQUIRE(r.body.index() == ev.body.index());
    CHECK(std::string(type_name(r.body)) == type_name(ev.body));
    CHECK(board_of(r.body) == board_of(ev.body));
    if (const auto* ro = std::get_if<rollover_body>(&ev.body)) {
      const auto& g = std::get<rollover_body>(r.body);
      CHECK(std::string(type_name(r.body)) == "rollover");
      CHECK(g.season == ro->season);
      CHECK(g.end_ms == ro->end_ms);
      CHECK(g.start_ms == ro->start_ms);
      CHECK(g.scheduled == ro->scheduled);
      CHECK(body_keys(body)
            == key_list{"seq", "t", "type", "board", "season", "end_ms", "start_ms", "scheduled"});
    } else {
      const auto& want = std::get<configure_event_body>(ev.body);
      const auto& g = std::get<configure_event_body>(r.body);
      CHECK(g.order == want.order);
      CHECK(g.op == want.op);
      CHECK(g.schedule == want.schedule);
      CHECK(g.keep == want.keep);
    }
    std::string again;
    std::visit([&](const auto& e) { append_event(again, ev.seq, ev.time_ms, e); }, ev.body);
    CHECK(again == body);
  }
  // schedule only when set, keep only when not 1: a configure without them
  // is byte for byte what an older lbd wrote
  CHECK(body_keys(body_of({1, 0, conf_body("b", board_order::desc, score_operator::best)}))
        == key_list{"seq", "t", "type", "board", "order", "operator"});
  configure_event_body k = conf_body("b", board_order::desc, score_operator::best);
  k.keep = 3;
  CHECK(body_keys(body_of({1, 0, k}))
        == key_list{"seq", "t", "type", "board", "order", "operator", "keep"});
  k.schedule = "0 * * * *";
  k.keep = 1;
  CHECK(body_keys(body_of({1, 0, k}))
        == key_list{"seq", "t", "type", "board", "order", "operator", "schedule"});
  CHECK(std::string(type_name(event_body{rollover_body{"x"}})) == "rollover");
  CHECK(board_of(event_body{rollover_body{"x"}}) == "x");
}

TEST_CASE("seasons: an old configure record decodes with no schedule and keep 1") {
  const std::string body = pack([](auto& pk) {
    pk.pack_map(6);
    pstr(pk, "seq");
    pk.pack_uint64(3);
    pstr(pk, "t");
    pk.pack_int64(1600000000000);
    pstr(pk, "type");
    pstr(pk, "configure");
    pstr(pk, "board");
    pstr(pk, "old");
    pstr(pk, "order");
    pstr(pk, "asc");
    pstr(pk, "operator");
    pstr(pk, "set");
  });
  const event_record r = decode_ok(body);
  const auto& c = std::get<configure_event_body>(r.body);
  CHECK(c.board == "old");
  CHECK(c.order == board_order::asc);
  CHECK(c.op == score_operator::set);
  CHECK(c.schedule.empty());
  CHECK(c.keep == default_keep_seasons);
  // and it is the very body this lbd writes for it
  CHECK(body_of(r) == body);
}

TEST_CASE("seasons: hostile rollover and configure bodies give errors") {
  // A body of `type` with `key` replaced (or left out, when `value` packs
  // nothing).
  using packer = msgpack::packer<msgpack::sbuffer>;
  auto body_with = [](const char* type, const std::string& key, auto value) {
    return pack([&](packer& pk) {
      const bool rollover = std::string_view(type) == "rollover";
      const std::vector<const char*> keys
        = rollover ? std::vector<const char*>{"seq",    "t",      "type",     "board",
                                              "season", "end_ms", "start_ms", "scheduled"}
                   : std::vector<const char*>{"seq",   "t",        "type",     "board",
                                              "order", "operator", "schedule", "keep"};
      pk.pack_map(static_cast<uint32_t>(keys.size()));
      for (const char* k : keys) {
        pstr(pk, k);
        const std::string_view name = k;
        if (key == k)
          value(pk);
        else if (name == "seq" || name == "season" || name == "keep")
          pk.pack_uint64(2);
        else if (name == "t" || name == "end_ms" || name == "start_ms")
          pk.pack_int64(1700000000000);
        else if (name == "type")
          pstr(pk, type);
        else if (name == "board")
          pstr(pk, "arena");
        else if (name == "order")
          pstr(pk, "desc");
        else if (name == "operator")
          pstr(pk, "best");
        else if (name == "schedule")
          pstr(pk, "0 0 * * 1");
        else
          pk.pack_true();
      }
    });
  };
  auto nil = [](packer& pk) { pk.pack_nil(); };
  auto u = [](uint64_t x) { return [x](packer& pk) { pk.pack_uint64(x); }; };
  auto i = [](int64_t x) { return [x](packer& pk) { pk.pack_int64(x); }; };
  auto s = [](std::string x) { return [x](packer& pk) { pstr(pk, x); }; };

  CHECK(decode_error(body_with("rollover", "", nil)) == "");
  CHECK(decode_error(body_with("configure", "", nil)) == "");
  // rollover
  CHECK(decode_error(body_with("rollover", "season", nil)) == "season: missing");
  CHECK(decode_error(body_with("rollover", "season", u(0)))
        == "season: 0 out of range 1..4294967295");
  CHECK(decode_error(body_with("rollover", "season", u(uint64_t{1} << 32)))
        == "season: 4294967296 out of range 1..4294967295");
  CHECK(decode_error(body_with("rollover", "season", i(-1)))
        == "season: -1 is negative, expected uint");
  CHECK(decode_error(body_with("rollover", "season", s("1"))) == "season: expected uint, got str");
  CHECK(decode_error(body_with("rollover", "end_ms", nil)) == "end_ms: missing");
  CHECK(decode_error(body_with("rollover", "end_ms", s("x"))) == "end_ms: expected int64, got str");
  CHECK(decode_error(body_with("rollover", "start_ms", nil)) == "start_ms: missing");
  CHECK(decode_error(body_with("rollover", "scheduled", u(1)))
        == "scheduled: expected bool, got int");
  CHECK_FALSE(
    std::get<rollover_body>(decode_ok(body_with("rollover", "scheduled", nil)).body).scheduled);
  CHECK(
    contains(decode_error(body_with("rollover", "board", s("a b"))), "board: invalid character"));
  CHECK(decode_error(body_with("rollover", "board", nil)) == "board: missing");
  // configure
  CHECK(decode_error(body_with("configure", "keep", u(0))) == "keep: 0 out of range 1..1000");
  CHECK(decode_error(body_with("configure", "keep", u(1001))) == "keep: 1001 out of range 1..1000");
  CHECK(decode_error(body_with("configure", "keep", s("2"))) == "keep: expected uint, got str");
  CHECK(decode_error(body_with("configure", "schedule", u(5)))
        == "schedule: expected str, got int");
  CHECK(decode_error(body_with("configure", "schedule", s("0 25 * * *")))
        == "schedule: field 2 (hour): 25 is out of range 0-23");
  CHECK(decode_error(body_with("configure", "schedule", s(std::string(max_cron_len + 1, ' '))))
        == "schedule: 129 bytes, at most 128 allowed");
  // a schedule that no longer fires is still a valid record: firing is the
  // service's question at configure time, not the log's
  CHECK(std::get<configure_event_body>(
          decode_ok(body_with("configure", "schedule", s("0 0 30 2 *"))).body)
          .schedule
        == "0 0 30 2 *");
  // "" and nil: no schedule
  CHECK(std::get<configure_event_body>(decode_ok(body_with("configure", "schedule", s(""))).body)
          .schedule.empty());
  CHECK(std::get<configure_event_body>(decode_ok(body_with("configure", "keep", nil)).body).keep
        == 1);
  // an unknown type names the ones this lbd knows
  CHECK(contains(decode_error(body_with("merge", "", nil)),
                 "(submit, remove, reset, configure, rollover;"));
}

TEST_CASE("seasons: snapshot board and season records round trip") {
  auto round_trip = [](const snapshot_item& item) {
    std::string body;
    append_snapshot_item(body, item);
    auto d = decode_snapshot_item(body.data(), body.size());
    INFO((d.index() == 1 ? std::get<1>(d) : std::string()));
    REQUIRE(d.index() == 0);
    REQUIRE(std::get<0>(d).index() == item.index());
    return std::make_pair(std::get<0>(d), body);
  };
  // defaults are left out: a board that never used seasons writes what it did
  {
    const auto [got, body]
      = round_trip(board_rec("plain", board_order::desc, score_operator::best, 3));
    CHECK(body_keys(body) == key_list{"kind", "board", "order", "operator", "total"});
    const auto& g = std::get<snapshot_board>(got);
    CHECK(g.schedule.empty());
    CHECK(g.keep == default_keep_seasons);
    CHECK(g.season == 1);
    CHECK(g.season_start_ms == 0);
    CHECK(g.season_start_seq == 0);
    CHECK(g.anchor_ms == 0);
  }
  {
    snapshot_board b = board_rec("arena", board_order::asc, score_operator::incr, 9);
    b.schedule = "0 0 * * 1";
    b.keep = 3;
    b.season = UINT32_MAX;
    b.season_start_ms = -5;
    b.season_start_seq = UINT64_MAX;
    b.anchor_ms = i64max;
    const auto [got, body] = round_trip(b);
    CHECK(body_keys(body)
          == key_list{"kind", "board", "order", "operator", "total", "schedule", "keep", "season",
                      "season_start_ms", "season_start_seq", "anchor_ms"});
    const auto& g = std::get<snapshot_board>(got);
    CHECK(g.board == "arena");
    CHECK(g.order == board_order::asc);
    CHECK(g.op == score_operator::incr);
    CHECK(g.total == 9);
    CHECK(g.schedule == b.schedule);
    CHECK(g.keep == 3);
    CHECK(g.season == UINT32_MAX);
    CHECK(g.season_start_ms == -5);
    CHECK(g.season_start_seq == UINT64_MAX);
    CHECK(g.anchor_ms == i64max);
  }
  {
    snapshot_board b = board_rec("s2");
    b.season = 2;
    b.season_start_seq = 41;
    const auto [got, body] = round_trip(b);
    CHECK(body_keys(body)
          == key_list{"kind", "board", "order", "operator", "total", "season", "season_start_seq"});
    CHECK(std::get<snapshot_board>(got).season == 2);
    CHECK(std::get<snapshot_board>(got).season_start_seq == 41);
  }
  for (const snapshot_season& s :
       {snapshot_season{season_span{1, 0, 1700000000000, 0, 40}, 12, board_order::desc,
                        score_operator::best},
        snapshot_season{season_span{UINT32_MAX, i64min, i64max, UINT64_MAX, UINT64_MAX}, UINT64_MAX,
                        board_order::asc, score_operator::decr},
        snapshot_season{season_span{5, 1, 2, 3, 4}, 0, board_order::asc, score_operator::set}}) {
    const auto [got, body] = round_trip(s);
    CHECK(body_keys(body)
          == key_list{"kind", "season", "order", "operator", "start_ms", "end_ms", "start_seq",
                      "end_seq", "total"});
    const auto& g = std::get<snapshot_season>(got);
    CHECK(g.order == s.order);
    CHECK(g.op == s.op);
    CHECK(g.span.season == s.span.season);
    CHECK(g.span.start_ms == s.span.start_ms);
    CHECK(g.span.end_ms == s.span.end_ms);
    CHECK(g.span.start_seq == s.span.start_seq);
    CHECK(g.span.end_seq == s.span.end_seq);
    CHECK(g.total == s.total);
  }

  // hostile season and board records
  auto err = [](const std::string& body) {
    auto d = decode_snapshot_item(body.data(), body.size());
    return d.index() == 1 ? std::get<1>(d) : std::string();
  };
  using packer = msgpack::packer<msgpack::sbuffer>;
  auto season_with = [](const std::string& key, auto value) {
    return pack([&](packer& pk) {
      const char* keys[] = {"kind",   "season",    "order",   "operator", "start_ms",
                            "end_ms", "start_seq", "end_seq", "total"};
      pk.pack_map(9);
      for (const char* k : keys) {
        pstr(pk, k);
        if (key == k)
          value(pk);
        else if (std::string_view(k) == "kind")
          pstr(pk, "season");
        else if (std::string_view(k) == "order")
          pstr(pk, "asc");
        else if (std::string_view(k) == "operator")
          pstr(pk, "incr");
        else
          pk.pack_uint64(3);
      }
    });
  };
  auto nil = [](packer& pk) { pk.pack_nil(); };
  CHECK(err(season_with("", nil)) == "");
  CHECK(err(season_with("season", nil)) == "season: missing");
  CHECK(err(season_with("season", [](packer& pk) { pk.pack_uint64(0); }))
        == "season: 0 out of range 1..4294967295");
  CHECK(err(season_with("end_seq", nil)) == "end_seq: missing");
  CHECK(err(season_with("order", [](packer& pk) { pstr(pk, "up"); })).find("order") == 0);
  CHECK(err(season_with("end_ms", [](packer& pk) { pstr(pk, "x"); }))
        == "end_ms: expected int64, got str");
  CHECK(err(season_with("total", [](packer& pk) { pk.pack_int64(-1); }))
        == "total: negative, expected uint64");
  auto board_with = [](const std::string& key, auto value) {
    return pack([&](packer& pk) {
      pk.pack_map(6);
      pstr(pk, "kind");
      pstr(pk, "board");
      pstr(pk, "board");
      pstr(pk, "b");
      pstr(pk, "order");
      pstr(pk, "desc");
      pstr(pk, "operator");
      pstr(pk, "best");
      pstr(pk, "total");
      pk.pack_uint64(0);
      pstr(pk, key);
      value(pk);
    });
  };
  CHECK(err(board_with("keep", [](packer& pk) { pk.pack_uint64(0); }))
        == "keep: 0 out of range 1..1000");
  CHECK(err(board_with("season", [](packer& pk) { pk.pack_uint64(0); }))
        == "season: 0 out of range 1..4294967295");
  CHECK(err(board_with("schedule", [](packer& pk) { pstr(pk, "* *"); }))
        == "schedule: expected 5 or 6 fields, got 2");
  CHECK(err(board_with("anchor_ms", [](packer& pk) { pstr(pk, "1"); }))
        == "anchor_ms: expected int64, got str");
  CHECK(err(board_with("season_start_seq", [](packer& pk) { pk.pack_int64(-2); }))
        == "season_start_seq: negative, expected uint64");
  CHECK(err(board_with("keep", nil)) == "");
  CHECK(contains(err(pack([](packer& pk) {
                   pk.pack_map(1);
                   pstr(pk, "kind");
                   pstr(pk, "seasons");
                 })),
                 "(head, board, chunk, end, season;"));
}

TEST_CASE("snapshot items round trip; hostile items give errors") {
  std::vector<snapshot_item> items;
  items.push_back(snapshot_head{UINT64_MAX, i64min, 3, 12345});
  items.push_back(board_rec("arena", board_order::asc, score_operator::decr, 7));
  snapshot_chunk chunk;
  chunk.entries.push_back({"alice", i64min, i64max, 5, std::nullopt});
  chunk.entries.push_back({"bob", 1, -1, UINT64_MAX, meta_value{"s", false}});
  chunk.entries.push_back({"c\xc3\xa9", 0, 0, 0, meta_value{std::string("\0b", 2), true}});
  items.push_back(chunk);
  items.push_back(snapshot_chunk{});
  items.push_back(snapshot_end{3, 12345});
  for (const auto& item : items) {
    std::string body;
    append_snapshot_item(body, item);
    auto d = decode_snapshot_item(body.data(), body.size());
    INFO((d.index() == 1 ? std::get<1>(d) : std::string()));
    REQUIRE(d.index() == 0);
    const auto& got = std::get<0>(d);
    REQUIRE(got.index() == item.index());
    if (auto* h = std::get_if<snapshot_head>(&item)) {
      auto& g = std::get<snapshot_head>(got);
      CHECK(g.seq == h->seq);
      CHECK(g.time_ms == h->time_ms);
      CHECK(g.boards == h->boards);
      CHECK(g.entries == h->entries);
    } else if (auto* b = std::get_if<snapshot_board>(&item)) {
      auto& g = std::get<snapshot_board>(got);
      CHECK(g.board == b->board);
      CHECK(g.order == b->order);
      CHECK(g.op == b->op);
      CHECK(g.total == b->total);
    } else if (auto* c = std::get_if<snapshot_chunk>(&item)) {
      auto& g = std::get<snapshot_chunk>(got);
      REQUIRE(g.entries.size() == c->entries.size());
      for (std::size_t i = 0; i < g.entries.size(); ++i) {
        CHECK(g.entries[i].player == c->entries[i].player);
        CHECK(g.entries[i].score == c->entries[i].score);
        CHECK(g.entries[i].subscore == c->entries[i].subscore);
        CHECK(g.entries[i].seq == c->entries[i].seq);
        CHECK(g.entries[i].meta == c->entries[i].meta);
      }
    } else {
      CHECK(std::get<snapshot_end>(got).entries == 12345);
    }
  }

  auto err = [](const std::string& body) {
    auto d = decode_snapshot_item(body.data(), body.size());
    return d.index() == 1 ? std::get<1>(d) : std::string();
  };
  auto chunk_of = [](auto&& entry, uint32_t n = 1) {
    return pack([&](auto& pk) {
      pk.pack_map(2);
      pstr(pk, "kind");
      pstr(pk, "chunk");
      pstr(pk, "entries");
      pk.pack_array(n);
      for (uint32_t i = 0; i < n; ++i)
        entry(pk);
    });
  };
  CHECK(err(chunk_of([](auto& pk) {
          pk.pack_array(4);
          pstr(pk, "a");
          pk.pack_int(1);
          pk.pack_int(1);
          pk.pack_int(1);
        }))
        == "entries[0]: 4 elements, expected 5 (player, score, subscore, seq, meta)");
  CHECK(contains(err(chunk_of([](auto& pk) {
                   pk.pack_array(5);
                   pstr(pk, std::string("\xff"));
                   pk.pack_int(1);
                   pk.pack_int(1);
                   pk.pack_int(1);
                   pk.pack_nil();
                 })),
                 "entries[0][0] player: invalid UTF-8"));
  CHECK(err(chunk_of([](auto& pk) {
          pk.pack_array(5);
          pstr(pk, "a");
          pk.pack_int(1);
          pk.pack_int(1);
          pk.pack_int(-1);
          pk.pack_nil();
        }))
        == "entries[0][3] seq: negative, expected uint64");
  CHECK(err(chunk_of([](auto& pk) {
          pk.pack_array(6); // a sixth element is a newer writer's field: ignored
          pstr(pk, "a");
          pk.pack_int(1);
          pk.pack_int(1);
          pk.pack_int(1);
          pk.pack_nil();
          pk.pack_true();
        }))
        == "");
  CHECK(err(chunk_of(
          [](auto& pk) {
            pk.pack_array(5);
            pstr(pk, "a");
            pk.pack_int(1);
            pk.pack_int(1);
            pk.pack_int(1);
            pk.pack_nil();
          },
          max_snapshot_chunk + 1))
        == "entries: 1001 entries, at most 1000 allowed in one chunk");
  CHECK(contains(err(pack([](auto& pk) {
                   pk.pack_map(1);
                   pstr(pk, "kind");
                   pstr(pk, "tail");
                 })),
                 "kind: unknown snapshot record kind 'tail'"));
  CHECK(err(pack([](auto& pk) {
          pk.pack_map(2);
          pstr(pk, "kind");
          pstr(pk, "end");
          pstr(pk, "boards");
          pk.pack_int(1);
        }))
        == "entries: missing");
  CHECK(contains(err(pack([](auto& pk) {
                   pk.pack_map(5);
                   pstr(pk, "kind");
                   pstr(pk, "board");
                   pstr(pk, "board");
                   pstr(pk, "a/b");
                   pstr(pk, "order");
                   pstr(pk, "asc");
                   pstr(pk, "operator");
                   pstr(pk, "set");
                   pstr(pk, "total");
                   pk.pack_int(0);
                 })),
                 "board: invalid character"));
}

// ---------------------------------------------------------------------------
// Framing and damage classification.

namespace {

// A segment with records of the given bodies; returns their offsets.
std::vector<uint64_t> write_segment(const fs::path& p, const std::vector<std::string>& bodies,
                                    uint64_t seq = 0) {
  std::string data = file_header(file_kind::segment, seq);
  std::vector<uint64_t> offs;
  for (const auto& b : bodies) {
    offs.push_back(data.size());
    append_record(data, b);
  }
  write_file(p, data);
  return offs;
}

std::vector<std::string> some_bodies(std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(body_of(
      {i + 1, 0,
       submit_req{"b", "p" + std::to_string(i), static_cast<int64_t>(i), 0, std::nullopt}}));
  return out;
}

} // namespace

TEST_CASE("framing round trip and file names") {
  temp_dir d;
  const auto bodies = some_bodies(10);
  const fs::path p = d.path / "events-00000000000000000001.log";
  const auto offs = write_segment(p, bodies, 0);
  std::vector<std::string> seen;
  std::vector<uint64_t> seen_offs;
  scan_result r;
  REQUIRE(scan_file(
            p, file_kind::segment,
            [&](uint64_t off, std::string_view b) {
              seen.emplace_back(b);
              seen_offs.push_back(off);
              return std::string();
            },
            r)
            .ok());
  CHECK(r.damage == damage_kind::none);
  CHECK(r.version == log_format_version);
  CHECK(r.header_seq == 0);
  CHECK(r.records == 10);
  CHECK(r.good_end == fs::file_size(p));
  CHECK(seen == bodies);
  CHECK(seen_offs == offs);

  // The header bytes are as documented: magic, version, size, seq (LE).
  const std::string h = file_header(file_kind::snapshot, 0x0102030405060708ull);
  CHECK(h == std::string("LBDSNAPS\x02\0\0\0\x18\0\0\0\x08\x07\x06\x05\x04\x03\x02\x01", 24));
  std::string rec;
  append_record(rec, "\x80");
  CHECK(rec.size() == record_header_size + 1);
  CHECK(rec.substr(0, 4) == std::string("\x01\0\0\0", 4));
  CHECK_THROWS_AS(append_record(rec, ""), storage_error);

  // A snapshot is not a segment.
  std::vector<uint64_t> none;
  CHECK(scan_offsets(p, file_kind::snapshot, none).damage == damage_kind::bad_header);

  CHECK(segment_path("/x", 42) == fs::path("/x/events-00000000000000000042.log"));
  CHECK(snapshot_path("/x", UINT64_MAX) == fs::path("/x/snapshot-18446744073709551615.snap"));
  write_file(d.path / "events-00000000000000000003.log", "");
  write_file(d.path / "events-3.log", "");
  write_file(d.path / "snapshot-00000000000000000009.snap.tmp", "");
  write_file(d.path / "snapshot-00000000000000000002.snap", "");
  const auto segs = list_segments(d.path);
  REQUIRE(segs.size() == 2);
  CHECK(segs[0].seq == 1);
  CHECK(segs[1].seq == 3);
  const auto snaps = files_in(d.path).snapshots;
  REQUIRE(snaps.size() == 1);
  CHECK(snaps[0].seq == 2);
  CHECK(list_segments(d.path / "absent").empty());
  CHECK(files_in(d.path / "absent").snapshots.empty());
}

TEST_CASE("a torn tail at every byte of the last record") {
  temp_dir d;
  const fs::path p = d.path / "seg.log";
  const auto bodies = some_bodies(3);
  const auto offs = write_segment(p, bodies);
  const std::string full = read_file(p);
  const fs::path cut = d.path / "cut.log";
  for (uint64_t n = offs[2]; n < full.size(); ++n) {
    write_file(cut, full.substr(0, n));
    std::vector<uint64_t> seen;
    const scan_result r = scan_offsets(cut, file_kind::segment, seen);
    INFO("cut at " << n);
    CHECK(r.records == 2);
    CHECK(r.good_end == offs[2]);
    if (n == offs[2]) {
      CHECK(r.damage == damage_kind::none);
    } else {
      CHECK(r.damage == damage_kind::torn_tail);
      CHECK(r.damage_offset == offs[2]);
      CHECK(contains(r.message, cut.string()));
      CHECK(contains(r.message, "offset " + std::to_string(offs[2])));
    }
  }
  // Garbage after the last record (a write that was cut mid-way) is a torn tail too.
  write_file(cut, full + std::string(100, '\0'));
  std::vector<uint64_t> seen;
  CHECK(scan_offsets(cut, file_kind::segment, seen).damage == damage_kind::torn_tail);
}

TEST_CASE("a damaged record in the middle is corruption; the scan resumes at the next record") {
  temp_dir d;
  const fs::path p = d.path / "seg.log";
  const auto bodies = some_bodies(5);
  const auto offs = write_segment(p, bodies);
  const std::string full = read_file(p);
  // A bit in the body, in the checksum, in the length field (both ways).
  const std::vector<std::pair<uint64_t, unsigned char>> flips
    = {{offs[2] + record_header_size + 3, 0x10},
       {offs[2] + 6, 0x01},
       {offs[2], 0x01},
       {offs[2], 0x40},
       {offs[2] + 2, 0x80}};
  for (auto [at, mask] : flips) {
    write_file(p, full);
    flip(p, at, mask);
    std::vector<uint64_t> seen;
    scan_result r = scan_offsets(p, file_kind::segment, seen);
    INFO("flip at " << at << " mask " << int(mask));
    CHECK(r.damage == damage_kind::corrupt);
    CHECK(r.damage_offset == offs[2]);
    CHECK(r.resume_offset == offs[3]);
    CHECK(r.good_end == offs[2]);
    CHECK(r.records == 2);
    CHECK(contains(r.message, "damaged record at offset " + std::to_string(offs[2])));
    r = scan_offsets(p, file_kind::segment, seen, true);
    CHECK(r.damage == damage_kind::corrupt);
    CHECK(r.records == 4);
    CHECK(seen == std::vector<uint64_t>{offs[0], offs[1], offs[3], offs[4]});
  }

  // A record the callback refuses is corruption at its offset.
  write_file(p, full);
  scan_result r;
  REQUIRE(scan_file(
            p, file_kind::segment,
            [&](uint64_t off, std::string_view) {
              return off == offs[1] ? std::string("seq 1 after seq 5: out of order")
                                    : std::string();
            },
            r)
            .ok());
  CHECK(r.damage == damage_kind::corrupt);
  CHECK(r.damage_offset == offs[1]);
  CHECK(r.resume_offset == offs[2]);
  CHECK(r.records == 1);
  CHECK(contains(r.message, "out of order"));
}

TEST_CASE("headers: newer version, bad magic, empty files") {
  temp_dir d;
  const fs::path p = d.path / "seg.log";
  write_segment(p, some_bodies(2), 7);
  std::vector<uint64_t> seen;
  CHECK(scan_offsets(p, file_kind::segment, seen).header_seq == 7);

  flip(p, 8, 0x01); // version 2 -> 3
  scan_result r = scan_offsets(p, file_kind::segment, seen);
  CHECK(r.damage == damage_kind::newer_version);
  CHECK(r.version == 3);
  CHECK(contains(r.message, "newer lbd"));
  CHECK(seen.empty());

  flip(p, 8, 0x03);
  flip(p, 0, 0x20);
  CHECK(scan_offsets(p, file_kind::segment, seen).damage == damage_kind::bad_header);
  flip(p, 0, 0x20);
  flip(p, 12, 0x01); // header size 25
  CHECK(scan_offsets(p, file_kind::segment, seen).damage == damage_kind::bad_header);

  for (std::size_t n : {0, 1, 23}) {
    write_file(p, file_header(file_kind::segment, 0).substr(0, n));
    r = scan_offsets(p, file_kind::segment, seen);
    CHECK(r.damage == damage_kind::empty_file);
  }
  write_file(p, file_header(file_kind::segment, 0));
  r = scan_offsets(p, file_kind::segment, seen);
  CHECK(r.damage == damage_kind::none);
  CHECK(r.good_end == file_header_size);
  CHECK_THROWS_AS(scan_offsets(d.path / "absent.log", file_kind::segment, seen), storage_error);
}

TEST_CASE("a long damaged tail of zeros or random bytes is classified quickly") {
  temp_dir d;
  const fs::path p = d.path / "seg.log";
  write_segment(p, some_bodies(3));
  const std::string good = read_file(p);
  std::string tail(64u << 20, '\0');
  for (int variant = 0; variant < 2; ++variant) {
    if (variant == 1) {
      std::mt19937_64 rng(99);
      tail.resize(64u << 20);
      for (std::size_t i = 0; i + 8 <= tail.size(); i += 8) {
        const uint64_t x = rng();
        std::memcpy(&tail[i], &x, 8);
      }
    }
    write_file(p, good + tail);
    std::vector<uint64_t> seen;
    const auto start = std::chrono::steady_clock::now();
    scan_result r = scan_offsets(p, file_kind::segment, seen);
    const auto secs
      = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    MESSAGE("variant " << variant << ": " << secs << " s");
    CHECK(r.damage == damage_kind::torn_tail);
    CHECK(r.good_end == good.size());
    CHECK(r.records == 3);
    CHECK(secs < 8.0);
    // With a good record after the damage it is corruption, found at its offset.
    std::string rec;
    append_record(rec, some_bodies(1)[0]);
    write_file(p, good + tail.substr(0, 1 << 20) + rec);
    r = scan_offsets(p, file_kind::segment, seen, true);
    CHECK(r.damage == damage_kind::corrupt);
    CHECK(r.resume_offset == good.size() + (1 << 20));
    CHECK(r.records == 4);
  }
}

// ---------------------------------------------------------------------------
// The segment writer.

TEST_CASE("segment writer: new segments, rolling, continuing after a cut") {
  temp_dir d;
  log_writer w(d.path, 200);
  REQUIRE(w.open({}, 0, 41).ok());
  CHECK(w.current() == segment_path(d.path, 42));
  CHECK(w.offset() == file_header_size);
  CHECK(w.synced_offset() == file_header_size);
  CHECK_FALSE(w.full());
  // A full segment without records is not rolled (its successor would take its name).
  CHECK(w.roll().ok());
  CHECK(w.current() == segment_path(d.path, 42));

  std::string recs;
  for (const auto& b : some_bodies(4))
    append_record(recs, b);
  CHECK(w.write(recs, 50).ok());
  CHECK(w.last_seq() == 50);
  CHECK(w.full());
  CHECK(w.sync().ok());
  CHECK(w.synced_offset() == w.offset());
  CHECK(w.roll().ok());
  CHECK(w.current() == segment_path(d.path, 51));
  std::vector<uint64_t> seen;
  CHECK(scan_offsets(w.current(), file_kind::segment, seen).header_seq == 50);
  CHECK(scan_offsets(segment_path(d.path, 42), file_kind::segment, seen).records == 4);

  // Unsynced records can be dropped; the last seq goes back with them.
  CHECK(w.write(recs, 60).ok());
  CHECK(w.truncate_to(w.synced_offset()).ok());
  CHECK(w.last_seq() == 50);
  CHECK(fs::file_size(w.current()) == file_header_size);

  // Reopening cuts a torn tail and appends after the good records.
  CHECK(w.write(recs, 60).ok());
  CHECK(w.sync().ok());
  const uint64_t good_end = w.offset();
  const fs::path cur = w.current();
  {
    std::ofstream out(cur, std::ios::binary | std::ios::app);
    out << "torn";
  }
  log_writer w2(d.path, 1 << 20);
  REQUIRE(w2.open(cur, good_end, 60).ok());
  CHECK(fs::file_size(cur) == good_end);
  CHECK(w2.write(recs, 70).ok());
  CHECK(w2.sync().ok());
  const scan_result r = scan_offsets(cur, file_kind::segment, seen);
  CHECK(r.damage == damage_kind::none);
  CHECK(r.records == 8);

  // Continuing a full segment starts the next one.
  log_writer w3(d.path, 100);
  REQUIRE(w3.open(cur, fs::file_size(cur), 70).ok());
  CHECK(w3.current() == segment_path(d.path, 71));
}

TEST_CASE("segment writer: a failed write leaves the file as it was") {
  temp_dir d;
  log_writer w(d.path, 1 << 20);
  REQUIRE(w.open({}, 0, 0).ok());
  std::string recs;
  for (const auto& b : some_bodies(3))
    append_record(recs, b);
  REQUIRE(w.write(recs, 3).ok());
  const uint64_t before = w.offset();

  // EFBIG: the file size limit lets the big write through only in part. The
  // daemon ignores SIGXFSZ, so the error comes back from write(2).
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit old_limit{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  rlimit lim = old_limit;
  lim.rlim_cur = before + 1000;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &lim) == 0);
  std::string big;
  for (int i = 0; i < 100; ++i)
    append_record(big, some_bodies(1)[0]);
  const std::string why = w.write(big, 103).message();
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  std::signal(SIGXFSZ, old_handler);

  INFO(why);
  CHECK(contains(why, w.current().string()));
  CHECK(contains(why, "offset " + std::to_string(before)));
  CHECK(contains(why, std::strerror(EFBIG)));
  CHECK(w.offset() == before);
  CHECK(w.last_seq() == 3);
  CHECK(fs::file_size(w.current()) == before);
  // And it goes on afterwards.
  CHECK(w.write(recs, 6).ok());
  CHECK(w.sync().ok());
  std::vector<uint64_t> seen;
  CHECK(scan_offsets(w.current(), file_kind::segment, seen).records == 6);

  log_writer bad(d.path / "absent", 100);
  CHECK_FALSE(bad.open({}, 0, 0).ok());
  CHECK_FALSE(bad.write(recs, 1).ok());
}

// ---------------------------------------------------------------------------
// Snapshots.

TEST_CASE("snapshots round trip into any number of shards") {
  temp_dir d;
  replay_state st;
  uint64_t seq = 0;
  st.apply({++seq, 0, conf_body("asc.board", board_order::asc, score_operator::set)});
  st.apply({++seq, 0, conf_body("empty", board_order::desc, score_operator::incr)});
  for (int i = 0; i < 2500; ++i) {
    std::optional<meta_value> meta;
    if (i % 3 == 1)
      meta = meta_value{"s" + std::to_string(i), false};
    if (i % 3 == 2)
      meta = meta_value{"b" + std::to_string(i), true};
    st.apply({++seq, 0, submit_req{"big", "p" + std::to_string(i), i % 17, i % 2, meta}});
    if (i % 5 == 0)
      st.apply({++seq, 0, submit_req{"asc.board", "q" + std::to_string(i), i % 3, 0, meta}});
  }
  st.apply({++seq, 0, submit_req{"ext", "max", i64max, i64min, std::nullopt}});
  st.apply({++seq, 0, submit_req{"ext", "min", i64min, i64max, std::nullopt}});
  const uint64_t entries = st.entries();
  const global_view view = st.freeze(seq);
  const std::string want = dump(view);

  const fs::path p = snapshot_to(d.path, view, 1234);
  CHECK(p == snapshot_path(d.path, seq));
  CHECK_FALSE(fs::exists(fs::path(p.string() + ".tmp")));

  for (uint32_t shards : {1u, 5u}) {
    std::vector<replay_state> into(shards);
    const snapshot_summary s = load_snapshot(p, into);
    CHECK(s.seq == seq);
    CHECK(s.time_ms == 1234);
    CHECK(s.boards == 4);
    CHECK(s.entries == entries);
    uint64_t got = 0;
    for (auto& x : into)
      got += x.entries();
    CHECK(got == entries);
    CHECK(dump(merged(into, seq)) == want);
    // Every shard knows every board's configuration.
    for (auto& x : into)
      CHECK(x.boards().at("empty").config().op == score_operator::incr);
  }
  // A restored board goes on exactly as the original (ties by seq).
  std::vector<replay_state> into(1);
  load_snapshot(p, into);
  const event_record more{seq + 1, 0, submit_req{"big", "new", 16, 1, std::nullopt}};
  into[0].apply(more);
  st.apply(more);
  CHECK(dump(merged(into, seq + 1)) == dump(st.freeze(seq + 1)));

  // Damage: a cut anywhere, a flipped byte.
  const std::string full = read_file(p);
  const fs::path bad = d.path / "bad.snap";
  for (uint64_t n :
       {uint64_t{10}, uint64_t{30}, uint64_t{full.size() / 2}, uint64_t{full.size() - 1}}) {
    write_file(bad, full.substr(0, n));
    std::vector<replay_state> x(2);
    CHECK_THROWS_AS(load_snapshot(bad, x), storage_error);
  }
  write_file(bad, full);
  flip(bad, full.size() / 2, 0x04);
  std::vector<replay_state> x(2);
  try {
    load_snapshot(bad, x);
    FAIL("no error");
  } catch (const storage_error& e) {
    CHECK(contains(e.what(), bad.string()));
    CHECK(contains(e.what(), "offset"));
  }

  // Failure leaves no temporary behind.
  CHECK_THROWS_AS(snapshot_to(d.path / "absent", view, 0), storage_error);
}

TEST_CASE("snapshots: counts are checked") {
  temp_dir d;
  auto write_items = [&](const std::vector<snapshot_item>& items) {
    std::string data = file_header(file_kind::snapshot, 5);
    for (const auto& it : items) {
      std::string body;
      append_snapshot_item(body, it);
      append_record(data, body);
    }
    write_file(d.path / "s.snap", data);
    std::vector<replay_state> into(2);
    try {
      load_snapshot(d.path / "s.snap", into);
    } catch (const storage_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  snapshot_chunk one;
  one.entries.push_back({"a", 1, 0, 3, std::nullopt});
  snapshot_chunk two = one;
  two.entries.push_back({"b", 2, 0, 4, std::nullopt}); // desc: 2 ranks before 1
  const snapshot_board x1 = board_rec("x", board_order::desc, score_operator::best, 1);
  CHECK(write_items({snapshot_head{5, 0, 1, 1}, x1, snapshot_chunk{one}, snapshot_end{1, 1}})
        == "");
  CHECK(
    contains(write_items({snapshot_head{5, 0, 1, 1}, x1, snapshot_chunk{one}}), "no end record"));
  CHECK(
    contains(write_items({snapshot_head{5, 0, 1, 2}, x1, snapshot_chunk{one}, snapshot_end{1, 2}}),
             "but the head counts"));
  CHECK(contains(write_items({snapshot_head{5, 0, 1, 1}, board_rec("x", {}, {}, 2),
                              snapshot_chunk{one}, snapshot_end{1, 1}}),
                 "board 'x' has 1 entries, its total says 2"));
  CHECK(contains(write_items({snapshot_head{5, 0, 1, 2}, board_rec("x", {}, {}, 2),
                              snapshot_chunk{two}, snapshot_end{1, 2}}),
                 "out of rank order"));
  CHECK(contains(write_items({board_rec("x"), snapshot_end{1, 0}}),
                 "the first record is not the head"));
  CHECK(contains(write_items({snapshot_head{4, 0, 0, 0}, snapshot_end{0, 0}}),
                 "the header says seq 5"));
  snapshot_chunk late;
  late.entries.push_back({"a", 1, 0, 6, std::nullopt});
  CHECK(contains(write_items({snapshot_head{5, 0, 1, 1}, x1, late, snapshot_end{1, 1}}),
                 "after the snapshot's seq 5"));
  snapshot_chunk dup;
  dup.entries.push_back({"a", 2, 0, 1, std::nullopt});
  dup.entries.push_back({"a", 1, 0, 2, std::nullopt});
  CHECK(contains(
    write_items({snapshot_head{5, 0, 1, 2}, board_rec("x", {}, {}, 2), dup, snapshot_end{1, 2}}),
    "appears twice"));
  CHECK(contains(
    write_items({snapshot_head{5, 0, 2, 0}, board_rec("y"), board_rec("x"), snapshot_end{2, 0}}),
    "strictly increasing name order"));
}

// ---------------------------------------------------------------------------
// The data folder: retention and temporaries.

TEST_CASE("retention deletes covered segments up to the one being written") {
  temp_dir d;
  const auto events = make_events(3000, 11);
  write_log(d.path, events, 16 << 10);
  const auto segs = list_segments(d.path);
  REQUIRE(segs.size() >= 5);

  // A snapshot at the last seq of segment 1 covers segments 0 and 1.
  REQUIRE(delete_covered_segments(d.path, segs[2].seq - 1, segs.back().path).ok());
  auto left = list_segments(d.path);
  REQUIRE(left.size() == segs.size() - 2);
  CHECK(left.front().path == segs[2].path);

  // One seq short of covering segment 2: it stays.
  REQUIRE(delete_covered_segments(d.path, segs[3].seq - 2, segs.back().path).ok());
  CHECK(list_segments(d.path).size() == left.size());

  // Everything covered: the writer's segment and those after it stay.
  REQUIRE(delete_covered_segments(d.path, events.back().seq, segs[3].path).ok());
  left = list_segments(d.path);
  REQUIRE(left.size() == segs.size() - 3);
  CHECK(left.front().path == segs[3].path);
  // The newest segment is never covered: later events may go into it.
  REQUIRE(delete_covered_segments(d.path, events.back().seq, fs::path()).ok());
  left = list_segments(d.path);
  REQUIRE(left.size() == 1);
  CHECK(left.front().path == segs.back().path);
}

TEST_CASE("retention keeps the newest two snapshots; leftover temporaries are cleared") {
  temp_dir d;
  replay_state st;
  std::optional<uint64_t> covered;
  REQUIRE(prune_snapshots(d.path, covered).ok());
  CHECK_FALSE(covered.has_value());
  snapshot_to(d.path, st.freeze(5), 0);
  REQUIRE(prune_snapshots(d.path, covered).ok());
  CHECK_FALSE(covered.has_value());
  for (uint64_t seq : {10u, 20u, 30u})
    snapshot_to(d.path, st.freeze(seq), 0);
  REQUIRE(prune_snapshots(d.path, covered).ok());
  REQUIRE(covered.has_value());
  CHECK(*covered == 20);
  const auto snaps = files_in(d.path).snapshots;
  REQUIRE(snaps.size() == 2);
  CHECK(snaps[0].seq == 20);
  CHECK(snaps[1].seq == 30);

  const fs::path snap_tmp = d.path / "snapshot-00000000000000000040.snap.tmp";
  const fs::path other = d.path / "events-00000000000000000001.log.repair.tmp";
  write_file(snap_tmp, "partial");
  write_file(other, "partial");
  REQUIRE(remove_leftover_temps(d.path).ok());
  CHECK_FALSE(fs::exists(snap_tmp));
  CHECK(fs::exists(other));
  CHECK(files_in(d.path).snapshots.size() == 2);
  CHECK(remove_leftover_temps(d.path / "absent").ok());
}

TEST_CASE("the LOCK is held by one data_lock at a time") {
  temp_dir d;
  {
    data_lock first(d.path);
    try {
      data_lock second(d.path);
      FAIL("a second lock on the same folder");
    } catch (const storage_error& e) {
      CHECK(contains(e.what(), "another process uses the data folder " + d.path.string()));
    }
  }
  data_lock again(d.path); // released with the first
}

// ---------------------------------------------------------------------------
// Recovery end to end.

namespace {

constexpr uint64_t small_segments = 16 << 10;

struct logged {
  temp_dir dir;
  std::vector<event_record> events;
  std::string want; // the full state, from applying every event to one board set
  std::string digest;

  explicit logged(std::size_t n = 6000, uint64_t seed = 1) : events(make_events(n, seed)) {
    write_log(dir.path, events, small_segments);
    replay_state ref = apply_all(events);
    want = dump_of(ref);
    auto v = ref.freeze(events.back().seq);
    digest = state_digest(v);
  }
  std::vector<file_info> segments() const { return list_segments(dir.path); }
};

} // namespace

TEST_CASE("recovery from the log alone gives the same state for 1, 4 and 7 shards") {
  logged log;
  REQUIRE(log.segments().size() >= 5);
  std::vector<std::string> seen;
  recovery_options o;
  o.dir = log.dir.path;
  o.shards = 1;
  o.progress = [&](const std::string& s) { seen.push_back(s); };
  for (uint32_t shards : {1u, 4u, 7u}) {
    o.shards = shards;
    recovered_state r;
    REQUIRE(recover(o, r).ok());
    REQUIRE(r.shards.size() == shards);
    CHECK(r.last_seq == log.events.back().seq);
    CHECK(r.log_last_seq == log.events.back().seq);
    CHECK(r.snapshot_seq == 0);
    CHECK(r.events == log.events.size());
    CHECK(r.notes.empty());
    CHECK(r.last_segment == log.segments().back().path);
    CHECK(r.last_segment_end == fs::file_size(r.last_segment));
    auto v = merged(r.shards, r.last_seq);
    CHECK(state_digest(v) == log.digest);
    CHECK(dump(v) == log.want);
    if (shards > 1) {
      uint64_t busy = 0;
      for (auto& s : r.shards)
        busy += s.entries() > 0;
      CHECK(busy == shards);
    }
  }

  // An empty folder (or none) is an empty state.
  temp_dir empty;
  recovered_state r = recover_dir(empty.path / "none", 2);
  CHECK(r.last_seq == 0);
  CHECK(r.last_segment.empty());
  CHECK(r.shards.size() == 2);
}

TEST_CASE("snapshot plus the log after it equals the full log") {
  logged log;
  const std::size_t cut = log.events.size() / 2;
  const uint64_t snap_seq = log.events[cut].seq;
  replay_state at_snap = apply_all(log.events, snap_seq);
  snapshot_to(log.dir.path, at_snap.freeze(snap_seq), 77);

  for (uint32_t shards : {1u, 4u}) {
    recovered_state r = recover_dir(log.dir.path, shards);
    CHECK(r.snapshot_seq == snap_seq);
    CHECK(r.events == log.events.size() - cut - 1);
    CHECK(r.last_seq == log.events.back().seq);
    CHECK(dump_of(r) == log.want);
  }

  // Segments wholly before the snapshot may go; the rest still suffices.
  const auto segs = log.segments();
  std::size_t removed = 0;
  for (std::size_t i = 0; i + 1 < segs.size() && segs[i + 1].seq - 1 <= snap_seq; ++i) {
    fs::remove(segs[i].path);
    ++removed;
  }
  REQUIRE(removed >= 1);
  recovered_state r = recover_dir(log.dir.path, 3);
  CHECK(r.snapshot_seq == snap_seq);
  CHECK(dump_of(r) == log.want);

  // A snapshot at the very end and no segment: the snapshot alone.
  temp_dir only;
  replay_state all = apply_all(log.events);
  snapshot_to(only.path, all.freeze(log.events.back().seq), 0);
  r = recover_dir(only.path, 2);
  CHECK(r.snapshot_seq == log.events.back().seq);
  CHECK(r.last_seq == log.events.back().seq);
  CHECK(r.log_last_seq == log.events.back().seq);
  CHECK(r.last_segment.empty());
  CHECK(dump_of(r) == log.want);
}

TEST_CASE("a torn tail is cut and the writer continues after it") {
  logged log;
  const fs::path newest = log.segments().back().path;
  const uint64_t size = fs::file_size(newest);
  std::string rec;
  append_record(rec, body_of({log.events.back().seq + 1, 0, reset_req{"arena"}}));
  {
    std::ofstream out(newest, std::ios::binary | std::ios::app);
    out.write(rec.data(), static_cast<std::streamsize>(rec.size() - 3));
  }
  recovered_state r = recover_dir(log.dir.path, 4);
  REQUIRE(r.notes.size() == 1);
  CHECK(r.notes[0]
        == "cut " + std::to_string(rec.size() - 3) + " bytes of a torn write at " + newest.string()
             + " offset " + std::to_string(size));
  CHECK(fs::file_size(newest) == size);
  CHECK(r.last_segment == newest);
  CHECK(r.last_segment_end == size);
  CHECK(dump_of(r) == log.want);

  // The writer continues; the next recovery sees old and new events.
  const auto more = make_events(300, 2);
  std::vector<event_record> all = log.events;
  for (auto ev : more) {
    ev.seq += log.events.back().seq;
    all.push_back(ev);
  }
  {
    log_writer w(log.dir.path, small_segments);
    REQUIRE(w.open(r.last_segment, r.last_segment_end, r.log_last_seq).ok());
    for (std::size_t i = log.events.size(); i < all.size(); ++i) {
      std::string body, framed;
      append_event(body, all[i]);
      append_record(framed, body);
      REQUIRE(w.write(framed, all[i].seq).ok());
      if (w.full())
        REQUIRE(w.roll().ok());
    }
    REQUIRE(w.sync().ok());
  }
  recovered_state again = recover_dir(log.dir.path, 2);
  CHECK(again.notes.empty());
  CHECK(again.last_seq == all.back().seq);
  replay_state ref = apply_all(all);
  CHECK(dump_of(again) == dump_of(ref));

  // An empty newest segment (a crash right after creating it) is removed.
  const fs::path stray = segment_path(log.dir.path, all.back().seq + 1);
  write_file(stray, "LBDEV");
  again = recover_dir(log.dir.path, 2);
  REQUIRE(again.notes.size() == 1);
  CHECK(contains(again.notes[0], "removed " + stray.string()));
  CHECK_FALSE(fs::exists(stray));
  CHECK(again.last_segment == list_segments(log.dir.path).back().path);
  CHECK(dump_of(again) == dump_of(ref));
}

TEST_CASE("corruption in the middle stops the start unless --repair") {
  logged log;
  const auto segs = log.segments();
  REQUIRE(segs.size() >= 4);
  const fs::path victim = segs[2].path;
  std::vector<uint64_t> offs;
  scan_offsets(victim, file_kind::segment, offs);
  REQUIRE(offs.size() >= 5);
  const uint64_t at = offs[2];
  // Which event the damaged record held.
  const std::string data = read_file(victim);
  const uint32_t len = static_cast<uint8_t>(data[at]) | static_cast<uint8_t>(data[at + 1]) << 8;
  const uint64_t lost_seq = decode_ok(data.substr(at + record_header_size, len)).seq;
  flip(victim, at + record_header_size + 2, 0x08);

  const std::string why = recover_error(log.dir.path);
  INFO(why);
  CHECK(contains(why, victim.string() + ": damaged record at offset " + std::to_string(at)));
  CHECK(contains(why, "--repair"));

  recovered_state r = recover_dir(log.dir.path, 4, true);
  std::vector<event_record> kept;
  for (const auto& ev : log.events)
    if (ev.seq != lost_seq)
      kept.push_back(ev);
  replay_state ref = apply_all(kept);
  CHECK(dump_of(r) == dump_of(ref));
  REQUIRE(r.notes.size() == 1);
  CHECK(contains(r.notes[0], "repaired " + victim.string()));
  CHECK(contains(r.notes[0], "kept " + std::to_string(offs.size() - 1) + " good records"));
  const fs::path aside = victim.string() + ".damaged";
  CHECK(fs::exists(aside));
  CHECK(fs::file_size(aside) == data.size());
  // The clean copy needs no repair on the next start.
  std::vector<uint64_t> seen;
  CHECK(scan_offsets(victim, file_kind::segment, seen).damage == damage_kind::none);
  recovered_state again = recover_dir(log.dir.path, 1);
  CHECK(again.notes.empty());
  CHECK(dump_of(again) == dump_of(ref));
}

TEST_CASE("a repair that cannot write its clean copy says why, and changes nothing") {
  // One segment of a few MiB, so that the copy is written while the
  // damaged one is read, not only when it is put in place.
  temp_dir d;
  const auto events = make_events(40000, 11);
  write_log(d.path, events, uint64_t{1} << 30);
  const auto segs = list_segments(d.path);
  REQUIRE(segs.size() == 1);
  const fs::path victim = segs[0].path;
  REQUIRE(fs::file_size(victim) > (3u << 20));
  std::vector<uint64_t> offs;
  scan_offsets(victim, file_kind::segment, offs);
  flip(victim, offs[offs.size() / 2] + record_header_size + 2, 0x08);
  const std::string damaged = read_file(victim);

  // EFBIG once the copy passes 512 KiB (SIGXFSZ ignored, as the daemon does).
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit old_limit{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  rlimit lim = old_limit;
  lim.rlim_cur = 512 << 10;
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &lim) == 0);
  const std::string why = recover_error(d.path, true);
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &old_limit) == 0);
  std::signal(SIGXFSZ, old_handler);

  INFO(why);
  CHECK(contains(why, std::strerror(EFBIG)));
  CHECK(contains(why, "while repairing " + victim.string()));
  CHECK_FALSE(contains(why, "changed while it was repaired"));
  CHECK(read_file(victim) == damaged);
  CHECK_FALSE(fs::exists(victim.string() + ".damaged"));
  CHECK(list_segments(d.path).size() == 1);
}

TEST_CASE("a torn tail in an older segment counts as damage") {
  logged log;
  const auto segs = log.segments();
  const fs::path older = segs[1].path;
  const uint64_t size = fs::file_size(older);
  fs::resize_file(older, size - 5);
  const std::string why = recover_error(log.dir.path);
  CHECK(contains(why, older.string() + ": torn write at offset"));
  CHECK(contains(why, "--repair"));
  // With --repair its last event is lost, which the chain check reports.
  recovered_state r = recover_dir(log.dir.path, 2, true);
  REQUIRE(r.notes.size() == 2);
  CHECK(contains(r.notes[0], "repaired " + older.string()));
  CHECK(contains(r.notes[1], "are lost"));
}

TEST_CASE("a damaged newest snapshot falls back to an older one") {
  logged log;
  const uint64_t s1 = log.events[log.events.size() / 3].seq;
  const uint64_t s2 = log.events[2 * log.events.size() / 3].seq;
  for (uint64_t s : {s1, s2}) {
    replay_state st = apply_all(log.events, s);
    snapshot_to(log.dir.path, st.freeze(s), 0);
  }
  const fs::path newest = snapshot_path(log.dir.path, s2);
  flip(newest, fs::file_size(newest) / 2, 0x01);

  recovered_state r = recover_dir(log.dir.path, 3);
  CHECK(r.snapshot_seq == s1);
  REQUIRE(r.notes.size() == 1);
  CHECK(contains(r.notes[0], "skipped the damaged snapshot " + newest.string()));
  CHECK(dump_of(r) == log.want);

  // Once the segments between the two snapshots are gone, nothing can
  // replace the damaged one: the start fails and says why.
  const auto segs = log.segments();
  for (std::size_t i = 0; i + 1 < segs.size() && segs[i + 1].seq - 1 <= s2; ++i)
    fs::remove(segs[i].path);
  REQUIRE(log.segments().front().seq - 1 > s1);
  const std::string why = recover_error(log.dir.path);
  INFO(why);
  CHECK(contains(why, "damaged"));
  CHECK(contains(why, newest.string()));
  CHECK(contains(why, "segments before it were deleted"));
}

TEST_CASE("a missing segment, a newer format, a renamed segment stop the start") {
  {
    logged log(3000, 3);
    const auto segs = log.segments();
    REQUIRE(segs.size() >= 3);
    fs::remove(segs[1].path);
    const std::string why = recover_error(log.dir.path);
    INFO(why);
    CHECK(contains(why, "missing segment"));
    CHECK(contains(why, segs[0].path.string()));
    CHECK(contains(why, segs[2].path.string()));
    CHECK(contains(recover_error(log.dir.path, true), "missing segment"));
  }
  {
    // A crash right after the writer created the newest segment leaves it
    // empty; its name still says which seq it follows, so a missing segment
    // before it is noticed, and nothing is removed.
    logged log(3000, 3);
    const auto segs = log.segments();
    REQUIRE(segs.size() >= 3);
    fs::remove(segs[segs.size() - 2].path);
    fs::resize_file(segs.back().path, 0);
    const std::string why = recover_error(log.dir.path);
    INFO(why);
    CHECK(contains(why, "missing segment"));
    CHECK(fs::exists(segs.back().path));
  }
  {
    logged log(3000, 4);
    const fs::path last = log.segments().back().path;
    flip(last, 8, 0x01); // version 2 -> 3
    const std::string why = recover_error(log.dir.path);
    CHECK(contains(why, last.string()));
    CHECK(contains(why, "newer lbd"));
  }
  {
    logged log(3000, 5);
    fs::remove(log.segments().front().path);
    CHECK(contains(recover_error(log.dir.path), "no snapshot"));
  }
  {
    logged log(3000, 6);
    const auto segs = log.segments();
    fs::rename(segs[1].path, segment_path(log.dir.path, segs[1].seq + 1));
    CHECK(contains(recover_error(log.dir.path), "its header says it follows seq"));
  }
}

// ---------------------------------------------------------------------------
// The plan alone: what lb-replay reads a folder with.

namespace {

// Every file of a folder and its size.
std::map<std::string, uint64_t> sizes_in(const fs::path& dir) {
  std::map<std::string, uint64_t> out;
  for (const auto& f : fs::directory_iterator(dir))
    out[f.path().filename().string()] = fs::file_size(f.path());
  return out;
}

struct planned {
  recovery_plan plan;
  std::vector<replay_state> state{1};
  std::vector<uint64_t> seqs; // the events passed on
};

planned plan_of(const fs::path& dir, uint64_t until_seq = UINT64_MAX, bool repair = false,
                bool use_snapshots = true) {
  planned p;
  plan_options o;
  o.dir = dir;
  o.until_seq = until_seq;
  o.repair = repair;
  o.use_snapshots = use_snapshots;
  throw_if_error(plan_recovery(
    o, p.state, [&](const event_record& ev) { p.seqs.push_back(ev.seq); }, p.plan));
  return p;
}

} // namespace

TEST_CASE("a plan says what recovery would change, and changes nothing") {
  logged log;
  const auto segs = log.segments();
  REQUIRE(segs.size() >= 4);
  // A damaged record in segment 1, a torn tail on the newest.
  std::vector<uint64_t> offs;
  scan_offsets(segs[1].path, file_kind::segment, offs);
  flip(segs[1].path, offs[1] + record_header_size + 2, 0x08);
  {
    std::ofstream out(segs.back().path, std::ios::binary | std::ios::app);
    out << "torn";
  }
  const auto before = sizes_in(log.dir.path);

  planned p = plan_of(log.dir.path);
  REQUIRE(p.plan.stop.has_value());
  CHECK(p.plan.stop->what == plan_stop::kind::damage);
  CHECK(contains(p.plan.stop->message, segs[1].path.string() + ": damaged record at offset "));
  CHECK_FALSE(contains(p.plan.stop->message, "--repair"));
  CHECK(sizes_in(log.dir.path) == before);

  p = plan_of(log.dir.path, UINT64_MAX, true);
  REQUIRE_FALSE(p.plan.stop.has_value());
  REQUIRE(p.plan.segments.size() == segs.size());
  CHECK(p.plan.segments[0].action == segment_action::read);
  CHECK(p.plan.segments[1].action == segment_action::repair);
  CHECK(p.plan.segments.back().action == segment_action::cut_tail);
  CHECK(p.plan.last_segment == segs.back().path);
  CHECK(p.plan.last_segment_end == fs::file_size(segs.back().path) - 4);
  CHECK(p.seqs.size() == log.events.size() - 1);
  CHECK(sizes_in(log.dir.path) == before);

  // Recovery makes exactly those changes.
  recovered_state r = recover_dir(log.dir.path, 2, true);
  REQUIRE(r.notes.size() == 2);
  CHECK(contains(r.notes.front(), "repaired " + segs[1].path.string()));
  CHECK(contains(r.notes.back(), "cut 4 bytes of a torn write at " + segs.back().path.string()));
  CHECK(r.events == p.seqs.size());
  CHECK(fs::file_size(segs.back().path) == p.plan.last_segment_end);
}

TEST_CASE("recovery changes no file when a later segment stops it") {
  logged log(3000, 9);
  const auto segs = log.segments();
  REQUIRE(segs.size() >= 4);
  std::vector<uint64_t> offs;
  scan_offsets(segs[0].path, file_kind::segment, offs);
  flip(segs[0].path, offs[1] + record_header_size + 2, 0x08);
  fs::remove(segs[2].path);
  const auto before = sizes_in(log.dir.path);
  CHECK(contains(recover_error(log.dir.path, true), "missing segment"));
  CHECK(sizes_in(log.dir.path) == before); // segment 0 was not repaired
}

TEST_CASE("a plan up to a seq reads nothing after it") {
  logged log(2000, 10);
  const uint64_t until = log.events[log.events.size() / 2].seq;
  // Damage after the limit does not matter to a state before it.
  const auto segs = log.segments();
  fs::resize_file(segs[segs.size() - 2].path, fs::file_size(segs[segs.size() - 2].path) - 3);
  planned p = plan_of(log.dir.path, until);
  CHECK_FALSE(p.plan.stop.has_value());
  REQUIRE_FALSE(p.seqs.empty());
  CHECK(p.seqs.back() == until);
  CHECK(p.seqs.size() == log.events.size() / 2 + 1);
  CHECK(p.plan.segments.size() < segs.size());

  // A snapshot after the limit is not used; one at or before it is.
  const uint64_t early = log.events[99].seq;
  snapshot_to(log.dir.path, apply_all(log.events, early).freeze(early), 0);
  snapshot_to(log.dir.path, apply_all(log.events, until + 5).freeze(until + 5), 0);
  p = plan_of(log.dir.path, until);
  REQUIRE(p.plan.snapshot.has_value());
  CHECK(p.plan.snapshot->seq == early);
  CHECK(p.seqs.front() == log.events[100].seq);

  // Without snapshots, every segment from the oldest.
  p = plan_of(log.dir.path, until, false, false);
  CHECK_FALSE(p.plan.snapshot.has_value());
  CHECK(p.seqs.size() == log.events.size() / 2 + 1);

  // With the segments before the early snapshot gone, a state before it has
  // no history left.
  fs::remove(segs[0].path);
  p = plan_of(log.dir.path, early - 1);
  REQUIRE(p.plan.stop.has_value());
  CHECK(p.plan.stop->what == plan_stop::kind::history);
  // A state exactly at that snapshot needs no event after it, so where the
  // log now starts does not matter.
  REQUIRE(p.plan.log_start > early);
  p = plan_of(log.dir.path, early);
  CHECK_FALSE(p.plan.stop.has_value());
  REQUIRE(p.plan.snapshot.has_value());
  CHECK(p.plan.snapshot->seq == early);
  CHECK(p.seqs.empty());
}

TEST_CASE("read_events streams every event in order and stops at damage") {
  logged log(2000, 8);
  std::vector<fs::path> files;
  for (const auto& s : log.segments())
    files.push_back(s.path);
  std::vector<uint64_t> seqs;
  REQUIRE(
    read_events(files, UINT64_MAX, [&](const event_record& ev) { seqs.push_back(ev.seq); }).ok());
  REQUIRE(seqs.size() == log.events.size());
  for (std::size_t i = 0; i < seqs.size(); ++i)
    CHECK(seqs[i] == log.events[i].seq);

  // Out of order files are refused.
  std::vector<fs::path> swapped = files;
  std::swap(swapped[0], swapped[1]);
  CHECK_FALSE(read_events(swapped, UINT64_MAX, [](const event_record&) {}).ok());

  fs::resize_file(files.back(), fs::file_size(files.back()) - 1);
  const status torn = read_events(files, UINT64_MAX, [](const event_record&) {});
  REQUIRE_FALSE(torn.ok());
  CHECK(contains(torn.message(), "torn write"));
  CHECK(contains(torn.message(), files.back().string()));

  // Up to a seq: the torn tail after it is not reached.
  seqs.clear();
  const uint64_t until = log.events[log.events.size() / 2].seq;
  REQUIRE(read_events(files, until, [&](const event_record& ev) { seqs.push_back(ev.seq); }).ok());
  REQUIRE_FALSE(seqs.empty());
  CHECK(seqs.back() == until);
}
