#include "tools/lb-bench/targets.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <deque>
#include <iostream>
#include <optional>
#include <string_view>

#include <poll.h>

#include <hiredis/hiredis.h>
#include <msgpack.hpp>

#include "schemas/reply.hpp"
#include "schemas/request.hpp"
#include "tools/common/numbers.hpp"

namespace lb::bench {

namespace {

schemas::request_body body_of(const op& o) {
  const auto board = board_name(o.board);
  switch (o.kind) {
    case op_kind::submit:
      return schemas::submit_req{board, player_name(o.player), o.score, 0, {}};
    case op_kind::rank:
      return schemas::rank_req{board, player_name(o.player), false};
    case op_kind::top:
      return schemas::top_req{board, 10, 0};
    case op_kind::around:
      return schemas::around_req{board, player_name(o.player), 5};
  }
  throw target_error("unknown op");
}

const msgpack::object* find_key(const msgpack::object& map, const char* key) {
  if (map.type != msgpack::type::MAP)
    return nullptr;
  const std::size_t n = std::strlen(key);
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    const auto& kv = map.via.map.ptr[i];
    if (kv.key.type == msgpack::type::STR && kv.key.via.str.size == n
        && std::memcmp(kv.key.via.str.ptr, key, n) == 0)
      return &kv.val;
  }
  return nullptr;
}

class zmq_connection : public connection {
public:
  zmq_connection(zmq::context_t& ctx, const std::string& endpoint,
                 const transport::client_keys& keys)
    : sock_(ctx, zmq::socket_type::dealer), endpoint_(endpoint) {
    sock_.set(zmq::sockopt::linger, 0);
    // Pipelining depth, not ZeroMQ, bounds what is in flight.
    sock_.set(zmq::sockopt::sndhwm, 0);
    sock_.set(zmq::sockopt::rcvhwm, 0);
    transport::use_client_keys(sock_, keys);
    sock_.connect(endpoint);
  }

  void send(const op& o, uint64_t tag) override {
    const auto frame = schemas::encode_request(tag, body_of(o));
    sock_.send(zmq::buffer(frame), zmq::send_flags::none);
  }

  bool wait(int timeout_ms) override {
    zmq::pollitem_t item{sock_.handle(), 0, ZMQ_POLLIN, 0};
    return zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) > 0;
  }

  void drain(std::vector<completion>& out) override {
    zmq::message_t msg;
    while (sock_.recv(msg, zmq::recv_flags::dontwait)) {
      if (msg.more())
        continue; // a service never sends an envelope to a DEALER, but be lenient
      msgpack::object_handle oh;
      try {
        oh = msgpack::unpack(static_cast<const char*>(msg.data()), msg.size());
      } catch (const std::exception& e) {
        throw target_error(endpoint_ + " sent a reply that is not msgpack: " + e.what());
      }
      const auto* id = find_key(oh.get(), "id");
      const auto* ok = find_key(oh.get(), "ok");
      if (id == nullptr || id->type != msgpack::type::POSITIVE_INTEGER)
        throw target_error(endpoint_
                           + " sent a reply without the request's id; is it lbd or "
                             "lb-bench echo-server?");
      out.push_back(
        {id->via.u64, ok != nullptr && ok->type == msgpack::type::BOOLEAN && ok->via.boolean});
    }
  }

private:
  zmq::socket_t sock_;
  std::string endpoint_;
};

// Returns host and port of tcp://HOST:PORT or HOST:PORT.
std::pair<std::string, int> host_port(const std::string& endpoint) {
  std::string s = endpoint;
  if (s.rfind("tcp://", 0) == 0)
    s = s.substr(6);
  const auto colon = s.rfind(':');
  const auto port = colon == std::string::npos
                      ? std::nullopt
                      : tools::parse_whole(std::string_view(s).substr(colon + 1), 1, 65535);
  if (!port)
    throw target_error("redis endpoint '" + endpoint + "' is not tcp://HOST:PORT");
  return {s.substr(0, colon), *port};
}

// Submit: set the better score (GT keeps the higher one, like lbd's `best`
// on a desc board) and answer the rank in the same round trip.
const char* submit_script = "redis.call('ZADD', KEYS[1], 'GT', ARGV[1], ARGV[2]) "
                            "return redis.call('ZREVRANK', KEYS[1], ARGV[2])";
const char* around_script = "local r = redis.call('ZREVRANK', KEYS[1], ARGV[1]) "
                            "if not r then return false end "
                            "local lo = r - 5 if lo < 0 then lo = 0 end "
                            "return redis.call('ZREVRANGE', KEYS[1], lo, r + 5, 'WITHSCORES')";

