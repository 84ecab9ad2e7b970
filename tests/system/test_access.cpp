// Who may talk to the service, and how much each may take (README, "Keys and
// roles" and "Bounds"): the real leaderboardd with CURVE keys and roles, in
// protected mode, and under hostile clients, with its RSS measured before
// and after each flood.
//
// Also run under ThreadSanitizer (LBD_TEST_SCALE=tsan): counts shrink where
// they are loads, never where they are the bound under test.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <set>
#include <thread>

#include "tests/system/e2e_client.hpp"
#include "transport/client.hpp"
#include "transport/curve_keys.hpp"

using namespace lb::e2e;
using namespace std::chrono_literals;
using lb::transport::client_keys;
using lb::transport::curve_pair;
using lb::transport::make_curve_pair;

namespace {

// A key pair for a client, and the keys it uses against `server_key`.
client_keys as_client(const curve_pair& own, const curve_pair& server_key) {
  return {server_key.public_key, own};
}

void write_keys(const std::string& path, const std::vector<std::string>& keys) {
  std::ofstream out(path);
  out << "# written by test_access\n\n";
  for (const auto& k : keys)
    out << k << "\n";
}

// The roles of a keyed server, with the files it reads.
struct keyed_server {
  temp_dir dir;
  curve_pair server_key = make_curve_pair();
  curve_pair reader = make_curve_pair();
  curve_pair writer = make_curve_pair();
  curve_pair admin = make_curve_pair();
  curve_pair stranger = make_curve_pair();
  std::string writers_file = dir.path() + "/writers";
  std::unique_ptr<server> srv;

