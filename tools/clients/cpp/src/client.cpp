// lbd::client: requests go out encoded by the service's own encoder
// (schemas/encode.cpp), each with a fresh `id` that is also its ticket;
// replies are matched back by the `id` the service echoes.
#include <algorithm>
#include <deque>
#include <unordered_map>
#include <utility>

#include "common.hpp"
#include "schemas/json.hpp"
#include "schemas/request.hpp"

namespace lbd {

namespace {

namespace sch = lb::schemas;
using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// What a ticket asked, so that its reply is read as the right kind.
enum class kind { submit, batch, rank, entries, removal, configure, boards, stats, ping, seasons };

submit_result submit_of(const lbd_impl::map_view& m) {
  submit_result r;
  r.board = m.str("board");
  r.player = m.str("player");
  r.score = m.i64("score");
  r.subscore = m.i64("subscore");
  r.rank = m.u64("rank");
  r.prev_rank = m.opt_u64("prev_rank");
  r.changed = m.flag("changed");
  r.total = m.u64("total");
  r.seq = m.u64("seq");
  r.percentile = m.f64("percentile");
  return r;
}

// `season` on a read's reply, only when the request named one.
std::optional<uint32_t> season_of(const lbd_impl::map_view& m) {
  if (m.find("season") == nullptr)
    return std::nullopt;
  return m.u32("season");
}

error error_of(const msgpack::object& o) {
  const lbd_impl::map_view m(o);
  return error(m.str("code"), m.str("message"));
}

page page_of(const lbd_impl::map_view& m) {
  page p;
  p.board = m.str("board");
  p.total = m.u64("total");
  p.seq = m.u64("seq");
  for (const auto& e : m.array("entries"))
    p.entries.push_back(lbd_impl::entry_of(e));
  p.next = m.opt_str("next");
  p.season = season_of(m);
  return p;
}

board_info board_of(const msgpack::object& o) {
  const lbd_impl::map_view m(o);
  return {m.str("board"),  m.u64("total"),        m.str("order"), m.str("operator"),
          m.u32("season"), m.opt_str("schedule"), m.u32("keep")};
}

seasons_result seasons_of(const lbd_impl::map_view& m) {
  seasons_result r;
  r.board = m.str("board");
  r.current = m.u32("current");
  r.schedule = m.opt_str("schedule");
  r.next_ms = m.opt_i64("next_ms");
  r.keep = m.u32("keep");
  r.seq = m.u64("seq");
  for (const auto& o : m.array("seasons")) {
    const lbd_impl::map_view s(o);
    r.seasons.push_back({s.u32("season"), s.opt_i64("start_ms"), s.opt_i64("end_ms"),
                         s.u64("start_seq"), s.opt_u64("end_seq"), s.u64("total"),
                         s.flag("current")});
  }
  return r;
}

stats_result stats_of(const std::string& frame) {
  try {
    return stats_result{sch::msgpack_to_json(frame.data(), frame.size())};
  } catch (const std::runtime_error& e) {
    lbd_impl::bad_reply(e.what());
  }
}

// The reply body of a successful request of kind k.
reply::value value_of(kind k, const lbd_impl::map_view& m, const std::string& frame,
                      clock::duration waited) {
  switch (k) {
    case kind::submit:
      return submit_of(m);
    case kind::batch: {
      std::vector<batch_result> results;
      for (const auto& item : m.array("results")) {
        const lbd_impl::map_view r(item);
        if (r.flag("ok"))
          results.emplace_back(submit_of(r));
        else
          results.emplace_back(error_of(r.at("error")));
      }
      return results;
    }
    case kind::rank: {
      rank_result r;
      r.board = m.str("board");
      r.player = m.str("player");
      r.score = m.i64("score");
      r.subscore = m.i64("subscore");
      r.meta = m.bytes("meta");
      r.rank = m.u64("rank");
      r.total = m.u64("total");
      r.seq = m.u64("seq");
      r.percentile = m.f64("percentile");
      r.season = season_of(m);
      return r;
    }
    case kind::entries:
      return page_of(m);
    case kind::removal: {
      // remove says true/false, reset a count.
      const auto& v = m.at("removed");
      removal r;
      r.removed = v.type == msgpack::type::BOOLEAN ? (v.via.boolean ? 1 : 0) : m.u64("removed");
      r.seq = m.u64("seq");
      r.season = season_of(m);
      return r;
    }
    case kind::configure:
      return board_config{m.str("board"), m.str("order"),        m.str("operator"),
                          m.u64("seq"),   m.opt_str("schedule"), m.u32("keep")};
    case kind::boards: {
      boards_page p;
      p.seq = m.u64("seq");
      for (const auto& b : m.array("boards"))
        p.boards.push_back(board_of(b));
      p.next = m.opt_str("next");
      return p;
    }
    case kind::stats:
      return stats_of(frame);
    case kind::ping:
      return pong{std::chrono::duration_cast<std::chrono::microseconds>(waited)};
    case kind::seasons:
      return seasons_of(m);
  }
  lbd_impl::bad_reply("unknown request kind");
}

} // namespace

struct client::impl {
  struct sent {
    kind what;
    clock::time_point at;
  };