class redis_connection : public connection {
public:
  explicit redis_connection(const std::string& endpoint) : endpoint_(endpoint) {
    auto [host, port] = host_port(endpoint);
    ctx_ = redisConnect(host.c_str(), port);
    if (ctx_ == nullptr || ctx_->err)
      throw target_error("cannot connect to redis at " + endpoint + ": "
                         + (ctx_ != nullptr ? ctx_->errstr : "out of memory")
                         + " (is redis-server running there?)");
    submit_sha_ = load(submit_script);
    around_sha_ = load(around_script);
  }
  ~redis_connection() override { redisFree(ctx_); }

  void send(const op& o, uint64_t tag) override {
    const auto key = board_name(o.board);
    const auto member = player_name(o.player);
    int rc = REDIS_OK;
    switch (o.kind) {
      case op_kind::submit:
        rc = redisAppendCommand(ctx_, "EVALSHA %s 1 %s %lld %s", submit_sha_.c_str(), key.c_str(),
                                static_cast<long long>(o.score), member.c_str());
        break;
      case op_kind::rank:
        rc = redisAppendCommand(ctx_, "ZREVRANK %s %s", key.c_str(), member.c_str());
        break;
      case op_kind::top:
        rc = redisAppendCommand(ctx_, "ZREVRANGE %s 0 9 WITHSCORES", key.c_str());
        break;
      case op_kind::around:
        rc = redisAppendCommand(ctx_, "EVALSHA %s 1 %s %s", around_sha_.c_str(), key.c_str(),
                                member.c_str());
        break;
    }
    if (rc != REDIS_OK)
      fail("queueing a command");
    tags_.push_back(tag); // Redis answers in order
  }

  void flush() override {
    int done = 0;
    while (!done)
      if (redisBufferWrite(ctx_, &done) != REDIS_OK)
        fail("sending");
  }

  bool wait(int timeout_ms) override {
    pollfd p{ctx_->fd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) > 0;
  }

  void drain(std::vector<completion>& out) override {
    take(out);
    pollfd p{ctx_->fd, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) {
      if (redisBufferRead(ctx_) != REDIS_OK)
        fail("reading");
      take(out);
    }
  }

private:
  void take(std::vector<completion>& out) {
    void* r = nullptr;
    while (redisReaderGetReply(ctx_->reader, &r) == REDIS_OK && r != nullptr) {
      auto* reply = static_cast<redisReply*>(r);
      if (tags_.empty())
        throw target_error("redis at " + endpoint_ + " sent a reply nobody asked for");
      out.push_back({tags_.front(), reply->type != REDIS_REPLY_ERROR});
      tags_.pop_front();
      freeReplyObject(reply);
      r = nullptr;
    }
  }

  std::string load(const char* script) {
    auto* r = static_cast<redisReply*>(redisCommand(ctx_, "SCRIPT LOAD %s", script));
    if (r == nullptr)
      fail("loading a script");
    std::string sha = r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len) : "";
    const std::string err = r->type == REDIS_REPLY_ERROR ? std::string(r->str, r->len) : "";
    freeReplyObject(r);
    if (sha.empty())
      throw target_error("redis at " + endpoint_ + " refused SCRIPT LOAD: " + err
                         + " (ZADD GT needs Redis 6.2 or newer)");
    return sha;
  }

  [[noreturn]] void fail(const char* what) {
    throw target_error("redis at " + endpoint_ + ": error " + what + ": " + ctx_->errstr);
  }

  std::string endpoint_;
  redisContext* ctx_ = nullptr;
  std::string submit_sha_, around_sha_;
  std::deque<uint64_t> tags_;
};

std::atomic<bool> echo_stop{false};
extern "C" void on_echo_signal(int) {
  echo_stop = true;
}

} // namespace

std::unique_ptr<connection> connect_requests(zmq::context_t& ctx, const std::string& endpoint,
                                             const transport::client_keys& keys) {
  return std::make_unique<zmq_connection>(ctx, endpoint, keys);
}

std::unique_ptr<connection> connect_redis(const std::string& endpoint) {
  return std::make_unique<redis_connection>(endpoint);
}

ingest_sender::ingest_sender(zmq::context_t& ctx, const std::string& endpoint,
                             const transport::client_keys& keys)
  : sock_(ctx, zmq::socket_type::push) {
  // Fire-and-forget still has to arrive: let queued batches leave on close.
  sock_.set(zmq::sockopt::linger, 30000);
  transport::use_client_keys(sock_, keys);
  sock_.connect(endpoint);
}