  explicit keyed_server(std::vector<std::string> extra = {}) {
    write_keys(dir.path() + "/server.key", {server_key.secret_key});
    write_keys(dir.path() + "/readers", {reader.public_key});
    write_keys(writers_file, {writer.public_key});
    write_keys(dir.path() + "/admins", {admin.public_key});
    auto opts = make_server_options(2, 20);
    opts.extra_args = {"--curve-secret=" + dir.path() + "/server.key",
                       "--readers=" + dir.path() + "/readers", "--writers=" + writers_file,
                       "--admins=" + dir.path() + "/admins"};
    opts.extra_args.insert(opts.extra_args.end(), extra.begin(), extra.end());
    opts.ready_keys = as_client(reader, server_key);
    srv = std::make_unique<server>(opts);
  }
  client_keys keys(const curve_pair& who) const { return as_client(who, server_key); }
};

// One request that must get no reply at all (the connection never opens).
bool silent(server& s, const client_keys& keys) {
  client c(s.ctx(), s.requests(), keys);
  c.send(ping());
  return !c.receive(patience(600ms));
}

std::string error_of(const reply& r) {
  return r.ok() ? "ok" : r.error_code();
}

const msgpack::object& clients_stats(const reply& st) {
  return st.at("clients");
}

uint64_t client_stat(client& c, const std::string& key) {
  auto st = c.call(stats());
  return at(clients_stats(st), key).as<uint64_t>();
}

// A raw TCP connection to 127.0.0.1:`port` that never says a word.
int open_idle_tcp(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

uint16_t port_of(const std::string& endpoint) {
  return static_cast<uint16_t>(std::stoul(endpoint.substr(endpoint.rfind(':') + 1)));
}

// The test opens many sockets: take every file descriptor the system allows.
void raise_fd_limit() {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
}

// How much a flood may add to the service's RSS, in KiB: ThreadSanitizer's
// shadow memory counts in RSS too. Without the bounds the floods below took
// 300 MB to 2 GB.
uint64_t flood_budget_kib() {
  return (under_tsan() ? 256 : 64) * 1024;
}

} // namespace

TEST_CASE("keys and roles: each key may do what its role allows, no more") {
  keyed_server ks;
  auto& s = *ks.srv;

  SUBCASE("no key and an unknown key get no connection") {
    CHECK(silent(s, {}));
    CHECK(silent(s, ks.keys(ks.stranger)));
  }
  SUBCASE("a reader reads, and its writes are unauthorized and change nothing") {
    client w(s.ctx(), s.requests(), ks.keys(ks.writer));
    REQUIRE(w.call(submit("arena", "alice", 10)).ok());
    client r(s.ctx(), s.requests(), ks.keys(ks.reader));
    CHECK(r.call(rank("arena", "alice", true)).u64("rank") == 1);
    CHECK(error_of(r.call(submit("arena", "alice", 99))) == "unauthorized");
    CHECK(error_of(r.call(batch({submit_item("arena", "bob", 5)}))) == "unauthorized");
    CHECK(error_of(r.call(reset("arena"))) == "unauthorized");
    auto top_reply = r.call(top("arena", 10));
    REQUIRE(top_reply.entries().size() == 1);
    CHECK(top_reply.entries()[0].score == 10);
    CHECK(client_stat(r, "unauthorized") == 3);
  }
  SUBCASE("a writer submits; remove, reset and configure need an admin") {
    client w(s.ctx(), s.requests(), ks.keys(ks.writer));
    REQUIRE(w.call(submit("arena", "alice", 10)).ok());
    CHECK(error_of(w.call(reset("arena"))) == "unauthorized");
    CHECK(error_of(w.call(remove("arena", "alice"))) == "unauthorized");
    CHECK(error_of(w.call(configure("other", std::string("asc"), std::nullopt))) == "unauthorized");
    CHECK(w.call(rank("arena", "alice", true)).u64("rank") == 1);

    client a(s.ctx(), s.requests(), ks.keys(ks.admin));
    CHECK(a.call(reset("arena")).ok());
    CHECK(error_of(a.call(rank("arena", "alice", true))) == "not_found");
    // Every admin op is logged with the key that sent it.
    CHECK(wait_until(patience(2s), [&] {
      return s.stderr_text().find("admin: reset of board 'arena' by key " + ks.admin.public_key)
             != std::string::npos;
    }));
  }
  SUBCASE("ingest admits writers only; updates admit any listed key") {
    lb::transport::ingest_client by_reader(s.ctx(), s.ingest(), ks.keys(ks.reader));
    by_reader.send(submit("fed", "mallory", 1).pack());
    lb::transport::ingest_client by_writer(s.ctx(), s.ingest(), ks.keys(ks.writer));
    by_writer.send(submit("fed", "alice", 2).pack());
    client r(s.ctx(), s.requests(), ks.keys(ks.reader));
    CHECK(wait_until(patience(5s), [&] { return r.call(rank("fed", "alice", true)).ok(); }));
    CHECK(error_of(r.call(rank("fed", "mallory", true))) == "not_found");

    subscriber stranger(s.ctx(), s.updates(), {"score/"}, 0, ks.keys(ks.stranger));
    subscriber listed(s.ctx(), s.updates(), {"score/"}, 0, ks.keys(ks.reader));
    client w(s.ctx(), s.requests(), ks.keys(ks.writer));
    auto got = listed.sync(w);
    (void) got;
    REQUIRE(w.call(submit("watched", "alice", 3)).ok());
    bool seen = false;
    while (auto u = listed.receive(patience(3s)))
      if (u->topic.rfind("score/watched/", 0) == 0) {
        seen = true;
        break;
      }
    CHECK(seen);
    CHECK_FALSE(stranger.receive(300ms));
  }
  SUBCASE("SIGHUP re-reads the key files without a restart") {
    auto newcomer = make_curve_pair();
    CHECK(silent(s, ks.keys(newcomer)));
    write_keys(ks.writers_file, {newcomer.public_key}); // and the old writer is gone
    ::kill(s.pid(), SIGHUP);
    REQUIRE(wait_until(patience(3s), [&] {
      return s.stderr_text().find("key files re-read") != std::string::npos;
    }));
    client n(s.ctx(), s.requests(), ks.keys(newcomer));
    CHECK(n.call(submit("arena", "newcomer", 7)).ok());
    CHECK(silent(s, ks.keys(ks.writer)));
    // A key file that cannot be read keeps the old keys.
    write_keys(ks.writers_file, {"not a key"});
    ::kill(s.pid(), SIGHUP);
    REQUIRE(wait_until(patience(3s), [&] {
      return s.stderr_text().find("the old keys stay") != std::string::npos;
    }));
    client again(s.ctx(), s.requests(), ks.keys(newcomer));
    CHECK(again.call(submit("arena", "newcomer", 8)).ok());
  }
}

TEST_CASE("--readers=any lets any key read and no key write") {
  temp_dir dir;
  auto server_key = make_curve_pair();
  write_keys(dir.path() + "/server.key", {server_key.secret_key});
  auto anyone = as_client(make_curve_pair(), server_key);
  auto opts = make_server_options(2, 20);
  opts.extra_args = {"--curve-secret=" + dir.path() + "/server.key", "--readers=any"};
  opts.ready_keys = anyone;
  server s(opts);
  client c(s.ctx(), s.requests(), anyone);
  CHECK(c.call(boards()).ok());
  CHECK(error_of(c.call(submit("arena", "alice", 1))) == "unauthorized");
  CHECK(silent(s, {})); // still CURVE: a client without keys gets nothing
}

TEST_CASE("protected mode: a non-loopback address needs keys or --insecure") {
  temp_dir dir;
  auto port = std::to_string(free_port());
  auto refused = run_to_exit({daemon_path(), "--requests=tcp://0.0.0.0:" + port,
                              "--ingest=tcp://127.0.0.1:" + std::to_string(free_port()),
                              "--updates=tcp://127.0.0.1:" + std::to_string(free_port()),
                              "--data=" + dir.path() + "/d"},
                             patience(10s));
  REQUIRE(refused.status);
  CHECK(WEXITSTATUS(*refused.status) == 2);
  CHECK(refused.err.find("--curve-secret") != std::string::npos);
  CHECK(refused.err.find("--insecure") != std::string::npos);

  auto opts = make_server_options(1, 20);
  opts.extra_args = {"--insecure"};
  server s(opts); // binds 127.0.0.1; --insecure is accepted, and the rest works
  client c(s.ctx(), s.requests());
  CHECK(c.call(ping()).ok());
}

TEST_CASE("bounds: connections past --max-clients are closed, and serving goes on") {
  raise_fd_limit();
  auto opts = make_server_options(2, 20, {"--max-clients=100"});
  server s(opts);
  client c(s.ctx(), s.requests());
  auto before = vm_rss_kib(s.pid());
  std::vector<int> fds;
  for (int i = 0; i < 1000; ++i)
    if (int fd = open_idle_tcp(port_of(s.requests())); fd >= 0)
      fds.push_back(fd);
  CHECK(fds.size() > 500);
  CHECK(wait_until(patience(10s), [&] { return client_stat(c, "refused_connections") >= 800; }));
  client late(s.ctx(), s.requests());
  CHECK(late.call(ping()).ok());
  auto during = vm_rss_kib(s.pid());
  for (int fd : fds)
    ::close(fd);
  CHECK(wait_until(patience(10s), [&] { return client_stat(c, "connections") <= 3; }));
  MESSAGE("VmRSS " << before << " -> " << during << " KiB with " << fds.size()
                   << " idle connections");
  CHECK(during < before + flood_budget_kib());
}

TEST_CASE("bounds: clients that never read cost a bounded backlog, and every request gets "
          "exactly one reply") {
  server s(make_server_options(2, 20));
  client c(s.ctx(), s.requests());
  std::vector<body> items;
  for (int i = 0; i < 1000; ++i)
    items.push_back(submit_item("big", std::string(100, 'p') + std::to_string(i), i, 0,
                                meta_v{std::string(200, 'm'), false}));
  REQUIRE(c.call(batch(items)).ok());
  auto before = vm_rss_kib(s.pid());

  const size_t requests = scaled(1000);
  std::vector<zmq::socket_t> sleepers;
  for (int k = 0; k < 3; ++k) {
    auto& sl = sleepers.emplace_back(s.ctx(), zmq::socket_type::dealer);
    // Read nothing ahead, so that what it does not read stays in the service.
    sl.set(zmq::sockopt::rcvhwm, 1);
    sl.set(zmq::sockopt::rcvbuf, 4096);
    sl.set(zmq::sockopt::linger, 0);
    sl.connect(s.requests());
    for (size_t i = 0; i < requests; ++i)
      sl.send(zmq::buffer(top("big", 1000).id(i + 1).pack()));
  }
  CHECK(wait_until(patience(20s), [&] { return client_stat(c, "overloaded_busy") > 0; }));
  // The allocator gives freed memory back after a second (mimalloc's delay).
  std::this_thread::sleep_for(2500ms);
  auto during = vm_rss_kib(s.pid());
  MESSAGE("VmRSS " << before << " -> " << during << " KiB with 3 clients not reading " << requests
                   << " top-1000 replies each; backlog " << client_stat(c, "reply_backlog_bytes")
                   << " B");
  CHECK(during < before + flood_budget_kib());
  CHECK(c.call(ping()).ok()); // a reading client is served meanwhile

  // Now read: each request has exactly one reply, entries or overloaded.
  for (auto& sl : sleepers) {
    std::set<uint64_t> ids;
    size_t full = 0;
    zmq::pollitem_t item{sl.handle(), 0, ZMQ_POLLIN, 0};
    zmq::message_t m;
    while (zmq::poll(&item, 1, patience(3s)) > 0 && sl.recv(m, zmq::recv_flags::dontwait)) {
      auto r = reply::decode(m.to_string());
      REQUIRE(r);
      REQUIRE(r->id());
      CHECK(ids.insert(*r->id()).second);
      if (r->ok())
        full += r->entries().size() == 1000;
      else
        CHECK(r->error_code() == "overloaded");
    }
    CHECK(ids.size() == requests);
    CHECK(full > 0);
  }
  CHECK(client_stat(c, "replies_dropped") == 0);
}

TEST_CASE("bounds: a greedy client gets overloaded before a polite one does") {
  server s(make_server_options(2, 20, {"--max-inflight=2000", "--max-inflight-per-client=2000"}));
  client greedy(s.ctx(), s.requests());
  client polite(s.ctx(), s.requests());
  std::atomic<bool> stop{false};
  std::thread flood([&] {
    // Pipelines stats without waiting: far past its share.
    while (!stop.load()) {
      for (int i = 0; i < 500; ++i)
        greedy.send(stats());
      while (greedy.receive(0ms)) {
      }
    }
  });
  size_t overloaded = 0;
  for (int i = 0; i < static_cast<int>(scaled(200)); ++i)
    overloaded += error_of(polite.call(submit("fair", "p" + std::to_string(i), i))) == "overloaded";
  stop = true;
  flood.join();
  CHECK(overloaded == 0);
  CHECK(client_stat(polite, "overloaded_busy") > 0); // the greedy one was refused
}

TEST_CASE("bounds: an oversized subscription and a frame flood without a key cost nothing") {
  keyed_server ks;
  auto& s = *ks.srv;
  auto before = vm_rss_kib(s.pid());
  {
    // A listed reader sending a 20 MiB message up the updates socket (as a
    // 20 MiB subscription would be) is disconnected. An XSUB sends it: a
    // SUB would keep the prefix in a trie of its own 20 Mi nodes deep.
    zmq::socket_t xsub(s.ctx(), zmq::socket_type::xsub);
    xsub.set(zmq::sockopt::linger, 0);
    lb::transport::use_client_keys(xsub, ks.keys(ks.reader));
    xsub.connect(s.updates());
    std::string huge(20 << 20, 'x');
    huge[0] = 2; // not a (un)subscription: the client keeps nothing of it
    (void) xsub.send(zmq::buffer(huge), zmq::send_flags::dontwait);
    // Without a key, 300 frames of 1 MiB in one message never pass the handshake.
    zmq::socket_t dealer(s.ctx(), zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    dealer.connect(s.requests());
    std::string frame(1 << 20, 'y');
    for (int i = 0; i < 300; ++i)
      (void) dealer.send(zmq::buffer(frame), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    (void) dealer.send(zmq::str_buffer("end"), zmq::send_flags::dontwait);
    std::this_thread::sleep_for(patience(1s));
  }
  auto after = vm_rss_kib(s.pid());
  MESSAGE("VmRSS " << before << " -> " << after << " KiB");
  CHECK(after < before + flood_budget_kib());
  client r(s.ctx(), s.requests(), ks.keys(ks.reader));
  CHECK(r.call(ping()).ok());
}

TEST_CASE("bounds: past --max-memory new entries are refused, updates go on, replays agree") {
  temp_dir data;
  uint64_t idle_kib = 0;
  {
    server probe(make_server_options(2, 20));
    idle_kib = vm_rss_kib(probe.pid());
  }
  const uint64_t limit = (idle_kib + 48 * 1024) * 1024;
  auto opts = make_server_options(2, 20, {"--max-memory=" + std::to_string(limit)});
  opts.data_dir = data.path();
  std::string digest;
  {
    server s(opts);
    client c(s.ctx(), s.requests());
    REQUIRE(c.call(submit("flood", "keeper", 1)).ok());
    lb::transport::ingest_client in(s.ctx(), s.ingest());
    uint64_t sent = 0;
    auto refused = [&] {
      return at(clients_stats(c.call(stats())), "overloaded_memory").as<uint64_t>();
    };
    while (sent < 5'000'000 && refused() == 0) {
      for (int b = 0; b < 100; ++b) {
        std::vector<body> items;
        for (int i = 0; i < 100; ++i, ++sent)
          items.push_back(submit_item("flood", "player-" + std::to_string(sent), 1));
        in.send(batch(items).pack());
      }
    }
    REQUIRE(refused() > 0);
    auto rss = vm_rss_kib(s.pid()) * 1024;
    MESSAGE("limit " << (limit >> 20) << " MiB, RSS " << (rss >> 20) << " MiB after " << sent
                     << " new players sent");
    CHECK(rss < limit + flood_budget_kib() * 1024);

    auto fresh = c.call(submit("flood", "newcomer", 5));
    CHECK(error_of(fresh) == "overloaded");
    CHECK(fresh.text().find("--max-memory") != std::string::npos);
    CHECK(error_of(c.call(submit("new-board", "someone", 5))) == "overloaded");
    CHECK(c.call(submit("flood", "keeper", 7)).u64("seq") > 0); // an update still goes in
    CHECK(c.call(rank("flood", "keeper", true)).i64("score") == 7);
    CHECK(error_of(c.call(rank("flood", "newcomer", true))) == "not_found");
    digest = c.call(stats()).str("digest");
    s.stop(SIGKILL, patience(5s)); // no snapshot: the restart replays the log
  }
  // The log keeps which submits could add nothing: a replay agrees.
  opts.extra_args = {};
  server again(opts);
  client c(again.ctx(), again.requests());
  CHECK(c.call(stats()).str("digest") == digest);
  CHECK(error_of(c.call(rank("flood", "newcomer", true))) == "not_found");
}
