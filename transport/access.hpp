// Who may talk to the service, and how many at once.
//
// Every service socket is guarded: it names a ZAP domain (`requests`,
// `ingest`, `updates`), so libzmq asks this gatekeeper about each new
// connection, and it is monitored, so the gatekeeper sees every connection
// open and close. The gatekeeper runs on its own thread (libzmq expects the
// ZAP handler on a thread of its own, answering on inproc://zeromq.zap.01).
//
// With a server key (CURVE), a client's public key decides its role:
//   reader  reads and update streams (`--readers=FILE`, or `any` key)
//   writer  also submits, batches and ingest (`--writers=FILE`)
//   admin   also remove, reset, configure (`--admins=FILE`)
// A key listed in several files has the highest role; an unknown key gets no
// connection, and `ingest` admits writers and admins only. The role and the
// key travel with every message as its ZAP user id ("writer <key>"), which
// peer_of() reads back. Without a server key every client is an admin, as
// before there were keys.
//
// Past `max_clients` open connections (all three sockets together) a new
// one is shut down at once, which keeps file descriptors for the event log.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "transport/counters.hpp"

namespace lb::transport {

enum class role : uint8_t { none, reader, writer, admin };
const char* to_string(role r);

struct access_options {
  std::string curve_secret; // the server's secret key file; empty: no CURVE
  std::string readers;      // key list files; `readers` may be "any"
  std::string writers;
  std::string admins;
  uint32_t max_clients = 1000;
  std::chrono::milliseconds handshake_limit{5000}; // a peer must finish its handshake by then
  // Lines for the operator (key reloads, their errors); called on the
  // gatekeeper's thread.
  std::function<void(const std::string&)> note = [](const std::string&) {};
};

// The peer a message came from.
struct peer {
  role r = role::none;
  std::string_view key;     // Z85 public key; empty without CURVE
  std::string_view address; // the peer's IP address, when libzmq knows it
};
// Reads a received message's metadata (the ZAP user id, the peer address).
peer peer_of(zmq::message_t& m);

class gatekeeper {
public:
  // Reads the key files; throws key_error naming the file that cannot be
  // used. Counts what it refuses, and the connections open, in `counters`.
  gatekeeper(zmq::context_t& ctx, access_options opts, client_counters& counters);
  ~gatekeeper();
  gatekeeper(const gatekeeper&) = delete;
  gatekeeper& operator=(const gatekeeper&) = delete;

  bool curve() const { return !server_secret_.empty(); }
  // The server's public key (Z85), for clients' --curve-server-key.
  const std::string& server_public() const { return server_public_; }

  // Before `s` binds, and before start(): CURVE, ZAP domain, monitor.
  void guard(zmq::socket_t& s, const std::string& domain);
  // Starts the thread that answers ZAP and counts connections.
  void start();
  // Re-reads the key files on the gatekeeper's thread (from any thread, e.g.
  // on SIGHUP). Connections already open keep the role they got.
  void reload() { reload_.store(true, std::memory_order_release); }

private:
  struct key_roles;
  void run();
  void answer_zap();
  void read_monitor(zmq::socket_t& mon);
  role role_of(const std::string& key) const;
  void load_keys();

  zmq::context_t& ctx_;
  access_options opts_;
  std::string server_secret_;
  std::string server_public_;
  std::unique_ptr<const key_roles> keys_; // replaced whole on reload, on the gatekeeper thread
  zmq::socket_t zap_;
  std::vector<zmq::socket_t> monitors_;
  client_counters& counters_;
  std::atomic<bool> reload_{false};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

} // namespace lb::transport
