// Ingest acknowledgements end to end (PROTOCOL.md section 4): ingest frames
// that name a `source` are acknowledged on `ack/<source>/` once their events
// are durable, and counted per source in `stats`. The real leaderboardd, a
// PUSH socket per game server and SUB sockets.
//
// Also run under ThreadSanitizer (LBD_TEST_SCALE=tsan): loads shrink.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/system/e2e_client.hpp"

using namespace lb::e2e;
using namespace std::chrono_literals;

namespace {

// One ack as the subscriber got it.
struct ack {
  std::string topic;
  std::string source;
  uint64_t accepted = 0, rejected = 0;
  std::optional<uint64_t> first_seq, last_seq;
  struct item_error {
    std::optional<uint64_t> item;
    std::string code, message;
  };
  std::vector<item_error> errors;
  bool errors_truncated = false, memory_full = false;
};

std::optional<uint64_t> opt_u64(const reply& r, const std::string& key) {
  if (r.is_nil(key))
    return std::nullopt;
  return r.u64(key);
}

ack ack_of(const update& u) {
  const reply& r = u.body;
  ack a;
  a.topic = u.topic;
  a.source = r.str("source");
  a.accepted = r.u64("accepted");
  a.rejected = r.u64("rejected");
  a.first_seq = opt_u64(r, "first_seq");
  a.last_seq = opt_u64(r, "last_seq");
  const auto& errs = r.at("errors");
  if (errs.type != msgpack::type::ARRAY)
    throw reply_error("errors: not an array in " + r.text());
  for (uint32_t i = 0; i < errs.via.array.size; ++i) {
    const auto& e = errs.via.array.ptr[i];
    const auto& item = at(e, "item");
    a.errors.push_back({item.is_nil() ? std::nullopt : std::optional<uint64_t>(item.as<uint64_t>()),
                        at(e, "code").as<std::string>(), at(e, "message").as<std::string>()});
  }
  a.errors_truncated = r.flag("errors_truncated");
  a.memory_full = r.flag("memory_full");
  return a;
}

// The next `n` acks `sub` gets (not sync boards' messages); fewer on a timeout.
std::vector<ack> next_acks(subscriber& sub, size_t n,
                           std::chrono::milliseconds timeout = patience(10s)) {
  std::vector<ack> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < n) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      break;
    auto u = sub.receive(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
    if (!u)
      break;
    if (!subscriber::is_sync(u->topic))
      out.push_back(ack_of(*u));
  }
  return out;
}

// A submit frame for `ingest` that names its source.
body sourced(body b, const std::string& source) {
  return b.set("source", source);
}

const msgpack::object& sources_of(const reply& st) {
  const auto& m = st.at("ingest_sources");
  if (m.type != msgpack::type::MAP)
    throw reply_error("ingest_sources: not a map in " + st.text());
  return m;
}

// frames, accepted, rejected of one source in a `stats` reply; nothing if
// the source is not listed.
std::optional<std::vector<uint64_t>> source_counts(const reply& st, const std::string& source) {
  const auto* n = find(sources_of(st), source);
  if (n == nullptr)
    return std::nullopt;
  return std::vector<uint64_t>{at(*n, "frames").as<uint64_t>(), at(*n, "accepted").as<uint64_t>(),
                               at(*n, "rejected").as<uint64_t>()};
}

// Waits until `stats` has seen `frames` frames of `source`.
reply stats_after(client& c, const std::string& source, uint64_t frames) {
  std::optional<reply> st;
  wait_until(patience(10s), [&] {
    st = c.call(stats());
    auto n = source_counts(*st, source);
    return n && (*n)[0] >= frames;
  });
  return *st;
}

} // namespace

