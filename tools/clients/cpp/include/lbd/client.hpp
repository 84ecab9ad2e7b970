// lbd client library: a game server's way to the leaderboard service
// (docs/PROTOCOL.md is the wire contract this speaks). C++17; link with
// `pkg-config --cflags --libs lbd-client`. This header is the whole API: it
// pulls in no ZeroMQ, msgpack or service header, so the library may change
// them without a rebuild of its users.
//
// Three classes, one per service socket:
//
//   lbd::client      requests: every call gets one reply. Blocking calls
//                    (submit, rank, top, ...) and a pipelined API over the
//                    same socket: send_submit(), send_top(), ... return a
//                    ticket at once; poll() hands the replies that came to a
//                    callback, wait(ticket) blocks for one of them.
//   lbd::writer      ingest: fire-and-forget submits and batches (no reply;
//                    with options::source the service acknowledges on
//                    `ack/<source>/`, which a subscriber can watch).
//   lbd::subscriber  updates: follow a player (`follow/`), a board's top
//                    (`top/`), a board's closed seasons (`season/`) or a
//                    writer's acks (`ack/`); next() returns the next
//                    message, with lost messages flagged (`gap`).
//
// Seasons: every board has a current season, numbered from 1. A rollover
// (the board's cron `schedule`, or reset(board, true)) closes it, keeps it
// readable (the last `keep` closed ones) and starts the next one empty. The
// reads (rank, top, around, ranks) take an optional season number: a kept
// closed season reads its final standings; nothing reads the live board.
//
// A game server loop, without threads of its own:
//
//   lbd::client c(opts);
//   for (;;) {                                  // one tick
//     for (auto& r : finished_matches)
//       c.send_submit(r.board, r.player, r.score); // no wait for the service
//     c.poll(std::chrono::milliseconds(0), [&](lbd::reply& rep) {
//       if (!rep.ok()) log(rep.failure().what()); // overloaded, bad_request...
//     });
//     simulate_tick();
//   }
//
// Why tickets and poll() rather than futures or callbacks on a thread: a
// game loop already has a place where it looks at I/O once a tick; poll()
// with a zero timeout never blocks and runs the callbacks on the caller's
// thread, so nothing needs a lock. The library starts no thread of its own
// (ZeroMQ runs one I/O thread per process for all lbd objects).
//
// Guarantees:
// - Every ticket gets exactly one reply, either from the service or, once
//   options::timeout has passed since it was sent, an error `no_reply`
//   made here (a reply that comes later is dropped). So nothing piles up
//   when the service is gone. `no_reply` does not mean "not applied":
//   ZeroMQ keeps a request queued until the service connects, so one that
//   timed out may still be carried out later (a submit with the same score
//   twice is harmless under `best` and `set`, not under `incr`). Past
//   ZeroMQ's queue (1000 requests to a service that never answered), a
//   send_* waits up to options::timeout and then throws `no_reply`.
// - Replies may come in any order; reply::ticket() says whose it is. A
//   blocking call and wait() keep the other replies they read for poll().
// - At most options::max_in_flight requests are out at once: a send_* past
//   it first reads replies (keeping them for poll()) until one is back or
//   the oldest times out, so a burst stays within the service's default
//   per-connection share (1000; a busy service gives each connection less,
//   and answers `overloaded` past it: nothing applied, retry later).
//
// Errors: lbd::error, whose code() is the protocol's (`bad_request`,
// `unknown_op`, `not_found`, `conflict`, `overloaded`, `unauthorized`,
// `internal`) or one of this library's: `no_reply` (nothing within the
// timeout: the service is down, unreachable, or refused our CURVE key),
// `bad_reply` (a reply that breaks the protocol), `bad_option` (an option or
// key file that cannot be used). Blocking calls throw it; async replies
// carry it.
//
// None of the classes is thread-safe (ZeroMQ sockets are not): use one per
// thread. They may be moved.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace lbd {

class error : public std::runtime_error {
public:
  error(std::string code, const std::string& message);
  ~error() override;
  // The protocol's error code, or `no_reply`, `bad_reply`, `bad_option`.
  const std::string& code() const noexcept { return code_; }

private:
  std::string code_;
};

