// lb-replay as a user runs it: a subprocess over a log written here with the
// storage layer's own writer. `rebuild` must agree with a replay_state fed in
// this process, and `send` into the real leaderboardd must give the service
// the digest `rebuild` prints, whatever its shard count.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include <sys/wait.h>

#include "actors/ranking/digest.hpp"
#include "actors/storage/data_dir.hpp"
#include "actors/storage/log_writer.hpp"
#include "actors/storage/replay_state.hpp"
#include "actors/storage/snapshot_file.hpp"
#include "schemas/event_record.hpp"
#include "tests/system/e2e_client.hpp"

using namespace lb;
using namespace lb::e2e;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// 2024-05-01T10:00:00.000Z
constexpr int64_t t_start = 1714557600000;
constexpr int64_t t_step = 7; // ms between events

std::string replay_path() {
  return program_path("LB_REPLAY");
}

// ---------------------------------------------------------------------------
// The fixture: every event type, every operator, both orders, ties, meta as
// str and bin, a reset followed by a new configuration, several segments.

struct counts {
  uint64_t submit = 0, remove = 0, reset = 0, configure = 0, rollover = 0;
};

std::vector<schemas::event_record> make_events(counts& c) {
  using namespace schemas;
  std::vector<event_record> out;
  auto add = [&](event_body b) {
    const uint64_t seq = out.size() + 1;
    out.push_back({seq, t_start + static_cast<int64_t>(seq) * t_step, std::move(b)});
  };
  add(configure_event_body{"ladder", board_order::asc, score_operator::set, "", 1});
  // Keeps 2 closed seasons (no schedule: `send` leaves schedules out).
  add(configure_event_body{"speed", board_order::desc, score_operator::incr, "", 2});
  add(configure_event_body{"drain", board_order::asc, score_operator::decr, "", 1});
  const std::vector<std::string> boards = {"arena", "ladder", "speed", "drain"};
  std::mt19937_64 rng{77};
  auto submit = [&](const std::string& board) {
    submit_req s{board, "p" + std::to_string(rng() % 25), static_cast<int64_t>(rng() % 12) - 3,
                 static_cast<int64_t>(rng() % 3), std::nullopt};
    switch (rng() % 5) {
      case 0:
        s.meta = meta_value{"lvl " + std::to_string(rng() % 9), false};
        break;
      case 1:
        s.meta = meta_value{std::string("\x00\xff\x01", 3), true};
        break;
      default:
        break;
    }
    add(s);
  };
  for (int i = 0; i < 230; ++i) {
    // Three seasons of "speed" close: the first is dropped, two are kept.
    if (i % 70 == 69) {
      const int64_t t = t_start + static_cast<int64_t>(out.size()) * t_step;
      add(rollover_body{"speed", static_cast<uint32_t>(i / 70 + 1), t, t, false});
    }
    const auto& board = boards[rng() % boards.size()];
    if (rng() % 10 == 0)
      add(remove_req{board, "p" + std::to_string(rng() % 25)});
    else
      submit(board);
  }
  // After a reset the board is empty again, so it may change its order.
  add(reset_req{"arena"});
  add(configure_event_body{"arena", board_order::asc, score_operator::best, "", 1});
  add(reset_req{"nowhere"}); // an unknown board: still an event
  for (int i = 0; i < 160; ++i)
    submit(boards[rng() % boards.size()]);
  add(remove_req{"ladder", "p3"});
  for (const auto& ev : out) {
    switch (ev.body.index()) {
      case 0:
        ++c.submit;
        break;
      case 1:
        ++c.remove;
        break;
      case 2:
        ++c.reset;
        break;
      case 4:
        ++c.rollover;
        break;
      default:
        ++c.configure;
        break;
    }
  }
  return out;
}

struct record_place {
  fs::path file;
  uint64_t offset = 0;
  std::size_t body_size = 0;
};

storage::data_files listed(const fs::path& dir) {
  storage::data_files files;
  storage::throw_if_error(storage::list_files(dir, files));
  return files;
}

struct fixture {
  temp_dir tmp;
  fs::path data;
  std::vector<schemas::event_record> events;
  counts types;
  std::vector<record_place> places; // per event
  std::vector<fs::path> segments;

  fixture() {
    data = fs::path(tmp.path()) / "data";
    fs::create_directories(data);
    events = make_events(types);
    storage::log_writer w(data, 3000); // small: several segments
    REQUIRE(w.open(fs::path(), 0, 0).ok());
    for (const auto& ev : events) {
      std::string body, framed;
      schemas::append_event(body, ev);
      storage::append_record(framed, body);
      places.push_back({w.current(), w.offset(), body.size()});
      const auto err = w.write(framed, ev.seq);
      REQUIRE_MESSAGE(err.ok(), err.message());
      if (w.full())
        REQUIRE(w.roll().ok());
    }
    REQUIRE(w.sync().ok());
    for (const auto& s : listed(data).segments)
      segments.push_back(s.path);
    REQUIRE(segments.size() >= 3);
  }

