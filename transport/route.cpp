#include "transport/route.hpp"

#include <cstdint>

namespace lb::transport {

std::string pack_route(const std::vector<zmq::message_t>& frames, size_t n) {
  std::string out;
  size_t total = 0;
  for (size_t i = 0; i < n; ++i)
    total += 4 + frames[i].size();
  out.reserve(total);
  for (size_t i = 0; i < n; ++i) {
    auto len = static_cast<uint32_t>(frames[i].size());
    for (int b = 0; b < 4; ++b)
      out.push_back(static_cast<char>((len >> (8 * b)) & 0xff));
    out.append(frames[i].data<char>(), frames[i].size());
  }
  return out;
}

namespace {

// Splits the packed route; calls f(frame) for each. False if malformed.
template <class F>
bool for_each_frame(std::string_view route, F&& f) {
  while (!route.empty()) {
    if (route.size() < 4)
      return false;
    uint32_t len = 0;
    for (int b = 0; b < 4; ++b)
      len |= uint32_t{static_cast<unsigned char>(route[b])} << (8 * b);
    route.remove_prefix(4);
    if (route.size() < len)
      return false;
    f(route.substr(0, len));
    route.remove_prefix(len);
  }
  return true;
}

} // namespace

std::string_view route_identity(std::string_view route) {
  std::string_view first;
  bool ok = for_each_frame(route, [&first, n = 0](std::string_view frame) mutable {
    if (n++ == 0)
      first = frame;
  });
  return ok ? first : std::string_view{};
}

send_result send_routed(zmq::socket_t& s, std::string_view route, std::string_view body) {
  if (route.empty() || !for_each_frame(route, [](std::string_view) {}))
    return send_result::malformed;
  // Only the first frame can fail: the ROUTER picks the connection there,
  // and takes the rest of the message whatever its queue holds.
  bool first = true;
  auto result = send_result::sent;
  for_each_frame(route, [&](std::string_view frame) {
    if (result != send_result::sent)
      return;
    try {
      auto sent = s.send(zmq::buffer(frame.data(), frame.size()),
                         zmq::send_flags::sndmore | zmq::send_flags::dontwait);
      if (!sent && first)
        result = send_result::full;
    } catch (const zmq::error_t& e) {
      if (e.num() != EHOSTUNREACH)
        throw;
      result = send_result::gone;
    }
    first = false;
  });
  if (result == send_result::sent)
    (void) s.send(zmq::buffer(body.data(), body.size()), zmq::send_flags::dontwait);
  return result;
}

} // namespace lb::transport
