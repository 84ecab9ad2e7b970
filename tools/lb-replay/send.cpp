// lb-replay send: re-publishes a log's events to a running leaderboardd.
//
// Everything goes over one DEALER connection: the service's gateway numbers
// one connection's events in the order they arrive, so they get seqs in the
// log's order and ties break as they did when the log was written. Up to
// --window requests are in flight; --max groups runs of submits into
// batches, whose items the service applies in order.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <thread>
#include <unordered_map>

#include <unistd.h>

#include <msgpack.hpp>
#include <zmq.hpp>

#include "schemas/overload.hpp"
#include "schemas/request.hpp"
#include "tools/common/msgpack_map.hpp"
#include "tools/lb-replay/common.hpp"
#include "tools/lb-replay/text.hpp"
#include "transport/client.hpp"

namespace lb::replay {

namespace {

using tools::find_key;
using steady = std::chrono::steady_clock;
using seconds_d = std::chrono::duration<double>;

// Batch items per request under --max: large enough to amortize a round trip
// per event, small enough to stay far below the frame limit.
constexpr std::size_t batch_items = 100;
// Error replies printed in full; the rest are only counted.
constexpr uint64_t errors_shown = 5;

// The service stopped answering: exit code 3.
struct no_reply : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What the pre-pass learns: how many events will go, and the log time they span.
struct send_plan {
  uint64_t events = 0;
  std::optional<int64_t> first_t, last_t;
};

// Progress on stderr: a bar redrawn in place on a terminal, else a line
// every two seconds (logs of CI runs and `2> file` stay readable).
class progress {
public:
  progress(uint64_t total, bool paced) : total_(total), paced_(paced), tty_(isatty(2) != 0) {}

  void update(uint64_t sent, double log_seconds_left) {
    const auto now = steady::now();
    if (now - last_ < (tty_ ? std::chrono::milliseconds(100) : std::chrono::seconds(2)))
      return;
    last_ = now;
    const double elapsed = seconds_d(now - start_).count();
    const double rate = elapsed > 0 ? sent / elapsed : 0;
    const double fraction = total_ == 0 ? 1 : static_cast<double>(sent) / total_;
    // Paced sends follow the log's clock, so the log says how long is left.
    const double eta = paced_ ? log_seconds_left : rate > 0 ? (total_ - sent) / rate : -1;
    char numbers[160];
    std::snprintf(numbers, sizeof numbers, "%llu/%llu events  %5.1f%%  %.0f events/s  ETA %s",
                  static_cast<unsigned long long>(sent), static_cast<unsigned long long>(total_),
                  100 * fraction, rate, duration_text(eta).c_str());
    if (tty_) {
      constexpr int width = 30;
      const int filled = static_cast<int>(fraction * width);
      std::cerr << "\r\033[K[" << std::string(filled, '#') << std::string(width - filled, '.')
                << "] " << numbers << std::flush;
      drawn_ = true;
    } else {
      std::cerr << "lb-replay: sent " << numbers << '\n';
    }
  }

  // Before any other line goes to stderr, and at the end.
  void clear() {
    if (drawn_)
      std::cerr << "\r\033[K" << std::flush;
    drawn_ = false;
  }

  double elapsed() const { return seconds_d(steady::now() - start_).count(); }

private:
  uint64_t total_;
  bool paced_;
  bool tty_;
  bool drawn_ = false;
  steady::time_point start_ = steady::now();
  steady::time_point last_ = start_; // a rate over the first instant means nothing
};

struct in_flight {
  std::vector<uint64_t> seqs; // the events the request carries, in order
  const char* type;           // "submit" (single or batch), "remove", "reset", "configure"
  std::string board;          // of the first event, for messages
  bool batch = false;
};

std::string str_at(const msgpack::object& map, std::string_view key) {
  const auto* v = find_key(map, key);
  return v != nullptr && v->type == msgpack::type::STR
           ? std::string(v->via.str.ptr, v->via.str.size)
           : std::string();
}

bool ok_of(const msgpack::object& map) {
  const auto* v = find_key(map, "ok");
  return v != nullptr && v->type == msgpack::type::BOOLEAN && v->via.boolean;
}

class sender {
public:
  sender(const options& o, const send_plan& plan, const transport::client_keys& keys)
    : o_(o), plan_(plan), client_(ctx_, o.to, keys), bar_(plan.events, !o.max) {}