TEST_CASE("a source's frames are acknowledged in order, once durable, with their errors") {
  server s{make_server_options(3, 20, {"--fsync=group"})};
  client c(s.ctx(), s.requests());
  subscriber mine(s.ctx(), s.updates(), {"ack/gs-1/"});
  subscriber all(s.ctx(), s.updates(), {"ack/"});
  mine.sync(c);
  all.sync(c);
  const auto before = c.call(stats());
  CHECK(sources_of(before).via.map.size == 0);

  lb::transport::ingest_client push(s.ctx(), s.ingest());
  // 1. A batch with good and bad items.
  push.send(sourced(batch({submit_item("arena", "a", 10), submit_item("bad board", "x", 1),
                           submit_item("arena", "b", 20),
                           body().set("board", "arena").set("player", "y").set("score", "high"),
                           submit_item("arena", "c", 30)}),
                    "gs-1")
              .pack());
  // 2. A malformed frame whose source is readable.
  push.send(body{"submit"}.set("source", "gs-1").set("board", "arena").pack());
  // 3. A frame with a bad source: refused, and nobody to tell.
  push.send(sourced(submit("arena", "d", 40), "gs/1").pack());
  // 4. A single submit.
  push.send(sourced(submit("arena", "c", 35), "gs-1").pack());
  // 5. Every item bad: at most 100 errors listed.
  std::vector<body> bad_items(150, body().set("board", "arena").set("player", "z"));
  push.send(sourced(batch(bad_items), "gs-1").pack());
  // 6. Another source.
  push.send(sourced(submit("arena", "e", 50), "gs-2").pack());

  auto acks = next_acks(mine, 4);
  REQUIRE(acks.size() == 4);
  for (const auto& a : acks) {
    CHECK(a.topic == "ack/gs-1/");
    CHECK(a.source == "gs-1");
    CHECK_FALSE(a.memory_full);
  }
  {
    INFO("the batch");
    const auto& a = acks[0];
    CHECK(a.accepted == 3);
    CHECK(a.rejected == 2);
    REQUIRE(a.first_seq);
    REQUIRE(a.last_seq);
    CHECK(*a.last_seq == *a.first_seq + 2); // one frame's events are contiguous
    CHECK(*a.first_seq > before.u64("seq"));
    REQUIRE(a.errors.size() == 2);
    CHECK(a.errors[0].item == 1u);
    CHECK(a.errors[0].code == "bad_request");
    CHECK(a.errors[0].message.find("board: invalid character 0x20") == 0);
    CHECK(a.errors[1].item == 3u);
    CHECK(a.errors[1].code == "bad_request");
    CHECK(a.errors[1].message == "score: expected int64, got str");
    CHECK_FALSE(a.errors_truncated);
  }
  {
    INFO("the malformed frame: after the batch, although nothing waited for the log");
    const auto& a = acks[1];
    CHECK(a.accepted == 0);
    CHECK(a.rejected == 1);
    CHECK_FALSE(a.first_seq);
    CHECK_FALSE(a.last_seq);
    REQUIRE(a.errors.size() == 1);
    CHECK_FALSE(a.errors[0].item);
    CHECK(a.errors[0].code == "bad_request");
    CHECK(a.errors[0].message == "player: missing");
  }
  {
    INFO("the submit");
    const auto& a = acks[2];
    CHECK(a.accepted == 1);
    CHECK(a.rejected == 0);
    CHECK(a.errors.empty());
    REQUIRE(a.first_seq);
    CHECK(a.first_seq == a.last_seq);
    REQUIRE(acks[0].last_seq);
    CHECK(*a.first_seq > *acks[0].last_seq);
  }
  {
    INFO("150 bad items");
    const auto& a = acks[3];
    CHECK(a.accepted == 0);
    CHECK(a.rejected == 150);
    REQUIRE(a.errors.size() == 100);
    CHECK(a.errors[99].item == 99u);
    CHECK(a.errors[99].message == "score: missing");
    CHECK(a.errors_truncated);
  }
  // What an ack reports is in the log and visible to an exact read at once.
  auto c_rank = c.call(rank("arena", "c", true));
  CHECK(c_rank.i64("score") == 35);
  CHECK(c_rank.u64("seq") >= *acks[2].last_seq);
  CHECK(c.call(rank("arena", "b", true)).i64("score") == 20);

  // The subscriber to every ack got gs-1's four and gs-2's one, and nothing
  // for the frame whose source was bad.
  auto every = next_acks(all, 5);
  REQUIRE(every.size() == 5);
  size_t gs1 = 0;
  for (const auto& a : every) {
    CHECK((a.source == "gs-1" || a.source == "gs-2"));
    CHECK(a.topic == "ack/" + a.source + "/");
    gs1 += a.source == "gs-1";
  }
  CHECK(gs1 == 4);
  CHECK(next_acks(all, 1, 300ms).empty());
  CHECK(next_acks(mine, 1, 100ms).empty());

  // stats: per source, and the bad source's frame in ingest_rejected only.
  auto st = stats_after(c, "gs-2", 1);
  CHECK(source_counts(st, "gs-1") == std::vector<uint64_t>{4, 4, 153});
  CHECK(source_counts(st, "gs-2") == std::vector<uint64_t>{1, 1, 0});
  CHECK(sources_of(st).via.map.size == 2);
  CHECK(st.u64("ingest_events") - before.u64("ingest_events") == 5);
  CHECK(st.u64("ingest_rejected") - before.u64("ingest_rejected") == 2 + 1 + 1 + 150);
  CHECK(c.call(rank("arena", "d", true)).error_code() == "not_found");
  // Durable before it was acknowledged.
  CHECK(at(st.at("log"), "durable_seq").as<uint64_t>() >= *acks[2].last_seq);

  // lbctl stats shows the sources, as a table and in JSON.
  const std::string lbctl = lbctl_path();
  auto text = run_to_exit({lbctl, "--endpoint=" + s.requests(), "stats"}, patience(10s));
  REQUIRE(text.status == 0);
  CHECK(text.out.find("ingest_sources:\n  SOURCE  FRAMES  ACCEPTED  REJECTED\n"
                      "  gs-1         4         4       153\n"
                      "  gs-2         1         1         0\n")
        != std::string::npos);
  auto json = run_to_exit({lbctl, "--endpoint=" + s.requests(), "stats", "--json"}, patience(10s));
  REQUIRE(json.status == 0);
  CHECK(json.out.find(R"("ingest_sources":{"gs-1":{"frames":4,"accepted":4,"rejected":153},)"
                      R"("gs-2":{"frames":1,"accepted":1,"rejected":0}})")
        != std::string::npos);
}

