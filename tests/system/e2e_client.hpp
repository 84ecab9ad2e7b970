// End-to-end test helpers: run the real `leaderboardd` as a child process,
// build request bodies with plain msgpack (as a client in another language
// would, independent of the service's own encoder) and decode replies.
//
// Nothing here asserts from a worker thread: failures are exceptions or
// return values, and the test's main thread turns them into doctest checks.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <sys/types.h>

#include <msgpack.hpp>
#include <zmq.hpp>

#include "transport/client.hpp"

namespace lb::e2e {

// ---------------------------------------------------------------------------
// Test scale. LBD_TEST_SCALE=tsan (the ThreadSanitizer run, ~10x slower)
// shrinks request counts but never client counts: the concurrency is the point.

bool under_tsan();
// n, or n/5 (at least 1) under TSan.
std::size_t scaled(std::size_t n);
// A "no hang" timeout: t, or 4 t under TSan.
std::chrono::milliseconds patience(std::chrono::milliseconds t);

// ---------------------------------------------------------------------------
// Request bodies: a msgpack map built key by key.

// msgpack bin (str is the default for strings).
struct bin {
  std::string bytes;
};
struct nil {};

// `meta` as stored and returned: str or bin bytes.
struct meta_v {
  std::string bytes;
  bool is_bin = false;
  friend bool operator==(const meta_v& a, const meta_v& b) {
    return a.is_bin == b.is_bin && a.bytes == b.bytes;
  }
  friend bool operator!=(const meta_v& a, const meta_v& b) { return !(a == b); }
};

class body;

// Appends one msgpack value to b.
void pack_value(msgpack::sbuffer& b, const bin& v);
void pack_value(msgpack::sbuffer& b, const nil& v);
void pack_value(msgpack::sbuffer& b, const meta_v& v);
void pack_value(msgpack::sbuffer& b, const body& v);
void pack_value(msgpack::sbuffer& b, const std::vector<body>& v);
template <class T>
void pack_value(msgpack::sbuffer& b, const T& v) {
  msgpack::pack(b, v); // ints, bool, std::string, const char*, vector<string>
}

class body {
public:
  body() = default; // no `op`: a batch item
  explicit body(const std::string& op) { set("op", op); }

  template <class T>
  body& set(const std::string& key, const T& value) {
    msgpack::sbuffer b;
    pack_value(b, value);
    fields_.emplace_back(key, std::string(b.data(), b.size()));
    return *this;
  }
  body& id(uint64_t v) { return set("id", v); }

  // The packed map, keys in the order they were set.
  std::string pack() const;

private:
  std::vector<std::pair<std::string, std::string>> fields_; // key, packed value
};

// One builder per op of PROTOCOL.md section 3.
body submit(const std::string& board, const std::string& player, int64_t score,
            std::optional<int64_t> subscore = std::nullopt,
            const std::optional<meta_v>& meta = std::nullopt);
// A batch item: a submit map without `op`.
body submit_item(const std::string& board, const std::string& player, int64_t score,
                 std::optional<int64_t> subscore = std::nullopt,
                 const std::optional<meta_v>& meta = std::nullopt);
body batch(const std::vector<body>& items);
body rank(const std::string& board, const std::string& player, bool exact = false);
body top(const std::string& board, uint32_t limit = 10, uint64_t offset = 0);
body around(const std::string& board, const std::string& player, uint32_t radius = 5);
body ranks(const std::string& board, const std::vector<std::string>& players);
body remove(const std::string& board, const std::string& player);
body reset(const std::string& board);
body configure(const std::string& board, const std::optional<std::string>& order,
               const std::optional<std::string>& op);
body boards();
body stats();
body ping();

// ---------------------------------------------------------------------------
// Replies.

// Thrown when a reply lacks a key or has one of the wrong type.
struct reply_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Map helpers on any decoded msgpack object.
const msgpack::object* find(const msgpack::object& map, const std::string& key);
const msgpack::object& at(const msgpack::object& map, const std::string& key);
std::set<std::string> keys_of(const msgpack::object& map);
std::optional<meta_v> meta_of(const msgpack::object& o); // nil -> nothing

// One entry of `top`, `around`, `ranks`.
struct entry {
  uint64_t rank = 0;
  std::string player;
  int64_t score = 0;
  int64_t subscore = 0;
  std::optional<meta_v> meta;
  friend bool operator==(const entry& a, const entry& b) {
    return a.rank == b.rank && a.player == b.player && a.score == b.score
           && a.subscore == b.subscore && a.meta == b.meta;
  }
};
std::string to_string(const entry& e);
entry entry_of(const msgpack::object& o);

// A decoded reply map. Copyable; copies share the decoded objects.
class reply {
public:
  // Nothing if the bytes are not one msgpack map. The parser is bounded by
  // the frame size, so a hostile reply cannot make the test allocate wildly.
  static std::optional<reply> decode(const std::string& bytes);