  uint64_t last_seq() const { return events.back().seq; }

  // The digest computed here, without lb-replay.
  std::string digest(uint64_t until = UINT64_MAX, const std::string& board = "") const {
    storage::replay_state st;
    uint64_t last = 0;
    for (const auto& ev : events)
      if (ev.seq <= until && (board.empty() || schemas::board_of(ev.body) == board)) {
        st.apply(ev);
        last = ev.seq;
      }
    return ranking::state_digest(st.freeze(last));
  }
};

struct result {
  int code = -1; // exit code; -1: killed or timed out
  std::string out, err;
};

result replay(std::vector<std::string> args, std::chrono::milliseconds timeout = patience(30s)) {
  args.insert(args.begin(), replay_path());
  auto r = run_to_exit(args, timeout);
  result out{-1, r.out, r.err};
  if (r.status && WIFEXITED(*r.status))
    out.code = WEXITSTATUS(*r.status);
  return out;
}

// The value of "key":"..." in one line of JSON.
std::string json_str(const std::string& json, const std::string& key) {
  const std::string tag = "\"" + key + "\":\"";
  const auto at = json.find(tag);
  if (at == std::string::npos)
    return "(no " + key + ")";
  const auto from = at + tag.size();
  return json.substr(from, json.find('"', from) - from);
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> paths(const std::vector<fs::path>& files) {
  std::vector<std::string> out;
  for (const auto& f : files)
    out.push_back(f.string());
  return out;
}

} // namespace

// ===========================================================================

TEST_CASE("inspect counts a folder's events and finds it intact") {
  fixture f;
  auto r = replay({"inspect", f.data.string(), "--json"});
  CHECK_MESSAGE(r.code == 0, r.err);
  const auto& t = f.types;
  CHECK_MESSAGE(has(r.out, "\"total\":{\"files\":" + std::to_string(f.segments.size())), r.out);
  CHECK(has(r.out, "\"records\":" + std::to_string(f.events.size())));
  CHECK(has(r.out, "\"events\":{\"submit\":" + std::to_string(t.submit) + ",\"remove\":"
                     + std::to_string(t.remove) + ",\"reset\":" + std::to_string(t.reset)
                     + ",\"configure\":" + std::to_string(t.configure)
                     + ",\"rollover\":" + std::to_string(t.rollover) + "}"));
  CHECK(t.rollover == 3);
  CHECK(has(r.out, "{\"seq\":"));
  CHECK(has(r.out, "\"board\":\"speed\",\"season\":3,"));
  CHECK(has(r.out, "\"seq\":{\"first\":1,\"last\":" + std::to_string(f.last_seq()) + "}"));
  CHECK(has(r.out, "\"first\":\"2024-05-01T10:00:00.007Z\""));
  CHECK(has(r.out, "\"problems\":0"));
  CHECK(has(r.out, "{\"board\":\"nowhere\",\"events\":1}"));

  auto text = replay({"inspect", f.data.string()});
  CHECK_MESSAGE(text.code == 0, text.err);
  CHECK(has(text.out, "seq      1 .. " + std::to_string(f.last_seq())));
  CHECK(has(text.out, "every record intact"));
  CHECK(has(text.out, "rollovers 3"));
  CHECK(has(text.out, "reset archive"));
}

TEST_CASE("inspect reports a flipped byte with its offset, checks the rest, exits 1") {
  fixture f;
  // A record in the middle of the middle segment.
  const auto middle = f.segments[f.segments.size() / 2];
  std::vector<std::size_t> in_file;
  for (std::size_t i = 0; i < f.places.size(); ++i)
    if (f.places[i].file == middle)
      in_file.push_back(i);
  REQUIRE(in_file.size() >= 3);
  const auto& victim = f.places[in_file[in_file.size() / 2]];

  temp_dir copy_dir;
  const fs::path copy = fs::path(copy_dir.path()) / middle.filename();
  fs::copy_file(middle, copy);
  {
    std::fstream io(copy, std::ios::in | std::ios::out | std::ios::binary);
    const auto at = static_cast<std::streamoff>(victim.offset + storage::record_header_size
                                                + victim.body_size / 2);
    io.seekg(at);
    char c = 0;
    io.get(c);
    io.seekp(at);
    io.put(static_cast<char>(c ^ 0x5a));
  }

  auto r = replay({"inspect", copy.string()});
  CHECK_MESSAGE(r.code == 1, r.out, r.err);
  CHECK_MESSAGE(has(r.out, "offset " + std::to_string(victim.offset) + ": corrupt"), r.out);

  auto j = replay({"inspect", copy.string(), "--json"});
  CHECK(j.code == 1);
  CHECK_MESSAGE(has(j.out, "\"offset\":" + std::to_string(victim.offset)), j.out);
  CHECK(has(j.out, "\"ok\":false"));
  // Every other record of the file was still read.
  CHECK_MESSAGE(has(j.out, "\"records\":" + std::to_string(in_file.size() - 1)), j.out);

  // The intact original still passes.
  CHECK(replay({"inspect", middle.string()}).code == 0);
}