  void push(const schemas::event_record& ev) {
    if (!o_.max)
      pace(ev.time_ms);
    std::visit(
      schemas::overload{
        [&](const schemas::submit_req& s) {
          if (!o_.max) {
            send(s, {ev.seq}, "submit", s.board, false);
            return;
          }
          batch_.push_back(s);
          batch_seqs_.push_back(ev.seq);
          if (batch_.size() == batch_items)
            flush_batch();
        },
        // A batch must not overtake the event after it.
        [&](const schemas::remove_req& r) {
          flush_batch();
          send(r, {ev.seq}, "remove", r.board, false);
        },
        [&](const schemas::reset_req& r) {
          flush_batch();
          send(r, {ev.seq}, "reset", r.board, false);
        },
        // Without the schedule: the target would roll the board over on
        // its own clock, besides the rollovers the log holds. Order and
        // operator only when they change, as a configure that set only
        // keep or a schedule was allowed on a board with entries.
        [&](const schemas::configure_event_body& c) {
          flush_batch();
          auto& was = settings_[c.board];
          schemas::configure_req req{c.board, std::nullopt, std::nullopt, std::nullopt, c.keep};
          if (c.order != was.first || c.op != was.second) {
            req.order = c.order;
            req.op = c.op;
          }
          was = {c.order, c.op};
          send(req, {ev.seq}, "configure", c.board, false);
        },
        // A rollover at its place in the stream, as a manual one.
        [&](const schemas::rollover_body& r) {
          flush_batch();
          send(schemas::reset_req{r.board, true}, {ev.seq}, "reset", r.board, false);
        },
      },
      ev.body);
  }

  // Sends what is left and waits for every reply.
  void finish() {
    flush_batch();
    while (!flying_.empty())
      receive_one(std::nullopt);
    bar_.clear(); // the summary line replaces it
  }

  uint64_t sent() const { return sent_; }
  uint64_t requests() const { return next_id_ - 1; }
  uint64_t errors() const { return errors_; }
  const std::map<std::string, uint64_t>& errors_by_code() const { return by_code_; }
  double elapsed() const { return bar_.elapsed(); }
  void clear_progress() { bar_.clear(); }

private:
  // Waits until the event's recorded time, scaled by --speed, has come.
  void pace(int64_t t) {
    if (!t0_) {
      t0_ = t;
      wall0_ = steady::now();
    }
    // A clock that stepped back while the log was written must not send
    // events before earlier ones' time.
    const double log_s = std::max(0.0, (t - *t0_) / 1000.0) / o_.speed;
    const auto due = std::max(
      last_due_, wall0_ + std::chrono::duration_cast<steady::duration>(seconds_d(log_s)));
    last_due_ = due;
    current_t_ = t;
    while (steady::now() < due) {
      if (flying_.empty()) {
        std::this_thread::sleep_until(
          std::min(due, steady::now() + std::chrono::milliseconds(100)));
        tick();
      } else {
        receive_one(due);
      }
    }
  }

  void flush_batch() {
    if (batch_.empty())
      return;
    if (batch_.size() == 1) {
      send(batch_[0], {batch_seqs_[0]}, "submit", batch_[0].board, false);
    } else {
      schemas::batch_req b;
      b.items.reserve(batch_.size());
      for (auto& s : batch_)
        b.items.emplace_back(std::move(s));
      const std::string board = std::get<schemas::submit_req>(b.items[0]).board;
      send(b, std::move(batch_seqs_), "submit", board, true);
    }
    batch_.clear();
    batch_seqs_.clear();
  }

  void send(const schemas::request_body& body, std::vector<uint64_t> seqs, const char* type,
            const std::string& board, bool batch) {
    while (flying_.size() >= o_.window)
      receive_one(std::nullopt);
    const uint64_t id = next_id_++;
    if (flying_.empty())
      quiet_since_ = steady::now(); // the timeout counts from here, not from an idle stretch
    client_.send(schemas::encode_request(id, body));
    sent_ += seqs.size();
    flying_.emplace(id, in_flight{std::move(seqs), type, board, batch});
    tick();
  }

