// The actors' outbox and update sink, on the transport's sockets.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "actors/outbox.hpp"
#include "actors/update_sink.hpp"
#include "transport/publisher.hpp"
#include "transport/server.hpp"

namespace lb::daemon {

// One actor's PUSH socket into the server's reply queue.
class socket_outbox : public actors::outbox {
public:
  socket_outbox(zmq::context_t& ctx, const std::string& ep) : sock_(ctx, ep) {}

protected:
  void send(std::string_view batch) override { sock_.send(batch); }

private:
  transport::reply_socket sock_;
};

// The PUB socket, handed to the publisher actor, its only user from then on.
class socket_update_sink : public actors::update_sink {
public:
  explicit socket_update_sink(std::unique_ptr<transport::update_publisher> pub)
    : pub_(std::move(pub)) {}
  bool publish(std::string_view topic, std::string_view body) override {
    return pub_->send(topic, body);
  }
  std::optional<actors::subscriptions> subscribed() override {
    auto s = pub_->subscriptions();
    return actors::subscriptions{std::move(s.prefixes), std::move(s.joined)};
  }

private:
  std::unique_ptr<transport::update_publisher> pub_;
};

} // namespace lb::daemon