  const msgpack::object& root() const { return oh_->get(); }
  const msgpack::object& at(const std::string& key) const { return e2e::at(root(), key); }
  bool has(const std::string& key) const { return find(root(), key) != nullptr; }
  std::set<std::string> keys() const { return keys_of(root()); }

  bool ok() const;
  std::string error_code() const; // "" when ok
  std::optional<uint64_t> id() const;
  uint64_t u64(const std::string& key) const;
  int64_t i64(const std::string& key) const;
  std::string str(const std::string& key) const;
  bool flag(const std::string& key) const;
  bool is_nil(const std::string& key) const;
  std::vector<entry> entries() const; // the `entries` array

  // A readable rendering for failure messages.
  std::string text() const;

private:
  std::shared_ptr<msgpack::object_handle> oh_;
};

// ---------------------------------------------------------------------------
// Clients.

// A DEALER on `requests`: may pipeline; replies are matched by `id`.
class client {
public:
  client(zmq::context_t& ctx, const std::string& endpoint, const transport::client_keys& keys = {});

  uint64_t next_id() { return next_id_++; }
  // Sends b with a fresh id; returns that id.
  uint64_t send(body b);
  void send_raw(const std::string& frame) { sock_.send(frame); }
  // The next reply, or nothing within `timeout`. Throws reply_error if the
  // bytes are not a msgpack map.
  std::optional<reply> receive(std::chrono::milliseconds timeout);
  // Sends and waits for the reply with the same id; throws reply_error on a
  // timeout or a reply for another id.
  reply call(body b, std::chrono::milliseconds timeout = patience(std::chrono::seconds(10)));
  // Sends every body (at most `depth` in flight) and returns the replies in
  // the order of `bodies`, matched by id.
  std::vector<reply> call_all(const std::vector<body>& bodies, std::size_t depth = 64);

  zmq::socket_t& socket() { return sock_.socket(); }

private:
  transport::request_client sock_;
  uint64_t next_id_ = 1;
};

// Every entry of `board`, best first, paging through `top` `page` entries at
// a time. For a board nobody writes to meanwhile (after server::settle()):
// every page before the last must be full, or the board moved under the
// reader (or `total` disagrees with the pages), and the test fails. Asserts
// with doctest REQUIRE: call it from the test's main thread only.
std::vector<entry> read_board(client& c, const std::string& board, uint32_t page = 37);

// ---------------------------------------------------------------------------
// Update streams (PROTOCOL.md section 5).

struct update {
  std::string topic;
  reply body;
};

// A SUB on `updates`. It also subscribes to the boards sync() writes to
// (named zz-sync-N), whose messages it never hands out.
class subscriber {
public:
  // `rcvhwm` 0: this side queues without limit, so a test that reads later
  // loses nothing.
  subscriber(zmq::context_t& ctx, const std::string& endpoint,
             const std::vector<std::string>& prefixes, int rcvhwm = 0,
             const transport::client_keys& keys = {});

  // The next message, or nothing within `timeout`. Throws reply_error if a
  // body is not a msgpack map.
  std::optional<update> receive(std::chrono::milliseconds timeout);

  // Returns once the subscription is live and every update of the events
  // acknowledged before the call has arrived; hands back the messages (not
  // of sync boards) received meanwhile, in arrival order. Throws reply_error
  // if that takes longer than a generous "no hang" limit. How: a submit to a
  // fresh board, until its top/ comes (the merge after every earlier event
  // is out, and the merge actor's messages arrive in merge order); then 128
  // new players on another fresh board, whose rank/ come from every shard
  // after that shard's earlier rank/.
  std::vector<update> sync(client& c);

  static bool is_sync(const std::string& topic);

private:
  // Receives until `done` says so; false on timeout.
  template <class F>
  bool
  receive_until(std::vector<update>& got, std::chrono::steady_clock::time_point deadline, F&& done);

