// The C++ client library (tools/clients/cpp, <lbd/client.hpp>) against the
// real leaderboardd: what a game server calls, blocking and pipelined, the
// errors it sees, the writer, and the subscriber's exact topics and loss
// detection (the latter against a stand-in publisher whose stream_seq the
// test chooses, so every kind of gap is shown on purpose).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <lbd/client.hpp>

#include "schemas/request.hpp"
#include "tests/system/e2e_client.hpp"
#include "transport/curve_keys.hpp"

using namespace std::chrono_literals;
namespace e2e = lb::e2e;

namespace {

lbd::options options_of(const e2e::server& s) {
  lbd::options o;
  o.endpoint = s.requests();
  o.ingest = s.ingest();
  o.updates = s.updates();
  o.timeout = e2e::patience(10s);
  return o;
}

// The lbd::error code a call throws; "" when it throws none.
template <class F>
std::string code_of(F&& call) {
  try {
    call();
  } catch (const lbd::error& e) {
    return e.code();
  }
  return "";
}

} // namespace

TEST_CASE("blocking calls give the service's answers") {
  e2e::server srv;
  lbd::client c(options_of(srv));

  CHECK(c.ping().round_trip.count() >= 0);
  auto first = c.submit("arena", "alice", 100, 0, std::string("hat"));
  CHECK(first.board == "arena");
  CHECK(first.player == "alice");
  CHECK(first.rank == 1);
  CHECK_FALSE(first.prev_rank);
  CHECK(first.changed);
  CHECK(first.total == 1);
  auto second = c.submit("arena", "bob", 200);
  CHECK(second.rank == 1);
  CHECK(second.total == 2);
  CHECK(second.seq > first.seq);
  auto worse = c.submit("arena", "bob", 150); // best: kept at 200
  CHECK_FALSE(worse.changed);
  CHECK(worse.score == 200);
  CHECK(worse.prev_rank == std::optional<uint64_t>(1));

  auto r = c.rank("arena", "alice");
  CHECK(r.rank == 2);
  CHECK(r.score == 100);
  CHECK(r.meta == std::optional<std::string>("hat"));
  CHECK(r.total == 2);
  CHECK(r.seq >= second.seq);

  auto top = c.top("arena");
  CHECK(top.total == 2);
  REQUIRE(top.entries.size() == 2);
  CHECK(top.entries[0].player == "bob");
  CHECK(top.entries[0].rank == 1);
  CHECK(top.entries[1].player == "alice");
  CHECK_FALSE(top.next);

  auto one = c.top("arena", 1);
  REQUIRE(one.next);
  auto rest = c.top_after("arena", *one.next, 5);
  REQUIRE(rest.entries.size() == 1);
  CHECK(rest.entries[0].player == "alice");

  auto around = c.around("arena", "alice", 1);
  CHECK(around.entries.size() == 2);
  auto friends = c.ranks("arena", {"alice", "nobody"});
  REQUIRE(friends.entries.size() == 1);
  CHECK(friends.entries[0].rank == 2);

  auto cfg = c.configure("golf", std::string("asc"), std::nullopt);
  CHECK(cfg.order == "asc");
  CHECK(cfg.op == "best");
  c.submit("golf", "carol", 72);
  c.submit("golf", "dave", 68);
  CHECK(c.top("golf").entries.at(0).player == "dave");

  auto boards = c.boards();
  std::set<std::string> names;
  for (const auto& b : boards)
    names.insert(b.board);
  CHECK(names == std::set<std::string>{"arena", "golf"});

  CHECK(c.remove("arena", "alice").removed == 1);
  CHECK(c.remove("arena", "alice").removed == 0);
  auto reset = c.reset("golf");
  CHECK(reset.removed == 2);
  CHECK(c.top("golf").total == 0);

  auto stats = c.stats();
  CHECK(stats.json.find("\"digest\"") != std::string::npos);
}