TEST_CASE("two sources, one a prefix of the other, each get only their own acks, in order") {
  server s{make_server_options(2, 20)};
  client c(s.ctx(), s.requests());
  const std::vector<std::string> sources = {"gs-1", "gs-10"};
  std::vector<std::unique_ptr<subscriber>> subs;
  for (const auto& src : sources) {
    subs.push_back(std::make_unique<subscriber>(s.ctx(), s.updates(),
                                                std::vector<std::string>{"ack/" + src + "/"}));
    subs.back()->sync(c);
  }
  // Frame k of a source: a batch of k % 4 + 1 good items and k % 3 bad ones,
  // every fifth a malformed frame instead: the acks must come in that order.
  const size_t frames = scaled(200);
  auto good_of = [](size_t k) { return k % 5 == 4 ? 0 : k % 4 + 1; };
  auto bad_of = [](size_t k) { return k % 5 == 4 ? 1 : k % 3; };
  {
    std::vector<std::unique_ptr<lb::transport::ingest_client>> pushes;
    for (size_t i = 0; i < sources.size(); ++i)
      pushes.push_back(std::make_unique<lb::transport::ingest_client>(s.ctx(), s.ingest()));
    for (size_t k = 0; k < frames; ++k)
      for (size_t i = 0; i < sources.size(); ++i) {
        if (k % 5 == 4) {
          pushes[i]->send(body{"batch"}.set("source", sources[i]).set("items", 7).pack());
          continue;
        }
        std::vector<body> items;
        for (size_t g = 0; g < good_of(k); ++g)
          items.push_back(submit_item("duo", sources[i] + "-p" + std::to_string(g), int64_t(k)));
        for (size_t b = 0; b < bad_of(k); ++b)
          items.push_back(body().set("board", "duo"));
        pushes[i]->send(sourced(batch(items), sources[i]).pack());
      }
  }
  for (size_t i = 0; i < sources.size(); ++i) {
    CAPTURE(sources[i]);
    auto acks = next_acks(*subs[i], frames);
    REQUIRE(acks.size() == frames);
    uint64_t last = 0;
    for (size_t k = 0; k < frames; ++k) {
      CAPTURE(k);
      const auto& a = acks[k];
      CHECK(a.source == sources[i]);
      CHECK(a.topic == "ack/" + sources[i] + "/");
      CHECK(a.accepted == good_of(k));
      CHECK(a.rejected == bad_of(k));
      CHECK(a.errors.size() == bad_of(k));
      if (a.accepted > 0) {
        REQUIRE(a.first_seq);
        REQUIRE(a.last_seq);
        CHECK(*a.first_seq > last);
        CHECK(*a.last_seq - *a.first_seq + 1 == a.accepted);
        last = *a.last_seq;
      }
    }
    CHECK(next_acks(*subs[i], 1, 100ms).empty());
  }
  uint64_t accepted = 0, rejected = 0;
  for (size_t k = 0; k < frames; ++k) {
    accepted += good_of(k);
    rejected += bad_of(k);
  }
  auto st = c.call(stats());
  for (const auto& src : sources)
    CHECK(source_counts(st, src) == std::vector<uint64_t>{frames, accepted, rejected});
}

