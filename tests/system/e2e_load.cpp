#include "tests/system/e2e_load.hpp"

#include <limits>
#include <map>
#include <thread>

#include <doctest/doctest.h>

using namespace std::chrono_literals;

namespace lb::e2e {

namespace {

constexpr int64_t i64_max = std::numeric_limits<int64_t>::max();
constexpr int64_t i64_min = std::numeric_limits<int64_t>::min();

} // namespace

void run_client(zmq::context_t& ctx, const std::string& endpoint, size_t count, size_t depth,
                const std::function<request()>& next, const board_orders& orders,
                const std::string& name, client_log& log) {
  try {
    client c(ctx, endpoint);
    std::map<uint64_t, request> pending;
    size_t sent = 0;
    while (sent < count || !pending.empty()) {
      while (sent < count && pending.size() < depth) {
        auto r = next();
        pending.emplace(c.send(r.to_body()), std::move(r));
        ++sent;
      }
      auto rep = c.receive(patience(30s));
      if (!rep) {
        log.fail(name + ": no reply within 30 s, " + std::to_string(pending.size()) + " pending");
        return;
      }
      auto id = rep->id();
      auto it = id ? pending.find(*id) : pending.end();
      if (it == pending.end()) {
        log.fail(name + ": reply with an unknown id: " + rep->text());
        continue;
      }
      ++log.replies;
      auto origin = name + " id " + std::to_string(*id);
      try {
        check_reply(it->second, *rep, orders, origin, log);
      } catch (const std::exception& e) {
        record(log, origin + " (" + describe(it->second) + ")", e);
      }
      pending.erase(it);
    }
  } catch (const std::exception& e) {
    log.fail(name + ": " + e.what());
  }
}

void call_checked(client& c, const request& r, const board_orders& orders, const std::string& name,
                  client_log& log) {
  try {
    auto rep = c.call(r.to_body(), patience(30s));
    ++log.replies;
    check_reply(r, rep, orders, name, log);
  } catch (const std::exception& e) {
    record(log, name + " (" + describe(r) + ")", e);
  }
}

std::vector<client_log> run_threads(size_t n, const std::function<void(size_t, client_log&)>& fn) {
  std::vector<client_log> logs(n);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; ++i)
    threads.emplace_back([&, i] { fn(i, logs[i]); });
  for (auto& t : threads)
    t.join();
  return logs;
}

std::vector<std::string> player_pool(size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; out.size() + 4 < n; ++i)
    out.push_back("p" + std::to_string(i));
  out.push_back("jo\xc3\xabl");                              // joël
  out.push_back("\xd0\xb8\xd0\xb3\xd1\x80\xd0\xbe\xd0\xba"); // игрок
  out.push_back("\xe7\x8e\xa9\xe5\xae\xb6");                 // 玩家
  out.push_back(std::string(120, 'x') + "-longest");         // 128 bytes
  return out;
}

request random_submit(std::mt19937_64& rng, const board_spec& b,
                      const std::vector<std::string>& players, const std::string& tag) {
  auto pick = [&](int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1));
  };
  const auto& oper = b.oper.value_or("best");
  int64_t score;
  if (oper == "incr" || oper == "decr") {
    score = pick(0, 99) < 5 ? (pick(0, 1) ? 1 : -1) * (i64_max / 3) * pick(1, 3) : pick(-3, 8);
  } else {
    auto roll = pick(0, 99);
    score = roll == 0 ? i64_max : roll == 1 ? i64_min : pick(-30, 30);
  }
  std::optional<int64_t> sub;
  if (pick(0, 9) < 6)
    sub = pick(-1, 3);
  std::optional<meta_v> meta;
  auto m = pick(0, 99);
  if (m < 25)
    meta = meta_v{tag, false};
  else if (m < 35) {
    std::string bytes(static_cast<size_t>(pick(0, 24)), '\0');
    for (auto& ch : bytes)
      ch = static_cast<char>(rng());
    meta = meta_v{bytes, true};
  } else if (m < 38) {
    meta = meta_v{std::string(256, 'm'), false}; // the largest allowed
  }
  return submit_req(b.name, players[rng() % players.size()], score, sub, meta);
}

request random_request(std::mt19937_64& rng, const std::vector<board_spec>& bs,
                       const std::vector<std::string>& players, const std::string& tag) {
  auto& b = bs[rng() % bs.size()];
  auto player = [&] { return players[rng() % players.size()]; };
  auto roll = rng() % 100;
  if (roll < 50)
    return random_submit(rng, b, players, tag);
  if (roll < 56) {
    request r;
    r.op = "batch";
    auto n = 1 + rng() % 6;
    for (size_t i = 0; i < n; ++i)
      r.items.push_back(random_submit(rng, bs[rng() % bs.size()], players, tag));
    return r;
  }
  if (roll < 64)
    return simple_req("remove", b.name, player());
  if (roll < 74) {
    auto r = simple_req("rank", b.name, player());
    r.exact = roll % 3 == 0;
    return r;
  }
  if (roll < 84) {
    auto r = simple_req("top", b.name);
    r.limit = static_cast<uint32_t>(1 + rng() % 30);
    r.offset = rng() % 40;
    return r;
  }
  if (roll < 92) {
    auto r = simple_req("around", b.name, player());
    r.radius = static_cast<uint32_t>(rng() % 6);
    return r;
  }
  auto r = simple_req("ranks", b.name);
  for (size_t n = 1 + rng() % 12; n > 0; --n)
    r.players.push_back(player());
  return r;
}

board_orders orders_of(const std::vector<board_spec>& bs) {
  board_orders o;
  for (auto& b : bs)
    o[b.name] = b.order == std::string("asc");
  return o;
}

void configure_all(server& s, const std::vector<board_spec>& bs, std::vector<event>& events) {
  client c(s.ctx(), s.requests());
  for (auto& b : bs) {
    auto req = configure_req(b.name, b.order, b.oper);
    auto r = c.call(req.to_body());
    REQUIRE_MESSAGE(r.ok(), r.text());
    CHECK(r.str("order") == b.order.value_or("desc"));
    CHECK(r.str("operator") == b.oper.value_or("best"));
    event ev;
    ev.req = req;
    ev.seq = r.u64("seq");
    ev.origin = "setup";
    events.push_back(ev);
  }
  s.settle();
}

uint64_t stats_seq(client& c) {
  return c.call(stats()).u64("seq");
}

std::string digest(client& c) {
  return c.call(stats()).str("digest");
}

} // namespace lb::e2e
