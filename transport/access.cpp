#include "transport/access.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <unordered_map>

#include <zmq_addon.hpp>

#include "transport/curve_keys.hpp"

namespace lb::transport {

struct gatekeeper::key_roles {
  std::unordered_map<std::string, role> roles;
  bool any_reader = false;
};

namespace {

constexpr const char* zap_endpoint = "inproc://zeromq.zap.01";

std::string monitor_endpoint(const std::string& domain) {
  static std::atomic<unsigned> counter{0};
  return "inproc://lbd-monitor-" + domain + "-" + std::to_string(counter++);
}

role parse_role(std::string_view s) {
  if (s == "admin")
    return role::admin;
  if (s == "writer")
    return role::writer;
  if (s == "reader")
    return role::reader;
  return role::none;
}

// The least role a domain admits.
role admits(std::string_view domain) {
  return domain == "ingest" ? role::writer : role::reader;
}

} // namespace

const char* to_string(role r) {
  switch (r) {
    case role::admin:
      return "admin";
    case role::writer:
      return "writer";
    case role::reader:
      return "reader";
    case role::none:
      break;
  }
  return "none";
}

peer peer_of(zmq::message_t& m) {
  peer p;
  // The user id is "<role>" or "<role> <key>", set by answer_zap below.
  if (const char* id = zmq_msg_gets(m.handle(), "User-Id")) {
    std::string_view user(id);
    auto space = user.find(' ');
    p.r = parse_role(user.substr(0, space));
    if (space != std::string_view::npos)
      p.key = user.substr(space + 1);
  }
  if (const char* address = zmq_msg_gets(m.handle(), "Peer-Address"))
    p.address = address;
  return p;
}

gatekeeper::gatekeeper(zmq::context_t& ctx, access_options opts, client_counters& counters)
  : ctx_(ctx), opts_(std::move(opts)), zap_(ctx, zmq::socket_type::rep), counters_(counters) {
  if (!opts_.curve_secret.empty()) {
    auto pair = read_secret_key(opts_.curve_secret);
    server_secret_ = pair.secret_key;
    server_public_ = pair.public_key;
  }
  load_keys(); // throws: a bad key file stops the start
  zap_.set(zmq::sockopt::linger, 0);
  zap_.bind(zap_endpoint);
}

gatekeeper::~gatekeeper() {
  stop_.store(true, std::memory_order_release);
  if (thread_.joinable())
    thread_.join();
}

void gatekeeper::load_keys() {
  auto keys = std::make_unique<key_roles>();
  auto add = [&keys](const std::string& file, role r) {
    if (file.empty())
      return;
    for (auto& key : read_key_list(file)) {
      auto& have = keys->roles[key];
      have = std::max(have, r);
    }
  };
  if (opts_.readers == "any")
    keys->any_reader = true;
  else
    add(opts_.readers, role::reader);
  add(opts_.writers, role::writer);
  add(opts_.admins, role::admin);
  keys_ = std::move(keys);
}

void gatekeeper::guard(zmq::socket_t& s, const std::string& domain) {
  s.set(zmq::sockopt::zap_domain, domain);
  s.set(zmq::sockopt::handshake_ivl, static_cast<int>(opts_.handshake_limit.count()));
  if (curve()) {
    s.set(zmq::sockopt::curve_server, true);
    s.set(zmq::sockopt::curve_secretkey, server_secret_);
  }
  auto ep = monitor_endpoint(domain);
  if (zmq_socket_monitor(s.handle(), ep.c_str(), ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED) != 0)
    throw zmq::error_t();
  auto& mon = monitors_.emplace_back(ctx_, zmq::socket_type::pair);
  mon.set(zmq::sockopt::linger, 0);
  mon.connect(ep);
}

void gatekeeper::start() {
  thread_ = std::thread([this] { run(); });
}

role gatekeeper::role_of(const std::string& key) const {
  if (auto it = keys_->roles.find(key); it != keys_->roles.end())
    return it->second;
  return keys_->any_reader ? role::reader : role::none;
}

void gatekeeper::run() {
  std::vector<zmq::pollitem_t> items;
  items.push_back({zap_.handle(), 0, ZMQ_POLLIN, 0});
  for (auto& mon : monitors_)
    items.push_back({mon.handle(), 0, ZMQ_POLLIN, 0});
  while (!stop_.load(std::memory_order_acquire)) {
    if (reload_.exchange(false, std::memory_order_acq_rel)) {
      try {
        load_keys();
        opts_.note("key files re-read: " + std::to_string(keys_->roles.size()) + " keys"
                   + (keys_->any_reader ? ", any key may read" : ""));
      } catch (const std::exception& e) {
        opts_.note(std::string("key files not re-read, the old keys stay: ") + e.what());
      }
    }
    zmq::poll(items, std::chrono::milliseconds(100));
    // Connection counts first: a ZAP request follows its connection's
    // ACCEPTED event.
    for (size_t i = 1; i < items.size(); ++i)
      read_monitor(monitors_[i - 1]);
    if (items[0].revents & ZMQ_POLLIN)
      answer_zap();
  }
  zap_.close();
  for (auto& mon : monitors_)
    mon.close();
}

void gatekeeper::read_monitor(zmq::socket_t& mon) {
  std::vector<zmq::message_t> frames;
  while (zmq::recv_multipart(mon, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
    // [event (2 bytes) + value (4 bytes: the fd for these events), endpoint]
    if (!frames.empty() && frames[0].size() >= 6) {
      uint16_t event = 0;
      uint32_t fd = 0;
      std::memcpy(&event, frames[0].data(), 2);
      std::memcpy(&fd, static_cast<const char*>(frames[0].data()) + 2, 4);
      if (event == ZMQ_EVENT_ACCEPTED) {
        if (counters_.open.fetch_add(1, std::memory_order_relaxed) >= opts_.max_clients) {
          // libzmq owns the fd: shutting it down (not closing it) makes
          // libzmq see the peer gone and close it, with a DISCONNECTED event.
          ::shutdown(static_cast<int>(fd), SHUT_RDWR);
          count(counters_.refused_clients);
        }
      } else if (event == ZMQ_EVENT_DISCONNECTED) {
        auto open = counters_.open.load(std::memory_order_relaxed);
        if (open > 0)
          counters_.open.store(open - 1, std::memory_order_relaxed); // only this thread writes
      }
    }
    frames.clear();
  }
}

void gatekeeper::answer_zap() {
  // ZAP 1.0 (RFC 27): version, request id, domain, address, identity,
  // mechanism, credentials...; the reply: version, request id, status code,
  // status text, user id, metadata.
  std::vector<zmq::message_t> req;
  if (!zmq::recv_multipart(zap_, std::back_inserter(req), zmq::recv_flags::dontwait))
    return;
  role r = role::none;
  std::string key;
  if (req.size() >= 6) {
    auto mechanism = req[5].to_string_view();
    if (!curve())
      r = role::admin; // no CURVE: every client may do everything
    else if (mechanism == "CURVE" && req.size() >= 7 && req[6].size() == 32) {
      char z85[41];
      zmq_z85_encode(z85, static_cast<const uint8_t*>(req[6].data()), 32);
      key = z85;
      r = role_of(key);
    }
    if (r < admits(req[2].to_string_view()))
      r = role::none;
  }
  bool ok = r != role::none;
  if (!ok)
    count(counters_.refused_keys);
  std::string user = !ok ? "" : key.empty() ? to_string(r) : std::string(to_string(r)) + " " + key;
  std::string request_id = req.size() > 1 ? req[1].to_string() : "";
  // A REP socket must answer every request, even one libzmq never sends.
  std::array<zmq::const_buffer, 6> reply{
    zmq::str_buffer("1.0"),
    zmq::buffer(request_id),
    ok ? zmq::str_buffer("200") : zmq::str_buffer("400"),
    ok ? zmq::str_buffer("OK") : zmq::str_buffer("key not admitted"),
    zmq::buffer(user),
    zmq::str_buffer(""),
  };
  (void) zmq::send_multipart(zap_, reply);
}

} // namespace lb::transport