void ingest_sender::send_batch(const std::vector<op>& ops) {
  schemas::batch_req b;
  b.items.reserve(ops.size());
  for (const auto& o : ops)
    b.items.emplace_back(
      schemas::submit_req{board_name(o.board), player_name(o.player), o.score, 0, {}});
  const auto frame = schemas::encode_request(std::nullopt, b);
  sock_.send(zmq::buffer(frame), zmq::send_flags::none);
}

uint64_t service_seq(zmq::context_t& ctx, const std::string& requests_endpoint,
                     const transport::client_keys& keys) {
  zmq::socket_t s(ctx, zmq::socket_type::dealer);
  s.set(zmq::sockopt::linger, 0);
  transport::use_client_keys(s, keys);
  s.connect(requests_endpoint);
  const auto frame = schemas::encode_request(1, schemas::stats_req{});
  s.send(zmq::buffer(frame), zmq::send_flags::none);
  zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
  // Generous: stats hashes every entry, seconds for a board of millions.
  if (zmq::poll(&item, 1, std::chrono::seconds(60)) <= 0)
    throw target_error("no reply to stats from " + requests_endpoint
                       + " within 60 s; is leaderboardd running there?"
                       + (keys.curve() ? " (with CURVE, a service that refuses the keys does not "
                                         "answer either: check --curve-server-key and --curve-key)"
                                       : ""));
  zmq::message_t msg;
  (void) s.recv(msg);
  auto oh = msgpack::unpack(static_cast<const char*>(msg.data()), msg.size());
  const auto* seq = find_key(oh.get(), "seq");
  if (seq == nullptr || seq->type != msgpack::type::POSITIVE_INTEGER)
    throw target_error(requests_endpoint + " answered stats without a seq; is it leaderboardd?");
  return seq->via.u64;
}

int run_echo_server(const std::string& bind_endpoint) {
  std::signal(SIGINT, on_echo_signal);
  std::signal(SIGTERM, on_echo_signal);
  zmq::context_t ctx(1);
  zmq::socket_t sock(ctx, zmq::socket_type::router);
  sock.set(zmq::sockopt::linger, 0);
  sock.set(zmq::sockopt::sndhwm, 0);
  sock.set(zmq::sockopt::rcvhwm, 0);
  try {
    sock.bind(bind_endpoint);
  } catch (const zmq::error_t& e) {
    std::cerr << "lb-bench echo-server: cannot bind " << bind_endpoint << ": " << e.what()
              << " (is the port taken?)\n";
    return 1;
  }
  std::cerr << "lb-bench echo-server: answering on " << bind_endpoint << '\n';
  uint64_t seq = 0;
  std::vector<zmq::message_t> parts;
  while (!echo_stop) {
    zmq::pollitem_t item{sock.handle(), 0, ZMQ_POLLIN, 0};
    try {
      if (zmq::poll(&item, 1, std::chrono::milliseconds(100)) <= 0)
        continue;
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR)
        continue; // SIGINT/SIGTERM: the loop condition decides
      throw;
    }
    // Drain in bursts, as the service's I/O thread does.
    for (int burst = 0; burst < 256; ++burst) {
      parts.clear();
      zmq::message_t part;
      if (!sock.recv(part, zmq::recv_flags::dontwait))
        break;
      // The rest of a multipart message is already here once its first part is.
      while (true) {
        const bool more = part.more();
        parts.push_back(std::move(part));
        if (!more)
          break;
        (void) sock.recv(part, zmq::recv_flags::none);
      }
      const auto& body = parts.back();
      // Decoding is part of the ceiling: the service must do it too.
      const auto req = schemas::decode_request(static_cast<const char*>(body.data()), body.size());
      schemas::submit_reply r;
      if (req.ok())
        if (const auto* s = std::get_if<schemas::submit_req>(&std::get<0>(req.body)))
          r.board = s->board, r.player = s->player, r.score = s->score;
      if (r.board.empty())
        r.board = "bench0", r.player = "p0";
      r.rank = 1;
      r.total = 1;
      r.changed = true;
      r.seq = ++seq;
      const auto out = schemas::encode_reply(req.id, r);
      parts.back() = zmq::message_t(out.data(), out.size());
      for (std::size_t i = 0; i < parts.size(); ++i)
        sock.send(parts[i],
                  i + 1 < parts.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
  }
  return 0;
}

} // namespace lb::bench
