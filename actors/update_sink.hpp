// Where update stream messages go (PROTOCOL.md section 5). The actors never
// see a socket: the service hands the one publisher actor its sink (in the
// daemon, the PUB socket, which only that actor then uses).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lb::actors {

class update_sink {
public:
  virtual ~update_sink() = default;
  // Never blocks. Returns false when the message was refused (it is lost);
  // a transport may also drop it later without telling (a PUB socket past a
  // subscriber's high-water mark).
  virtual bool publish(std::string_view topic, std::string_view body) = 0;
  // The topic prefixes somebody subscribes to now, if the transport knows;
  // nullopt means "unknown", and everything is produced.
  virtual std::optional<std::vector<std::string>> subscriptions() { return std::nullopt; }
};

using update_sink_factory = std::function<std::unique_ptr<update_sink>()>;

} // namespace lb::actors