struct options {
  // The service's requests socket (leaderboardd --requests).
  std::string endpoint = "tcp://127.0.0.1:7400";
  // Its ingest and updates sockets; empty: the host of `endpoint` with the
  // default ports 7401 and 7402.
  std::string ingest;
  std::string updates;
  // How long a request may wait for its reply (blocking calls throw
  // `no_reply` past it; async tickets get a `no_reply` reply), and how long
  // a writer may wait for room in its send queue.
  std::chrono::milliseconds timeout{5000};
  // CURVE, for a service started with --curve-secret: the service's public
  // key (40 Z85 characters, or a file holding it such as the .pub file
  // `lbctl keygen` wrote), and this client's secret key file (the .key file
  // `lbctl keygen NAME` wrote, whose NAME.pub the service lists). The same
  // values as lbctl's --curve-server-key and --curve-key; a server key
  // without a key file makes a fresh key pair (admitted only by a service
  // whose readers are `any`).
  std::string curve_server_key;
  std::string curve_key;
  // client: requests out at once at most (the service's default share is
  // 1000 per connection).
  std::size_t max_in_flight = 512;
  // writer: the name its frames carry (1..64 bytes of [A-Za-z0-9_.:-]), so
  // the service acknowledges them on `ack/<source>/`; empty: none.
  std::string source;
};

// One score to submit.
struct submission {
  std::string board;
  std::string player;
  int64_t score = 0;
  int64_t subscore = 0;
  // Stored with the entry (at most 256 bytes, sent as a msgpack str).
  std::optional<std::string> meta;
};

struct entry {
  uint64_t rank = 0; // 1 = best
  std::string player;
  int64_t score = 0;
  int64_t subscore = 0;
  std::optional<std::string> meta;
};

struct submit_result {
  std::string board;
  std::string player;
  int64_t score = 0; // as stored, after the board's operator
  int64_t subscore = 0;
  uint64_t rank = 0;
  std::optional<uint64_t> prev_rank; // nothing when the player is new
  bool changed = false;              // the stored entry changed
  uint64_t total = 0;                // entries on the board
  uint64_t seq = 0;                  // the event's sequence number
  // The share of the board ranked below the player, 0..100:
  // 100 * (total - rank) / total.
  double percentile = 0;
};

// One item of a batch: its result, or its own error (one bad item fails
// only itself).
using batch_result = std::variant<submit_result, error>;

// `rank`: one player's entry.
struct rank_result {
  std::string board;
  std::string player;
  int64_t score = 0;
  int64_t subscore = 0;
  std::optional<std::string> meta;
  uint64_t rank = 0;
  uint64_t total = 0;
  uint64_t seq = 0;      // the last event the answer reflects (a closed season's end_seq)
  double percentile = 0; // the share of the board ranked below the player, 0..100
  // The season read, when the request named one.
  std::optional<uint32_t> season;
};

// `top`, `around`, `ranks`: entries best first.
struct page {
  std::string board;
  uint64_t total = 0; // entries on the board
  uint64_t seq = 0;   // the last event the answer reflects
  std::vector<entry> entries;
  // top: the cursor of the next page (pass it to top_after), nothing on the
  // last page. Always nothing for around and ranks.
  std::optional<std::string> next;
  // The season read, when the request named one (then seq is its end_seq).
  std::optional<uint32_t> season;
};

// `remove` (removed is 0 or 1) and `reset` (the entries the board had).
struct removal {
  uint64_t removed = 0;
  uint64_t seq = 0;
  // reset with archive: the number of the season it closed.
  std::optional<uint32_t> season;
};

struct board_config {
  std::string board;
  std::string order; // "desc" or "asc"
  std::string op;    // "best", "set", "incr" or "decr"
  uint64_t seq = 0;
  std::optional<std::string> schedule; // cron, UTC; nothing: no scheduled rollover
  uint32_t keep = 1;                   // closed seasons kept
};

struct board_info {
  std::string board;
  uint64_t total = 0;
  std::string order;
  std::string op;
  uint32_t season = 1; // the current season's number
  std::optional<std::string> schedule;
  uint32_t keep = 1;
};

