#include "tools/lbctl/watch.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <ctime>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <msgpack.hpp>
#include <zmq.hpp>

#include "schemas/json.hpp"
#include "schemas/request.hpp"
#include "tools/common/msgpack_map.hpp"
#include "tools/common/term_text.hpp"
#include "tools/lbctl/print.hpp"
#include "tools/lbctl/reply.hpp"
#include "transport/client.hpp"

namespace lb::lbctl {

namespace {

namespace sch = schemas;
using tools::count;
using tools::find_key;
using tools::printable;

volatile std::sig_atomic_t interrupted = 0;

// How long watch waits for a first message before it says where it listens.
constexpr std::chrono::seconds silence_hint{10};

void on_interrupt(int) {
  interrupted = 1;
}

// A JSON string, escaped as the replies' strings are.
std::string json_string(const std::string& s) {
  msgpack::sbuffer b;
  msgpack::packer<msgpack::sbuffer>(b).pack(s);
  return sch::msgpack_to_json(b.data(), b.size());
}

std::string rank_text(const msgpack::object& v) {
  return v.is_nil() ? "none" : text(v);
}

std::string clock_now() {
  auto t = std::time(nullptr);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", std::localtime(&t));
  return buf;
}

// One line per rank/ message: what a player's rank did.
void print_rank_change(const msgpack::object& b) {
  const auto* rank = find_key(b, "rank");
  const auto* prev = find_key(b, "prev_rank");
  if (rank == nullptr || prev == nullptr)
    throw bad_reply("no 'rank' or 'prev_rank'");
  std::cout << text_at(b, "player") << " on " << text_at(b, "board") << ": ";
  if (rank->is_nil())
    std::cout << "removed (was rank " << rank_text(*prev) << ")";
  else
    std::cout << "rank " << text(*rank)
              << (prev->is_nil() ? std::string(" (new)") : " (was " + text(*prev) + ")")
              << ", score " << get<int64_t>(b, "score");
  if (auto sub = get<int64_t>(b, "subscore"); sub != 0)
    std::cout << " (subscore " << sub << ")";
  std::cout << ", seq " << get<uint64_t>(b, "seq") << '\n';
}

// One line per follow/ message: where the player stands. The first one on
// a topic is the state when the subscription began, not a change.
void print_follow(const msgpack::object& b, bool first) {
  const auto* rank = find_key(b, "rank");
  const auto* prev = find_key(b, "prev_rank");
  if (rank == nullptr || prev == nullptr)
    throw bad_reply("no 'rank' or 'prev_rank'");
  std::cout << text_at(b, "player") << " on " << text_at(b, "board") << ": ";
  if (rank->is_nil()) {
    if (prev->is_nil())
      std::cout << "not on the board";
    else
      std::cout << "removed (was rank " << text(*prev) << ")";
  } else {
    std::cout << "rank " << text(*rank) << " of " << get<uint64_t>(b, "total");
    if (!first)
      std::cout << (prev->is_nil() ? std::string(" (new)") : " (was " + text(*prev) + ")");
    std::cout << ", score " << get<int64_t>(b, "score");
    if (auto sub = get<int64_t>(b, "subscore"); sub != 0)
      std::cout << " (subscore " << sub << ")";
  }
  std::cout << ", seq " << get<uint64_t>(b, "seq");
}

// ", stream_seq N" for the topics that carry it.
std::string stream_seq_text(const msgpack::object& b) {
  if (find_key(b, "stream_seq") == nullptr)
    return {};
  return ", stream_seq " + std::to_string(get<uint64_t>(b, "stream_seq"));
}

// The last stream_seq seen per topic: consecutive messages of a topic are
// numbered consecutively, so a jump is a loss (PROTOCOL.md section 5).
class gap_finder {
public:
  // What the message's stream_seq says about the ones before it, or
  // nothing if all is well.
  std::optional<std::string> check(const std::string& topic, const msgpack::object& b) {
    if (find_key(b, "stream_seq") == nullptr)
      return std::nullopt;
    auto now = get<uint64_t>(b, "stream_seq");
    auto [it, first] = last_.try_emplace(topic, now);
    if (first)
      return std::nullopt;
    auto before = std::exchange(it->second, now);
    if (now == before + 1)
      return std::nullopt;
    if (now > before)
      return "gap: " + std::to_string(now - before - 1) + " message"
             + (now - before - 1 == 1 ? "" : "s") + " lost on " + printable(topic);
    return "stream_seq on " + printable(topic) + " went back from " + std::to_string(before)
           + " to " + std::to_string(now) + ": the service restarted";
  }
  bool seen(const std::string& topic) const { return last_.count(topic) != 0; }

private:
  std::map<std::string, uint64_t> last_;
};

void print_raw(std::string_view kind, const msgpack::object& b, bool first) {
  if (kind == "top") {
    const auto& entries = get_array(b, "entries");
    std::cout << "top " << text_at(b, "board") << ": seq " << get<uint64_t>(b, "seq") << ", "
              << count(get<uint64_t>(b, "total"), "entry", "entries");
    for (uint32_t i = 0; i < entries.via.array.size; ++i) {
      const auto& e = entries.via.array.ptr[i];
      if (e.type != msgpack::type::MAP)
        throw bad_reply("an entry is not a map");
      std::cout << (i == 0 ? ": " : ", ") << get<uint64_t>(e, "rank") << ' ' << text_at(e, "player")
                << ' ' << get<int64_t>(e, "score");
    }
    std::cout << stream_seq_text(b) << '\n';
  } else if (kind == "rank") {
    std::cout << "rank ";
    print_rank_change(b);
  } else if (kind == "follow") {
    std::cout << "follow ";
    print_follow(b, first);
    std::cout << stream_seq_text(b) << '\n';
  } else {
    std::cout << "score " << text_at(b, "board") << ' ' << text_at(b, "player") << ": "
              << get<int64_t>(b, "score") << '/' << get<int64_t>(b, "subscore") << ", seq "
              << get<uint64_t>(b, "seq") << stream_seq_text(b) << '\n';
  }
}

// The live table: the screen cleared and redrawn (ANSI: cursor home, erase).
void draw_table(const msgpack::object& top, const std::string& board, const options& o,
                const std::string& note) {
  std::cout << "\x1b[H\x1b[2J";
  static const std::vector<std::string> no_args;
  print_entries(top, {no_args, o, 0});
  std::cout << '\n'
            << note << "; watching " << printable(board) << " on " << o.updates
            << " (Ctrl-C to stop)" << std::endl;
}

} // namespace

int run_watch(const command_line& cl) {
  const auto& o = cl.opts;
  const auto& board = cl.positional.at(1);
  const auto& player = o.player;
  const bool lines = player || o.raw || o.json;
  std::vector<std::string> topics;
  // follow/ reports every change of the player's rank, whatever moved it,
  // and starts with where the player stands now.
  if (player)
    topics = {"follow/" + board + "/" + *player};
  else if (lines)
    topics = {"top/" + board + "/", "rank/" + board + "/", "score/" + board + "/"};
  else
    topics = {"top/" + board + "/"};

  struct sigaction sa {};
  sa.sa_handler = on_interrupt; // no SA_RESTART: a blocked poll returns at once
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  // A subscriber to the wrong socket hears nothing and ZeroMQ never says
  // so: name the one in use, on stderr so that stdout stays the data.
  std::cerr << "lbctl: watching " << printable(board) << " on the updates socket " << o.updates
            << " (--updates=EP to change)\n";
  const auto keys = client_keys_of(o);
  zmq::context_t ctx;
  std::optional<lb::transport::update_subscriber> sub;
  try {
    sub.emplace(ctx, o.updates, topics, 1000, keys);
  } catch (const zmq::error_t& e) {
    throw usage_error("--updates '" + o.updates + "': " + e.what() + " (expected e.g. "
                      + options{}.updates + ")");
  }

  if (!lines) {
    // Until the board's top K next changes, show it as it is now.
    lb::transport::request_client client(ctx, o.endpoint, keys);
    const uint64_t id = std::random_device{}();
    std::optional<std::string> frame;
    try {
      frame = client.call(sch::encode_request(id, sch::top_req{board}),
                          std::chrono::milliseconds(o.timeout_ms));
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR)
        throw;
      return 0; // Ctrl-C before the service answered
    }
    std::string note = "no reply from " + o.endpoint + " yet; waiting for the first update";
    try {
      if (frame) {
        auto handle = unpack_reply(*frame);
        if (get<bool>(handle.get(), "ok")) {
          draw_table(handle.get(), board, o, "as of " + clock_now());
          note.clear();
        } else {
          note = "error: " + text_at(get_map(handle.get(), "error"), "message")
                 + "; waiting for the first update";
        }
      }
    } catch (const std::exception& e) {
      note = std::string("unreadable reply: ") + e.what();
    }
    if (!note.empty())
      std::cout << note << " on " << o.updates << " (Ctrl-C to stop)" << std::endl;
  }

