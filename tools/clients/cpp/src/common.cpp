#include "common.hpp"

#include <algorithm>
#include <mutex>

#include "schemas/request.hpp"
#include "schemas/types.hpp"
#include "transport/curve_keys.hpp"

namespace lbd {

error::error(std::string code, const std::string& message)
  : std::runtime_error(code + ": " + message), code_(std::move(code)) {}

// Out of line, so that the vtable and type_info live in the library: a
// catch (lbd::error&) in a program matches what the library throws.
error::~error() = default;

} // namespace lbd

namespace lbd_impl {

std::shared_ptr<zmq::context_t> shared_context() {
  static std::mutex m;
  static std::weak_ptr<zmq::context_t> current;
  const std::lock_guard<std::mutex> lock(m);
  auto ctx = current.lock();
  if (!ctx) {
    ctx = std::make_shared<zmq::context_t>(1);
    current = ctx;
  }
  return ctx;
}

std::string endpoint_or_default(const std::string& given, const std::string& endpoint,
                                const char* port, const char* what) {
  if (!given.empty())
    return given;
  const std::string scheme = "tcp://";
  const auto colon = endpoint.rfind(':');
  if (endpoint.compare(0, scheme.size(), scheme) != 0 || colon == std::string::npos
      || colon < scheme.size())
    throw error("bad_option", std::string("options::") + what + " is empty and endpoint '"
                                + endpoint + "' is not tcp://HOST:PORT to take the host from");
  return endpoint.substr(0, colon + 1) + port;
}

int milliseconds_of(std::chrono::milliseconds t) {
  return static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(t.count(), 0, 1 << 30));
}

lb::transport::client_keys keys_of(const lbd::options& o) {
  try {
    return lb::transport::load_client_keys(o.curve_server_key, o.curve_key);
  } catch (const lb::transport::key_error& e) {
    throw error("bad_option", e.what());
  }
}

void bad_reply(const std::string& why) {
  throw error("bad_reply", why);
}

// Every element, map entry and str/bin byte takes at least one byte of the
// frame, so limits equal to its size refuse only frames whose headers claim
// more than they hold, before the parser allocates for them.
msgpack::object_handle unpack_map(const char* data, std::size_t size) {
  msgpack::unpack_limit limit(size, size, size, size, size, lb::schemas::max_nesting_depth);
  std::size_t offset = 0;
  msgpack::object_handle handle;
  try {
    handle = msgpack::unpack(data, size, offset, nullptr, nullptr, limit);
  } catch (const std::exception& e) {
    bad_reply(std::string("not msgpack: ") + e.what());
  }
  if (offset != size)
    bad_reply("trailing bytes after the map");
  if (handle.get().type != msgpack::type::MAP)
    bad_reply("not a map");
  return handle;
}

map_view::map_view(const msgpack::object& o) : map_(o) {
  if (o.type != msgpack::type::MAP)
    bad_reply("expected a map");
}

const msgpack::object* map_view::find(std::string_view key) const {
  const auto& m = map_.via.map;
  for (uint32_t i = 0; i < m.size; ++i) {
    const auto& k = m.ptr[i].key;
    if (k.type == msgpack::type::STR && std::string_view(k.via.str.ptr, k.via.str.size) == key)
      return m.ptr[i].val.is_nil() ? nullptr : &m.ptr[i].val;
  }
  return nullptr;
}

const msgpack::object& map_view::at(std::string_view key) const {
  const auto* v = find(key);
  if (v == nullptr)
    bad_reply("no '" + std::string(key) + "'");
  return *v;
}

namespace {

template <class T>
T as(const msgpack::object& v, std::string_view key) {
  try {
    return v.as<T>();
  } catch (const msgpack::type_error&) {
    bad_reply("'" + std::string(key) + "' has the wrong type");
  }
}

} // namespace

uint64_t map_view::u64(std::string_view key) const {
  return as<uint64_t>(at(key), key);
}
int64_t map_view::i64(std::string_view key) const {
  return as<int64_t>(at(key), key);
}
uint32_t map_view::u32(std::string_view key) const {
  const uint64_t v = u64(key);
  if (v > UINT32_MAX)
    bad_reply("'" + std::string(key) + "' is past 2^32 - 1");
  return static_cast<uint32_t>(v);
}
double map_view::f64(std::string_view key) const {
  return as<double>(at(key), key);
}
bool map_view::flag(std::string_view key) const {
  return as<bool>(at(key), key);
}
std::string map_view::str(std::string_view key) const {
  const auto& v = at(key);
  if (v.type != msgpack::type::STR)
    bad_reply("'" + std::string(key) + "' is not a str");
  return {v.via.str.ptr, v.via.str.size};
}
std::optional<uint64_t> map_view::opt_u64(std::string_view key) const {
  if (const auto* v = find(key))
    return as<uint64_t>(*v, key);
  return std::nullopt;
}
std::optional<int64_t> map_view::opt_i64(std::string_view key) const {
  if (const auto* v = find(key))
    return as<int64_t>(*v, key);
  return std::nullopt;
}
std::optional<std::string> map_view::opt_str(std::string_view key) const {
  if (find(key) == nullptr)
    return std::nullopt;
  return str(key);
}
std::optional<std::string> map_view::bytes(std::string_view key) const {
  const auto* v = find(key);
  if (v == nullptr)
    return std::nullopt;
  if (v->type == msgpack::type::STR)
    return std::string(v->via.str.ptr, v->via.str.size);
  if (v->type == msgpack::type::BIN)
    return std::string(v->via.bin.ptr, v->via.bin.size);
  bad_reply("'" + std::string(key) + "' is neither str nor bin");
}
const msgpack::object_array& map_view::array(std::string_view key) const {
  const auto& v = at(key);
  if (v.type != msgpack::type::ARRAY)
    bad_reply("'" + std::string(key) + "' is not an array");
  return v.via.array;
}

lb::schemas::submit_req submit_req_of(const lbd::submission& s) {
  lb::schemas::submit_req r;
  r.board = s.board;
  r.player = s.player;
  r.score = s.score;
  r.subscore = s.subscore;
  if (s.meta)
    r.meta = lb::schemas::meta_value{*s.meta, false};
  return r;
}

lbd::entry entry_of(const msgpack::object& o) {
  const map_view m(o);
  lbd::entry e;
  e.rank = m.u64("rank");
  e.player = m.str("player");
  e.score = m.i64("score");
  e.subscore = m.i64("subscore");
  e.meta = m.bytes("meta");
  return e;
}

void check_board(const std::string& board) {
  if (auto why = lb::schemas::check_board_name(board); !why.empty())
    throw error("bad_request", why);
}

void check_player(const std::string& player) {
  if (auto why = lb::schemas::check_player_name(player); !why.empty())
    throw error("bad_request", why);
}

// A source follows the board name rules (PROTOCOL.md, ingest `source`).
void check_source(const std::string& source) {
  if (auto why = lb::schemas::check_board_name(source); !why.empty())
    throw error("bad_request", "source" + why.substr(why.find(':')));
}

} // namespace lbd_impl