  void tick() {
    double left = 0;
    if (!o_.max && plan_.last_t && current_t_)
      left = std::max(0.0, (*plan_.last_t - *current_t_) / 1000.0) / o_.speed;
    bar_.update(sent_, left);
  }

  // Handles one reply; returns early (with none) once `until` has come.
  // Throws no_reply when requests are in flight and the service has said
  // nothing for --timeout-ms.
  void receive_one(std::optional<steady::time_point> until) {
    const auto timeout = std::chrono::milliseconds(o_.timeout_ms);
    for (;;) {
      const auto now = steady::now();
      const auto give_up = quiet_since_ + timeout;
      if (now >= give_up)
        throw no_reply("no reply from " + o_.to + " for " + std::to_string(o_.timeout_ms) + " ms ("
                       + std::to_string(flying_.size()) + " requests waiting, "
                       + std::to_string(sent_) + " of " + std::to_string(plan_.events)
                       + " events sent): is leaderboardd running there and is --to its "
                         "requests endpoint? A busy service may need a larger --timeout-ms"
                       + (o_.curve_server_key.empty()
                            ? std::string("; one started with --curve-secret answers only "
                                          "CURVE clients (--curve-server-key, --curve-key)")
                            : std::string("; with CURVE, a service also stays silent when "
                                          "--curve-server-key is not its public key or when "
                                          "it does not list --curve-key's public key as a "
                                          "writer")));
      auto wait_until = give_up;
      if (until)
        wait_until = std::min(wait_until, *until);
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wait_until - now);
      // Polling in slices keeps the progress display alive in a long wait.
      const auto slice = std::clamp(wait, std::chrono::milliseconds(1),
                                    std::chrono::milliseconds(200));
      if (auto frame = client_.receive(slice)) {
        quiet_since_ = steady::now();
        handle(*frame);
        tick();
        return;
      }
      tick();
      if (until && steady::now() >= *until)
        return;
    }
  }

  void handle(const std::string& frame) {
    msgpack::object_handle oh;
    try {
      const std::size_t n = frame.size();
      std::size_t offset = 0;
      // Limits equal to the frame size refuse headers that claim more than
      // the frame holds, before the parser allocates for them.
      msgpack::unpack_limit limit(n, n, n, n, n, schemas::max_nesting_depth);
      oh = msgpack::unpack(frame.data(), n, offset, nullptr, nullptr, limit);
    } catch (const std::exception& e) {
      report_unreadable(std::string("an unreadable reply: ") + e.what());
      return;
    }
    const auto& reply = oh.get();
    const auto* idv = find_key(reply, "id");
    if (idv == nullptr || idv->type != msgpack::type::POSITIVE_INTEGER) {
      report_unreadable("a reply without an id");
      return;
    }
    auto it = flying_.find(idv->via.u64);
    if (it == flying_.end()) {
      report_unreadable("a reply for unknown id " + std::to_string(idv->via.u64));
      return;
    }
    const auto req = std::move(it->second);
    flying_.erase(it);
    if (!ok_of(reply)) {
      // The whole request failed: none of its events was applied.
      for (auto seq : req.seqs)
        failed(seq, req, reply);
      return;
    }
    if (!req.batch)
      return;
    const auto* results = find_key(reply, "results");
    if (results == nullptr || results->type != msgpack::type::ARRAY
        || results->via.array.size != req.seqs.size()) {
      report_unreadable("a batch reply without one result per item");
      return;
    }
    for (uint32_t i = 0; i < results->via.array.size; ++i)
      if (!ok_of(results->via.array.ptr[i]))
        failed(req.seqs[i], req, results->via.array.ptr[i]);
  }

