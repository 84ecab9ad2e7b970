// A snapshot the data folder refuses, against the real leaderboardd: the
// attempts back off (actors/snapshot_actor.hpp) instead of coming with every
// merge, each says when the next comes, and once the folder takes files
// again the next attempt succeeds.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "tests/system/e2e_client.hpp"

using namespace lb::e2e;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

size_t count_of(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
    ++n;
  return n;
}

} // namespace

TEST_CASE("a snapshot that cannot be written is retried with a backoff, not at every merge") {
  server s{make_server_options(2, 20, {"--snapshot-every-events=5", "--snapshot-every-s=0"})};
  client c(s.ctx(), s.requests());
  for (int i = 0; i < 4; ++i) // seqs 1..4: no snapshot due yet
    REQUIRE(c.call(submit("b", "p" + std::to_string(i), i)).ok());
  // The snapshot at seq 5 cannot create its temporary file.
  const fs::path blocker = s.data_dir() + "/snapshot-00000000000000000005.snap.tmp";
  fs::create_directory(blocker);
  REQUIRE(c.call(submit("b", "p4", 4)).ok()); // seq 5: a snapshot is due

  // No event comes, but every `stats` cuts the stream (a merge each, at seq
  // 5): before the backoff, each one retried the snapshot and logged a line.
  const std::string failed = "snapshot at seq 5 failed";
  auto until = std::chrono::steady_clock::now() + 3s;
  int merges = 0;
  while (std::chrono::steady_clock::now() < until) {
    REQUIRE(c.call(stats()).ok());
    ++merges;
    std::this_thread::sleep_for(20ms);
  }
  auto err = s.stderr_text();
  auto failures = count_of(err, failed);
  CHECK(merges >= 50);
  // Attempts at 0, 1 and 3 s; one more for a slow machine.
  CHECK_MESSAGE(failures >= 1, err);
  CHECK_MESSAGE(failures <= 4, failures << " failed attempts in 3 s over " << merges << " merges:\n"
                                        << err);
  CHECK_MESSAGE(count_of(err, "next attempt in 1 s") == 1, err);
  if (failures >= 2)
    CHECK_MESSAGE(count_of(err, "next attempt in 2 s") == 1, err);
  CHECK(count_of(err, "\n") == count_of(err, "leaderboardd: ")); // one line each

  // The folder takes files again: an attempt after the backoff succeeds.
  fs::remove(blocker);
  auto deadline = std::chrono::steady_clock::now() + patience(15s);
  bool written = false;
  while (!written && std::chrono::steady_clock::now() < deadline) {
    REQUIRE(c.call(stats()).ok());
    std::this_thread::sleep_for(50ms);
    written = s.stderr_text().find("snapshot at seq 5 written") != std::string::npos;
  }
  CHECK_MESSAGE(written, s.stderr_text());
  CHECK(s.stderr_text().find("failed attempts") != std::string::npos);
}