// One of a board's seasons, as `seasons` lists them.
struct season_info {
  uint32_t season = 0;
  std::optional<int64_t> start_ms; // Unix ms; nothing when unknown
  std::optional<int64_t> end_ms;   // nothing for the current season
  uint64_t start_seq = 0;
  std::optional<uint64_t> end_seq; // nothing for the current season
  uint64_t total = 0;              // entries
  bool current = false;
};

// `seasons`: a board's kept closed seasons, oldest first, and its current
// one, last.
struct seasons_result {
  std::string board;
  uint32_t current = 0;
  std::optional<std::string> schedule;
  std::optional<int64_t> next_ms; // when the schedule closes the current season
  uint32_t keep = 1;
  uint64_t seq = 0;
  std::vector<season_info> seasons;
};

// One page of boards in name order; `next`: pass it as `after` for the next.
struct boards_page {
  uint64_t seq = 0;
  std::vector<board_info> boards;
  std::optional<std::string> next;
};

// `stats`: the service's map as JSON text. It is an operator's view that
// grows with every release of the service ("whatever else helps an
// operator"), so the library hands it on whole rather than freeze one
// version of it in a struct; a monitoring script or a log takes JSON as is.
struct stats_result {
  std::string json;
};

struct pong {
  std::chrono::microseconds round_trip{0};
};

using ticket = uint64_t;

// A reply to a ticket. The accessor of the request's kind returns its
// result, or throws the reply's lbd::error when the service refused it;
// another kind's accessor throws std::bad_variant_access.
class reply {
public:
  using value
    = std::variant<error, submit_result, std::vector<batch_result>, rank_result, page, removal,
                   board_config, boards_page, stats_result, pong, seasons_result>;

  reply(lbd::ticket t, value v) : ticket_(t), value_(std::move(v)) {}

  lbd::ticket ticket() const { return ticket_; }
  bool ok() const { return value_.index() != 0; }
  // Only when !ok().
  const error& failure() const { return std::get<error>(value_); }

  const submit_result& submit() const { return get<submit_result>(); }
  const std::vector<batch_result>& batch() const { return get<std::vector<batch_result>>(); }
  const rank_result& rank() const { return get<rank_result>(); }
  const page& entries() const { return get<page>(); } // top, around, ranks
  const removal& removed() const { return get<removal>(); }
  const board_config& configured() const { return get<board_config>(); }
  const boards_page& boards() const { return get<boards_page>(); }
  const stats_result& stats() const { return get<stats_result>(); }
  const pong& pinged() const { return get<pong>(); }
  const seasons_result& seasons() const { return get<seasons_result>(); }

  const value& raw() const { return value_; }

private:
  template <class T>
  const T& get() const {
    if (!ok())
      throw failure();
    return std::get<T>(value_);
  }

  lbd::ticket ticket_;
  value value_;
};

class client {
public:
  // Connects (ZeroMQ connects in the background: a service that is not up
  // yet is reached when it comes). Throws lbd::error `bad_option` for keys
  // that cannot be used.
  explicit client(const options& opts = {});
  ~client();
  client(client&&) noexcept;
  client& operator=(client&&) noexcept;

  // Blocking calls: the result, or lbd::error.
  submit_result submit(const std::string& board, const std::string& player, int64_t score,
                       int64_t subscore = 0, const std::optional<std::string>& meta = {});
  submit_result submit(const submission& s);
  // At most 1000 items.
  std::vector<batch_result> batch(const std::vector<submission>& items);
  // Reads are exact unless exact = false (then they may answer from the
  // latest merge, at most one merge interval old, for less work). `season`:
  // a kept closed season's number reads its final standings (`not_found`
  // for one neither current nor kept); nothing, the live board.
  rank_result rank(const std::string& board, const std::string& player, bool exact = true,
                   std::optional<uint32_t> season = {});
  page top(const std::string& board, uint32_t limit = 10, uint64_t offset = 0, bool exact = true,
           std::optional<uint32_t> season = {});
  // The page after a cursor (page::next of an earlier top of this board).
  page top_after(const std::string& board, const std::string& cursor, uint32_t limit = 10,
                 bool exact = true, std::optional<uint32_t> season = {});
  page around(const std::string& board, const std::string& player, uint32_t radius = 5,
              bool exact = true, std::optional<uint32_t> season = {});
  page ranks(const std::string& board, const std::vector<std::string>& players, bool exact = true,
             std::optional<uint32_t> season = {});
  removal remove(const std::string& board, const std::string& player);
  // archive: close the current season (kept and readable, its number in
  // removal::season) rather than drop its entries.
  removal reset(const std::string& board, bool archive = false);
  // order: "desc" or "asc"; op: "best", "set", "incr" or "decr"; nothing
  // keeps the board's current value. Only while the board is empty.
  // schedule: a cron expression in UTC (`min hour dom mon dow`, or seconds
  // first with 6 fields) at whose boundaries the service closes the season;
  // "" removes it. keep: closed seasons kept, 1..1000. These two may change
  // on a board with entries.
  board_config configure(const std::string& board, const std::optional<std::string>& order,
                         const std::optional<std::string>& op,
                         const std::optional<std::string>& schedule = {},
                         std::optional<uint32_t> keep = {});
  seasons_result seasons(const std::string& board);
  // Every board, following the pages to the last.
  std::vector<board_info> boards();
  stats_result stats();
  pong ping();

