// lbd::subscriber: a SUB on the updates socket. ZeroMQ filters by prefix, so
// the subscriber keeps the exact topics it was asked for and drops the rest
// (follow/arena/al also brings follow/arena/alice), and it checks each
// topic's stream_seq for lost messages (PROTOCOL.md, stream_seq).
#include <set>
#include <unordered_map>

#include "common.hpp"

namespace lbd {

namespace {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

player_state player_of(const lbd_impl::map_view& m) {
  player_state s;
  s.board = m.str("board");
  s.player = m.str("player");
  s.rank = m.opt_u64("rank");
  s.prev_rank = m.opt_u64("prev_rank");
  s.score = m.opt_i64("score");
  s.subscore = m.opt_i64("subscore");
  s.total = m.u64("total");
  s.seq = m.u64("seq");
  return s;
}

top_state top_of(const lbd_impl::map_view& m) {
  top_state s;
  s.board = m.str("board");
  s.total = m.u64("total");
  s.seq = m.u64("seq");
  for (const auto& e : m.array("entries"))
    s.entries.push_back(lbd_impl::entry_of(e));
  return s;
}

season_state season_of(const lbd_impl::map_view& m) {
  season_state s;
  s.board = m.str("board");
  s.season = m.u32("season");
  s.start_ms = m.opt_i64("start_ms");
  s.end_ms = m.i64("end_ms");
  s.start_seq = m.u64("start_seq");
  s.end_seq = m.u64("end_seq");
  s.total = m.u64("total");
  for (const auto& e : m.array("entries"))
    s.entries.push_back(lbd_impl::entry_of(e));
  return s;
}

ack ack_of(const lbd_impl::map_view& m) {
  ack a;
  a.source = m.str("source");
  a.accepted = m.u64("accepted");
  a.rejected = m.u64("rejected");
  a.first_seq = m.opt_u64("first_seq");
  a.last_seq = m.opt_u64("last_seq");
  if (m.find("errors") != nullptr)
    for (const auto& o : m.array("errors")) {
      const lbd_impl::map_view e(o);
      a.errors.push_back({e.opt_u64("item"), e.str("code"), e.str("message")});
    }
  a.errors_truncated = m.find("errors_truncated") != nullptr && m.flag("errors_truncated");
  a.memory_full = m.find("memory_full") != nullptr && m.flag("memory_full");
  return a;
}

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

} // namespace

struct subscriber::impl {
  std::shared_ptr<zmq::context_t> ctx = lbd_impl::shared_context();
  lb::transport::update_subscriber sock;
  std::set<std::string> topics;
  std::unordered_map<std::string, uint64_t> last_stream_seq;

  explicit impl(const options& o)
    : sock(*ctx, lbd_impl::endpoint_or_default(o.updates, o.endpoint, "7402", "updates"), {}, 1000,
           lbd_impl::keys_of(o)) {}

  void subscribe(const std::string& topic) {
    // Every subscribe goes up to the service (libzmq passes repeats on), so
    // following a topic again makes it send the current state again.
    sock.socket().set(zmq::sockopt::subscribe, topic);
    topics.insert(topic);
  }

  void unsubscribe(const std::string& topic) {
    if (topics.erase(topic) == 0)
      return;
    sock.socket().set(zmq::sockopt::unsubscribe, topic);
    last_stream_seq.erase(topic);
  }

  std::optional<update> next(milliseconds timeout) {
    const auto deadline = clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - clock::now());
      auto msg = sock.receive(std::max(left, milliseconds(0)));
      if (!msg)
        return std::nullopt;
      if (topics.count(msg->topic) == 0)
        continue;
      auto oh = lbd_impl::unpack_map(msg->body.data(), msg->body.size());
      const lbd_impl::map_view m(oh.get());
      update u;
      if (starts_with(msg->topic, "follow/"))
        u.body = player_of(m);
      else if (starts_with(msg->topic, "top/"))
        u.body = top_of(m);
      else if (starts_with(msg->topic, "season/"))
        u.body = season_of(m);
      else
        u.body = ack_of(m);
      u.topic = std::move(msg->topic);
      // A service without stream_seq (before issue 14) gives no way to see
      // a loss: no gap is ever reported then.
      if (const auto s = m.opt_u64("stream_seq")) {
        u.stream_seq = *s;
        const auto [it, first] = last_stream_seq.try_emplace(u.topic, *s);
        if (!first) {
          if (*s <= it->second) {
            u.gap = u.restarted = true;
          } else if (*s > it->second + 1) {
            u.gap = true;
            u.missed = *s - it->second - 1;
          }
          it->second = *s;
        }
      }
      return u;
    }
  }
};

subscriber::subscriber(const options& opts) : impl_(std::make_unique<impl>(opts)) {}
subscriber::~subscriber() = default;
subscriber::subscriber(subscriber&&) noexcept = default;
subscriber& subscriber::operator=(subscriber&&) noexcept = default;

void subscriber::follow(const std::string& board, const std::string& player) {
  lbd_impl::check_board(board);
  lbd_impl::check_player(player);
  impl_->subscribe("follow/" + board + "/" + player);
}

void subscriber::unfollow(const std::string& board, const std::string& player) {
  impl_->unsubscribe("follow/" + board + "/" + player);
}

void subscriber::watch_top(const std::string& board) {
  lbd_impl::check_board(board);
  impl_->subscribe("top/" + board + "/");
}

void subscriber::watch_seasons(const std::string& board) {
  lbd_impl::check_board(board);
  impl_->subscribe("season/" + board + "/");
}

void subscriber::watch_acks(const std::string& source) {
  lbd_impl::check_source(source);
  impl_->subscribe("ack/" + source + "/");
}

std::optional<update> subscriber::next(milliseconds timeout) {
  return impl_->next(timeout);
}

std::size_t subscriber::poll(milliseconds timeout, const std::function<void(update&)>& on_update) {
  std::size_t n = 0;
  for (auto u = impl_->next(timeout); u; u = impl_->next(milliseconds(0))) {
    on_update(*u);
    ++n;
  }
  return n;
}

} // namespace lbd
