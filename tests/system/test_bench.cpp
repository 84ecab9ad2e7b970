// lb-bench as the bench script runs it, kept short: about a second against
// each target (the real leaderboardd, its ingest socket, a throwaway
// redis-server, the echo ceiling), checking that it finishes, that its JSON
// parses and that it counted work. No thresholds: the machines are shared and
// noisy, so speed is for bench/run.sh, not for tests.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "tests/system/e2e_client.hpp"

using namespace lb;
using namespace lb::e2e;
using namespace std::chrono_literals;

namespace {

std::string bench_path() {
  return program_path("LB_BENCH");
}

// A program on PATH; the bench suite needs redis-server and jq, which
// tools/install-deps.sh --test installs.
std::string on_path(const std::string& name) {
  std::stringstream dirs(std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    if (::access((dir + "/" + name).c_str(), X_OK) == 0)
      return dir + "/" + name;
  throw std::runtime_error(name + " is not installed: run bash tools/install-deps.sh --test");
}

// Runs lb-bench with args plus a one-second measured run, --json --quiet;
// returns the JSON once jq has checked that every run in it counted work.
std::string bench(std::vector<std::string> args) {
  args.insert(args.begin(), bench_path());
  for (const char* a : {"--seconds=1", "--warmup-ms=200", "--players=1000", "--clients=2",
                        "--depth=8", "--json", "--quiet"})
    args.emplace_back(a);
  auto r = run_to_exit(args, patience(60s));
  INFO("lb-bench stderr: " << r.err);
  REQUIRE(r.status.has_value());
  REQUIRE(describe_status(*r.status) == "exit 0");
  temp_dir dir;
  const auto file = dir.path() + "/out.json";
  std::ofstream(file) << r.out;
  auto check
    = run_to_exit({on_path("jq"), "-e",
                   "(.runs | length > 0) and all(.runs[]; .ops > 0 and .throughput > 0)", file},
                  10s);
  INFO("lb-bench output: " << r.out << "\njq: " << check.err);
  CHECK((check.status && describe_status(*check.status) == "exit 0"));
  return r.out;
}

// A child process stopped with SIGTERM when the test ends.
struct child {
  temp_dir dir; // before pid: the constructor spawns into it
  pid_t pid;
  explicit child(const std::vector<std::string>& args)
    : pid(spawn(args, dir.path() + "/out", dir.path() + "/err")) {}
  ~child() {
    ::kill(pid, SIGTERM);
    wait_exit(pid, 5s);
  }
  std::string err() const { return read_file(dir.path() + "/err"); }
};

} // namespace

TEST_CASE("lb-bench measures the service's requests and ingest sockets") {
  server s;
  const auto out
    = bench({"requests", "--requests=" + s.requests(), "--requests-pid=" + std::to_string(s.pid()),
             "--mix=submit=60,rank=20,top=10,around=10", "--preload", "--zipf=0.99"});
  CHECK(out.find("\"cpu_cores\":null") == std::string::npos); // --requests-pid was read
  bench({"ingest", "--ingest=" + s.ingest(), "--requests=" + s.requests(), "--batch=50"});
  // Open loop: a modest fixed rate.
  bench({"requests", "--requests=" + s.requests(), "--rate=2000"});
}

TEST_CASE("lb-bench compares the service with Redis and the echo ceiling, and prints ratios") {
  server s;
  const uint16_t echo_port = free_port();
  const auto echo_ep = "tcp://127.0.0.1:" + std::to_string(echo_port);
  child echo({bench_path(), "echo-server", "--bind=" + echo_ep});
  const uint16_t redis_tcp_port = free_port();
  const auto redis_port = std::to_string(redis_tcp_port);
  temp_dir redis_dir;
  child redis({on_path("redis-server"), "--port", redis_port, "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", redis_dir.path()});
  // Both are up once they accept a connection.
  REQUIRE_MESSAGE(wait_until(patience(10s),
                             [&] {
                               return accepts_connections(echo_port)
                                      && accepts_connections(redis_tcp_port);
                             }),
                  "echo: " << echo.err() << "\nredis: " << redis.err());
  const auto out = bench({"requests", "redis", "echo", "--requests=" + s.requests(),
                          "--redis=tcp://127.0.0.1:" + redis_port, "--echo=" + echo_ep,
                          "--mix=submit=70,rank=10,top=10,around=10", "--preload"});
  INFO(out << "\necho: " << echo.err() << "\nredis: " << redis.err());
  CHECK(out.find("\"ratios\":[{\"of\":\"requests\",\"to\":\"redis\"") != std::string::npos);
  CHECK(out.find("\"to\":\"echo\"") != std::string::npos);
}

TEST_CASE("lb-bench rejects a bad command line with exit code 2 and says why") {
  auto r = run_to_exit({bench_path(), "requests", "--mix=submit=x"}, 10s);
  REQUIRE(r.status.has_value());
  CHECK(describe_status(*r.status) == "exit 2");
  CHECK(r.err.find("--mix") != std::string::npos);
  r = run_to_exit({bench_path(), "nosuch"}, 10s);
  CHECK(r.err.find("unknown target 'nosuch'") != std::string::npos);
}