  transport::update_subscriber sock_;
};

// ---------------------------------------------------------------------------
// Processes.

// A program the test runs, from the environment variable meson test sets
// (tests/system/meson.build); throws naming the variable if it is unset.
std::string program_path(const char* env);
std::string daemon_path(); // $LEADERBOARDD
std::string lbctl_path();  // $LBCTL

// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

// A loopback TCP port that was free a moment ago (bound to 127.0.0.1:0).
uint16_t free_port();
// Whether something listens on 127.0.0.1:`port` (a TCP connect succeeds).
bool accepts_connections(uint16_t port);

// Polls `done` every `poll` until it returns true (then true) or `timeout`
// has passed (then false): a test waits for what it can observe (a stats
// counter, a port, a child's output) instead of sleeping a fixed time.
template <class F>
bool wait_until(std::chrono::milliseconds timeout, F&& done,
                std::chrono::milliseconds poll = std::chrono::milliseconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done())
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(poll);
  }
}

// Starts `args[0]` with `args`, stdout and stderr into the given files.
pid_t spawn(const std::vector<std::string>& args, const std::string& out_file,
            const std::string& err_file);
// The wait status once `pid` exits, or nothing after `timeout`.
std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds timeout);
// "exit 0", "exit 2", "killed by signal 9": for messages.
std::string describe_status(int status);
std::string read_file(const std::string& path);
// A process's resident memory (VmRSS); throws if there is no such process.
uint64_t vm_rss_kib(pid_t pid);

// Runs a program to completion (killed after `timeout`).
struct run_result {
  std::optional<int> status; // nothing: it did not exit in time
  std::string out;
  std::string err;
};
run_result run_to_exit(const std::vector<std::string>& args, std::chrono::milliseconds timeout);

struct server_options {
  uint32_t shards = 3;
  uint32_t merge_interval_ms = 20;
  std::vector<std::string> extra_args;
  // The data folder; empty: a fresh one that goes with the server. A test of
  // restarts passes the same folder to each server.
  std::string data_dir;
  // RLIMIT_FSIZE of the daemon in bytes (0: unchanged): writes past it fail
  // as on a full disk.
  uint64_t file_size_limit = 0;
  // The keys of the ping that says the server is up (a server started with
  // --curve-secret admits only listed keys).
  transport::client_keys ready_keys;
};

// The common options by name (C++17 has no designated initializers; a
// positional {shards, ms, args} draws -Wmissing-field-initializers and would
// follow any reordering of the fields). The other fields keep their defaults.
server_options make_server_options(uint32_t shards, uint32_t merge_interval_ms,
                                   std::vector<std::string> extra_args = {});

// The real leaderboardd on free loopback ports with a fresh data folder.
// The constructor returns once a `ping` is answered (throws if it never is);
// the destructor stops it with SIGTERM and checks a clean exit.
class server {
public:
  explicit server(server_options opts = {});
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  const std::string& requests() const { return requests_; }
  const std::string& ingest() const { return ingest_; }
  const std::string& updates() const { return updates_; }
  const std::string& data_dir() const { return data_; }
  const server_options& options() const { return opts_; }
  zmq::context_t& ctx() { return ctx_; }
  pid_t pid() const { return pid_; }

  // Sends `sig` and waits up to `within` for the exit. Returns the wait
  // status, or nothing if it did not exit (it is then SIGKILLed).
  std::optional<int> stop(int sig, std::chrono::milliseconds within);
  bool running() const { return pid_ > 0; }
  std::string stderr_text() const { return read_file(err_file_); }
  std::string stdout_text() const { return read_file(out_file_); }

  // Sleeps long enough for every rank to be exact again: the protocol
  // promises that after two merge intervals without events; we wait three
  // plus a margin for a loaded (or sanitized) machine. A sleep on purpose,
  // as the promise is about time: a reply that shows the merged view caught
  // up would come from `stats`, which forces a merge of its own and so
  // would test something else.
  void settle() const;

private:
  bool try_start();

  server_options opts_;
  temp_dir dir_;
  std::string out_file_, err_file_;
  std::string requests_, ingest_, updates_, data_;
  pid_t pid_ = -1;
  zmq::context_t ctx_;
};

} // namespace lb::e2e
