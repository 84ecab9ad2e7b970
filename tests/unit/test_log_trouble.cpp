// When the disk says no: the snapshot backoff (actors/snapshot_actor.hpp),
// the operator's lines about the event log (actors/front/journal.hpp), and
// the seqs of events a failed log write refused (round_builder + journal +
// storage::log_writer, on a real folder with a file-size limit standing in
// for a full disk).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <sys/resource.h>

#include "actors/front/journal.hpp"
#include "actors/front/round_builder.hpp"
#include "actors/snapshot_actor.hpp"
#include "actors/storage/data_dir.hpp"
#include "actors/storage/event_reader.hpp"
#include "actors/storage/log_writer.hpp"

using namespace lb;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

struct temp_folder {
  fs::path path;
  temp_folder() {
    std::string templ = (fs::temp_directory_path() / "lbd-trouble-XXXXXX").string();
    REQUIRE(mkdtemp(templ.data()) != nullptr);
    path = templ;
  }
  ~temp_folder() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// RLIMIT_FSIZE lowered to `bytes` for the scope (writes past it fail with
// EFBIG, as on a full disk), SIGXFSZ ignored meanwhile.
struct file_size_limit {
  rlimit old{};
  void (*old_handler)(int) = nullptr;
  explicit file_size_limit(uint64_t bytes) {
    REQUIRE(getrlimit(RLIMIT_FSIZE, &old) == 0);
    old_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit lower{static_cast<rlim_t>(bytes), old.rlim_max};
    REQUIRE(setrlimit(RLIMIT_FSIZE, &lower) == 0);
  }
  ~file_size_limit() {
    setrlimit(RLIMIT_FSIZE, &old);
    std::signal(SIGXFSZ, old_handler);
  }
};

std::vector<fs::path> segments_in(const fs::path& dir) {
  std::vector<fs::path> out;
  for (auto& e : fs::directory_iterator(dir)) {
    auto name = e.path().filename().string();
    if (e.is_regular_file() && name.rfind("events-", 0) == 0 && e.path().extension() == ".log")
      out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<uint64_t> logged_seqs(const fs::path& dir) {
  std::vector<uint64_t> out;
  auto st = storage::read_events(segments_in(dir), UINT64_MAX,
                                 [&](const schemas::event_record& e) { out.push_back(e.seq); });
  REQUIRE_MESSAGE(st.ok(), st.message());
  return out;
}

schemas::submit_req submit(const std::string& player, int64_t score) {
  schemas::submit_req s;
  s.board = "b";
  s.player = player;
  s.score = score;
  return s;
}

uint64_t add_submit(actors::round_builder& rounds, const schemas::submit_req& s) {
  return rounds.event(
    s,
    [&](uint64_t n) {
      return actors::submit_event{n, s, actors::reply_to{}};
    },
    false);
}

// What gateway::refuse does to a round the log refused: its event ops go
// (their requests are answered `overloaded`), then the builder rewinds.
void refuse_round(actors::round_builder& rounds) {
  for (auto& ops : rounds.current().ops)
    ops.erase(std::remove_if(ops.begin(), ops.end(),
                             [](const actors::shard_op& op) {
                               return std::holds_alternative<actors::submit_event>(op);
                             }),
              ops.end());
  rounds.rewind();
}

actors::journal make_journal(const fs::path& dir, uint64_t segment_bytes, uint64_t last_seq) {
  auto writer = std::make_unique<storage::log_writer>(dir, segment_bytes);
  auto opened = writer->open({}, 0, last_seq);
  REQUIRE_MESSAGE(opened.ok(), opened.message());
  actors::log_options o;
  o.dir = dir;
  o.policy = actors::fsync_policy::none; // no log actor needed
  o.segment_bytes = segment_bytes;
  return actors::journal(o, std::move(writer), last_seq, actors::log_handle{});
}

} // namespace

// ---------------------------------------------------------------------------
// (a) Snapshot backoff.

TEST_CASE("snapshot_backoff: 1 s doubling to 60 s, reset by a success") {
  actors::snapshot_backoff b;
  auto t0 = actors::snapshot_backoff::clock::now();
  CHECK(b.may_try(t0));
  std::vector<long> waits;
  auto t = t0;
  for (int i = 0; i < 9; ++i) {
    auto w = b.failed(t);
    waits.push_back(static_cast<long>(w.count()));
    // Nothing before the wait is up, however often asked.
    CHECK_FALSE(b.may_try(t));
    CHECK_FALSE(b.may_try(t + w - 1ms));
    CHECK(b.may_try(t + w));
    t += w;
  }
  CHECK(waits == std::vector<long>{1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000});
  CHECK(b.failures == 9);
  b.succeeded();
  CHECK(b.may_try(t));
  CHECK(b.failed(t) == 1000ms);
  // No overflow after very many failures.
  b.failures = UINT32_MAX - 1;
  CHECK(b.failed(t) == 60000ms);
  CHECK(b.failed(t) == 60000ms);
}

TEST_CASE("snapshot_failure_line: one line with the reason and the next attempt's time") {
  auto line = actors::snapshot_failure_line(42, "cannot create x.tmp: No space left on device", 3,
                                            4000ms, 0);
  CHECK(has(line, "snapshot at seq 42 failed: cannot create x.tmp: No space left on device"));
  CHECK(has(line, "attempt 3"));
  CHECK(has(line, "next attempt in 4 s (00:00:00 UTC)"));
  CHECK(has(line, "event log still holds every event"));
  CHECK(line.find('\n') == std::string::npos);
  CHECK(has(actors::snapshot_failure_line(1, "x", 1, 1500ms, 0), "next attempt in 2 s"));
}

// ---------------------------------------------------------------------------
// (b) What the operator is told about the log.

TEST_CASE("log lines: the advice fits the errno, the outcome is what happened") {
  const fs::path dir = "/srv/lbd";
  using storage::status;
  for (int err : {ENOSPC, EDQUOT})
    CHECK(has(actors::log_trouble_advice(err, dir), "free"));
  for (int err : {EMFILE, ENFILE}) {
    auto a = actors::log_trouble_advice(err, dir);
    CHECK(has(a, "file descriptors"));
    CHECK(has(a, "--max-clients"));
    CHECK_FALSE(has(a, "disk space"));
  }
  CHECK(has(actors::log_trouble_advice(EMFILE, dir), "open-file limit"));
  for (int err : {EROFS, EACCES}) {
    auto a = actors::log_trouble_advice(err, dir);
    CHECK(has(a, "/srv/lbd"));
    CHECK(has(a, "not writable"));
    CHECK_FALSE(has(a, "disk space"));
  }
  CHECK(has(actors::log_trouble_advice(EFBIG, dir), "file-size limit"));
  CHECK(has(actors::log_trouble_advice(0, dir), "/srv/lbd"));

  // A new segment could not be started: events were accepted all along.
  auto roll = actors::failed_roll_line(
    status::from_errno("cannot create /srv/lbd/events-00000000000000000101.log", EMFILE), dir);
  CHECK(has(roll, "could not start a new log segment"));
  CHECK(has(roll, "Too many open files"));
  CHECK(has(roll, "still accepted"));
  CHECK_FALSE(has(roll, "refused"));
  CHECK_FALSE(has(roll, "disk space"));
  CHECK(has(roll, "--max-clients"));
  auto ro = actors::failed_roll_line(
    status::from_errno("cannot create /srv/lbd/events-00000000000000000101.log", EROFS), dir);
  CHECK(has(ro, "Read-only file system"));
  CHECK(has(ro, "not writable"));
  CHECK_FALSE(has(ro, "disk space"));

  // A write failed: its events were refused.
  auto full = actors::refused_write_line(
    status::from_errno("cannot write 90 bytes to /srv/lbd/events-1.log at offset 24", ENOSPC), 7,
    dir);
  CHECK(has(full, "No space left on device"));
  CHECK(has(full, "refused with `overloaded`"));
  CHECK(has(full, "7 refused so far"));
  CHECK(has(full, "free disk space"));
  CHECK(full.find('\n') == std::string::npos);
}

TEST_CASE("log_writer: a refused write's status keeps its errno") {
  temp_folder d;
  storage::log_writer w(d.path, 1 << 20);
  REQUIRE(w.open({}, 0, 0).ok());
  storage::event_batch batch;
  batch.add(1, submit("p", 1));
  auto at = w.offset();
  storage::status st;
  {
    file_size_limit lim(at);
    st = w.write(batch.records(), 1);
  }
  CHECK_FALSE(st.ok());
  CHECK(st.sys_errno() == EFBIG);
  CHECK(has(actors::refused_write_line(st, 1, d.path), "file-size limit"));
  CHECK(w.offset() == at);
  CHECK(fs::file_size(w.current()) == at);
}

TEST_CASE("journal: a segment that cannot be started leaves the events accepted") {
  temp_folder d;
  auto j = make_journal(d.path, 200, 0);
  actors::round_builder rounds(2, 0);
  // The next segment's name is taken (by a folder), so it cannot be created.
  uint64_t seq = 0;
  for (int i = 0; i < 5; ++i)
    seq = add_submit(rounds, submit("p" + std::to_string(i), i));
  fs::create_directory(storage::segment_path(d.path, seq + 1));
  auto st = j.write(rounds.current().events);
  CHECK_MESSAGE(st.ok(), st.message());
  rounds.cut();
  for (int i = 5; i < 10; ++i)
    seq = add_submit(rounds, submit("p" + std::to_string(i), i));
  st = j.write(rounds.current().events); // into the full segment, past --segment-bytes
  CHECK_MESSAGE(st.ok(), st.message());
  rounds.cut();
  CHECK(j.stats().refused == 0);
  CHECK(segments_in(d.path).size() == 1);
  CHECK(logged_seqs(d.path) == std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
}

// ---------------------------------------------------------------------------
// (c) Refused events leave no gap.

TEST_CASE("round_builder + journal: after a refused write the next event takes its seq") {
  temp_folder d;
  auto j = make_journal(d.path, 1 << 20, 10);
  actors::round_builder rounds(2, 10);

  CHECK(add_submit(rounds, submit("a", 1)) == 11);
  REQUIRE(j.write(rounds.current().events).ok());
  rounds.cut();

  // The disk refuses the next round (two events, 12 and 13).
  CHECK(add_submit(rounds, submit("b", 2)) == 12);
  CHECK(add_submit(rounds, submit("c", 3)) == 13);
  rounds.to_all(actors::freeze_marker{1, rounds.last_seq(), {}});
  storage::status refused;
  {
    file_size_limit lim(fs::file_size(segments_in(d.path).front()) + 30); // a partial record fits
    refused = j.write(rounds.current().events);
  }
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.sys_errno() == EFBIG);
  CHECK(j.stats().refused == 2);
  refuse_round(rounds);
  CHECK(rounds.last_seq() == 11);
  for (auto& [shard, r] : rounds.cut()) {
    CHECK(r.last_seq == 11); // replies gated at the round wait for 11, not 13
    REQUIRE(r.ops.size() == 1);
    CHECK(std::get<actors::freeze_marker>(r.ops[0]).seq == 11);
  }
  CHECK(j.durable() == 11);

  // The next accepted event gets the seq the first refused one had.
  CHECK(add_submit(rounds, submit("d", 4)) == 12);
  CHECK(add_submit(rounds, submit("e", 5)) == 13);
  REQUIRE(j.write(rounds.current().events).ok());
  rounds.cut();
  CHECK(j.durable() == 13);

  // The log holds 11, 12, 13 once each, with no byte of the refused write.
  CHECK(logged_seqs(d.path) == std::vector<uint64_t>{11, 12, 13});
}
