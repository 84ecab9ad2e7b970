// Durability tests: the real leaderboardd on a data folder that outlives it.
// Kill -9 at random points, clean restarts under other shard counts,
// snapshots against full-log replay, and the damage of actors/storage/recovery.hpp
// (a torn tail, a corrupt record, a newer format, an empty segment, a full
// disk), all driven from outside as an operator would (PROTOCOL.md "Events",
// actors/storage/log_format.hpp for the file format).
//
// The random choices (kill points, cuts, flipped bytes) come from one seed,
// shown on failure; LBD_TEST_SEED=<n> replays a run.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>

#include "tests/system/e2e_client.hpp"

using namespace lb::e2e;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// ===========================================================================
// Seeds, files and the on-disk format (actors/storage/log_format.hpp).

uint64_t test_seed() {
  if (const char* s = std::getenv("LBD_TEST_SEED"); s != nullptr && *s != '\0')
    return std::strtoull(s, nullptr, 10);
  return (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
}

constexpr uint64_t header_size = 24;
constexpr uint64_t record_header = 12; // u32 length, u64 XXH3-64

std::vector<fs::path> files_matching(const std::string& dir, const std::string& prefix,
                                     const std::string& suffix) {
  std::vector<fs::path> out;
  for (auto& e : fs::directory_iterator(dir)) {
    auto name = e.path().filename().string();
    if (name.size() >= prefix.size() + suffix.size() && name.rfind(prefix, 0) == 0
        && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<fs::path> segments(const std::string& dir) {
  return files_matching(dir, "events-", ".log");
}
std::vector<fs::path> snapshots(const std::string& dir) {
  return files_matching(dir, "snapshot-", ".snap");
}

std::string file_bytes(const fs::path& p) {
  return read_file(p.string());
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE_MESSAGE(f.good(), "cannot write " << p);
}

uint32_t u32le(const std::string& b, uint64_t off) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | static_cast<uint8_t>(b[off + i]);
  return v;
}

void put_u32le(std::string& b, uint64_t off, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    b[off + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// One framed record of a segment: where it starts and its whole size
// (header included).
struct record_pos {
  uint64_t off = 0, size = 0;
  uint64_t body_off() const { return off + record_header; }
  uint64_t body_size() const { return size - record_header; }
  uint64_t end() const { return off + size; }
};

// The complete records of a segment's bytes, in order (framing only: no
// checksum check). Stops at the first record that does not fit.
std::vector<record_pos> records_of(const std::string& b) {
  std::vector<record_pos> out;
  uint64_t off = header_size;
  while (off + record_header <= b.size()) {
    uint64_t len = u32le(b, off);
    if (len == 0 || off + record_header + len > b.size())
      break;
    out.push_back({off, record_header + len});
    off += record_header + len;
  }
  return out;
}

// "recovered up to seq N (snapshot at S + E events ..." from the daemon's log (stderr).
struct recovery_line {
  uint64_t seq = 0, snapshot = 0, events = 0;
};
std::optional<recovery_line> parse_recovery(const std::string& out) {
  static const std::regex re{R"(recovered up to seq (\d+) \(snapshot at (\d+) \+ (\d+) events)"};
  std::smatch m;
  if (!std::regex_search(out, m, re))
    return std::nullopt;
  return recovery_line{std::stoull(m[1]), std::stoull(m[2]), std::stoull(m[3])};
}

// The seq in a snapshot's name: snapshot-<seq, 20 digits>.snap.
uint64_t snapshot_seq_of(const fs::path& p) {
  return std::stoull(p.filename().string().substr(9, 20));
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return s;
}

// ===========================================================================
// Servers on one data folder.

server_options opts_on(const std::string& data, uint32_t shards,
                       std::vector<std::string> extra = {}) {
  server_options o;
  o.shards = shards;
  o.data_dir = data;
  o.extra_args = std::move(extra);
  return o;
}

// SIGKILL: no snapshot, no clean close; whatever is on disk is what stays.
void kill9(server& s) {
  auto st = s.stop(SIGKILL, patience(5s));
  REQUIRE_MESSAGE(st, "leaderboardd did not die of SIGKILL");
  CHECK(describe_status(*st) == "killed by signal 9");
}

// SIGTERM and a clean exit 0.
void stop_clean(server& s) {
  auto st = s.stop(SIGTERM, patience(10s));
  REQUIRE_MESSAGE(st, "leaderboardd did not stop on SIGTERM; stderr:\n" << s.stderr_text());
  CHECK_MESSAGE(describe_status(*st) == "exit 0", "stopped with " << describe_status(*st)
                                                                  << "; stderr:\n"
                                                                  << s.stderr_text());
}

// The daemon's command line for run_to_exit on `data` (fresh ports).
std::vector<std::string> daemon_args(const std::string& data, std::vector<std::string> extra = {}) {
  auto ep = [] { return "tcp://127.0.0.1:" + std::to_string(free_port()); };
  std::vector<std::string> args = {daemon_path(),      "--data=" + data,    "--requests=" + ep(),
                                   "--ingest=" + ep(), "--updates=" + ep(), "--shards=2"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// ===========================================================================
// Reading the state back.

std::string digest(client& c) {
  auto r = c.call(stats());
  REQUIRE_MESSAGE(r.ok(), r.text());
  return r.str("digest");
}

uint64_t entry_count(client& c) {
  auto r = c.call(stats());
  REQUIRE_MESSAGE(r.ok(), r.text());
  auto& a = r.at("shards");
  REQUIRE(a.type == msgpack::type::ARRAY);
  uint64_t n = 0;
  for (uint32_t i = 0; i < a.via.array.size; ++i)
    n += at(a.via.array.ptr[i], "entries").as<uint64_t>();
  return n;
}

struct board_info {
  std::string board, order, oper;
  uint64_t total = 0;
  friend bool operator==(const board_info& a, const board_info& b) {
    return a.board == b.board && a.order == b.order && a.oper == b.oper && a.total == b.total;
  }
};

std::string to_string(const std::vector<board_info>& bs) {
  std::string s;
  for (auto& b : bs)
    s += b.board + "(" + b.order + "," + b.oper + "," + std::to_string(b.total) + ") ";
  return s;
}

std::vector<board_info> board_list(client& c) {
  auto r = c.call(boards());
  REQUIRE_MESSAGE(r.ok(), r.text());
  auto& a = r.at("boards");
  REQUIRE(a.type == msgpack::type::ARRAY);
  std::vector<board_info> out;
  for (uint32_t i = 0; i < a.via.array.size; ++i) {
    auto& o = a.via.array.ptr[i];
    out.push_back({at(o, "board").as<std::string>(), at(o, "order").as<std::string>(),
                   at(o, "operator").as<std::string>(), at(o, "total").as<uint64_t>()});
  }
  return out;
}

// The entries of `players` that are on `board` (ranks, 100 at a time); an
// unknown board has none.
std::map<std::string, entry> present(client& c, const std::string& board,
                                     const std::vector<std::string>& players) {
  std::map<std::string, entry> out;
  for (size_t i = 0; i < players.size(); i += 100) {
    std::vector<std::string> group(players.begin() + i,
                                   players.begin() + std::min(players.size(), i + 100));
    auto r = c.call(ranks(board, group));
    if (!r.ok() && r.error_code() == "not_found")
      return out;
    REQUIRE_MESSAGE(r.ok(), "ranks " << board << ": " << r.text());
    for (auto& e : r.entries())
      out[e.player] = e;
  }
  return out;
}

using scores = std::vector<std::pair<std::string, int64_t>>; // player, score

// Checks that every (player, score) is on `board`.
void check_present(client& c, const std::string& board, const scores& want,
                   const std::string& what) {
  std::vector<std::string> names;
  for (auto& [p, s] : want)
    names.push_back(p);
  auto got = present(c, board, names);
  size_t missing = 0, wrong = 0;
  std::string examples;
  for (auto& [p, s] : want) {
    auto it = got.find(p);
    if (it == got.end()) {
      if (++missing <= 5)
        examples += " missing " + p;
    } else if (it->second.score != s) {
      if (++wrong <= 5)
        examples += " " + p + " has " + std::to_string(it->second.score) + " not "
                    + std::to_string(s);
    }
  }
  CHECK_MESSAGE(missing + wrong == 0, what << ": " << missing << " of " << want.size()
                                           << " acknowledged players missing, " << wrong
                                           << " with the wrong score;" << examples);
}

// Checks that none of `players` is on `board`.
void check_absent(client& c, const std::string& board, const std::vector<std::string>& players,
                  const std::string& what) {
  auto got = present(c, board, players);
  std::string examples;
  size_t n = 0;
  for (auto& [p, e] : got)
    if (++n <= 5)
      examples += " " + p;
  CHECK_MESSAGE(got.empty(),
                what << ": " << got.size() << " players present that should not be:" << examples);
}

std::string padded(const std::string& prefix, size_t i, int width = 6) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*zu", width, i);
  return prefix + buf;
}

// ===========================================================================
// A pipelining writer that runs until the service dies under it.

struct writer_result {
  scores acked;
  size_t sent = 0, overloaded = 0;
  std::string error; // anything else that went wrong
};

// Submits unique players "<prefix><i>" with score base + i, `depth` in
// flight, until `stop`; then takes the replies still coming until `dead`
// and nothing more comes. Records what was acknowledged.
void run_writer(zmq::context_t& ctx, const std::string& ep, const std::string& board,
                const std::string& prefix, int64_t base, size_t depth,
                const std::atomic<bool>& stop, const std::atomic<bool>& dead, writer_result& out) {
  try {
    client c(ctx, ep);
    std::map<uint64_t, size_t> pending; // id -> i
    size_t next = 0;
    for (;;) {
      while (!stop.load() && pending.size() < depth) {
        pending[c.send(submit(board, padded(prefix, next), base + static_cast<int64_t>(next)))]
          = next;
        ++next;
        ++out.sent;
      }
      auto r = c.receive(20ms);
      if (!r) {
        if (dead.load() || (stop.load() && pending.empty()))
          return;
        continue;
      }
      auto id = r->id();
      auto it = id ? pending.find(*id) : pending.end();
      if (it == pending.end()) {
        out.error = "a reply with an unexpected id: " + r->text();
        return;
      }
      auto i = it->second;
      pending.erase(it);
      if (r->ok())
        out.acked.emplace_back(padded(prefix, i), base + static_cast<int64_t>(i));
      else if (r->error_code() == "overloaded")
        ++out.overloaded;
      else if (out.error.empty())
        out.error = "submit " + padded(prefix, i) + ": " + r->text();
    }
  } catch (const std::exception& e) {
    out.error = e.what();
  }
}

// Sends `bodies` (every one must succeed) `depth` at a time.
std::vector<reply> call_all_ok(client& c, const std::vector<body>& bodies, size_t depth = 16) {
  auto rs = c.call_all(bodies, depth);
  for (size_t i = 0; i < rs.size(); ++i)
    REQUIRE_MESSAGE(rs[i].ok(), "request " << i << ": " << rs[i].text());
  return rs;
}

} // namespace

// ===========================================================================
// 1. kill -9 at random points loses no acknowledged submit.

namespace {

// One data folder; each round starts the daemon (shards 1, 4, 7 in turn),
// checks every submit acknowledged so far, runs 8 pipelining writers and
// kills the daemon after 100-600 ms.
void kill9_rounds(const std::vector<std::string>& flags) {
  auto seed = test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng{seed};
  temp_dir dir;
  const auto data = dir.path() + "/data";
  const uint32_t shard_counts[] = {1, 4, 7};
  const int rounds = 4, threads = 8;
  scores all_acked;
  size_t restarts = 0;
  for (int round = 0; round <= rounds; ++round) {
    CAPTURE(round);
    server s{opts_on(data, shard_counts[round % 3], flags)};
    ++restarts;
    client c(s.ctx(), s.requests());
    s.settle();
    if (!all_acked.empty())
      check_present(c, "k", all_acked,
                    "after " + std::to_string(restarts - 1) + " kill -9 and restart");
    auto r = parse_recovery(s.stderr_text());
    CHECK_MESSAGE(r, "no recovery line in the log:\n" << s.stderr_text());
    if (round == rounds) {
      stop_clean(s);
      break;
    }

    std::atomic<bool> stop{false}, dead{false};
    std::vector<writer_result> results(threads);
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&, t] {
        run_writer(s.ctx(), s.requests(), "k",
                   "r" + std::to_string(round) + "t" + std::to_string(t) + "-",
                   int64_t{1000000000} * (round + 1) + int64_t{10000000} * t, 16, stop, dead,
                   results[t]);
      });
    auto delay = std::chrono::milliseconds(100 + rng() % 501);
    CAPTURE(delay.count());
    std::this_thread::sleep_for(delay);
    // Killed while the writers still have requests in flight; they then
    // take what replies got out before it died.
    auto st = s.stop(SIGKILL, patience(5s));
    stop = true;
    dead = true;
    for (auto& t : ts)
      t.join();
    REQUIRE(st);
    CHECK(describe_status(*st) == "killed by signal 9");
    size_t acked = 0;
    for (auto& w : results) {
      CHECK_MESSAGE(w.error.empty(), w.error);
      acked += w.acked.size();
      all_acked.insert(all_acked.end(), w.acked.begin(), w.acked.end());
    }
    CHECK_MESSAGE(acked > 0, "no submit was acknowledged in " << delay.count() << " ms");
  }
}

} // namespace

TEST_CASE("acknowledged submits survive kill -9 at random points") {
  kill9_rounds({});
}

// The same with the log rolling every 64 KiB and a snapshot every 3000
// events (covered segments deleted): the kills land in rolls and snapshots.
TEST_CASE("acknowledged submits survive kill -9 amid segment rolls and snapshots") {
  kill9_rounds({"--segment-bytes=65536", "--snapshot-every-events=3000"});
}

// ===========================================================================
// 2. A clean stop writes a snapshot; restarts under other shard counts give
// the same data.

TEST_CASE("a clean restart keeps the digest whatever the shard count") {
  temp_dir dir;
  const auto data = dir.path() + "/data";
  std::string d;
  std::vector<board_info> bs;
  std::map<std::string, std::vector<entry>> contents;
  const std::vector<std::string> names = {"asc.b", "inc.b", "plain"};
  {
    server s{opts_on(data, 3)};
    client c(s.ctx(), s.requests());
    call_all_ok(c,
                {configure("asc.b", std::string("asc"), std::nullopt),
                 configure("inc.b", std::nullopt, std::string("incr"))},
                1);
    std::mt19937_64 rng{7};
    std::vector<body> load;
    for (int i = 0; i < 300; ++i) {
      auto p = "a" + std::to_string(rng() % 80);
      std::optional<meta_v> m;
      if (i % 3 == 0)
        m = meta_v{"str meta " + std::to_string(i), false};
      load.push_back(submit("asc.b", p, static_cast<int64_t>(rng() % 1000) - 500,
                            static_cast<int64_t>(rng() % 5), m));
    }
    for (int i = 0; i < 300; ++i) {
      std::optional<meta_v> m;
      if (i % 4 == 0)
        m = meta_v{std::string("\x00\x01\xff bin ", 8) + std::to_string(i), true};
      load.push_back(submit("inc.b", "i" + std::to_string(rng() % 40),
                            static_cast<int64_t>(rng() % 100), std::nullopt, m));
    }
    for (int i = 0; i < 200; ++i)
      load.push_back(submit("plain", "x" + std::to_string(rng() % 60),
                            static_cast<int64_t>(rng() % 10000), static_cast<int64_t>(rng() % 3)));
    std::shuffle(load.begin(), load.end(), rng);
    call_all_ok(c, load);
    std::vector<body> items;
    for (int i = 0; i < 100; ++i)
      items.push_back(submit_item(i % 2 ? "asc.b" : "inc.b", "b" + std::to_string(i), i * 7,
                                  std::nullopt, meta_v{"batch " + std::to_string(i), i % 4 == 1}));
    auto br = c.call(batch(items));
    REQUIRE_MESSAGE(br.ok(), br.text());
    std::vector<body> removes;
    for (int i = 0; i < 20; ++i)
      removes.push_back(remove(i % 2 ? "asc.b" : "inc.b", (i % 2 ? "a" : "i") + std::to_string(i)));
    call_all_ok(c, removes);
    auto rr = c.call(reset("plain"));
    REQUIRE_MESSAGE(rr.ok(), rr.text());
    CHECK(rr.u64("removed") > 0);
    std::vector<body> after;
    for (int i = 0; i < 50; ++i)
      after.push_back(
        submit("plain", "y" + std::to_string(i), i * 3 - 70, i % 2, meta_v{"after reset", false}));
    call_all_ok(c, after);
    s.settle();
    d = digest(c);
    bs = board_list(c);
    for (auto& n : names)
      contents[n] = read_board(c, n, 500);
    REQUIRE(bs.size() == 3);
    CHECK(contents["plain"].size() == 50);
    stop_clean(s);
  }
  CHECK_MESSAGE(!snapshots(data).empty(), "no snapshot-*.snap after a clean stop");

  for (uint32_t shards : {1u, 7u}) {
    CAPTURE(shards);
    server s{opts_on(data, shards)};
    client c(s.ctx(), s.requests());
    auto r = parse_recovery(s.stderr_text());
    REQUIRE_MESSAGE(r, "no recovery line in the log:\n" << s.stderr_text());
    CHECK_MESSAGE(r->snapshot > 0, s.stderr_text());
    CHECK_MESSAGE(r->events == 0, "a clean stop left events to replay: " << s.stderr_text());
    s.settle();
    CHECK(digest(c) == d);
    auto now = board_list(c);
    CHECK_MESSAGE(now == bs, "before: " << to_string(bs) << "\nnow: " << to_string(now));
    for (auto& n : names) {
      CAPTURE(n);
      auto got = read_board(c, n, 500);
      CHECK(got.size() == contents[n].size());
      CHECK_MESSAGE(got == contents[n], "the board's entries differ");
    }
    stop_clean(s);
  }
}

// ===========================================================================
// 3. Snapshot + log tail == the whole log.

TEST_CASE("snapshot plus log tail equals a replay of the full log") {
  temp_dir dir;
  const auto data = dir.path() + "/data";
  const std::vector<std::string> flags = {"--snapshot-every-events=500", "--retain"};
  std::string d;
  {
    server s{opts_on(data, 3, flags)};
    client c(s.ctx(), s.requests());
    call_all_ok(c,
                {configure("s.asc", std::string("asc"), std::string("set")),
                 configure("s.inc", std::nullopt, std::string("incr"))},
                1);
    std::mt19937_64 rng{11};
    const std::vector<std::string> bnames = {"s.asc", "s.inc", "s.best"};
    std::vector<body> load;
    for (int i = 0; i < 3000; ++i) {
      auto& b = bnames[rng() % bnames.size()];
      auto p = "p" + std::to_string(rng() % 500);
      auto roll = rng() % 100;
      if (i == 1500)
        load.push_back(reset("s.best"));
      else if (roll < 88)
        load.push_back(
          submit(b, p, static_cast<int64_t>(rng() % 20000) - 10000, static_cast<int64_t>(rng() % 4),
                 roll % 5 == 0 ? std::optional<meta_v>(meta_v{p, roll % 2 == 0}) : std::nullopt));
      else
        load.push_back(remove(b, p));
    }
    for (size_t i = 0; i < load.size(); i += 1000)
      call_all_ok(
        c, std::vector<body>(load.begin() + i, load.begin() + std::min(load.size(), i + 1000)), 32);
    s.settle();
    d = digest(c);
    CHECK(entry_count(c) > 0);
    kill9(s);
  }
  CHECK_MESSAGE(!snapshots(data).empty(), "no snapshot after 3000 events with "
                                          "--snapshot-every-events=500");
  {
    server s{opts_on(data, 5, flags)};
    client c(s.ctx(), s.requests());
    auto r = parse_recovery(s.stderr_text());
    REQUIRE_MESSAGE(r, "no recovery line in the log:\n" << s.stderr_text());
    CHECK_MESSAGE(r->snapshot > 0, "did not start from a snapshot: " << s.stderr_text());
    CHECK(r->seq == r->snapshot + r->events);
    s.settle();
    CHECK(digest(c) == d);
    stop_clean(s);
  }
  // A damaged snapshot is passed over: the retained log reaches back.
  {
    auto snaps = snapshots(data);
    REQUIRE(!snaps.empty());
    auto bytes = file_bytes(snaps.back());
    auto recs = records_of(bytes);
    REQUIRE(!recs.empty());
    auto& victim = recs[recs.size() / 2];
    bytes[victim.body_off()] = static_cast<char>(bytes[victim.body_off()] ^ 0x55);
    write_bytes(snaps.back(), bytes);
    server s{opts_on(data, 4, flags)};
    client c(s.ctx(), s.requests());
    auto r = parse_recovery(s.stderr_text());
    REQUIRE_MESSAGE(r, "no recovery line in the log:\n" << s.stderr_text());
    CHECK_MESSAGE(r->snapshot < snapshot_seq_of(snaps.back()),
                  "started from the damaged snapshot: " << s.stderr_text());
    s.settle();
    CHECK(digest(c) == d);
    kill9(s);
  }
  for (auto& p : snapshots(data))
    fs::remove(p);
  REQUIRE(snapshots(data).empty());
  {
    server s{opts_on(data, 2, flags)};
    client c(s.ctx(), s.requests());
    auto r = parse_recovery(s.stderr_text());
    REQUIRE_MESSAGE(r, "no recovery line in the log:\n" << s.stderr_text());
    CHECK_MESSAGE(r->snapshot == 0, s.stderr_text());
    CHECK_MESSAGE(r->events >= 3002, s.stderr_text());
    s.settle();
    CHECK(digest(c) == d);
  }
}

// ===========================================================================
// 4. A torn tail is cut off; what stays is a prefix of the acknowledged order.

TEST_CASE("a torn tail of the newest segment is cut at the last whole record") {
  auto seed = test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng{seed};
  const size_t n = 300;
  std::vector<std::string> players;
  for (size_t i = 0; i < n; ++i)
    players.push_back(padded("p", i, 4));
  // 0: the cut is inside a record's length or checksum; 1: inside a body;
  // 2: anywhere in the last three records; 3: as 2, then a tail of zeros (a
  // file size that got ahead of its data).
  for (int attempt = 0; attempt < 4; ++attempt) {
    CAPTURE(attempt);
    temp_dir dir;
    const auto data = dir.path() + "/data";
    {
      server s{opts_on(data, 3)};
      client c(s.ctx(), s.requests());
      for (size_t i = 0; i < n; ++i) {
        auto r = c.call(submit("t", players[i], static_cast<int64_t>(i) + 1));
        REQUIRE_MESSAGE(r.ok(), r.text());
      }
      kill9(s);
    }
    auto segs = segments(data);
    REQUIRE(segs.size() == 1);
    auto bytes = file_bytes(segs.back());
    auto recs = records_of(bytes);
    REQUIRE_MESSAGE(recs.size() == n, "expected one record per submit, got " << recs.size());
    REQUIRE(recs.back().end() == bytes.size());
    // Cut inside one of the last three records (never on a boundary).
    size_t j = n - 1 - rng() % 3;
    const auto& rec = recs[j];
    uint64_t new_size = attempt == 0   ? rec.off + 1 + rng() % (record_header - 1)
                        : attempt == 1 ? rec.body_off() + rng() % rec.body_size()
                                       : rec.off + 1 + rng() % (rec.size - 1);
    if (attempt == 3) {
      // Zeros after the cut restore any zero bytes it removed (a body may
      // well end in 0x00, a subscore of 0): cut back to a non-zero byte, or
      // the record is whole again and rightly kept.
      while (new_size > rec.off + 1
             && std::all_of(bytes.begin() + static_cast<long>(new_size),
                            bytes.begin() + static_cast<long>(rec.end()),
                            [](char ch) { return ch == 0; }))
        --new_size;
    }
    CAPTURE(j);
    CAPTURE(new_size);
    CAPTURE(bytes.size());
    REQUIRE(new_size > rec.off);
    REQUIRE(new_size < rec.end());
    fs::resize_file(segs.back(), new_size);
    if (attempt == 3)
      fs::resize_file(segs.back(), new_size + 4096); // zeros

    scores kept;
    for (size_t i = 0; i < j; ++i)
      kept.emplace_back(players[i], static_cast<int64_t>(i) + 1);
    std::vector<std::string> lost(players.begin() + static_cast<long>(j), players.end());
    scores more;
    {
      server s{opts_on(data, 2)};
      client c(s.ctx(), s.requests());
      s.settle();
      auto out = s.stderr_text();
      CHECK_MESSAGE(contains(lower(out), "torn"), "the log does not mention the torn tail:\n"
                                                    << out);
      auto r = parse_recovery(out);
      REQUIRE_MESSAGE(r, "no recovery line in the log:\n" << out);
      CHECK(r->seq == j);
      check_present(c, "t", kept, "the whole records before the cut");
      check_absent(c, "t", lost, "the records at and after the cut");
      CHECK(entry_count(c) == j);
      // The log goes on after the cut.
      for (size_t i = 0; i < 20; ++i) {
        more.emplace_back(padded("q", i, 4), 100000 + static_cast<int64_t>(i));
        auto rep = c.call(submit("t", more.back().first, more.back().second));
        REQUIRE_MESSAGE(rep.ok(), rep.text());
      }
      kill9(s);
    }
    {
      server s{opts_on(data, 1)};
      client c(s.ctx(), s.requests());
      s.settle();
      auto out = s.stderr_text();
      CHECK_MESSAGE(!contains(lower(out), "torn"), "a second torn tail:\n" << out);
      check_present(c, "t", kept, "the prefix, after one more restart");
      check_present(c, "t", more, "the submits after the cut");
      check_absent(c, "t", lost, "the cut records, after one more restart");
      CHECK(entry_count(c) == j + more.size());
    }
  }
}

// ===========================================================================
// 5. A corrupt record in the middle stops the start; --repair keeps the rest.

TEST_CASE("a corrupt record in the middle: start fails, --repair keeps every good record") {
  auto seed = test_seed();
  CAPTURE(seed);
  std::mt19937_64 rng{seed};
  temp_dir dir;
  const auto data = dir.path() + "/data";
  const size_t n = 400;
  scores load;
  for (size_t i = 0; i < n; ++i)
    load.emplace_back(padded("cor-", i, 5), static_cast<int64_t>(i) * 10);
  {
    server s{opts_on(data, 3)};
    client c(s.ctx(), s.requests());
    std::vector<body> bodies;
    for (auto& [p, sc] : load)
      bodies.push_back(submit("c", p, sc));
    call_all_ok(c, bodies);
    kill9(s);
  }
  auto segs = segments(data);
  REQUIRE(!segs.empty());
  auto seg = segs.front();
  auto bytes = file_bytes(seg);
  auto recs = records_of(bytes);
  REQUIRE(recs.size() >= 100);
  auto& victim = recs[recs.size() / 2 - 5 + rng() % 10];
  // Which player the record is about: its body holds the name.
  auto body = bytes.substr(victim.body_off(), victim.body_size());
  auto at_name = body.find("cor-");
  REQUIRE_MESSAGE(at_name != std::string::npos, "no player name in the victim record");
  auto damaged_player = body.substr(at_name, 9);
  CAPTURE(damaged_player);
  uint64_t flip_at = 0;
  SUBCASE("a flipped byte in a record body") {
    flip_at = victim.body_off() + rng() % victim.body_size();
  }
  SUBCASE("a flipped byte in a record checksum") {
    flip_at = victim.off + 4 + rng() % 8;
  }
  SUBCASE("a flipped low byte in a record length") {
    flip_at = victim.off;
  }
  CAPTURE(flip_at);
  bytes[flip_at] = static_cast<char>(bytes[flip_at] ^ 0xff);
  write_bytes(seg, bytes);

  auto r = run_to_exit(daemon_args(data), patience(20s));
  REQUIRE_MESSAGE(r.status, "the daemon started on a corrupt log; its log:\n" << r.err);
  CHECK_MESSAGE(describe_status(*r.status) == "exit 1", describe_status(*r.status) << "\n"
                                                                                   << r.err);
  CHECK_MESSAGE(contains(r.err, seg.filename().string()), "stderr does not name the file:\n"
                                                            << r.err);
  CHECK_MESSAGE(contains(r.err, "offset"), "stderr does not give the offset:\n" << r.err);
  CHECK_MESSAGE(file_bytes(seg) == bytes, "a failed start changed " << seg);
  CHECK_MESSAGE(contains(r.err, std::to_string(victim.off)),
                "stderr does not give the damaged record's offset " << victim.off << ":\n"
                                                                    << r.err);

  scores good;
  for (auto& e : load)
    if (e.first != damaged_player)
      good.push_back(e);
  REQUIRE(good.size() == n - 1);
  {
    server s{opts_on(data, 3, {"--repair"})};
    client c(s.ctx(), s.requests());
    s.settle();
    CHECK_MESSAGE(!files_matching(data, "", ".damaged").empty(), "no *.damaged file");
    check_present(c, "c", good, "after --repair");
    auto count = entry_count(c);
    CHECK((count == n - 1 || count == n));
    kill9(s);
  }
  // The clean copy starts without --repair.
  {
    server s{opts_on(data, 2)};
    client c(s.ctx(), s.requests());
    s.settle();
    check_present(c, "c", good, "after --repair and another restart");
  }
}

// ===========================================================================
// 6. A newer format is refused.

TEST_CASE(
  "a segment of format version 1 still starts, and one of a newer version stops the start") {
  temp_dir dir;
  const auto data = dir.path() + "/data";
  {
    server s{opts_on(data, 2)};
    client c(s.ctx(), s.requests());
    for (int i = 0; i < 5; ++i)
      REQUIRE(c.call(submit("v", "p" + std::to_string(i), i)).ok());
    kill9(s);
  }
  auto segs = segments(data);
  REQUIRE(segs.size() == 1);
  auto bytes = file_bytes(segs.front());
  REQUIRE(bytes.size() > header_size);
  REQUIRE(bytes.compare(0, 8, "LBDEVLOG") == 0);
  REQUIRE(u32le(bytes, 8) == 2);
  // Version 1 (before seasons) is the same framing: it reads as it did.
  put_u32le(bytes, 8, 1);
  write_bytes(segs.front(), bytes);
  {
    server s{opts_on(data, 2)};
    client c(s.ctx(), s.requests());
    auto all = c.call(top("v"));
    REQUIRE(all.ok());
    CHECK(all.u64("total") == 5);
    kill9(s);
  }
  segs = segments(data);
  REQUIRE(!segs.empty());
  bytes = file_bytes(segs.front());
  put_u32le(bytes, 8, 3);
  write_bytes(segs.front(), bytes);

  auto r = run_to_exit(daemon_args(data), patience(20s));
  REQUIRE_MESSAGE(r.status, "the daemon started on a newer format; its log:\n" << r.err);
  CHECK_MESSAGE(describe_status(*r.status) == "exit 1", describe_status(*r.status) << "\n"
                                                                                   << r.err);
  CHECK_MESSAGE(contains(lower(r.err), "newer"), "stderr:\n" << r.err);
  CHECK_MESSAGE(contains(r.err, segs.front().filename().string()), "stderr:\n" << r.err);
  // Nothing was changed: the file is as we left it.
  CHECK(file_bytes(segs.front()) == bytes);
}

// ===========================================================================
// 7. An empty segment (a crash right after creating it) is no damage.

TEST_CASE("an empty segment file in an empty folder starts an empty service") {
  temp_dir dir;
  const auto data = dir.path() + "/data";
  fs::create_directories(data);
  write_bytes(fs::path(data) / "events-00000000000000000001.log", "");
  scores subs;
  for (int i = 0; i < 10; ++i)
    subs.emplace_back("e" + std::to_string(i), 100 + i);
  uint64_t last_seq = 0;
  {
    server s{opts_on(data, 3)};
    client c(s.ctx(), s.requests());
    s.settle();
    CHECK(entry_count(c) == 0);
    CHECK(board_list(c).empty());
    for (auto& [p, sc] : subs) {
      auto r = c.call(submit("e", p, sc));
      REQUIRE_MESSAGE(r.ok(), r.text());
    }
    s.settle();
    check_present(c, "e", subs, "before any restart");
    kill9(s);
  }
  {
    server s{opts_on(data, 4)};
    client c(s.ctx(), s.requests());
    s.settle();
    CHECK(entry_count(c) == subs.size());
    check_present(c, "e", subs, "after kill -9 and restart");
    stop_clean(s);
  }
  {
    server s{opts_on(data, 1)};
    client c(s.ctx(), s.requests());
    s.settle();
    CHECK(entry_count(c) == subs.size());
    check_present(c, "e", subs, "after a clean restart");
    auto st = c.call(stats());
    REQUIRE(st.ok());
    last_seq = st.u64("seq");
    CHECK(last_seq == subs.size());
    kill9(s);
  }
  // A crash right after a roll created the next segment: an empty newest
  // segment after real ones.
  write_bytes(fs::path(data) / padded("events-", last_seq + 1, 20).append(".log"), "");
  scores more;
  for (int i = 0; i < 10; ++i)
    more.emplace_back("m" + std::to_string(i), 200 + i);
  {
    server s{opts_on(data, 2)};
    client c(s.ctx(), s.requests());
    s.settle();
    CHECK(entry_count(c) == subs.size());
    check_present(c, "e", subs, "with an empty newest segment");
    for (auto& [p, sc] : more) {
      auto r = c.call(submit("e", p, sc));
      REQUIRE_MESSAGE(r.ok(), r.text());
    }
    kill9(s);
  }
  {
    server s{opts_on(data, 3)};
    client c(s.ctx(), s.requests());
    s.settle();
    CHECK(entry_count(c) == subs.size() + more.size());
    check_present(c, "e", subs, "after the empty newest segment and another restart");
    check_present(c, "e", more, "written after the empty newest segment");
  }
}

// ===========================================================================
// 8. A full disk refuses events with `overloaded` and loses nothing acknowledged.

namespace {

struct fill_result {
  scores acked;
  std::vector<std::string> refused;
  std::string other_errors;
  size_t sent = 0;
};

// Submits unique players "<prefix><i>" on `board`, `depth` in flight, until
// `enough` of them were refused with `overloaded` or `limit` were sent.
fill_result submit_until_refused(client& c, const std::string& board, const std::string& prefix,
                                 size_t enough, size_t limit, size_t depth = 8) {
  fill_result out;
  std::map<uint64_t, size_t> pending;
  auto name = [&](size_t i) { return padded(prefix, i, 6); };
  auto take = [&](const reply& r) {
    auto it = r.id() ? pending.find(*r.id()) : pending.end();
    REQUIRE_MESSAGE(it != pending.end(), "unexpected reply " << r.text());
    auto i = it->second;
    pending.erase(it);
    if (r.ok())
      out.acked.emplace_back(name(i), static_cast<int64_t>(i));
    else if (r.error_code() == "overloaded")
      out.refused.push_back(name(i));
    else if (out.other_errors.size() < 1000)
      out.other_errors += r.text() + "\n";
  };
  while (out.refused.size() < enough && out.sent < limit) {
    while (pending.size() < depth && out.sent < limit) {
      pending[c.send(submit(board, name(out.sent), static_cast<int64_t>(out.sent)))] = out.sent;
      ++out.sent;
    }
    auto r = c.receive(patience(10s));
    REQUIRE_MESSAGE(r, "no reply within 10 s");
    take(*r);
  }
  while (!pending.empty()) {
    auto r = c.receive(patience(10s));
    REQUIRE_MESSAGE(r, "no reply within 10 s");
    take(*r);
  }
  return out;
}

} // namespace

TEST_CASE("a full disk: events are refused, acknowledged ones stay") {
  temp_dir dir;
  const auto data = dir.path() + "/data";
  auto o = opts_on(data, 3, {"--segment-bytes=1073741824"});
  o.file_size_limit = 256 << 10;
  auto s = std::make_unique<server>(o);
  // Goes before its server: the server's ZeroMQ context waits for its sockets.
  auto c = std::make_unique<client>(s->ctx(), s->requests());
  auto f = submit_until_refused(*c, "full", "f", 50, 20000);
  CHECK_MESSAGE(f.other_errors.empty(), f.other_errors);
  REQUIRE_MESSAGE(f.refused.size() >= 50, "only " << f.refused.size() << " of " << f.sent
                                                  << " submits refused under a 256 KiB limit");
  CHECK(!f.acked.empty());
  auto p = c->call(ping());
  CHECK(p.ok());
  // A `stats` ordered behind refused events does not claim their seqs,
  // which the next events get: its seq is one an acknowledged event had.
  // A small write may still fit where the rounds before it did not: those
  // submits are acknowledged entries too.
  size_t acked_later = 0;
  {
    const auto last = c->call(submit("full", f.acked.back().first, 0)); // may be refused too
    std::vector<body> burst;
    for (int i = 0; i < 20; ++i)
      burst.push_back(submit("full", padded("burst", static_cast<size_t>(i), 3), i));
    burst.push_back(stats());
    auto replies = c->call_all(burst, burst.size());
    uint64_t acked_seq = last.ok() ? last.u64("seq") : 0;
    for (size_t i = 0; i + 1 < replies.size(); ++i)
      if (replies[i].ok()) {
        acked_seq = std::max(acked_seq, replies[i].u64("seq"));
        ++acked_later;
      }
    auto next = c->call(submit("full", "after-burst", 1));
    acked_later += next.ok();
    if (next.ok()) // the seq after the stats' belongs to it
      CHECK(replies.back().u64("seq") < next.u64("seq"));
    CHECK(replies.back().u64("seq") >= acked_seq);
    auto again = c->call(stats());
    CHECK(again.u64("seq") >= replies.back().u64("seq"));
  }
  // Replies that wait for the log (exact reads, a configure's check) are
  // not held behind the refused events' seqs: those are given again.
  auto r = c->call(rank("full", f.acked.front().first));
  CHECK_MESSAGE(r.ok(), r.text());
  CHECK_MESSAGE(c->call(top("full")).ok(), "top after refused events");
  auto cf = c->call(configure("fresh", std::string("asc"), std::nullopt));
  CHECK_MESSAGE((cf.ok() || cf.error_code() == "overloaded"), cf.text());
  CHECK_MESSAGE(c->call(rank("full", f.acked.back().first)).ok(), "rank after the configure");
  auto err = lower(s->stderr_text());
  bool says_so = contains(err, "event log")
                 && (contains(err, "fail") || contains(err, "could not")
                     || contains(err, "cannot"));
  CHECK_MESSAGE(says_so, "stderr does not say the log could not be written:\n" << s->stderr_text());

  SUBCASE("a clean stop, and a restart without the limit") {
    auto st = s->stop(SIGTERM, patience(10s));
    REQUIRE_MESSAGE(st, "did not stop on SIGTERM");
    CHECK_MESSAGE(describe_status(*st) == "exit 0", describe_status(*st) << "\n"
                                                                         << s->stderr_text());
    c.reset();
    s.reset();
    server s2{opts_on(data, 2)};
    client c2(s2.ctx(), s2.requests());
    s2.settle();
    check_present(c2, "full", f.acked, "after a full disk and a restart");
    check_absent(c2, "full", f.refused, "submits answered `overloaded`");
    CHECK(entry_count(c2) == f.acked.size() + acked_later);
  }

  SUBCASE("space comes back: writes succeed again, and kill -9 loses nothing") {
    // Raising a hard limit needs CAP_SYS_RESOURCE: without it, nothing to test.
    rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
    if (prlimit(s->pid(), RLIMIT_FSIZE, &unlimited, nullptr) == 0) {
      auto g = submit_until_refused(*c, "full", "g", 1, 300);
      CHECK_MESSAGE(g.refused.empty(), g.refused.size() << " of 300 submits refused after the "
                                                           "limit was lifted");
      CHECK(g.other_errors.empty());
      CHECK(g.acked.size() == 300);
      kill9(*s);
      c.reset();
      s.reset();
      for (uint32_t shards : {2u, 5u}) {
        CAPTURE(shards);
        server s2{opts_on(data, shards)};
        client c2(s2.ctx(), s2.requests());
        s2.settle();
        check_present(c2, "full", f.acked, "acknowledged before the disk was full");
        check_present(c2, "full", g.acked, "acknowledged after space came back");
        check_absent(c2, "full", f.refused, "submits answered `overloaded`");
        CHECK(entry_count(c2) == f.acked.size() + acked_later + g.acked.size());
        // One more round: a clean stop and a start from its snapshot.
        if (shards == 2u)
          stop_clean(s2);
      }
    }
  }
}

TEST_CASE("a full disk: an ingest ack says its frame's events were refused") {
  temp_dir dir;
  auto o = opts_on(dir.path() + "/data", 2, {"--segment-bytes=1073741824"});
  o.file_size_limit = 256 << 10;
  server s{o};
  client c(s.ctx(), s.requests());
  subscriber sub(s.ctx(), s.updates(), {"ack/gs-full/"});
  sub.sync(c);
  lb::transport::ingest_client push(s.ctx(), s.ingest());
  // One frame at a time, each waiting for its ack, until one is refused.
  const size_t per_frame = 50;
  uint64_t frames = 0, accepted = 0, rejected = 0;
  std::string last_accepted, first_refused;
  while (first_refused.empty() && frames < 2000) {
    std::vector<body> items;
    for (size_t i = 0; i < per_frame; ++i)
      items.push_back(submit_item("full", padded("p", frames * per_frame + i, 7), 1));
    push.send(batch(items).set("source", "gs-full").pack());
    ++frames;
    std::optional<update> u;
    do
      u = sub.receive(patience(10s));
    while (u && subscriber::is_sync(u->topic));
    REQUIRE_MESSAGE(u, "no ack within 10 s for frame " << frames);
    const auto& a = u->body;
    accepted += a.u64("accepted");
    rejected += a.u64("rejected");
    if (a.u64("accepted") == per_frame) {
      last_accepted = padded("p", frames * per_frame - 1, 7);
      continue;
    }
    INFO(a.text());
    CHECK(a.u64("accepted") == 0);
    CHECK(a.u64("rejected") == per_frame);
    CHECK(a.is_nil("first_seq"));
    CHECK(a.is_nil("last_seq"));
    const auto& errs = a.at("errors");
    REQUIRE(errs.type == msgpack::type::ARRAY);
    REQUIRE(errs.via.array.size == 1);
    CHECK(at(errs.via.array.ptr[0], "item").is_nil());
    CHECK(at(errs.via.array.ptr[0], "code").as<std::string>() == "overloaded");
    CHECK(at(errs.via.array.ptr[0], "message").as<std::string>().find("event log")
          != std::string::npos);
    first_refused = padded("p", (frames - 1) * per_frame, 7);
  }
  REQUIRE_MESSAGE(!first_refused.empty(), frames << " frames of " << per_frame
                                                 << " events, none refused under a 256 KiB limit");
  REQUIRE(!last_accepted.empty());
  CHECK(c.call(rank("full", last_accepted)).ok());
  CHECK(c.call(rank("full", first_refused)).error_code() == "not_found");
  auto st = c.call(stats());
  const auto* n = find(st.at("ingest_sources"), "gs-full");
  REQUIRE(n != nullptr);
  CHECK(at(*n, "frames").as<uint64_t>() == frames);
  CHECK(at(*n, "accepted").as<uint64_t>() == accepted);
  CHECK(at(*n, "rejected").as<uint64_t>() == rejected);
}
