#include "tests/system/e2e_client.hpp"

#include <atomic>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

extern char** environ;

// Under ThreadSanitizer (CI runs this suite with it): Debian's libzmq is not
// instrumented, so TSan cannot see the atomics of its queues and reports
// every message handed to its I/O thread as a race. Those reports are about
// libzmq, not about our code: ignore what libzmq itself does, here and (see
// spawn) in the service. TSan calls this hook at start-up; other builds never do.
const char* const zmq_suppressions = "called_from_lib:libzmq.so\n";
extern "C" const char* __tsan_default_suppressions() {
  return zmq_suppressions;
}

namespace lb::e2e {

using namespace std::chrono_literals;

// ---------------------------------------------------------------------------
// Scale.

bool under_tsan() {
  const char* s = std::getenv("LBD_TEST_SCALE");
  return s != nullptr && std::string(s) == "tsan";
}

std::size_t scaled(std::size_t n) {
  return under_tsan() ? std::max<std::size_t>(1, n / 5) : n;
}

std::chrono::milliseconds patience(std::chrono::milliseconds t) {
  return under_tsan() ? 4 * t : t;
}

// ---------------------------------------------------------------------------
// Bodies.

void pack_value(msgpack::sbuffer& b, const bin& v) {
  msgpack::packer<msgpack::sbuffer> p(b);
  p.pack_bin(static_cast<uint32_t>(v.bytes.size()));
  p.pack_bin_body(v.bytes.data(), static_cast<uint32_t>(v.bytes.size()));
}

void pack_value(msgpack::sbuffer& b, const nil&) {
  msgpack::packer<msgpack::sbuffer>(b).pack_nil();
}

void pack_value(msgpack::sbuffer& b, const meta_v& v) {
  if (v.is_bin)
    return pack_value(b, bin{v.bytes});
  msgpack::pack(b, v.bytes);
}

void pack_value(msgpack::sbuffer& b, const body& v) {
  auto bytes = v.pack(); // a nested map, already packed
  b.write(bytes.data(), bytes.size());
}

void pack_value(msgpack::sbuffer& b, const std::vector<body>& v) {
  msgpack::packer<msgpack::sbuffer>(b).pack_array(static_cast<uint32_t>(v.size()));
  for (auto& item : v)
    pack_value(b, item);
}

std::string body::pack() const {
  msgpack::sbuffer b;
  msgpack::packer<msgpack::sbuffer>(b).pack_map(static_cast<uint32_t>(fields_.size()));
  for (auto& [key, value] : fields_) {
    msgpack::pack(b, key);
    b.write(value.data(), value.size());
  }
  return std::string(b.data(), b.size());
}

namespace {

body& submit_keys(body& b, const std::string& board, const std::string& player, int64_t score,
                  std::optional<int64_t> subscore, const std::optional<meta_v>& meta) {
  b.set("board", board).set("player", player).set("score", score);
  if (subscore)
    b.set("subscore", *subscore);
  if (meta)
    b.set("meta", *meta);
  return b;
}

} // namespace

body submit(const std::string& board, const std::string& player, int64_t score,
            std::optional<int64_t> subscore, const std::optional<meta_v>& meta) {
  body b{"submit"};
  return submit_keys(b, board, player, score, subscore, meta);
}

body submit_item(const std::string& board, const std::string& player, int64_t score,
                 std::optional<int64_t> subscore, const std::optional<meta_v>& meta) {
  body b;
  return submit_keys(b, board, player, score, subscore, meta);
}

body batch(const std::vector<body>& items) {
  return body{"batch"}.set("items", items);
}

body rank(const std::string& board, const std::string& player, bool exact) {
  body b{"rank"};
  b.set("board", board).set("player", player);
  if (exact)
    b.set("exact", true);
  return b;
}

body top(const std::string& board, uint32_t limit, uint64_t offset) {
  return body{"top"}.set("board", board).set("limit", limit).set("offset", offset);
}

body around(const std::string& board, const std::string& player, uint32_t radius) {
  return body{"around"}.set("board", board).set("player", player).set("radius", radius);
}

body ranks(const std::string& board, const std::vector<std::string>& players) {
  return body{"ranks"}.set("board", board).set("players", players);
}

body remove(const std::string& board, const std::string& player) {
  return body{"remove"}.set("board", board).set("player", player);
}

body reset(const std::string& board) {
  return body{"reset"}.set("board", board);
}

body configure(const std::string& board, const std::optional<std::string>& order,
               const std::optional<std::string>& op) {
  body b{"configure"};
  b.set("board", board);
  if (order)
    b.set("order", *order);
  if (op)
    b.set("operator", *op);
  return b;
}

body boards() {
  return body{"boards"};
}
body stats() {
  return body{"stats"};
}
body ping() {
  return body{"ping"};
}

// ---------------------------------------------------------------------------
// Replies.

const msgpack::object* find(const msgpack::object& map, const std::string& key) {
  if (map.type != msgpack::type::MAP)
    return nullptr;
  for (uint32_t i = 0; i < map.via.map.size; ++i) {
    auto& kv = map.via.map.ptr[i];
    if (kv.key.type == msgpack::type::STR
        && std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == key)
      return &kv.val;
  }
  return nullptr;
}

const msgpack::object& at(const msgpack::object& map, const std::string& key) {
  auto* v = find(map, key);
  if (v == nullptr)
    throw reply_error("no key '" + key + "'");
  return *v;
}

std::set<std::string> keys_of(const msgpack::object& map) {
  std::set<std::string> out;
  if (map.type != msgpack::type::MAP)
    return out;
  for (uint32_t i = 0; i < map.via.map.size; ++i)
    if (map.via.map.ptr[i].key.type == msgpack::type::STR)
      out.insert(map.via.map.ptr[i].key.as<std::string>());
    else
      out.insert("<non-str key>");
  return out;
}

std::optional<meta_v> meta_of(const msgpack::object& o) {
  switch (o.type) {
    case msgpack::type::NIL:
      return std::nullopt;
    case msgpack::type::STR:
      return meta_v{std::string(o.via.str.ptr, o.via.str.size), false};
    case msgpack::type::BIN:
      return meta_v{std::string(o.via.bin.ptr, o.via.bin.size), true};
    default:
      throw reply_error("meta is neither nil, str nor bin");
  }
}

namespace {

// as<T>() with the key named in the error.
template <class T>
T as(const msgpack::object& o, const std::string& key) {
  try {
    return o.as<T>();
  } catch (const std::exception&) {
    std::ostringstream s;
    s << o;
    throw reply_error("key '" + key + "' has the wrong type: " + s.str());
  }
}

} // namespace

entry entry_of(const msgpack::object& o) {
  entry e;
  e.rank = as<uint64_t>(at(o, "rank"), "rank");
  e.player = as<std::string>(at(o, "player"), "player");
  e.score = as<int64_t>(at(o, "score"), "score");
  e.subscore = as<int64_t>(at(o, "subscore"), "subscore");
  e.meta = meta_of(at(o, "meta"));
  return e;
}

std::string to_string(const entry& e) {
  std::string s = "#" + std::to_string(e.rank) + " " + e.player + " " + std::to_string(e.score)
                  + "/" + std::to_string(e.subscore);
  if (e.meta)
    s += (e.meta->is_bin ? " bin:" : " str:") + std::to_string(e.meta->bytes.size()) + "B";
  return s;
}

std::optional<reply> reply::decode(const std::string& bytes) {
  auto n = bytes.size();
  // Every element takes at least one byte of the frame, so the frame size
  // bounds every count; the service never nests deeper than 4.
  msgpack::unpack_limit limit(n, n / 2, n, n, n, 16);
  try {
    std::size_t off = 0;
    auto oh = std::make_shared<msgpack::object_handle>(
      msgpack::unpack(bytes.data(), n, off, nullptr, nullptr, limit));
    if (off != n || oh->get().type != msgpack::type::MAP)
      return std::nullopt;
    reply r;
    r.oh_ = std::move(oh);
    return r;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool reply::ok() const {
  return as<bool>(at("ok"), "ok");
}

std::string reply::error_code() const {
  auto* e = find(root(), "error");
  if (e == nullptr)
    return "";
  return as<std::string>(e2e::at(*e, "code"), "error.code");
}

std::optional<uint64_t> reply::id() const {
  auto* v = find(root(), "id");
  if (v == nullptr)
    return std::nullopt;
  return as<uint64_t>(*v, "id");
}

uint64_t reply::u64(const std::string& key) const {
  return as<uint64_t>(at(key), key);
}
int64_t reply::i64(const std::string& key) const {
  return as<int64_t>(at(key), key);
}
std::string reply::str(const std::string& key) const {
  return as<std::string>(at(key), key);
}
bool reply::flag(const std::string& key) const {
  return as<bool>(at(key), key);
}
bool reply::is_nil(const std::string& key) const {
  return at(key).type == msgpack::type::NIL;
}

std::vector<entry> reply::entries() const {
  auto& a = at("entries");
  if (a.type != msgpack::type::ARRAY)
    throw reply_error("entries is not an array");
  std::vector<entry> out;
  for (uint32_t i = 0; i < a.via.array.size; ++i)
    out.push_back(entry_of(a.via.array.ptr[i]));
  return out;
}

std::string reply::text() const {
  std::ostringstream s;
  s << root();
  auto t = s.str();
  return t.size() > 600 ? t.substr(0, 600) + "..." : t;
}

// ---------------------------------------------------------------------------
// Client.

client::client(zmq::context_t& ctx, const std::string& endpoint, const transport::client_keys& keys)
  : sock_(ctx, endpoint, keys) {}

uint64_t client::send(body b) {
  auto id = next_id();
  sock_.send(b.id(id).pack());
  return id;
}

std::optional<reply> client::receive(std::chrono::milliseconds timeout) {
  auto bytes = sock_.receive(timeout);
  if (!bytes)
    return std::nullopt;
  auto r = reply::decode(*bytes);
  if (!r)
    throw reply_error("a reply that is not a msgpack map (" + std::to_string(bytes->size())
                      + " bytes)");
  return r;
}

reply client::call(body b, std::chrono::milliseconds timeout) {
  auto id = send(std::move(b));
  auto r = receive(timeout);
  if (!r)
    throw reply_error("no reply to request " + std::to_string(id) + " within "
                      + std::to_string(timeout.count()) + " ms");
  if (r->id() != id)
    throw reply_error("expected the reply to request " + std::to_string(id) + ", got " + r->text());
  return *r;
}

std::vector<reply> client::call_all(const std::vector<body>& bodies, std::size_t depth) {
  std::vector<std::optional<reply>> got(bodies.size());
  std::map<uint64_t, std::size_t> pending; // id -> index in bodies
  std::size_t next = 0;
  while (next < bodies.size() || !pending.empty()) {
    while (next < bodies.size() && pending.size() < depth) {
      pending[send(bodies[next])] = next;
      ++next;
    }
    auto r = receive(patience(10s));
    if (!r)
      throw reply_error("no reply within 10 s; " + std::to_string(pending.size()) + " pending");
    auto id = r->id();
    auto i = id ? pending.find(*id) : pending.end();
    if (i == pending.end())
      throw reply_error("a reply with an unexpected id: " + r->text());
    got[i->second] = std::move(*r);
    pending.erase(i);
  }
  std::vector<reply> out;
  for (auto& r : got)
    out.push_back(std::move(*r));
  return out;
}

std::vector<entry> read_board(client& c, const std::string& board, uint32_t page) {
  REQUIRE_MESSAGE(page > 0, "read_board " << board << ": a page of 0 entries never ends");
  std::vector<entry> out;
  for (uint64_t offset = 0;; offset += page) {
    auto r = c.call(top(board, page, offset));
    REQUIRE_MESSAGE(r.ok(), "top " << board << ": " << r.text());
    auto es = r.entries();
    out.insert(out.end(), es.begin(), es.end());
    if (offset + page >= r.u64("total"))
      break;
    // This also ends the loop should `total` overstate the entries (an empty page).
    REQUIRE_MESSAGE(es.size() == page, "a short page before the end: " << r.text());
  }
  return out;
}

// ---------------------------------------------------------------------------
// Update streams.

namespace {

std::vector<std::string> with_sync_prefixes(std::vector<std::string> prefixes) {
  // Last: subscriptions take effect in order, so once a sync message comes,
  // the caller's subscriptions are live too.
  prefixes.push_back("top/zz-sync-");
  prefixes.push_back("rank/zz-sync-");
  return prefixes;
}

} // namespace

subscriber::subscriber(zmq::context_t& ctx, const std::string& endpoint,
                       const std::vector<std::string>& prefixes, int rcvhwm,
                       const transport::client_keys& keys)
  : sock_(ctx, endpoint, with_sync_prefixes(prefixes), rcvhwm, keys) {}

bool subscriber::is_sync(const std::string& topic) {
  for (const char* p : {"top/zz-sync-", "rank/zz-sync-", "score/zz-sync-"})
    if (topic.rfind(p, 0) == 0)
      return true;
  return false;
}

std::optional<update> subscriber::receive(std::chrono::milliseconds timeout) {
  auto m = sock_.receive(timeout);
  if (!m)
    return std::nullopt;
  auto body = reply::decode(m->body);
  if (!body)
    throw reply_error("an update on " + m->topic + " whose body is not a msgpack map");
  return update{std::move(m->topic), std::move(*body)};
}

template <class F>
bool subscriber::receive_until(std::vector<update>& got,
                               std::chrono::steady_clock::time_point deadline, F&& done) {
  for (;;) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      return false;
    auto u = receive(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
    if (!u)
      return false;
    if (!is_sync(u->topic)) {
      got.push_back(std::move(*u));
      continue;
    }
    if (done(*u))
      return true;
  }
}

namespace {

// Sync boards must be fresh for every subscriber of the process: two
// subscribers counting on their own reused each other's boards, whose
// unchanged entries publish nothing, and an old top/ of a reused board
// still queued could end a sync before the events it must cover.
std::string next_sync_board() {
  static std::atomic<uint64_t> rounds{0};
  return "zz-sync-" + std::to_string(++rounds);
}

} // namespace

std::vector<update> subscriber::sync(client& c) {
  std::vector<update> got;
  auto give_up = std::chrono::steady_clock::now() + patience(30s);
  // A SUB's subscription reaches the PUB some time after connect: repeat
  // until one arrives.
  for (;;) {
    auto board = next_sync_board();
    if (!c.call(submit(board, "s", 1)).ok())
      throw reply_error("sync submit failed");
    auto topic = "top/" + board + "/";
    auto wait = std::min(std::chrono::steady_clock::now() + patience(500ms), give_up);
    if (receive_until(got, wait, [&](const update& u) { return u.topic == topic; }))
      break;
    if (std::chrono::steady_clock::now() >= give_up)
      throw reply_error("no top/ for a sync board within 30 s");
  }
  auto board = next_sync_board();
  std::vector<body> items;
  for (int i = 0; i < 128; ++i)
    items.push_back(submit_item(board, "s" + std::to_string(i), i));
  if (!c.call(batch(items)).ok())
    throw reply_error("sync batch failed");
  bool top_seen = false;
  std::set<std::string> ranked;
  auto prefix = "rank/" + board + "/";
  bool done = receive_until(got, give_up, [&](const update& u) {
    if (u.topic == "top/" + board + "/")
      top_seen = true;
    else if (u.topic.rfind(prefix, 0) == 0)
      ranked.insert(u.topic.substr(prefix.size()));
    return top_seen && ranked.size() == items.size();
  });
  if (!done)
    throw reply_error("sync: " + std::to_string(ranked.size()) + " of 128 rank/ messages and "
                      + (top_seen ? "" : "no ") + "top/ within 30 s");
  return got;
}

// ---------------------------------------------------------------------------
// Processes.

std::string program_path(const char* env) {
  const char* p = std::getenv(env);
  if (p == nullptr || *p == '\0')
    throw std::runtime_error(std::string(env) + " is not set (meson test sets it)");
  return p;
}

std::string daemon_path() {
  return program_path("LEADERBOARDD");
}

std::string lbctl_path() {
  return program_path("LBCTL");
}

temp_dir::temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/lbd-e2e-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr)
    throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
  path_ = templ;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

namespace {

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

int tcp_socket() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
  return fd;
}

} // namespace

uint16_t free_port() {
  int fd = tcp_socket();
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0
      || ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("bind 127.0.0.1:0: " + std::string(std::strerror(errno)));
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

bool accepts_connections(uint16_t port) {
  int fd = tcp_socket();
  sockaddr_in a = loopback(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

namespace {

// The environment for a child: ours, plus the libzmq suppressions in
// TSAN_OPTIONS (read only by a TSan build of the child) unless the caller
// already gives a suppressions file.
std::vector<std::string> child_environment() {
  static temp_dir dir; // lives as long as the test process
  static const std::string file = [] {
    auto path = dir.path() + "/tsan-suppressions.txt";
    std::ofstream(path) << zmq_suppressions;
    return path;
  }();
  std::vector<std::string> env;
  std::string tsan;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    if (kv.rfind("TSAN_OPTIONS=", 0) == 0)
      tsan = kv.substr(13);
    else
      env.push_back(kv);
  }
  if (tsan.find("suppressions=") == std::string::npos)
    tsan += (tsan.empty() ? "" : " ") + std::string("suppressions=") + file;
  env.push_back("TSAN_OPTIONS=" + tsan);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v)
    out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

} // namespace

pid_t spawn(const std::vector<std::string>& args, const std::string& out_file,
            const std::string& err_file) {
  auto arg_strings = args;
  auto env_strings = child_environment();
  auto argv = c_strings(arg_strings), envp = c_strings(env_strings);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  // The child must see SIGINT and SIGTERM whatever this process did with them.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, dflt;
  sigemptyset(&none);
  sigemptyset(&dflt);
  sigaddset(&dflt, SIGINT);
  sigaddset(&dflt, SIGTERM);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &dflt);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    throw std::runtime_error("posix_spawn " + args[0] + ": " + std::strerror(rc));
  return pid;
}

std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
  std::optional<int> exited;
  wait_until(
    timeout,
    [&] {
      int status = 0;
      pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid)
        exited = status;
      else if (r < 0 && errno != EINTR)
        throw std::runtime_error("waitpid: " + std::string(std::strerror(errno)));
      return exited.has_value();
    },
    5ms);
  return exited;
}