TEST_CASE("errors carry the protocol's codes") {
  e2e::server srv;
  lbd::client c(options_of(srv));
  c.submit("arena", "alice", 1);

  CHECK(code_of([&] { c.rank("nosuchboard", "alice"); }) == "not_found");
  CHECK(code_of([&] { c.rank("arena", "nobody"); }) == "not_found");
  CHECK(code_of([&] { c.submit("bad board!", "alice", 1); }) == "bad_request");
  CHECK(code_of([&] { c.top("arena", 5000); }) == "bad_request");
  CHECK(code_of([&] { c.configure("arena", std::string("asc"), std::nullopt); }) == "conflict");
  // Checked here: the cursor is parsed to be sent.
  CHECK(code_of([&] { c.top_after("arena", "not-a-cursor"); }) == "bad_request");
  CHECK(code_of([&] { c.configure("arena", std::string("sideways"), std::nullopt); })
        == "bad_request");

  // An async reply holds its error; its accessor throws it.
  auto t = c.send_rank("arena", "nobody");
  auto rep = c.wait(t);
  CHECK_FALSE(rep.ok());
  CHECK(rep.failure().code() == "not_found");
  CHECK(code_of([&] { rep.rank(); }) == "not_found");
  CHECK_THROWS_AS(c.wait(t), std::invalid_argument); // handed over already

  // A batch fails item by item.
  auto results = c.batch({{"arena", "bob", 5, 0, {}}, {"arena", "", 5, 0, {}}});
  REQUIRE(results.size() == 2);
  CHECK(std::holds_alternative<lbd::submit_result>(results[0]));
  REQUIRE(std::holds_alternative<lbd::error>(results[1]));
  CHECK(std::get<lbd::error>(results[1]).code() == "bad_request");
}

TEST_CASE("1000 pipelined submits: each reply answers its own ticket") {
  e2e::server srv;
  auto opts = options_of(srv);
  opts.max_in_flight = 100; // sends past it read replies first
  lbd::client c(opts);

  const int n = 1000;
  std::map<lbd::ticket, int> player_of;
  for (int i = 0; i < n; ++i)
    player_of[c.send_submit("pipe", "p" + std::to_string(i), 10 * i)] = i;
  CHECK(player_of.size() == n);
  CHECK(c.in_flight() <= std::size_t(n));

  // A blocking call in the middle keeps the replies it reads for poll().
  CHECK(c.rank("pipe", "p0").player == "p0");

  // One ticket waited for on its own; the rest through poll().
  const lbd::ticket middle = std::next(player_of.begin(), n / 2)->first;
  auto mid = c.wait(middle);
  CHECK(mid.submit().player == "p" + std::to_string(player_of[middle]));
  std::set<lbd::ticket> seen{middle};
  int mismatched = 0, failed = 0;
  const auto deadline = std::chrono::steady_clock::now() + e2e::patience(30s);
  while (c.in_flight() > 0 && std::chrono::steady_clock::now() < deadline)
    c.poll(100ms, [&](lbd::reply& r) {
      seen.insert(r.ticket());
      if (!r.ok()) {
        ++failed;
        return;
      }
      const int i = player_of.at(r.ticket());
      if (r.submit().player != "p" + std::to_string(i) || r.submit().score != 10 * i)
        ++mismatched;
    });
  CHECK(c.in_flight() == 0);
  CHECK(seen.size() == n);
  CHECK(failed == 0);
  CHECK(mismatched == 0);
  CHECK(c.top("pipe", 1).total == n);
  CHECK(c.top("pipe", 1).entries.at(0).player == "p999");
}

