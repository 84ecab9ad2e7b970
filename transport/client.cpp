#include "transport/client.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>

#include <zmq_addon.hpp>

namespace lb::transport {

namespace {

// Whether the key file at `path` says it holds `kind` ("public", "secret")
// in the comment write_curve_pair puts first. A file that cannot be read
// says nothing: reading it for its key names the problem.
bool labelled(const std::string& path, const std::string& kind) {
  std::ifstream in(path);
  std::string line;
  return std::getline(in, line) && line.rfind("# CURVE " + kind + " key", 0) == 0;
}

} // namespace

client_keys load_client_keys(const std::string& server_key_or_file,
                             const std::string& secret_key_file) {
  if (server_key_or_file.empty()) {
    if (!secret_key_file.empty())
      throw key_error("--curve-key=" + secret_key_file
                      + " needs --curve-server-key=KEY|FILE too: the service's public key "
                        "(the .pub file `lbctl keygen` wrote for its --curve-secret)");
    return {};
  }
  if (zmq_has("curve") == 0)
    throw key_error("--curve-server-key: this libzmq was built without CURVE");
  client_keys keys;
  try {
    if (!is_z85_key(server_key_or_file) && labelled(server_key_or_file, "secret"))
      throw key_error(server_key_or_file + " holds a secret key, not a public one");
    keys.server_public = key_or_file(server_key_or_file);
  } catch (const key_error& e) {
    throw key_error(std::string("--curve-server-key: ") + e.what()
                    + " (give the service's public key: 40 Z85 characters, or a file holding "
                      "it, such as the .pub file `lbctl keygen` wrote)");
  }
  try {
    if (!secret_key_file.empty() && labelled(secret_key_file, "public"))
      throw key_error(secret_key_file + " holds a public key, not a secret one");
    keys.own = secret_key_file.empty() ? make_curve_pair() : read_secret_key(secret_key_file);
  } catch (const key_error& e) {
    throw key_error(std::string("--curve-key: ") + e.what()
                    + " (give the .key file `lbctl keygen NAME` wrote, whose NAME.pub is "
                      "listed in the service's key files)");
  }
  return keys;
}

void use_client_keys(zmq::socket_t& sock, const client_keys& keys) {
  if (!keys.curve())
    return;
  sock.set(zmq::sockopt::curve_serverkey, keys.server_public);
  sock.set(zmq::sockopt::curve_publickey, keys.own.public_key);
  sock.set(zmq::sockopt::curve_secretkey, keys.own.secret_key);
}

request_client::request_client(zmq::context_t& ctx, const std::string& endpoint,
                               const client_keys& keys)
  : sock_(ctx, zmq::socket_type::dealer) {
  sock_.set(zmq::sockopt::linger, 0);
  use_client_keys(sock_, keys);
  sock_.connect(endpoint);
}

void request_client::send(std::string_view body) {
  (void) sock_.send(zmq::buffer(body.data(), body.size()), zmq::send_flags::none);
}

std::optional<std::string> request_client::receive(std::chrono::milliseconds timeout) {
  zmq::pollitem_t item{sock_.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) <= 0)
    return std::nullopt;
  zmq::message_t msg;
  if (!sock_.recv(msg, zmq::recv_flags::dontwait))
    return std::nullopt;
  // A DEALER sees only the body: the service echoes no extra envelope frames
  // to it unless the client sent some, and this client sends none.
  return msg.to_string();
}

std::optional<std::string> request_client::call(std::string_view body,
                                                std::chrono::milliseconds timeout) {
  send(body);
  return receive(timeout);
}

ingest_client::ingest_client(zmq::context_t& ctx, const std::string& endpoint,
                             const client_keys& keys)
  : sock_(ctx, zmq::socket_type::push) {
  sock_.set(zmq::sockopt::linger, 2000); // let queued events go out on close
  use_client_keys(sock_, keys);
  sock_.connect(endpoint);
}

void ingest_client::send(std::string_view body) {
  (void) sock_.send(zmq::buffer(body.data(), body.size()), zmq::send_flags::none);
}

update_subscriber::update_subscriber(zmq::context_t& ctx, const std::string& endpoint,
                                     const std::vector<std::string>& prefixes, int rcvhwm,
                                     const client_keys& keys)
  : sock_(ctx, zmq::socket_type::sub) {
  sock_.set(zmq::sockopt::linger, 0);
  sock_.set(zmq::sockopt::rcvhwm, rcvhwm);
  use_client_keys(sock_, keys);
  for (const auto& p : prefixes)
    sock_.set(zmq::sockopt::subscribe, p);
  sock_.connect(endpoint);
}

std::optional<update_message> update_subscriber::receive(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    zmq::pollitem_t item{sock_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::max(left, std::chrono::milliseconds(0))) <= 0)
      return std::nullopt;
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(sock_, std::back_inserter(frames), zmq::recv_flags::dontwait))
      return std::nullopt;
    if (frames.size() == 2)
      return update_message{frames[0].to_string(), frames[1].to_string()};
  }
}

} // namespace lb::transport
