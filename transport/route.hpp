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

// Sends the envelope's frames, each with SNDMORE, ready for the body frame.
// Returns false (nothing sent) if the route is malformed.
bool send_route(zmq::socket_t& s, std::string_view route);

} // namespace lb::transport
