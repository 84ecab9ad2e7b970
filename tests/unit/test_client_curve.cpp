// The client sockets under CURVE (transport/client.hpp), against plain
// cppzmq server sockets with curve_server set. Without a ZAP handler libzmq
// admits any client key, so these check the client's side of the handshake:
// the server's public key, and the client's own pair.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <chrono>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "transport/client.hpp"
#include "transport/curve_keys.hpp"

using namespace lb::transport;
using namespace std::chrono_literals;

namespace {

// A server socket bound to a free loopback port, CURVE with `keys` when
// given.
struct server_socket {
  server_socket(zmq::context_t& ctx, zmq::socket_type type, const curve_pair* keys)
    : sock(ctx, type) {
    sock.set(zmq::sockopt::linger, 0);
    if (keys != nullptr) {
      sock.set(zmq::sockopt::curve_server, true);
      sock.set(zmq::sockopt::curve_secretkey, keys->secret_key);
    }
    sock.bind("tcp://127.0.0.1:*");
    endpoint = sock.get(zmq::sockopt::last_endpoint);
  }

  // The frames of the next message, or none within `timeout`.
  std::optional<std::vector<std::string>> receive(std::chrono::milliseconds timeout) {
    zmq::pollitem_t item{sock.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) <= 0)
      return std::nullopt;
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(sock, std::back_inserter(frames), zmq::recv_flags::dontwait))
      return std::nullopt;
    std::vector<std::string> out;
    for (const auto& f : frames)
      out.push_back(f.to_string());
    return out;
  }

  zmq::socket_t sock;
  std::string endpoint;
};

// Long enough for a handshake on a loaded machine; the tests that expect
// silence wait `nothing` instead.
constexpr auto arrives = 5s;
constexpr auto nothing = 300ms;

} // namespace

TEST_CASE("request_client: with the server's key its request gets through and the reply back") {
  zmq::context_t ctx;
  const auto server_keys = make_curve_pair();
  server_socket router(ctx, zmq::socket_type::router, &server_keys);

  const client_keys keys{server_keys.public_key, make_curve_pair()};
  REQUIRE(keys.curve());
  request_client client(ctx, router.endpoint, keys);
  client.send("hello");
  auto got = router.receive(arrives);
  REQUIRE(got);
  REQUIRE(got->size() == 2); // the ROUTER's identity frame, then the body
  CHECK(got->back() == "hello");

  // The reply goes back over the same encrypted connection.
  router.sock.send(zmq::buffer(got->front()), zmq::send_flags::sndmore);
  router.sock.send(zmq::str_buffer("world"), zmq::send_flags::none);
  CHECK(client.receive(arrives) == std::optional<std::string>("world"));
}

TEST_CASE("request_client: a wrong server key, or none, gets nothing through") {
  zmq::context_t ctx;
  const auto server_keys = make_curve_pair();
  server_socket router(ctx, zmq::socket_type::router, &server_keys);

  SUBCASE("another server's public key") {
    const client_keys keys{make_curve_pair().public_key, make_curve_pair()};
    request_client client(ctx, router.endpoint, keys);
    client.send("hello");
    CHECK_FALSE(router.receive(nothing));
  }
  SUBCASE("no CURVE at all") {
    request_client client(ctx, router.endpoint);
    client.send("hello");
    CHECK_FALSE(router.receive(nothing));
  }
  // The server still answers a client with the right key afterwards.
  request_client good(ctx, router.endpoint, {server_keys.public_key, make_curve_pair()});
  good.send("after");
  auto got = router.receive(arrives);
  REQUIRE(got);
  CHECK(got->back() == "after");
}

TEST_CASE("without keys the clients stay plain: a plain server takes their messages") {
  zmq::context_t ctx;
  server_socket router(ctx, zmq::socket_type::router, nullptr);
  request_client client(ctx, router.endpoint, load_client_keys("", ""));
  client.send("plain");
  auto got = router.receive(arrives);
  REQUIRE(got);
  CHECK(got->back() == "plain");
}

TEST_CASE("ingest_client: under CURVE with the server's key, nothing with another") {
  zmq::context_t ctx;
  const auto server_keys = make_curve_pair();
  server_socket pull(ctx, zmq::socket_type::pull, &server_keys);

  {
    ingest_client wrong(ctx, pull.endpoint, {make_curve_pair().public_key, make_curve_pair()});
    wrong.send("lost");
    CHECK_FALSE(pull.receive(nothing));
  }
  ingest_client push(ctx, pull.endpoint, {server_keys.public_key, make_curve_pair()});
  push.send("event");
  auto got = pull.receive(arrives);
  REQUIRE(got);
  CHECK(*got == std::vector<std::string>{"event"});
}

TEST_CASE("update_subscriber: under CURVE it receives with the server's key, not with another") {
  zmq::context_t ctx;
  const auto server_keys = make_curve_pair();
  server_socket pub(ctx, zmq::socket_type::pub, &server_keys);

  update_subscriber good(ctx, pub.endpoint, {"top/"}, 1000,
                         {server_keys.public_key, make_curve_pair()});
  update_subscriber wrong(ctx, pub.endpoint, {"top/"}, 1000,
                          {make_curve_pair().public_key, make_curve_pair()});
  // A subscription takes effect once the handshake is done: publish until
  // the good subscriber sees a message.
  std::optional<update_message> got;
  const auto deadline = std::chrono::steady_clock::now() + arrives;
  while (!got && std::chrono::steady_clock::now() < deadline) {
    pub.sock.send(zmq::str_buffer("top/arena/"), zmq::send_flags::sndmore);
    pub.sock.send(zmq::str_buffer("body"), zmq::send_flags::none);
    got = good.receive(50ms);
  }
  REQUIRE(got);
  CHECK(got->topic == "top/arena/");
  CHECK(got->body == "body");
  CHECK_FALSE(wrong.receive(nothing));
}