std::string describe_status(int status) {
  if (WIFEXITED(status))
    return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "killed by signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

uint64_t vm_rss_kib(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0)
      return std::stoull(line.substr(6));
  throw std::runtime_error("no VmRSS for pid " + std::to_string(pid));
}

run_result run_to_exit(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  temp_dir dir;
  auto out = dir.path() + "/stdout", err = dir.path() + "/stderr";
  pid_t pid = spawn(args, out, err);
  run_result r;
  r.status = wait_exit(pid, timeout);
  if (!r.status) {
    ::kill(pid, SIGKILL);
    wait_exit(pid, 5s);
  }
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

// ---------------------------------------------------------------------------
// Server.

server_options make_server_options(uint32_t shards, uint32_t merge_interval_ms,
                                   std::vector<std::string> extra_args) {
  server_options o;
  o.shards = shards;
  o.merge_interval_ms = merge_interval_ms;
  o.extra_args = std::move(extra_args);
  return o;
}

server::server(server_options opts) : opts_(std::move(opts)) {
  data_ = opts_.data_dir.empty() ? dir_.path() + "/data" : opts_.data_dir;
  out_file_ = dir_.path() + "/stdout";
  err_file_ = dir_.path() + "/stderr";
  // A port found free may be taken before the service binds it: try again
  // with new ports a few times.
  for (int attempt = 0; attempt < 5; ++attempt)
    if (try_start())
      return;
  throw std::runtime_error("leaderboardd did not start; its stderr:\n" + stderr_text());
}

bool server::try_start() {
  auto ep = [] { return "tcp://127.0.0.1:" + std::to_string(free_port()); };
  requests_ = ep();
  ingest_ = ep();
  updates_ = ep();
  std::vector<std::string> args
    = {daemon_path(),
       "--requests=" + requests_,
       "--ingest=" + ingest_,
       "--updates=" + updates_,
       "--data=" + data_,
       "--shards=" + std::to_string(opts_.shards),
       "--merge-interval-ms=" + std::to_string(opts_.merge_interval_ms)};
  args.insert(args.end(), opts_.extra_args.begin(), opts_.extra_args.end());
  pid_ = spawn(args, out_file_, err_file_);
  if (opts_.file_size_limit > 0) {
    rlimit lim{opts_.file_size_limit, opts_.file_size_limit};
    if (prlimit(pid_, RLIMIT_FSIZE, &lim, nullptr) != 0)
      throw std::runtime_error("prlimit(RLIMIT_FSIZE) failed");
  }
  // Ready means answering: ping until a pong comes (a DEALER queues the
  // request until the connection is up).
  client c(ctx_, requests_, opts_.ready_keys);
  auto deadline = std::chrono::steady_clock::now() + patience(20s);
  while (std::chrono::steady_clock::now() < deadline) {
    c.send(ping());
    if (auto r = c.receive(200ms); r && r->ok() && r->has("pong"))
      return true;
    if (auto st = wait_exit(pid_, 0ms)) { // died: most likely a port was taken
      pid_ = -1;
      return false;
    }
  }
  ::kill(pid_, SIGKILL);
  wait_exit(pid_, 5s);
  pid_ = -1;
  throw std::runtime_error("leaderboardd did not answer a ping within 20 s");
}

std::optional<int> server::stop(int sig, std::chrono::milliseconds within) {
  if (pid_ <= 0)
    return std::nullopt;
  ::kill(pid_, sig);
  auto st = wait_exit(pid_, within);
  if (!st) { // last resort; the caller's check fails
    ::kill(pid_, SIGKILL);
    wait_exit(pid_, 5s);
  }
  pid_ = -1;
  return st;
}

server::~server() {
  if (pid_ <= 0)
    return;
  auto st = stop(SIGTERM, patience(5s));
  // A hung daemon may be in the middle of a sanitizer report: show it.
  CHECK_MESSAGE(st.has_value(), "leaderboardd did not stop within 5 s of SIGTERM; stderr:\n"
                                  << stderr_text());
  if (st) {
    bool clean_exit = WIFEXITED(*st) && WEXITSTATUS(*st) == 0;
    CHECK_MESSAGE(clean_exit, "leaderboardd stopped with " << describe_status(*st) << "; stderr:\n"
                                                           << stderr_text());
  }
}

void server::settle() const {
  auto wait = std::chrono::milliseconds(3 * opts_.merge_interval_ms) + patience(50ms);
  std::this_thread::sleep_for(wait);
}

} // namespace lb::e2e