TEST_CASE("a dead endpoint gives no_reply, blocking and async") {
  lbd::options o;
  o.endpoint = "tcp://127.0.0.1:" + std::to_string(e2e::free_port());
  o.timeout = 200ms;
  lbd::client c(o);

  const auto start = std::chrono::steady_clock::now();
  CHECK(code_of([&] { c.ping(); }) == "no_reply");
  CHECK(std::chrono::steady_clock::now() - start >= 200ms);

  auto t = c.send_top("arena");
  std::vector<lbd::reply> got;
  for (int i = 0; i < 50 && got.empty(); ++i)
    c.poll(50ms, [&](lbd::reply& r) { got.push_back(r); });
  REQUIRE(got.size() == 1);
  CHECK(got[0].ticket() == t);
  CHECK(got[0].failure().code() == "no_reply");
  CHECK(c.in_flight() == 0);

  // Past ZeroMQ's queue to a service that never came, a send gives up.
  lbd::options many = o;
  many.max_in_flight = 5000;
  lbd::client q(many);
  std::size_t sent = 0;
  const auto code = code_of([&] {
    for (; sent < 5000; ++sent)
      q.send_ping();
  });
  CHECK(code == "no_reply");
  CHECK(sent >= 1000);
  CHECK(sent < 5000);

  // updates and ingest default to the endpoint's host, which ipc:// has not.
  CHECK(code_of([&] {
          lbd::options ipc;
          ipc.endpoint = "ipc:///tmp/lbd-requests";
          lbd::subscriber s(ipc);
        })
        == "bad_option");
  CHECK(code_of([&] {
          lbd::options bad = o;
          bad.curve_server_key = "/nonexistent/server.pub";
          lbd::client k(bad);
        })
        == "bad_option");
}

TEST_CASE("CURVE keys from the files lbctl keygen writes") {
  e2e::temp_dir dir;
  const std::string d = dir.path();
  // As `lbctl keygen` leaves them: NAME.key (secret) and NAME.pub.
  lb::transport::write_curve_pair(d + "/server", lb::transport::make_curve_pair());
  lb::transport::write_curve_pair(d + "/game", lb::transport::make_curve_pair());
  {
    std::ofstream writers(d + "/writers");
    writers << lb::transport::read_key_list(d + "/game.pub").at(0) << "\n";
  }
  auto sopts = e2e::make_server_options(
    2, 20, {"--curve-secret=" + d + "/server.key", "--writers=" + d + "/writers"});
  sopts.ready_keys = {lb::transport::key_or_file(d + "/server.pub"),
                      lb::transport::read_secret_key(d + "/game.key")};
  e2e::server srv(sopts);

  auto opts = options_of(srv);
  opts.curve_server_key = d + "/server.pub";
  opts.curve_key = d + "/game.key";
  lbd::client c(opts);
  CHECK(c.submit("keyed", "alice", 5).rank == 1);
  CHECK(code_of([&] { c.reset("keyed"); }) == "unauthorized"); // a writer, not an admin
  lbd::writer w(opts);
  w.submit("keyed", "bob", 9);
  CHECK(e2e::wait_until(e2e::patience(10s), [&] { return c.top("keyed").total == 2; }));

  // No key: the handshake never completes, so nothing answers.
  auto plain = options_of(srv);
  plain.timeout = 300ms;
  lbd::client stranger(plain);
  CHECK(code_of([&] { stranger.ping(); }) == "no_reply");
  // A secret key file given as the server's public key is named as such.
  auto swapped = opts;
  swapped.curve_server_key = d + "/server.key";
  CHECK(code_of([&] { lbd::client x(swapped); }) == "bad_option");
}

TEST_CASE("a writer's submits and batches are read back") {
  e2e::server srv;
  auto opts = options_of(srv);
  lbd::writer w(opts);
  lbd::client c(opts);

  w.submit("ingest", "solo", 7);
  std::vector<lbd::submission> many;
  for (int i = 0; i < 2500; ++i) // three frames: 1000, 1000, 500
    many.push_back({"ingest", "w" + std::to_string(i), i, 0, {}});
  w.batch(many);
  CHECK(e2e::wait_until(e2e::patience(10s), [&] {
    try {
      return c.top("ingest", 1).total == 2501;
    } catch (const lbd::error&) {
      return false; // not_found until the first event lands
    }
  }));
  CHECK(c.rank("ingest", "solo").score == 7);
  CHECK(c.top("ingest", 1).entries.at(0).player == "w2499");

  // Names are checked before anything is sent: ingest has no reply to say so.
  CHECK(code_of([&] { w.submit("bad board!", "x", 1); }) == "bad_request");
  CHECK(code_of([&] {
          w.batch({{"ingest", "late", 1, 0, {}}, {"ingest", "", 1, 0, {}}});
        })
        == "bad_request");
  CHECK(code_of([&] {
          lbd::options bad = opts;
          bad.source = "no spaces";
          lbd::writer x(bad);
        })
        == "bad_request");
  srv.settle();
  CHECK(code_of([&] { c.rank("ingest", "late"); }) == "not_found");
}