TEST_CASE("stats name at most 1024 sources and sum the rest under *other*") {
  server s{make_server_options(2, 20)};
  client c(s.ctx(), s.requests());
  const size_t named = 1024, extra = 6;
  {
    lb::transport::ingest_client push(s.ctx(), s.ingest());
    for (size_t i = 0; i < named + extra; ++i)
      push.send(sourced(submit("many", "p", int64_t(i)), "src-" + std::to_string(i)).pack());
    // A frame of a named source after the table is full still counts as its own.
    push.send(sourced(submit("many", "p", 1), "src-0").pack());
  }
  std::optional<reply> st;
  wait_until(patience(10s), [&] {
    st = c.call(stats());
    auto other = source_counts(*st, "*other*");
    auto first = source_counts(*st, "src-0");
    return other && (*other)[0] >= extra && first && (*first)[0] >= 2;
  });
  CHECK(sources_of(*st).via.map.size == named + 1);
  CHECK(source_counts(*st, "*other*") == std::vector<uint64_t>{extra, extra, 0});
  CHECK(source_counts(*st, "src-0") == std::vector<uint64_t>{2, 2, 0});
  uint64_t frames = 0;
  const auto& m = sources_of(*st);
  for (uint32_t i = 0; i < m.via.map.size; ++i)
    frames += at(m.via.map.ptr[i].val, "frames").as<uint64_t>();
  CHECK(frames == named + extra + 1);
}

TEST_CASE("past --max-memory the ack says memory_full and the new entry is refused") {
  server s{make_server_options(2, 20, {"--max-memory=1"})};
  client c(s.ctx(), s.requests());
  subscriber sub(s.ctx(), s.updates(), {"ack/gs-m/"});
  // The sync's fresh boards are refused too: wait for the subscription as a
  // sync would, with a frame of our own.
  std::vector<ack> acks;
  wait_until(patience(10s), [&] {
    lb::transport::ingest_client push(s.ctx(), s.ingest());
    push.send(sourced(submit("full", "newcomer", 5), "gs-m").pack());
    acks = next_acks(sub, 1, 200ms);
    return !acks.empty();
  });
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].accepted == 1);
  CHECK(acks[0].memory_full);
  CHECK(c.call(rank("full", "newcomer", true)).error_code() == "not_found");
}
