// A request's envelope (every frame before the body: the ROUTER identity, a
// REQ client's empty delimiter, anything a DEALER client put first) packed
// into one string, so the layers above can carry it without knowing ZeroMQ.
// Layout: for each frame, its length as 4 bytes little-endian, then its bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

namespace lb::transport {

// Packs frames[0 .. n-1) (all but the body).
std::string pack_route(const std::vector<zmq::message_t>& frames, size_t n);

// The first frame: the ROUTER's identity of the connection ("" if malformed).
std::string_view route_identity(std::string_view route);

enum class send_result { sent, full, gone, malformed };
// Sends the envelope's frames and then `body` without blocking, on a ROUTER
// with ZMQ_ROUTER_MANDATORY: `full` if the connection's queue is at its
// high-water mark, `gone` if the connection is closed; nothing is sent then.
send_result send_routed(zmq::socket_t& s, std::string_view route, std::string_view body);

} // namespace lb::transport
