#include "transport/server.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <vector>

#include <zmq_addon.hpp>

#include "transport/route.hpp"

namespace lb::transport {

void bind_or_throw(zmq::socket_t& s, const std::string& ep, const char* what) {
  try {
    s.bind(ep);
  } catch (const zmq::error_t& e) {
    throw std::runtime_error(std::string("cannot bind the ") + what + " socket to " + ep + ": "
                             + e.what());
  }
}

namespace {

std::string unique_reply_endpoint() {
  // Several servers may share a process (tests): give each its own queue.
  static std::atomic<unsigned> counter{0};
  return "inproc://lbd-replies-" + std::to_string(counter++);
}

} // namespace

reply_socket::reply_socket(zmq::context_t& ctx, const std::string& endpoint)
  : push_(ctx, zmq::socket_type::push) {
  push_.set(zmq::sockopt::linger, 0);
  // Replies must not be dropped or block forever: inproc has no network,
  // so a generous queue only bounds memory if the I/O thread is gone.
  push_.set(zmq::sockopt::sndhwm, 0);
  push_.connect(endpoint);
}

void reply_socket::send(std::string_view body) {
  // Without a high-water mark a send can only fail when the I/O thread's
  // PULL is gone: at shutdown, with actors still working off their mailboxes.
  // A blocking send would then wait forever (and hang the stop), so drop.
  (void) push_.send(zmq::buffer(body.data(), body.size()), zmq::send_flags::dontwait);
}

server::server(zmq::context_t& ctx, server_options opts)
  : ctx_(ctx),
    opts_(std::move(opts)),
    reply_ep_(unique_reply_endpoint()),
    router_(ctx, zmq::socket_type::router),
    ingest_(ctx, zmq::socket_type::pull),
    replies_(ctx, zmq::socket_type::pull) {
  auto max = static_cast<int64_t>(opts_.max_frame);
  for (auto* s : {&router_, &ingest_}) {
    s->set(zmq::sockopt::linger, 0);
    s->set(zmq::sockopt::maxmsgsize, max);
  }
  replies_.set(zmq::sockopt::rcvhwm, 0);
  bind_or_throw(router_, opts_.requests, "requests");
  bind_or_throw(ingest_, opts_.ingest, "ingest");
  bind_or_throw(replies_, reply_ep_, "reply queue");
}

server::~server() = default;

std::string server::requests_endpoint() const {
  return router_.get(zmq::sockopt::last_endpoint);
}

std::string server::ingest_endpoint() const {
  return ingest_.get(zmq::sockopt::last_endpoint);
}

void server::send(std::string_view route, std::string_view body) {
  if (send_route(router_, route))
    (void) router_.send(zmq::buffer(body.data(), body.size()), zmq::send_flags::none);
}

void server::run(server_handlers& h, const std::atomic<bool>& stop) {
  std::vector<zmq::message_t> frames;
  auto recv_all = [&frames](zmq::socket_t& s) {
    frames.clear();
    auto n = zmq::recv_multipart(s, std::back_inserter(frames), zmq::recv_flags::dontwait);
    return n.has_value() && *n > 0;
  };
  while (!stop.load(std::memory_order_acquire)) {
    zmq::pollitem_t items[] = {{router_.handle(), 0, ZMQ_POLLIN, 0},
                               {replies_.handle(), 0, ZMQ_POLLIN, 0},
                               {ingest_.handle(), 0, ZMQ_POLLIN, 0}};
    int n_items = h.ingest_paused() ? 2 : 3;
    auto timeout = std::chrono::milliseconds(100);
    if (h.poll_timeout)
      timeout = std::min(timeout, h.poll_timeout());
    zmq::poll(items, n_items, timeout);
    // Replies first: they free in-flight slots for new requests.
    for (int i = 0; i < opts_.burst && recv_all(replies_); ++i)
      for (auto& f : frames)
        h.on_internal(f.to_string_view());
    for (int i = 0; i < opts_.burst && recv_all(router_); ++i) {
      // [identity, envelope..., body]; ROUTER always adds the identity.
      if (frames.size() < 2)
        continue;
      auto route = pack_route(frames, frames.size() - 1);
      h.on_request(route, frames.back().to_string_view());
    }
    for (int i = 0; i < opts_.burst && !h.ingest_paused() && recv_all(ingest_); ++i)
      h.on_ingest(frames.back().to_string_view());
    h.on_drained();
  }
  router_.close();
  ingest_.close();
  replies_.close();
}

} // namespace lb::transport
