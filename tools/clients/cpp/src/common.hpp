// What the three socket classes share: the process's ZeroMQ context, the
// endpoints and keys options name, and reading msgpack maps from the service.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <msgpack.hpp>
#include <zmq.hpp>

#include "lbd/client.hpp"
#include "schemas/request.hpp"
#include "transport/client.hpp"

// Outside namespace lbd, whose symbols alone the library exports.
namespace lbd_impl {

using lbd::error;

// One context (one ZeroMQ I/O thread) for every lbd object of the process;
// it goes with the last of them.
std::shared_ptr<zmq::context_t> shared_context();

// options::ingest or options::updates, or when empty the host of `endpoint`
// at `port`. Throws `bad_option` when there is no host to take.
std::string endpoint_or_default(const std::string& given, const std::string& endpoint,
                                const char* port, const char* what);

// A timeout as ZeroMQ's int milliseconds (at most about 12 days).
int milliseconds_of(std::chrono::milliseconds t);

// The CURVE keys options name; `bad_option` when they cannot be used.
lb::transport::client_keys keys_of(const lbd::options& o);

// A message body from the service: one msgpack map, bounded by its size so
// a hostile peer cannot make us allocate wildly. Throws `bad_reply`.
msgpack::object_handle unpack_map(const char* data, std::size_t size);

[[noreturn]] void bad_reply(const std::string& why);

// Typed lookups in a map; a missing key or a wrong type throws `bad_reply`.
// The optional ones take nil and a missing key as nothing.
class map_view {
public:
  explicit map_view(const msgpack::object& o);
  const msgpack::object* find(std::string_view key) const;
  const msgpack::object& at(std::string_view key) const;
  uint64_t u64(std::string_view key) const;
  int64_t i64(std::string_view key) const;
  // A uint that fits 32 bits (season numbers, keep).
  uint32_t u32(std::string_view key) const;
  // A float (or an int) as a double.
  double f64(std::string_view key) const;
  bool flag(std::string_view key) const;
  std::string str(std::string_view key) const;
  std::optional<uint64_t> opt_u64(std::string_view key) const;
  std::optional<int64_t> opt_i64(std::string_view key) const;
  std::optional<std::string> opt_str(std::string_view key) const;
  // str or bin bytes; nil or missing: nothing.
  std::optional<std::string> bytes(std::string_view key) const;
  const msgpack::object_array& array(std::string_view key) const;

private:
  const msgpack::object& map_;
};

lbd::entry entry_of(const msgpack::object& o);

// The protocol's form of a submission, for requests and ingest alike.
lb::schemas::submit_req submit_req_of(const lbd::submission& s);

// A `bad_request` for a name that breaks the protocol's rules, before it goes
// anywhere the service's verdict would be silent (ingest, subscriptions).
void check_board(const std::string& board);
void check_player(const std::string& player);
void check_source(const std::string& source);

} // namespace lbd_impl