  options opts;
  std::shared_ptr<zmq::context_t> ctx = lbd_impl::shared_context();
  lb::transport::request_client sock;
  uint64_t next_id = 1;
  std::unordered_map<ticket, sent> waiting;             // no reply read yet
  std::deque<std::pair<clock::time_point, ticket>> due; // deadlines, in send order
  std::deque<reply> ready;                              // read, not handed over

  explicit impl(const options& o) : opts(o), sock(*ctx, o.endpoint, lbd_impl::keys_of(o)) {
    // ZeroMQ queues requests until the service connects, up to its
    // high-water mark; past it a send would block for good.
    sock.socket().set(zmq::sockopt::sndtimeo, lbd_impl::milliseconds_of(o.timeout));
  }

  ticket send(kind k, const sch::request_body& body) {
    while (waiting.size() >= std::max<std::size_t>(opts.max_in_flight, 1))
      receive_until(clock::now() + opts.timeout);
    const ticket t = next_id++;
    const std::string frame = sch::encode_request(t, body);
    if (!sock.socket().send(zmq::buffer(frame), zmq::send_flags::none))
      throw error("no_reply", "not sent: the queue to " + opts.endpoint + " stayed full for "
                                + std::to_string(opts.timeout.count())
                                + " ms (the service has not been reachable for a while)");
    const auto now = clock::now();
    waiting.emplace(t, sent{k, now});
    due.emplace_back(now + opts.timeout, t);
    return t;
  }

  // Reads the replies at hand, waiting until `deadline` (or the first
  // ticket's) for the first, and gives `no_reply` to tickets past their
  // deadline. Returns once anything became ready or the deadline passed.
  void receive_until(clock::time_point deadline) {
    const std::size_t before = ready.size();
    for (;;) {
      auto until = deadline;
      if (!due.empty())
        until = std::min(until, due.front().first);
      const auto left = std::chrono::duration_cast<milliseconds>(until - clock::now());
      // Round up, so that a wait never ends before its deadline and spins.
      auto frame = sock.receive(std::max(left + milliseconds(1), milliseconds(0)));
      while (frame) {
        take(*frame);
        frame = sock.receive(milliseconds(0));
      }
      expire();
      if (ready.size() > before || clock::now() >= deadline)
        return;
    }
  }

  void expire() {
    const auto now = clock::now();
    while (!due.empty() && due.front().first <= now) {
      const ticket t = due.front().second;
      due.pop_front();
      if (waiting.erase(t) > 0)
        ready.emplace_back(t, error("no_reply", "no reply within "
                                                  + std::to_string(opts.timeout.count())
                                                  + " ms from " + opts.endpoint));
    }
  }

  // One reply frame. One that names no ticket of ours (a ticket that timed
  // out, or a broken frame) is dropped: its ticket times out.
  void take(const std::string& frame) {
    msgpack::object_handle oh;
    try {
      oh = lbd_impl::unpack_map(frame.data(), frame.size());
    } catch (const error&) {
      return;
    }
    const lbd_impl::map_view m(oh.get());
    std::optional<uint64_t> id;
    try {
      id = m.opt_u64("id");
    } catch (const error&) {
      return;
    }
    if (!id)
      return;
    const auto it = waiting.find(*id);
    if (it == waiting.end())
      return;
    const sent s = it->second;
    waiting.erase(it);
    try {
      if (!m.flag("ok"))
        ready.emplace_back(*id, error_of(m.at("error")));
      else
        ready.emplace_back(*id, value_of(s.what, m, frame, clock::now() - s.at));
    } catch (error& e) {
      ready.emplace_back(*id, std::move(e));
    }
  }