  void failed(uint64_t seq, const in_flight& req, const msgpack::object& reply) {
    const auto* err = find_key(reply, "error");
    const std::string code = err ? str_at(*err, "code") : "";
    const std::string message = err ? str_at(*err, "message") : "";
    ++errors_;
    ++by_code_[code.empty() ? "unknown" : code];
    if (errors_ <= errors_shown || (code == "conflict" && !conflict_said_)) {
      bar_.clear();
      std::cerr << "lb-replay: error for seq " << seq << " (" << req.type << " "
                << printable(req.board) << "): " << printable(code) << ": " << printable(message)
                << '\n';
      if (errors_ == errors_shown)
        std::cerr << "lb-replay: further errors are counted, not shown\n";
    }
    if (code == "conflict" && !conflict_said_) {
      conflict_said_ = true;
      std::cerr << "lb-replay: a configure conflict is expected when the service already holds "
                   "entries on that board: it keeps its own order and operator. To reproduce "
                   "the log's state exactly, send into a service with an empty --data folder\n";
    }
    if (code == "overloaded" && !overload_said_) {
      overload_said_ = true;
      std::cerr << "lb-replay: the service shed load, so some events were not applied: try "
                   "a smaller --window or a lower --speed\n";
    }
  }

  void report_unreadable(const std::string& what) {
    ++errors_;
    ++by_code_["bad_reply"];
    bar_.clear();
    std::cerr << "lb-replay: " << what << " from " << o_.to << '\n';
  }

  const options& o_;
  const send_plan& plan_;
  zmq::context_t ctx_;
  transport::request_client client_;
  progress bar_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, in_flight> flying_;
  std::vector<schemas::submit_req> batch_;
  std::vector<uint64_t> batch_seqs_;
  uint64_t sent_ = 0;
  uint64_t errors_ = 0;
  std::map<std::string, uint64_t> by_code_;
  // Each board's order and operator as the configures sent so far set them
  // (a board starts desc, best).
  std::unordered_map<std::string, std::pair<schemas::board_order, schemas::score_operator>>
    settings_;
  bool conflict_said_ = false, overload_said_ = false;
  steady::time_point quiet_since_ = steady::now();
  std::optional<int64_t> t0_, current_t_;
  steady::time_point wall0_{}, last_due_{};
};

// A folder whose oldest segments were deleted after a snapshot no longer
// holds its whole history; sending only the rest would build another state.
void check_history(const log_source& src, const options& o) {
  if (!src.folder)
    return;
  storage::data_files listed;
  storage::throw_if_error(storage::list_files(*src.folder, listed));
  const auto& segments = listed.segments;
  if (segments.empty())
    throw usage_error(src.folder->string() + " holds no events-*.log segments: nothing to send");
  const uint64_t first = segments.front().seq;
  if (first > 1 && o.from_seq < first)
    throw usage_error("the log in " + src.folder->string() + " starts at seq "
                      + std::to_string(first)
                      + ": earlier events survive only in its snapshot, which send cannot "
                        "replay. Pass --from-seq="
                      + std::to_string(first)
                      + " to send the rest anyway, or start leaderboardd on a copy of the "
                        "folder to get the whole state. To record a session for replay, run "
                        "leaderboardd with --retain: it then keeps every segment");
}

// The target's last seq, from `stats`: more than 0 once it has taken any
// event. Throws no_reply, or std::runtime_error for a reply it cannot use.
uint64_t target_seq(const options& o, const transport::client_keys& keys) {
  zmq::context_t ctx;
  transport::request_client client(ctx, o.to, keys);
  const uint64_t id = 1;
  const auto frame = client.call(schemas::encode_request(id, schemas::stats_req{}),
                                 std::chrono::milliseconds(o.timeout_ms));
  if (!frame)
    throw no_reply("no reply from " + o.to + " within " + std::to_string(o.timeout_ms)
                   + " ms to stats, asked before sending: is leaderboardd running there and is "
                     "--to its requests endpoint?");
  const std::size_t n = frame->size();
  std::size_t offset = 0;
  msgpack::unpack_limit limit(n, n, n, n, n, schemas::max_nesting_depth);
  const auto oh = msgpack::unpack(frame->data(), n, offset, nullptr, nullptr, limit);
  const auto& reply = oh.get();
  if (!ok_of(reply)) {
    const auto* err = find_key(reply, "error");
    throw std::runtime_error(
      "stats failed: "
      + (err ? printable(str_at(*err, "code")) + ": " + printable(str_at(*err, "message"))
             : std::string("no error in the reply")));
  }
  const auto* seq = find_key(reply, "seq");
  if (seq == nullptr || seq->type != msgpack::type::POSITIVE_INTEGER)
    throw std::runtime_error("its stats reply has no seq");
  return seq->via.u64;
}

} // namespace

