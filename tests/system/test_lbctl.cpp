// lbctl against the real leaderboardd, as a person or a script runs it: a
// destructive command on a board or player that is not there fails loudly,
// and `watch` finds the updates socket on --endpoint's host.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <sys/wait.h>

#include "tests/system/e2e_client.hpp"

using namespace lb::e2e;
using namespace std::chrono_literals;

namespace {

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

// The value of "key":"..." in the ready file's one-line JSON.
std::string json_text(const std::string& json, const std::string& key) {
  auto at = json.find("\"" + key + "\":\"");
  if (at == std::string::npos)
    return {};
  at += key.size() + 4;
  return json.substr(at, json.find('"', at) - at);
}

// leaderboardd on a loopback address other than 127.0.0.1 (the whole of
// 127/8 is this machine's), with its updates socket on the default port
// 7402 there, as a service started with only --requests and --updates'
// default port would have it on another host. Its ports come from its
// --ready-file.
class service_on_host {
public:
  service_on_host() {
    std::random_device rd;
    for (int attempt = 0; attempt < 8 && pid_ < 0; ++attempt) {
      host_ = "127." + std::to_string(1 + rd() % 250) + "." + std::to_string(rd() % 250) + "."
              + std::to_string(2 + rd() % 250);
      start();
    }
    if (pid_ < 0)
      throw std::runtime_error("leaderboardd did not start on a 127/8 address; stderr:\n"
                               + read_file(dir_.path() + "/err"));
  }
  ~service_on_host() {
    ::kill(pid_, SIGTERM);
    auto st = wait_exit(pid_, patience(5s));
    CHECK_MESSAGE((st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0),
                  "leaderboardd did not stop cleanly; stderr:\n"
                    << read_file(dir_.path() + "/err"));
  }
  service_on_host(const service_on_host&) = delete;
  service_on_host& operator=(const service_on_host&) = delete;

  const std::string& host() const { return host_; }
  const std::string& requests() const { return requests_; }
  const std::string& updates() const { return updates_; }

private:
  void start() {
    const auto ready = dir_.path() + "/ready.json";
    std::filesystem::remove_all(dir_.path() + "/data");
    pid_t pid
      = spawn({daemon_path(), "--data=" + dir_.path() + "/data", "--requests=tcp://" + host_ + ":*",
               "--ingest=tcp://" + host_ + ":*", "--updates=tcp://" + host_ + ":7402",
               "--ready-file=" + ready, "--shards=2", "--merge-interval-ms=20"},
              dir_.path() + "/out", dir_.path() + "/err");
    std::optional<int> exited;
    wait_until(
      patience(20s),
      [&] {
        exited = wait_exit(pid, 0ms);
        return exited || std::filesystem::exists(ready);
      },
      5ms);
    if (exited) // most likely 7402 is taken on that address: try another
      return;
    if (!std::filesystem::exists(ready)) {
      ::kill(pid, SIGKILL);
      wait_exit(pid, 5s);
      throw std::runtime_error("leaderboardd wrote no ready file within 20 s");
    }
    pid_ = pid;
    const auto json = read_file(ready);
    requests_ = json_text(json, "requests");
    updates_ = json_text(json, "updates");
  }

  temp_dir dir_;
  std::string host_, requests_, updates_;
  pid_t pid_ = -1;
};

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

TEST_CASE("watch listens on --endpoint's host, port 7402, unless --updates names another") {
  service_on_host svc;
  CAPTURE(svc.host());
  REQUIRE(svc.updates() == "tcp://" + svc.host() + ":7402");
  zmq::context_t ctx;
  client c(ctx, svc.requests());

  temp_dir dir;
  const auto out = dir.path() + "/out", err = dir.path() + "/err";
  pid_t pid = spawn({lbctl_path(), "--endpoint=" + svc.requests(), "watch", "arena", "--raw"}, out,
                    err);
  // The service is reached only through the endpoint's host: a score/
  // message shows that the subscription found it. Probes until one arrives
  // (those sent before the subscription is live are lost).
  int64_t i = 0;
  const bool live = wait_until(patience(20s), [&] {
    REQUIRE(c.call(submit("arena", "probe", ++i)).ok());
    return wait_until(
      100ms, [&] { return has(read_file(out), "score arena probe: "); }, 10ms);
  });
  ::kill(pid, SIGINT);
  auto st = wait_exit(pid, patience(5s));
  if (!st) {
    ::kill(pid, SIGKILL);
    wait_exit(pid, 5s);
  }
  CHECK_MESSAGE(live, "no update reached watch; its stderr:\n" << read_file(err));
  CHECK((st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0));
  // It says where it listens, on stderr: stdout stays the data.
  CHECK_MESSAGE(has(read_file(err), "on the updates socket tcp://" + svc.host() + ":7402"),
                read_file(err));
  CHECK(!has(read_file(out), "updates socket"));

  // --updates wins over the endpoint's host.
  const auto elsewhere = "tcp://127.0.0.1:" + std::to_string(free_port());
  pid = spawn({lbctl_path(), "--endpoint=" + svc.requests(), "--updates=" + elsewhere, "watch",
               "arena", "--raw"},
              out, err);
  const bool said = wait_until(
    patience(10s), [&] { return has(read_file(err), "on the updates socket " + elsewhere); }, 10ms);
  ::kill(pid, SIGINT);
  st = wait_exit(pid, patience(5s));
  if (!st) {
    ::kill(pid, SIGKILL);
    wait_exit(pid, 5s);
  }
  CHECK_MESSAGE(said, read_file(err));
  CHECK((st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0));
}
