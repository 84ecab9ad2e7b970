// The e2e tests of leaderboardd as a process: its flags, its signals, its
// ready file, its log and a port that is already taken.
#include <doctest/doctest.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/system/e2e_client.hpp"

using namespace lb::e2e;
using namespace std::chrono_literals;

namespace {

// The string value of `key` in a flat JSON object (the ready file's), or
// nothing; endpoints hold no escapes.
std::optional<std::string> json_text(const std::string& json, const std::string& key) {
  auto at = json.find("\"" + key + "\":\"");
  if (at == std::string::npos)
    return std::nullopt;
  at += key.size() + 4;
  auto end = json.find('"', at);
  if (end == std::string::npos)
    return std::nullopt;
  return json.substr(at, end - at);
}

std::optional<long> json_whole(const std::string& json, const std::string& key) {
  auto at = json.find("\"" + key + "\":");
  if (at == std::string::npos)
    return std::nullopt;
  return std::stol(json.substr(at + key.size() + 3));
}

} // namespace

TEST_CASE("flags, signals and a busy port") {
  auto exe = daemon_path();
  SUBCASE("an unknown flag: exit 2 and a message") {
    auto r = run_to_exit({exe, "--bogus=1"}, patience(10s));
    REQUIRE(r.status);
    CHECK(describe_status(*r.status) == "exit 2");
    CHECK(r.err.find("bogus") != std::string::npos);
  }
  SUBCASE("a value out of range: exit 2") {
    auto r = run_to_exit({exe, "--shards=0"}, patience(10s));
    REQUIRE(r.status);
    CHECK(describe_status(*r.status) == "exit 2");
    CHECK(r.err.find("--shards") != std::string::npos);
  }
  SUBCASE("--help: exit 0 with the usage") {
    auto r = run_to_exit({exe, "--help"}, patience(10s));
    REQUIRE(r.status);
    CHECK(describe_status(*r.status) == "exit 0");
    CHECK(r.out.find("usage:") != std::string::npos);
    CHECK(r.out.find("--requests") != std::string::npos);
  }
  SUBCASE("SIGINT and SIGTERM stop it within a second, exit 0") {
    for (int sig : {SIGINT, SIGTERM}) {
      CAPTURE(sig);
      server s;
      client c(s.ctx(), s.requests());
      REQUIRE(c.call(submit("sig", "p", 1)).ok());
      auto t0 = std::chrono::steady_clock::now();
      // The service promises 1 s; under TSan everything is slower.
      auto st = s.stop(sig, patience(1s));
      REQUIRE_MESSAGE(st, "still running " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::steady_clock::now() - t0)
                                                .count()
                                           << " ms after the signal");
      CHECK(describe_status(*st) == "exit 0");
      CHECK(s.stderr_text().find("leaderboardd: requests") != std::string::npos);
    }
  }
  SUBCASE("SIGTERM while actors still work off a backlog: exit 0, no hang") {
    // Replies produced after the I/O thread has closed its sockets have
    // nowhere to go; they must not block the actor that makes them (and with
    // it the stop).
    for (int round = 0; round < 5; ++round) {
      CAPTURE(round);
      server s;
      std::atomic<bool> stop{false};
      std::atomic<size_t> replies{0};
      std::vector<std::thread> load;
      for (int i = 0; i < 4; ++i)
        load.emplace_back([&s, &stop, &replies, i] {
          client c(s.ctx(), s.requests());
          for (size_t n = 0; !stop.load(); ++n) { // closed loop, 32 in flight
            c.send(
              submit("busy", "p" + std::to_string(i) + "-" + std::to_string(n % 5000), int64_t(n)));
            if (n < 32)
              continue;
            if (!c.receive(patience(1s)))
              break; // the service has stopped
            ++replies;
          }
        });
      // Every client's window has turned over several times: the actors
      // are busy with a backlog of requests.
      const bool busy = wait_until(
        patience(10s), [&] { return replies.load() >= 4 * 32 * 8; }, 1ms);
      auto st = s.stop(SIGTERM, patience(5s));
      stop = true;
      for (auto& t : load)
        t.join();
      CHECK_MESSAGE(busy, "only " << replies.load() << " replies before SIGTERM");
      REQUIRE_MESSAGE(st, "still running 5 s after SIGTERM under load");
      CHECK(describe_status(*st) == "exit 0");
    }
  }
  SUBCASE("--ready-file: written once it answers, with the bound endpoints; gone after a stop") {
    temp_dir dir;
    const auto ready = dir.path() + "/run/ready.json";
    std::filesystem::create_directory(dir.path() + "/run");
    const auto out = dir.path() + "/stdout", err = dir.path() + "/stderr";
    // Ports 0 and * alike: the file says which ones the system picked.
    pid_t pid = spawn({exe, "--data=" + dir.path() + "/data", "--requests=tcp://127.0.0.1:0",
                       "--ingest=tcp://127.0.0.1:*", "--updates=tcp://127.0.0.1:*",
                       "--ready-file=" + ready, "--shards=2"},
                      out, err);
    const bool written = wait_until(
      patience(20s), [&] { return std::filesystem::exists(ready); }, 5ms);
    if (!written) {
      ::kill(pid, SIGKILL);
      wait_exit(pid, 5s);
    }
    REQUIRE_MESSAGE(written, "no ready file; stderr:\n" << read_file(err));
    const auto json = read_file(ready);
    INFO("ready file: " << json);
    CHECK(json.front() == '{');
    CHECK(json_whole(json, "pid") == static_cast<long>(pid));
    std::map<std::string, std::string> eps;
    for (const char* key : {"requests", "ingest", "updates"}) {
      CAPTURE(key);
      auto ep = json_text(json, key);
      REQUIRE(ep);
      CHECK(ep->rfind("tcp://127.0.0.1:", 0) == 0);
      auto port = std::stoul(ep->substr(ep->rfind(':') + 1));
      CHECK(port > 0);
      CHECK(port < 65536);
      eps[key] = *ep;
    }
    CHECK(eps["requests"] != eps["ingest"]);
    // No temporary beside it: the file came by rename.
    CHECK(std::distance(std::filesystem::directory_iterator(dir.path() + "/run"),
                        std::filesystem::directory_iterator{})
          == 1);
    {
      // Answers at once, without a retry: that is what the file promises.
      zmq::context_t ctx;
      client c(ctx, eps["requests"]);
      auto r = c.call(ping(), patience(5s));
      CHECK(r.ok());
      CHECK(r.has("pong"));
    }
    ::kill(pid, SIGTERM);
    auto st = wait_exit(pid, patience(5s));
    REQUIRE(st);
    CHECK(describe_status(*st) == "exit 0");
    CHECK_MESSAGE(!std::filesystem::exists(ready), "the ready file outlived a clean stop");
    // Every log line on stderr, none on stdout.
    CHECK(read_file(out).empty());
    CHECK(read_file(err).find("leaderboardd: requests tcp://127.0.0.1:") != std::string::npos);
  }
  SUBCASE("--ready-file that cannot be written: exit 1 with the path, no hang") {
    temp_dir dir;
    const auto ready = dir.path() + "/no/such/folder/ready.json";
    auto ep = [] { return "tcp://127.0.0.1:" + std::to_string(free_port()); };
    auto r = run_to_exit({exe, "--data=" + dir.path() + "/data", "--requests=" + ep(),
                          "--ingest=" + ep(), "--updates=" + ep(), "--ready-file=" + ready},
                         patience(20s));
    REQUIRE(r.status);
    CHECK(describe_status(*r.status) == "exit 1");
    CHECK_MESSAGE(r.err.find(ready) != std::string::npos, "stderr: " << r.err);
  }
  SUBCASE("a busy port: a clear error and a non-zero exit") {
    // Hold a listening socket on a port, then ask the service for it.
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 4) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    auto busy = "tcp://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
    auto ep = [] { return "tcp://127.0.0.1:" + std::to_string(free_port()); };
    temp_dir data;
    // A folder the service would create, and one that is there already:
    // a failed start leaves neither a new folder nor a LOCK behind.
    const auto fresh = data.path() + "/fresh";
    const auto existing = data.path() + "/existing";
    std::filesystem::create_directory(existing);
    for (std::string which : {"requests", "ingest", "updates"}) {
      for (const auto& folder : {fresh, existing}) {
        CAPTURE(which);
        CAPTURE(folder);
        std::vector<std::string> args = {exe, "--data=" + folder, "--requests=" + ep(),
                                         "--ingest=" + ep(), "--updates=" + ep()};
        args.push_back(std::string("--") + which + "=" + busy);
        auto r = run_to_exit(args, patience(10s));
        REQUIRE(r.status);
        CHECK(describe_status(*r.status) == "exit 1");
        CHECK_MESSAGE(r.err.find(busy.substr(6)) != std::string::npos, "stderr: " << r.err);
        CHECK_MESSAGE(r.err.find("another leaderboardd") != std::string::npos, "stderr: " << r.err);
        CHECK(!std::filesystem::exists(fresh));
        CHECK(!std::filesystem::exists(existing + "/LOCK"));
      }
    }
    ::close(fd);
  }
}
