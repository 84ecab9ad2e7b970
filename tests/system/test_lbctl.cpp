// lbctl against the real leaderboardd, as a person or a script runs it: a
// destructive command on a board or player that is not there fails loudly.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <csignal>
#include <cstdlib>
#include <string>
#include <vector>

#include <sys/wait.h>

#include "tests/system/e2e_client.hpp"

using namespace lb::e2e;
using namespace std::chrono_literals;

namespace {

std::string lbctl_path() {
  const char* p = std::getenv("LBCTL");
  if (p == nullptr || *p == '\0')
    throw std::runtime_error("LBCTL is not set (meson test sets it)");
  return p;
}

struct lbctl_result {
  int code = -1; // the exit code; -1: did not exit normally in time
  std::string out, err;
};

lbctl_result lbctl(const server& s, std::vector<std::string> args) {
  args.insert(args.begin(), {lbctl_path(), "--endpoint=" + s.requests()});
  auto r = run_to_exit(args, patience(20s));
  lbctl_result out{-1, r.out, r.err};
  if (r.status && WIFEXITED(*r.status))
    out.code = WEXITSTATUS(*r.status);
  return out;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("reset and remove on a board or player that is not there: a message and exit 1") {
  server s{make_server_options(2, 20)};
  client c(s.ctx(), s.requests());
  REQUIRE(c.call(submit("arena", "alice", 10)).ok());
  REQUIRE(c.call(submit("arena", "bob", 20)).ok());

  auto r = lbctl(s, {"reset", "nosuchboard"});
  CHECK_MESSAGE(r.code == 1, r.err);
  CHECK_MESSAGE(has(r.err, "nothing removed: there is no board nosuchboard"), r.err);
  CHECK(r.out.empty());
  // Nothing was sent but the question: no event in the log.
  CHECK(c.call(stats()).u64("seq") == 2);

  r = lbctl(s, {"reset", "nosuchboard", "--json"});
  CHECK(r.code == 1);
  CHECK(r.out.empty());

  r = lbctl(s, {"remove", "nosuchboard", "alice"});
  CHECK_MESSAGE(r.code == 1, r.err);
  CHECK_MESSAGE(has(r.err, "nothing removed: there is no board nosuchboard"), r.err);

  r = lbctl(s, {"remove", "arena", "ghost"});
  CHECK_MESSAGE(r.code == 1, r.err);
  CHECK_MESSAGE(has(r.err, "nothing removed: ghost is not on board arena"), r.err);
  CHECK(r.out.empty());

  // A script with --json still gets the reply on stdout.
  r = lbctl(s, {"remove", "arena", "ghost", "--json"});
  CHECK(r.code == 1);
  CHECK_MESSAGE(has(r.out, "\"removed\":false"), r.out);

  r = lbctl(s, {"remove", "arena", "alice"});
  CHECK_MESSAGE(r.code == 0, r.err);
  CHECK_MESSAGE(has(r.out, "removed alice from arena"), r.out);

  r = lbctl(s, {"reset", "arena"});
  CHECK_MESSAGE(r.code == 0, r.err);
  CHECK_MESSAGE(has(r.out, "reset arena: 1 entry removed"), r.out);

  // An empty board exists all the same: resetting it is no mistake.
  r = lbctl(s, {"reset", "arena"});
  CHECK_MESSAGE(r.code == 0, r.err);
  CHECK_MESSAGE(has(r.out, "reset arena: 0 entries removed"), r.out);
  r = lbctl(s, {"configure", "ladder", "--order=asc"});
  REQUIRE_MESSAGE(r.code == 0, r.err);
  r = lbctl(s, {"reset", "ladder"});
  CHECK_MESSAGE(r.code == 0, r.err);

  // lbctl --help documents the exit codes.
  r = lbctl(s, {"--help"});
  CHECK(r.code == 0);
  CHECK(has(r.out, "found nothing to remove"));
}