int run_send(const options& o) {
  if (o.to.empty())
    throw usage_error("send needs --to=ENDPOINT, the service's requests socket (e.g. "
                      "--to=tcp://127.0.0.1:7400)");
  transport::client_keys keys;
  try {
    keys = transport::load_client_keys(o.curve_server_key, o.curve_key);
  } catch (const transport::key_error& e) {
    throw usage_error(e.what());
  }
  const auto src = source_of(resolve_inputs(o.logs));
  check_history(src, o);
  const event_filter filter{o.board, o.from_seq, o.until_seq};
  std::vector<std::string> notes;

  // The pre-pass reads the whole log before anything is sent, so that damage
  // found late does not leave the service with half a replay.
  send_plan plan;
  read_log(
    src, filter.until_seq,
    [&](const schemas::event_record& ev) {
      if (!filter(ev))
        return;
      ++plan.events;
      if (!plan.first_t)
        plan.first_t = ev.time_ms;
      plan.last_t = ev.time_ms;
    },
    notes);
  for (const auto& note : notes)
    std::cerr << "lb-replay: note: " << note << '\n';
  if (plan.events == 0)
    std::cerr << "lb-replay: note: no event matches the given filters\n";

  // Events sent on top of other events build another state than the log's
  // (an incr board counts twice), and nothing afterwards would say so.
  if (!o.force) {
    try {
      if (const auto seq = target_seq(o, keys); seq > 0) {
        std::cerr << "lb-replay: " << o.to << " already holds events (its stats seq is " << seq
                  << "): the log's events would land on top of them and build another state "
                     "(an incr board would count twice). Send into a leaderboardd started on "
                     "an empty --data folder, or pass --force to send anyway\n";
        return exit_failed;
      }
    } catch (const no_reply& e) {
      std::cerr << "lb-replay: " << e.what() << '\n';
      return exit_no_reply;
    } catch (const zmq::error_t& e) {
      throw usage_error("--to '" + o.to + "': " + e.what()
                        + " (expected e.g. tcp://127.0.0.1:7400)");
    } catch (const std::exception& e) {
      std::cerr << "lb-replay: cannot tell whether " << o.to << " is empty: " << e.what()
                << " (--force sends without asking)\n";
      return exit_failed;
    }
  }

  std::optional<sender> s;
  try {
    s.emplace(o, plan, keys);
  } catch (const zmq::error_t& e) {
    throw usage_error("--to '" + o.to + "': " + e.what() + " (expected e.g. tcp://127.0.0.1:7400)");
  }
  try {
    std::vector<std::string> ignored; // the pre-pass reported them
    read_log(
      src, filter.until_seq,
      [&](const schemas::event_record& ev) {
        if (filter(ev))
          s->push(ev);
      },
      ignored);
    s->finish();
  } catch (const no_reply& e) {
    s->clear_progress();
    std::cerr << "lb-replay: " << e.what() << '\n';
    return exit_no_reply;
  }

  const double secs = s->elapsed();
  const double rate = secs > 0 ? s->sent() / secs : 0;
  char line[200];
  std::snprintf(line, sizeof line, "sent %llu events in %.2f s (%.0f events/s), %llu errors",
                static_cast<unsigned long long>(s->sent()), secs, rate,
                static_cast<unsigned long long>(s->errors()));
  if (o.json) {
    msgpack::sbuffer buf;
    json_packer p(buf);
    p.pack_map(7);
    pack_str(p, "endpoint"), pack_str(p, o.to);
    pack_str(p, "sent"), p.pack(s->sent());
    pack_str(p, "requests"), p.pack(s->requests());
    pack_str(p, "seconds"), p.pack(secs);
    pack_str(p, "events_per_s"), p.pack(rate);
    pack_str(p, "errors"), p.pack(s->errors());
    pack_str(p, "errors_by_code");
    p.pack_map(static_cast<uint32_t>(s->errors_by_code().size()));
    for (const auto& [code, n] : s->errors_by_code())
      pack_str(p, code), p.pack(n);
    print_json(buf);
  } else {
    std::cout << line << '\n';
  }
  return s->errors() == 0 ? exit_ok : exit_failed;
}

} // namespace lb::replay