  // Pipelined: each sends its request and returns its ticket at once (but
  // see options::max_in_flight).
  ticket send_submit(const std::string& board, const std::string& player, int64_t score,
                     int64_t subscore = 0, const std::optional<std::string>& meta = {});
  ticket send_submit(const submission& s);
  ticket send_batch(const std::vector<submission>& items);
  ticket send_rank(const std::string& board, const std::string& player, bool exact = true,
                   std::optional<uint32_t> season = {});
  ticket send_top(const std::string& board, uint32_t limit = 10, uint64_t offset = 0,
                  bool exact = true, std::optional<uint32_t> season = {});
  ticket send_top_after(const std::string& board, const std::string& cursor, uint32_t limit = 10,
                        bool exact = true, std::optional<uint32_t> season = {});
  ticket send_around(const std::string& board, const std::string& player, uint32_t radius = 5,
                     bool exact = true, std::optional<uint32_t> season = {});
  ticket send_ranks(const std::string& board, const std::vector<std::string>& players,
                    bool exact = true, std::optional<uint32_t> season = {});
  ticket send_remove(const std::string& board, const std::string& player);
  ticket send_reset(const std::string& board, bool archive = false);
  ticket send_configure(const std::string& board, const std::optional<std::string>& order,
                        const std::optional<std::string>& op,
                        const std::optional<std::string>& schedule = {},
                        std::optional<uint32_t> keep = {});
  ticket send_seasons(const std::string& board);
  ticket send_boards(const std::optional<std::string>& after = {}, uint32_t limit = 1000);
  ticket send_stats();
  ticket send_ping();

  // Waits up to `timeout` (0: not at all) for a reply, then hands every
  // reply at hand to `on_reply`, in arrival order, on this thread. Returns
  // how many it handed over. `on_reply` may send new requests.
  std::size_t poll(std::chrono::milliseconds timeout, const std::function<void(reply&)>& on_reply);
  // The reply to `t`, blocking until it comes (at most options::timeout
  // after it was sent, then a `no_reply` reply). Throws std::invalid_argument
  // for a ticket that is not in flight (unknown, or already handed over).
  reply wait(ticket t);
  // Tickets sent whose reply was not handed over yet.
  std::size_t in_flight() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Fire-and-forget: frames go to the service's ingest socket and get no
// reply. Names are checked here (a bad one throws `bad_request` at once),
// since a frame the service refuses is otherwise only counted in its stats,
// or acknowledged on `ack/<source>/` when options::source is set.
class writer {
public:
  explicit writer(const options& opts = {});
  // Gives queued frames up to options::timeout to leave.
  ~writer();
  writer(writer&&) noexcept;
  writer& operator=(writer&&) noexcept;

  void submit(const submission& s);
  void submit(const std::string& board, const std::string& player, int64_t score,
              int64_t subscore = 0, const std::optional<std::string>& meta = {});
  // Any number of items, sent as frames of at most 1000.
  void batch(const std::vector<submission>& items);