TEST_CASE("a writer's frames carry its source") {
  // A stand-in ingest socket: the frames as the service would read them.
  zmq::context_t ctx;
  zmq::socket_t pull(ctx, zmq::socket_type::pull);
  const auto port = e2e::free_port();
  pull.bind("tcp://127.0.0.1:" + std::to_string(port));
  lbd::options o;
  o.ingest = "tcp://127.0.0.1:" + std::to_string(port);
  o.source = "game-7:eu.1";
  lbd::writer w(o);
  w.submit("arena", "alice", 10, 2, std::string("m"));
  std::vector<lbd::submission> many(1500, lbd::submission{"arena", "bob", 1, 0, {}});
  w.batch(many);

  auto frame = [&] {
    zmq::pollitem_t item{pull.handle(), 0, ZMQ_POLLIN, 0};
    REQUIRE(zmq::poll(&item, 1, e2e::patience(5s)) == 1);
    zmq::message_t m;
    REQUIRE(pull.recv(m));
    // The service's own ingest decoder takes it.
    CHECK(lb::schemas::decode_ingest(m.data<char>(), m.size()).ok());
    auto r = e2e::reply::decode(m.to_string());
    REQUIRE(r);
    CHECK(r->str("source") == "game-7:eu.1");
    CHECK_FALSE(r->has("id"));
    return *r;
  };
  auto one = frame();
  CHECK(one.str("op") == "submit");
  CHECK(one.str("player") == "alice");
  CHECK(one.i64("score") == 10);
  CHECK(one.i64("subscore") == 2);
  CHECK(one.str("meta") == "m");
  auto first = frame();
  CHECK(first.str("op") == "batch");
  CHECK(first.at("items").via.array.size == 1000);
  CHECK(frame().at("items").via.array.size == 500);
}

TEST_CASE("a subscriber follows a board's top") {
  e2e::server srv;
  auto opts = options_of(srv);
  lbd::subscriber sub(opts);
  sub.watch_top("live");
  lbd::client c(opts);

  // The subscription is live once a top/ of a submit after it comes.
  std::optional<lbd::update> u;
  for (int i = 0; i < 100 && !u; ++i) {
    c.submit("live", "p" + std::to_string(i), 1000 + i);
    u = sub.next(100ms);
  }
  REQUIRE(u);
  CHECK(u->topic == "top/live/");
  REQUIRE(u->top());
  CHECK(u->top()->board == "live");
  CHECK_FALSE(u->top()->entries.empty());
  CHECK_FALSE(u->gap);
}

TEST_CASE("a follower joining late sees the player's rank change from any cause") {
  e2e::server srv;
  auto opts = options_of(srv);
  lbd::client c(opts);
  c.submit("arena", "alice", 100);
  c.submit("arena", "bob", 200);

  lbd::subscriber sub(opts);
  sub.follow("arena", "alice");
  // The feed comes from the merged view, which may lag the acknowledged
  // submits by a merge: read it until the player stands at `rank`, each
  // message numbered one past the one before.
  std::optional<uint64_t> stream_seq;
  auto until_rank = [&](std::optional<uint64_t> rank) {
    for (;;) {
      auto u = sub.next(e2e::patience(5s));
      REQUIRE(u);
      REQUIRE(u->player());
      CHECK(u->topic == "follow/arena/alice");
      CHECK_FALSE(u->gap);
      if (stream_seq)
        CHECK(u->stream_seq == *stream_seq + 1);
      stream_seq = u->stream_seq;
      if (u->player()->rank == rank)
        return *u->player();
    }
  };
  auto joined = until_rank(2);
  CHECK(joined.score == std::optional<int64_t>(100));
  CHECK(joined.total == 2);

  // A prefix of alice's topic, followed on its own: one message, not on the
  // board, and alice's messages are not handed out as its.
  sub.follow("arena", "al");
  auto al = sub.next(e2e::patience(5s));
  REQUIRE(al);
  REQUIRE(al->player());
  CHECK(al->topic == "follow/arena/al");
  CHECK(al->player()->player == "al");
  CHECK_FALSE(al->player()->rank);
  CHECK_FALSE(al->player()->score);
  CHECK(al->player()->total == 2);
  sub.unfollow("arena", "al");

  // Others pass her, then go: each merge that moves her sends her state,
  // which agrees with `rank`.
  c.submit("arena", "carol", 300);
  auto passed = until_rank(3);
  CHECK(passed.prev_rank == std::optional<uint64_t>(2));
  CHECK(c.rank("arena", "alice").rank == 3);
  c.remove("arena", "carol");
  c.remove("arena", "bob");
  auto alone = until_rank(1);
  CHECK(alone.total == 1);
  CHECK(c.rank("arena", "alice").rank == 1);
  c.reset("arena");
  auto gone = until_rank(std::nullopt);
  CHECK(gone.prev_rank == std::optional<uint64_t>(1));
  CHECK(gone.total == 0);
}

