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

struct subscriptions {
  // The topic prefixes somebody subscribes to now, each once.
  std::vector<std::string> prefixes;
  // The prefixes that got a new subscriber since the last call (whether or
  // not others already had them): a follow/ feed sends its current state
  // again for each.
  std::vector<std::string> joined;
};

class update_sink {
public:
  virtual ~update_sink() = default;
  // Never blocks. Returns false when the message was refused (it is lost);
  // a transport may also drop it later without telling (a PUB socket past a
  // subscriber's high-water mark).
  virtual bool publish(std::string_view topic, std::string_view body) = 0;
  // Who subscribes to what, if the transport knows; nullopt means
  // "unknown": everything but follow/ is produced (a follow/ feed exists
  // only for a subscription that names it).
  virtual std::optional<subscriptions> subscribed() { return std::nullopt; }
};

using update_sink_factory = std::function<std::unique_ptr<update_sink>()>;

} // namespace lb::actors