  // Throws `overloaded` when the send queue stays full for options::timeout
  // (the service is unreachable or slower than this writer): nothing of that
  // frame was sent.

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// follow/<board>/<player>: the player's state after every merge that changed
// its rank, score or subscore (from any cause), and once when following
// starts, so the first message is the current state.
struct player_state {
  std::string board;
  std::string player;
  std::optional<uint64_t> rank;      // nothing: not on the board
  std::optional<uint64_t> prev_rank; // the rank in the previous message
  std::optional<int64_t> score;      // nothing: not on the board
  std::optional<int64_t> subscore;
  uint64_t total = 0; // entries on the board
  uint64_t seq = 0;   // the last event the state reflects
};

// top/<board>/: the board's best entries after a merge that changed them.
struct top_state {
  std::string board;
  uint64_t total = 0;
  uint64_t seq = 0;
  std::vector<entry> entries;
};

// season/<board>/: a season the board closed (by its schedule or a reset
// with archive), with its final standings. Sent once, when it closes: a
// subscriber sees the seasons closed after it subscribed (client::seasons
// lists the kept ones).
struct season_state {
  std::string board;
  uint32_t season = 0;             // the closed season's number
  std::optional<int64_t> start_ms; // nothing when unknown
  int64_t end_ms = 0;
  uint64_t start_seq = 0;
  uint64_t end_seq = 0;
  uint64_t total = 0;
  std::vector<entry> entries; // its best, at most the service's --top-k
};

struct ack_error {
  std::optional<uint64_t> item; // index in the batch; nothing: the whole frame
  std::string code;
  std::string message;
};

// ack/<source>/: a writer's frame is durable (or was refused).
struct ack {
  std::string source;
  uint64_t accepted = 0; // events written to the log
  uint64_t rejected = 0; // items or frames refused
  std::optional<uint64_t> first_seq, last_seq;
  std::vector<ack_error> errors; // at most 100
  bool errors_truncated = false;
  bool memory_full = false; // the service was past --max-memory
};

struct update {
  std::string topic;
  std::variant<player_state, top_state, ack, season_state> body;
  // The message's number on its topic; consecutive messages differ by one.
  uint64_t stream_seq = 0;
  // Messages of this topic were lost before this one (a jump in
  // stream_seq), or the service restarted (it went down). Messages of
  // follow/ and top/ carry the whole state, so this one is current, but
  // what happened in between is unknown; acks in between are lost: re-read
  // with `rank` what they covered; seasons in between are lost: list them
  // with client::seasons and read them with `season`.
  bool gap = false;
  // On a gap: how many were lost (0 after a restart).
  uint64_t missed = 0;
  bool restarted = false;

  const player_state* player() const { return std::get_if<player_state>(&body); }
  const top_state* top() const { return std::get_if<top_state>(&body); }
  const lbd::ack* acknowledgement() const { return std::get_if<lbd::ack>(&body); }
  const season_state* closed_season() const { return std::get_if<season_state>(&body); }
};

class subscriber {
public:
  // Connects to options::updates; follows nothing yet.
  explicit subscriber(const options& opts = {});
  ~subscriber();
  subscriber(subscriber&&) noexcept;
  subscriber& operator=(subscriber&&) noexcept;

  // Names are checked here (a bad one throws `bad_request`). Following is
  // exact: a subscriber of `al` never hands out `alice`'s messages.
  void follow(const std::string& board, const std::string& player);
  void unfollow(const std::string& board, const std::string& player);
  void watch_top(const std::string& board);
  // season/<board>/: no message on subscribing (unlike follow/), and ZeroMQ
  // takes a moment to carry the subscription to the service, so a season
  // that closes right after this call may be missed. Subscriptions reach the
  // service in order: once a follow() made after this one has its first
  // message, this one is live.
  void watch_seasons(const std::string& board);
  void watch_acks(const std::string& source);

  // The next message, waiting up to `timeout` (0: not at all). Throws
  // `bad_reply` for a message that breaks the protocol (it is dropped).
  std::optional<update> next(std::chrono::milliseconds timeout);
  // Waits up to `timeout` for a message, then hands it and every other one
  // at hand to `on_update`; returns how many.
  std::size_t poll(std::chrono::milliseconds timeout,
                   const std::function<void(update&)>& on_update);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace lbd