  // Said once, if the socket stays silent: a quiet board and a wrong
  // endpoint look alike from here.
  const auto silent_hint_at = std::chrono::steady_clock::now() + silence_hint;
  bool settled = false; // a message came, or the hint was given
  gap_finder gaps;
  while (!interrupted) {
    std::optional<lb::transport::update_message> m;
    try {
      m = sub->receive(std::chrono::milliseconds(250));
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR)
        continue;
      throw;
    }
    if (!m) {
      if (!settled && std::chrono::steady_clock::now() >= silent_hint_at) {
        settled = true;
        std::cerr << "lbctl: nothing on " << o.updates << " for " << silence_hint.count()
                  << " s: the board may be quiet, or the service's "
                  << "updates socket is elsewhere (its --updates; pass lbctl --updates=EP)\n";
      }
      continue;
    }
    settled = true;
    try {
      auto handle = unpack_reply(m->body);
      const auto& b = handle.get();
      // Prefix matching: follow/b/al also delivers follow/b/alice.
      if (player && get<std::string>(b, "player") != *player)
        continue;
      auto kind = std::string_view(m->topic).substr(0, m->topic.find('/'));
      const bool first = !gaps.seen(m->topic);
      // Before the message: the loss happened before it. On stderr with
      // --json, whose stdout is one JSON object per line.
      if (auto gap = gaps.check(m->topic, b); gap && lines)
        (o.json ? std::cerr << "lbctl: " : std::cout) << *gap << std::endl;
      if (o.json)
        std::cout << "{\"topic\":" << json_string(m->topic)
                  << ",\"body\":" << sch::msgpack_to_json(m->body.data(), m->body.size()) << "}"
                  << std::endl;
      else if (!lines)
        draw_table(b, board, o,
                   "seq " + std::to_string(get<uint64_t>(b, "seq")) + ", updated " + clock_now());
      else if (player && !o.raw) {
        print_follow(b, first);
        std::cout << '\n';
      } else
        print_raw(kind, b, first);
      std::cout.flush(); // lines reach a pipe as they come
    } catch (const std::exception& e) {
      std::cerr << "lbctl: unreadable update on " << printable(m->topic) << ": " << e.what()
                << '\n';
    }
  }
  return 0;
}

} // namespace lb::lbctl
