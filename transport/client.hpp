// Client sockets for tools and tests: a DEALER for requests (it may pipeline;
// replies carry the request's `id`), a PUSH for fire-and-forget ingest and a
// SUB for the update streams. Each may prove who it is with CURVE
// (client_keys), for a service started with --curve-secret.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "transport/curve_keys.hpp"

namespace lb::transport {

// How a client proves who it is: nothing (the service runs without a key)
// or CURVE, with the server's public key and the client's own pair.
struct client_keys {
  std::string server_public; // Z85; empty: no CURVE
  curve_pair own;
  bool curve() const { return !server_public.empty(); }
};

// The keys a tool's --curve-server-key=KEY|FILE and --curve-key=FILE give:
// both empty, no CURVE; the server's key alone, a fresh key pair for this
// process (admitted only by a service that lets any key read, --readers=any);
// both, the pair in the secret key file (as `lbctl keygen` writes it).
// Throws key_error, naming the flag and the file, for a key that cannot be
// read, for --curve-key without --curve-server-key, and when this libzmq
// has no CURVE.
client_keys load_client_keys(const std::string& server_key_or_file,
                             const std::string& secret_key_file);

// Sets CURVE on a socket that is not yet connected; nothing when
// !keys.curve(). For sockets the classes below do not cover.
void use_client_keys(zmq::socket_t& sock, const client_keys& keys);

class request_client {
public:
  request_client(zmq::context_t& ctx, const std::string& endpoint, const client_keys& keys = {});

  void send(std::string_view body);
  // The next reply body, or nothing if none came within `timeout`.
  std::optional<std::string> receive(std::chrono::milliseconds timeout);
  // send + receive.
  std::optional<std::string> call(std::string_view body, std::chrono::milliseconds timeout);

  zmq::socket_t& socket() { return sock_; }

private:
  zmq::socket_t sock_;
};

class ingest_client {
public:
  ingest_client(zmq::context_t& ctx, const std::string& endpoint, const client_keys& keys = {});
  void send(std::string_view body);

private:
  zmq::socket_t sock_;
};

struct update_message {
  std::string topic;
  std::string body;
};

class update_subscriber {
public:
  // Subscribes to every prefix (PROTOCOL.md section 5: `top/<board>/`,
  // `rank/<board>/<player>`, `score/<board>/`; "" for everything).
  // `rcvhwm`: messages this side queues before ZeroMQ stops reading (0: no
  // limit; ZeroMQ's default is 1000).
  update_subscriber(zmq::context_t& ctx, const std::string& endpoint,
                    const std::vector<std::string>& prefixes, int rcvhwm = 1000,
                    const client_keys& keys = {});

  // The next message, or nothing within `timeout`. A message that is not a
  // topic and a body (never sent by the service) is skipped.
  std::optional<update_message> receive(std::chrono::milliseconds timeout);

  zmq::socket_t& socket() { return sock_; }

private:
  zmq::socket_t sock_;
};

} // namespace lb::transport