TEST_CASE("rebuild --season shows a kept closed season's standings; a dropped one none") {
  fixture f;
  storage::replay_state st;
  for (const auto& ev : f.events)
    st.apply(ev);
  const auto& speed = st.boards().at("speed");
  REQUIRE(speed.closed());
  const auto* third = ranking::find_season(speed.closed().get(), 3);
  REQUIRE(third != nullptr);
  auto r = replay({"rebuild", f.data.string(), "--season=3", "--json"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(has(r.out, "\"season\":3"));
  CHECK_MESSAGE(has(r.out, "\"board\":\"speed\",\"order\":\"desc\",\"operator\":\"incr\",\"total\":"
                             + std::to_string(third->part->tree.size())),
                r.out);
  CHECK_FALSE(has(r.out, "\"board\":\"arena\"")); // no seasons of its own
  CHECK(json_str(r.out, "digest") == f.digest()); // the digest stays the whole state's
  // Season 1 was dropped (keep 2): nothing to show, and a note says so.
  auto gone = replay({"rebuild", f.data.string(), "--season=1"});
  CHECK(gone.code == 0);
  CHECK_MESSAGE(has(gone.err, "no board keeps season 1"), gone.err);
}

TEST_CASE("rebuild prints the digest a replay_state gives, from a folder or from files") {
  fixture f;
  const auto expected = f.digest();

  auto folder = replay({"rebuild", f.data.string(), "--json"});
  REQUIRE_MESSAGE(folder.code == 0, folder.err);
  CHECK(json_str(folder.out, "digest") == expected);
  CHECK(has(folder.out, "\"last_seq\":" + std::to_string(f.last_seq())));

  auto files_args = paths(f.segments);
  files_args.insert(files_args.begin(), "rebuild");
  files_args.push_back("--json");
  auto files = replay(files_args);
  REQUIRE_MESSAGE(files.code == 0, files.err);
  CHECK(json_str(files.out, "digest") == expected);
  // arena was reset and reconfigured ascending.
  CHECK(has(files.out, "\"board\":\"arena\",\"order\":\"asc\",\"operator\":\"best\""));
  CHECK(has(files.out, "\"board\":\"speed\",\"order\":\"desc\",\"operator\":\"incr\""));

  auto text = replay({"rebuild", f.data.string(), "--top=3"});
  REQUIRE(text.code == 0);
  CHECK(text.out.rfind("digest " + expected + "\n", 0) == 0);
  CHECK(has(text.out, "RANK  PLAYER"));
  CHECK(has(text.out, "ladder (asc, set): "));
}

TEST_CASE("rebuild --until-seq and --board change the state as they should") {
  fixture f;
  const uint64_t cut = 200; // before arena's reset
  const auto full = f.digest();
  const auto until = f.digest(cut);
  const auto ladder = f.digest(UINT64_MAX, "ladder");
  REQUIRE(until != full);
  REQUIRE(ladder != full);

  for (const auto& log : {f.data.string(), f.segments.front().string()}) {
    CAPTURE(log);
    std::vector<std::string> args = {"rebuild", log};
    if (log != f.data.string()) // the files, in order
      for (std::size_t i = 1; i < f.segments.size(); ++i)
        args.push_back(f.segments[i].string());
    auto a = args;
    a.insert(a.end(), {"--until-seq=" + std::to_string(cut), "--json"});
    auto r = replay(a);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(json_str(r.out, "digest") == until);
    CHECK(has(r.out, "\"last_seq\":" + std::to_string(cut)));
    CHECK(has(r.out, "\"board\":\"arena\",\"order\":\"desc\"")); // not yet reconfigured

    auto b = args;
    b.insert(b.end(), {"--board", "ladder", "--json"});
    r = replay(b);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(json_str(r.out, "digest") == ladder);
    CHECK(has(r.out, "\"board\":\"ladder\""));
    CHECK_FALSE(has(r.out, "\"board\":\"arena\""));

    auto both = args;
    both.insert(both.end(), {"--board=ladder", "--until-seq=" + std::to_string(cut), "--json"});
    r = replay(both);
    REQUIRE(r.code == 0);
    CHECK(json_str(r.out, "digest") == f.digest(cut, "ladder"));
  }
}

TEST_CASE("a folder with a snapshot and its covered segments deleted") {
  fixture f;
  // As leaderboardd leaves it: a snapshot at the end of the second segment,
  // the two segments it covers gone.
  const uint64_t snap = listed(f.data).segments[2].seq - 1;
  {
    storage::replay_state st;
    for (const auto& ev : f.events)
      if (ev.seq <= snap)
        st.apply(ev);
    fs::path written;
    REQUIRE(storage::write_snapshot(f.data, st.freeze(snap), t_start, written).ok());
  }
  fs::remove(f.segments[0]);
  fs::remove(f.segments[1]);

  auto r = replay({"rebuild", f.data.string(), "--json"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(json_str(r.out, "digest") == f.digest());
  CHECK(has(r.out, "\"snapshot_seq\":" + std::to_string(snap)));

  const uint64_t later = snap + 40;
  r = replay({"rebuild", f.data.string(), "--until-seq=" + std::to_string(later), "--json"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(json_str(r.out, "digest") == f.digest(later));

  // Before the snapshot, with the log that led there deleted: impossible.
  r = replay({"rebuild", f.data.string(), "--until-seq=" + std::to_string(snap - 10)});
  CHECK(r.code == 2);
  CHECK_MESSAGE(has(r.err, "snapshot"), r.err);

  // send cannot replay a snapshot, and says what to do instead.
  r = replay({"send", f.data.string(), "--to=tcp://127.0.0.1:1"});
  CHECK(r.code == 2);
  CHECK_MESSAGE(has(r.err, "--from-seq=" + std::to_string(snap + 1)), r.err);
  CHECK(has(r.err, "--retain"));

  r = replay({"inspect", f.data.string()});
  CHECK_MESSAGE(r.code == 0, r.out);
  CHECK(has(r.out, "snapshot at seq " + std::to_string(snap)));
}

TEST_CASE("a torn tail on the newest segment: damage to inspect, cut by a folder rebuild") {
  fixture f;
  {
    std::ofstream out(f.segments.back(), std::ios::app | std::ios::binary);
    out.write("\x40\x00\x00\x00\x01", 5); // a record header cut short
  }
  auto r = replay({"inspect", f.data.string()});
  CHECK(r.code == 1);
  CHECK_MESSAGE(has(r.out, "torn_tail"), r.out);

  // Segment files: read_events reports the tail as damage.
  auto files = paths(f.segments);
  files.insert(files.begin(), "rebuild");
  CHECK(replay(files).code == 1);

  // send reads the folder as recovery would, without changing it.
  const auto size = fs::file_size(f.segments.back());
  r = replay({"send", f.data.string(), "--to=tcp://127.0.0.1:1", "--timeout-ms=100"});
  CHECK(r.code == 3);
  CHECK_MESSAGE(has(r.err, "torn write"), r.err);
  CHECK(fs::file_size(f.segments.back()) == size);

  // The folder: read past the torn tail as recovery would, but the file is
  // left alone (an offline tool never cuts a live service's segment).
  r = replay({"rebuild", f.data.string(), "--json"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  CHECK(json_str(r.out, "digest") == f.digest());
  CHECK_MESSAGE(has(r.err, "torn"), r.err);
  CHECK(fs::file_size(f.segments.back()) == size);
}

TEST_CASE("send --max into leaderboardd gives the service rebuild's digest, with 1 or 4 shards") {
  fixture f;
  const auto expected = f.digest();
  for (uint32_t shards : {1u, 4u}) {
    CAPTURE(shards);
    server_options so;
    so.shards = shards;
    server s{so};
    // 4 shards: paced by the recorded times (the log spans under 3 s, so
    // 50x is quick) and one event per request, the other path through send.
    std::vector<std::string> args = {"send", f.data.string(), "--to", s.requests(),
                                     "--timeout-ms=10000"};
    args.push_back(shards == 1 ? "--max" : "--speed=50");
    auto r = replay(args);
    REQUIRE_MESSAGE(r.code == 0, r.out, r.err);
    CHECK_MESSAGE(has(r.out, "sent " + std::to_string(f.events.size()) + " events in "), r.out);
    CHECK(has(r.out, ", 0 errors"));

    client c(s.ctx(), s.requests());
    s.settle();
    auto st = c.call(stats());
    CHECK(st.str("digest") == expected);
    // Every event was accepted, once, in order.
    CHECK(st.u64("seq") == f.last_seq());

    if (shards == 1) {
      // Into a service that has the data already: refused, nothing sent.
      auto again = replay(args);
      CHECK(again.code == 1);
      CHECK_MESSAGE(has(again.err, "already holds events (its stats seq is "
                                     + std::to_string(f.last_seq()) + ")"),
                    again.err);
      CHECK(has(again.err, "--force"));
      CHECK(c.call(stats()).u64("seq") == f.last_seq());
      // --force sends anyway: configures then conflict.
      args.push_back("--force");
      auto forced = replay(args);
      CHECK(forced.code == 1);
      CHECK_MESSAGE(has(forced.err, "conflict"), forced.err);
      CHECK(has(forced.err, "expected"));
    }
  }
}

TEST_CASE("send with filters sends only what they select") {
  fixture f;
  server_options so;
  so.shards = 2;
  server s{so};
  auto r = replay({"send", f.data.string(), "--to=" + s.requests(), "--max", "--board=ladder",
                   "--until-seq=200", "--json", "--timeout-ms=10000"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  uint64_t n = 0;
  for (const auto& ev : f.events)
    n += ev.seq <= 200 && schemas::board_of(ev.body) == "ladder";
  CHECK_MESSAGE(has(r.out, "\"sent\":" + std::to_string(n) + ","), r.out);
  client c(s.ctx(), s.requests());
  s.settle();
  CHECK(c.call(stats()).str("digest") == f.digest(200, "ladder"));
}

TEST_CASE("send refuses a service that holds events unless --force, which adds on top of them") {
  fixture f;
  server_options so;
  so.shards = 2;
  server s{so};
  client c(s.ctx(), s.requests());
  // One event of the service's own, on a board the log does not touch.
  REQUIRE(c.call(submit("own", "zed", 5)).ok());
  const std::vector<std::string> args = {"send", f.data.string(), "--to=" + s.requests(), "--max",
                                         "--timeout-ms=10000"};
  auto refused = replay(args);
  CHECK_MESSAGE(refused.code == 1, refused.err);
  CHECK_MESSAGE(has(refused.err, s.requests() + " already holds events (its stats seq is 1)"),
                refused.err);
  CHECK(has(refused.err, "empty --data folder"));
  CHECK(has(refused.err, "--force"));
  CHECK(refused.out.empty());
  CHECK(c.call(stats()).u64("seq") == 1);

  auto forced_args = args;
  forced_args.push_back("--force");
  auto forced = replay(forced_args);
  CHECK_MESSAGE(forced.code == 0, forced.err);
  CHECK_MESSAGE(has(forced.out, "sent " + std::to_string(f.events.size()) + " events in "),
                forced.out);
  s.settle();
  CHECK(c.call(stats()).u64("seq") == f.last_seq() + 1);
  CHECK(c.call(rank("own", "zed", true)).ok());
}

TEST_CASE("send to an endpoint where nothing answers exits 3 quickly") {
  fixture f;
  const auto endpoint = "tcp://127.0.0.1:" + std::to_string(free_port());
  const auto start = std::chrono::steady_clock::now();
  auto r = replay({"send", f.data.string(), "--to", endpoint, "--max", "--timeout-ms=300"});
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK_MESSAGE(r.code == 3, r.err);
  CHECK(has(r.err, "no reply from " + endpoint));
  CHECK(took < patience(5s));
}

TEST_CASE("bad command lines exit 2 with a hint; --help exits 0") {
  fixture f;
  const auto dir = f.data.string();
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"send", dir},                         // no --to
        {"rebuild", dir, "--to=tcp://127.0.0.1:1"},                    // a flag of another command
        {"send", dir, "--to=tcp://127.0.0.1:1", "--max", "--speed=2"}, // both paces
        {"send", dir, "--to=tcp://127.0.0.1:1", "--speed=0"},
        {"frobnicate", dir},
        {"inspect", dir + "/missing"},
        {"inspect"},
        {"rebuild", dir, f.segments.front().string()}, // folder mixed with files
        {"rebuild", dir, "--board=no spaces"},
        {"send", dir, "--to=not an endpoint"}}) {
    CAPTURE(args);
    auto r = replay(args);
    CHECK(r.code == 2);
    CHECK(has(r.err, "lb-replay --help"));
  }
  auto help = replay({"--help"});
  CHECK(help.code == 0);
  CHECK(has(help.out, "usage: lb-replay"));
}