TEST_CASE("the subscriber keeps exact topics and sees every kind of gap") {
  // A stand-in for the service's updates socket, whose messages the test
  // writes with the stream_seq it wants.
  zmq::context_t ctx;
  zmq::socket_t pub(ctx, zmq::socket_type::xpub);
  pub.set(zmq::sockopt::xpub_verbose, 1);
  const auto port = e2e::free_port();
  pub.bind("tcp://127.0.0.1:" + std::to_string(port));

  lbd::options o;
  o.endpoint = "tcp://127.0.0.1:1"; // unused: a subscriber reads only updates
  o.updates = "tcp://127.0.0.1:" + std::to_string(port);
  lbd::subscriber sub(o);
  sub.follow("arena", "al");
  CHECK(code_of([&] { sub.follow("bad board!", "al"); }) == "bad_request");

  zmq::pollitem_t item{pub.handle(), 0, ZMQ_POLLIN, 0};
  REQUIRE(zmq::poll(&item, 1, e2e::patience(5s)) == 1);
  zmq::message_t subscription;
  REQUIRE(pub.recv(subscription));
  CHECK(subscription.to_string() == std::string("\x01") + "follow/arena/al");

  auto send = [&](const std::string& player, uint64_t stream_seq, std::optional<uint64_t> rank) {
    e2e::body b;
    b.set("board", "arena").set("player", player).set("total", 3).set("seq", 9);
    if (rank)
      b.set("rank", *rank).set("score", 50).set("subscore", 0);
    else
      b.set("rank", e2e::nil{}).set("score", e2e::nil{}).set("subscore", e2e::nil{});
    b.set("prev_rank", e2e::nil{}).set("stream_seq", stream_seq);
    const std::string topic = "follow/arena/" + player;
    pub.send(zmq::buffer(topic), zmq::send_flags::sndmore);
    pub.send(zmq::buffer(b.pack()));
  };
  send("al", 5, 2);
  send("alice", 1, 1); // a prefix match: never handed out
  send("al", 6, 3);
  send("al", 9, std::nullopt);
  send("al", 2, 1); // lower: the service restarted

  std::vector<lbd::update> got;
  while (got.size() < 4) {
    auto u = sub.next(e2e::patience(5s));
    REQUIRE(u);
    got.push_back(*u);
  }
  CHECK_FALSE(sub.next(100ms));
  for (const auto& u : got) {
    REQUIRE(u.player());
    CHECK(u.player()->player == "al");
  }
  CHECK(got[0].stream_seq == 5);
  CHECK_FALSE(got[0].gap); // the first one seen starts the count
  CHECK(got[0].player()->rank == std::optional<uint64_t>(2));
  CHECK_FALSE(got[1].gap);
  CHECK(got[2].gap);
  CHECK(got[2].missed == 2);
  CHECK_FALSE(got[2].restarted);
  CHECK_FALSE(got[2].player()->rank); // off the board
  CHECK_FALSE(got[2].player()->score);
  CHECK(got[3].gap);
  CHECK(got[3].restarted);
}
