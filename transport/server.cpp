#include "transport/server.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iterator>
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

// Enough for a REQ client behind a few proxies; a request whose envelope is
// larger gets no reply (it would echo the envelope), only a count.
constexpr size_t max_envelope_frames = 16;
constexpr size_t max_envelope_bytes = 4096;

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

server::server(zmq::context_t& ctx, server_options opts, gatekeeper& guard,
               client_counters& counters)
  : ctx_(ctx),
    opts_(std::move(opts)),
    reply_ep_(unique_reply_endpoint()),
    router_(ctx, zmq::socket_type::router),
    ingest_(ctx, zmq::socket_type::pull),
    replies_(ctx, zmq::socket_type::pull),
    counters_(counters) {
  auto max = static_cast<int64_t>(opts_.max_frame);
  for (auto* s : {&router_, &ingest_}) {
    s->set(zmq::sockopt::linger, 0);
    s->set(zmq::sockopt::maxmsgsize, max);
  }
  // A full connection queue must say so (EAGAIN), not drop the reply.
  router_.set(zmq::sockopt::router_mandatory, true);
  router_.set(zmq::sockopt::sndhwm, opts_.reply_hwm);
  guard.guard(router_, "requests");
  guard.guard(ingest_, "ingest");
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
  auto identity = route_identity(route);
  if (identity.empty())
    return; // never made by pack_route
  if (backlog_of(identity) > 0) {
    queue(identity, route, body); // behind the replies already waiting
    return;
  }
  switch (send_routed(router_, route, body)) {
    case send_result::full:
      queue(identity, route, body);
      break;
    case send_result::gone:
      count(counters_.replies_orphaned);
      break;
    case send_result::sent:
    case send_result::malformed:
      break;
  }
}

void server::queue(std::string_view identity, std::string_view route, std::string_view body) {
  auto& b = backlogs_[std::string(identity)];
  auto size = route.size() + body.size();
  if (b.bytes + size > opts_.max_backlog) {
    count(counters_.replies_dropped);
    if (b.replies.empty())
      backlogs_.erase(std::string(identity));
    return;
  }
  b.replies.emplace_back(route, body);
  b.bytes += size;
  count(counters_.reply_backlog, size);
}

void server::send_backlogs() {
  for (auto it = backlogs_.begin(); it != backlogs_.end();) {
    auto& b = it->second;
    while (!b.replies.empty()) {
      auto& [route, body] = b.replies.front();
      auto result = send_routed(router_, route, body);
      if (result == send_result::full)
        break;
      if (result == send_result::gone)
        count(counters_.replies_orphaned);
      auto size = route.size() + body.size();
      b.bytes -= size;
      counters_.reply_backlog.fetch_sub(size, std::memory_order_relaxed);
      b.replies.pop_front();
    }
    it = b.replies.empty() ? backlogs_.erase(it) : std::next(it);
  }
}

size_t server::backlog_of(std::string_view identity) const {
  if (backlogs_.empty())
    return 0;
  auto it = backlogs_.find(std::string(identity));
  return it == backlogs_.end() ? 0 : it->second.bytes;
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
    // A slow reader's queue frees without a wake-up: look again soon.
    auto timeout = std::chrono::milliseconds(backlogs_.empty() ? 100 : 1);
    if (h.poll_timeout)
      timeout = std::min(timeout, h.poll_timeout());
    zmq::poll(items, n_items, timeout);
    // Replies first: they free in-flight slots for new requests.
    for (int i = 0; i < opts_.burst && recv_all(replies_); ++i)
      for (auto& f : frames)
        h.on_internal(f.to_string_view());
    if (!backlogs_.empty())
      send_backlogs();
    for (int i = 0; i < opts_.burst && recv_all(router_); ++i) {
      // [identity, envelope..., body]; ROUTER always adds the identity.
      if (frames.size() < 2)
        continue;
      // The envelope comes back with the reply: a hostile one must not.
      size_t envelope = 0;
      for (size_t f = 0; f + 1 < frames.size(); ++f)
        envelope += frames[f].size();
      if (frames.size() > max_envelope_frames + 1 || envelope > max_envelope_bytes) {
        count(counters_.bad_envelopes);
        continue;
      }
      request_meta meta{peer_of(frames.back()), backlog_of(frames[0].to_string_view())};
      auto route = pack_route(frames, frames.size() - 1);
      h.on_request(route, frames.back().to_string_view(), meta);
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