  reply wait(ticket t) {
    for (;;) {
      const auto it = std::find_if(ready.begin(), ready.end(),
                                   [t](const reply& r) { return r.ticket() == t; });
      if (it != ready.end()) {
        reply r = std::move(*it);
        ready.erase(it);
        return r;
      }
      if (waiting.count(t) == 0)
        throw std::invalid_argument("lbd::client::wait: ticket " + std::to_string(t)
                                    + " is not in flight");
      receive_until(waiting.at(t).at + opts.timeout);
    }
  }

  template <class T>
  T call(kind k, const sch::request_body& body, const T& (reply::*get)() const) {
    const reply r = wait(send(k, body));
    return (r.*get)();
  }
};

client::client(const options& opts) : impl_(std::make_unique<impl>(opts)) {}
client::~client() = default;
client::client(client&&) noexcept = default;
client& client::operator=(client&&) noexcept = default;

namespace {

sch::request_body top_body(const std::string& board, uint32_t limit, uint64_t offset,
                           const std::optional<std::string>& cursor, bool exact,
                           std::optional<uint32_t> season) {
  sch::top_req r;
  r.board = board;
  r.limit = limit;
  r.offset = offset;
  r.exact = exact;
  r.season = season;
  if (cursor) {
    r.after = sch::parse_top_cursor(*cursor);
    if (!r.after)
      throw error("bad_request", "'" + *cursor + "' is not a top cursor (a page's next)");
  }
  return r;
}

sch::request_body configure_body(const std::string& board, const std::optional<std::string>& order,
                                 const std::optional<std::string>& op,
                                 const std::optional<std::string>& schedule,
                                 std::optional<uint32_t> keep) {
  sch::configure_req r;
  r.board = board;
  // The service checks the cron expression and the range of keep.
  r.schedule = schedule;
  r.keep = keep;
  if (order && !(r.order = sch::parse_board_order(*order)))
    throw error("bad_request", "order '" + *order + "' is not desc or asc");
  if (op && !(r.op = sch::parse_score_operator(*op)))
    throw error("bad_request", "operator '" + *op + "' is not best, set, incr or decr");
  return r;
}

sch::request_body batch_body(const std::vector<submission>& items) {
  sch::batch_req r;
  r.items.reserve(items.size());
  for (const auto& s : items)
    r.items.emplace_back(lbd_impl::submit_req_of(s));
  return r;
}

sch::request_body boards_body(const std::optional<std::string>& after, uint32_t limit) {
  sch::boards_req r;
  r.after = after;
  r.limit = limit;
  return r;
}

} // namespace

ticket client::send_submit(const std::string& board, const std::string& player, int64_t score,
                           int64_t subscore, const std::optional<std::string>& meta) {
  return send_submit(submission{board, player, score, subscore, meta});
}
ticket client::send_submit(const submission& s) {
  return impl_->send(kind::submit, lbd_impl::submit_req_of(s));
}
ticket client::send_batch(const std::vector<submission>& items) {
  return impl_->send(kind::batch, batch_body(items));
}
ticket client::send_rank(const std::string& board, const std::string& player, bool exact,
                         std::optional<uint32_t> season) {
  return impl_->send(kind::rank, sch::rank_req{board, player, exact, season});
}
ticket client::send_top(const std::string& board, uint32_t limit, uint64_t offset, bool exact,
                        std::optional<uint32_t> season) {
  return impl_->send(kind::entries, top_body(board, limit, offset, std::nullopt, exact, season));
}
ticket client::send_top_after(const std::string& board, const std::string& cursor, uint32_t limit,
                              bool exact, std::optional<uint32_t> season) {
  return impl_->send(kind::entries, top_body(board, limit, 0, cursor, exact, season));
}
ticket client::send_around(const std::string& board, const std::string& player, uint32_t radius,
                           bool exact, std::optional<uint32_t> season) {
  return impl_->send(kind::entries, sch::around_req{board, player, radius, exact, season});
}
ticket client::send_ranks(const std::string& board, const std::vector<std::string>& players,
                          bool exact, std::optional<uint32_t> season) {
  return impl_->send(kind::entries, sch::ranks_req{board, players, exact, season});
}
ticket client::send_remove(const std::string& board, const std::string& player) {
  return impl_->send(kind::removal, sch::remove_req{board, player});
}
ticket client::send_reset(const std::string& board, bool archive) {
  return impl_->send(kind::removal, sch::reset_req{board, archive});
}
ticket client::send_configure(const std::string& board, const std::optional<std::string>& order,
                              const std::optional<std::string>& op,
                              const std::optional<std::string>& schedule,
                              std::optional<uint32_t> keep) {
  return impl_->send(kind::configure, configure_body(board, order, op, schedule, keep));
}
ticket client::send_seasons(const std::string& board) {
  return impl_->send(kind::seasons, sch::seasons_req{board});
}
ticket client::send_boards(const std::optional<std::string>& after, uint32_t limit) {
  return impl_->send(kind::boards, boards_body(after, limit));
}
ticket client::send_stats() {
  return impl_->send(kind::stats, sch::stats_req{});
}
ticket client::send_ping() {
  return impl_->send(kind::ping, sch::ping_req{});
}

submit_result client::submit(const std::string& board, const std::string& player, int64_t score,
                             int64_t subscore, const std::optional<std::string>& meta) {
  return submit(submission{board, player, score, subscore, meta});
}
submit_result client::submit(const submission& s) {
  return impl_->call(kind::submit, lbd_impl::submit_req_of(s), &reply::submit);
}
std::vector<batch_result> client::batch(const std::vector<submission>& items) {
  return impl_->call(kind::batch, batch_body(items), &reply::batch);
}
rank_result client::rank(const std::string& board, const std::string& player, bool exact,
                         std::optional<uint32_t> season) {
  return impl_->call(kind::rank, sch::rank_req{board, player, exact, season}, &reply::rank);
}
page client::top(const std::string& board, uint32_t limit, uint64_t offset, bool exact,
                 std::optional<uint32_t> season) {
  return impl_->call(kind::entries, top_body(board, limit, offset, std::nullopt, exact, season),
                     &reply::entries);
}
page client::top_after(const std::string& board, const std::string& cursor, uint32_t limit,
                       bool exact, std::optional<uint32_t> season) {
  return impl_->call(kind::entries, top_body(board, limit, 0, cursor, exact, season),
                     &reply::entries);
}
page client::around(const std::string& board, const std::string& player, uint32_t radius,
                    bool exact, std::optional<uint32_t> season) {
  return impl_->call(kind::entries, sch::around_req{board, player, radius, exact, season},
                     &reply::entries);
}
page client::ranks(const std::string& board, const std::vector<std::string>& players, bool exact,
                   std::optional<uint32_t> season) {
  return impl_->call(kind::entries, sch::ranks_req{board, players, exact, season}, &reply::entries);
}
removal client::remove(const std::string& board, const std::string& player) {
  return impl_->call(kind::removal, sch::remove_req{board, player}, &reply::removed);
}
removal client::reset(const std::string& board, bool archive) {
  return impl_->call(kind::removal, sch::reset_req{board, archive}, &reply::removed);
}
board_config client::configure(const std::string& board, const std::optional<std::string>& order,
                               const std::optional<std::string>& op,
                               const std::optional<std::string>& schedule,
                               std::optional<uint32_t> keep) {
  return impl_->call(kind::configure, configure_body(board, order, op, schedule, keep),
                     &reply::configured);
}
seasons_result client::seasons(const std::string& board) {
  return impl_->call(kind::seasons, sch::seasons_req{board}, &reply::seasons);
}
std::vector<board_info> client::boards() {
  std::vector<board_info> all;
  std::optional<std::string> after;
  do {
    auto p = impl_->call(kind::boards, boards_body(after, sch::max_boards_limit), &reply::boards);
    std::move(p.boards.begin(), p.boards.end(), std::back_inserter(all));
    after = std::move(p.next);
  } while (after);
  return all;
}
stats_result client::stats() {
  return impl_->call(kind::stats, sch::stats_req{}, &reply::stats);
}
pong client::ping() {
  return impl_->call(kind::ping, sch::ping_req{}, &reply::pinged);
}

std::size_t client::poll(milliseconds timeout, const std::function<void(reply&)>& on_reply) {
  auto& d = *impl_;
  d.receive_until(clock::now() + (d.ready.empty() ? timeout : milliseconds(0)));
  // The callback may send, and a send may read replies into `ready`: hand
  // over what was at hand when this began, and leave the rest for next time.
  std::deque<reply> batch;
  batch.swap(d.ready);
  std::size_t n = 0;
  try {
    for (; n < batch.size(); ++n)
      on_reply(batch[n]);
  } catch (...) {
    // The replies after the one whose callback threw stay for the next poll.
    d.ready.insert(d.ready.begin(),
                   std::make_move_iterator(batch.begin() + static_cast<std::ptrdiff_t>(n) + 1),
                   std::make_move_iterator(batch.end()));
    throw;
  }
  return n;
}

reply client::wait(ticket t) {
  return impl_->wait(t);
}

std::size_t client::in_flight() const {
  return impl_->waiting.size() + impl_->ready.size();
}

} // namespace lbd
