#include "tools/lb-bench/run.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <unistd.h>

#include "tools/lb-bench/procstat.hpp"
#include "tools/lb-bench/targets.hpp"

namespace lb::bench {

const char* target_name(target_kind t) {
  switch (t) {
    case target_kind::requests:
      return "requests";
    case target_kind::ingest:
      return "ingest";
    case target_kind::redis:
      return "redis";
    case target_kind::echo:
      return "echo";
  }
  return "?";
}

std::optional<target_kind> parse_target(const std::string& name) {
  for (auto t : {target_kind::requests, target_kind::ingest, target_kind::redis, target_kind::echo})
    if (name == target_name(t))
      return t;
  return std::nullopt;
}

namespace {

using steady = std::chrono::steady_clock;
using seconds_d = std::chrono::duration<double>;

// Per client: counters the progress line reads while the thread runs.
struct alignas(64) client_state {
  std::atomic<uint64_t> done{0};
  histogram latency;
  uint64_t ops = 0, errors = 0, sent = 0;
  std::string failure; // set when the client stopped on an error
};

struct window {
  steady::time_point start, measure_from, measure_to;
};

std::unique_ptr<connection> open_connection(const run_options& o, zmq::context_t& ctx) {
  return o.target == target_kind::redis ? connect_redis(o.endpoint)
                                        : connect_requests(ctx, o.endpoint, o.keys);
}

// Every player of every board once (player p by client p % clients), each
// with a score from the client's own seed: what both preloads send.
template <class F>
void for_each_preload_op(const run_options& o, const workload& w, uint64_t client, F&& f) {
  const auto& wo = w.options();
  std::mt19937_64 rng(wo.seed + client);
  for (uint32_t b = 0; b < wo.boards; ++b)
    for (uint64_t p = client; p < wo.players; p += o.clients)
      f(op{op_kind::submit, b, static_cast<uint32_t>(p),
           static_cast<int64_t>(rng() % (wo.score_max + 1))});
}

// Submits every player once, so rank and around find their players; not
// measured.
void preload(const run_options& o, const workload& w, connection& c, uint64_t client) {
  std::vector<op> ops;
  for_each_preload_op(o, w, client, [&](const op& x) { ops.push_back(x); });
  std::size_t next = 0, in_flight = 0;
  std::vector<completion> got;
  while (next < ops.size() || in_flight > 0) {
    while (next < ops.size() && in_flight < o.depth)
      c.send(ops[next], next), ++next, ++in_flight;
    c.flush();
    if (!c.wait(10000))
      throw target_error(o.endpoint + " stopped answering during the preload");
    got.clear();
    c.drain(got);
    in_flight -= got.size();
  }
}

// The same players as preload(), fire-and-forget over the ingest socket in
// batches: the fastest way to fill a board with millions of players. The
// caller waits until the service has applied them.
void preload_ingest(const run_options& o, const workload& w, zmq::context_t& ctx, uint64_t client) {
  ingest_sender push(ctx, o.endpoint, o.keys);
  std::vector<op> batch;
  for_each_preload_op(o, w, client, [&](const op& x) {
    batch.push_back(x);
    if (batch.size() == o.batch)
      push.send_batch(batch), batch.clear();
  });
  if (!batch.empty())
    push.send_batch(batch);
}

// Closed loop: keep `depth` requests in flight, latency from the real send.
// Open loop: send on a fixed schedule, latency from the intended send time,
// so a stalled target is charged for every request it delayed (no
// coordinated omission); in flight is capped only to bound memory.
void request_client(const run_options& o, std::shared_ptr<const workload> w, zmq::context_t& ctx,
                    const window& win, uint64_t client, client_state& st) {
  auto conn = open_connection(o, ctx);
  op_stream ops(w, client);
  std::unordered_map<uint64_t, steady::time_point> started;
  std::vector<completion> got;
  uint64_t tag = 0;
  const bool open = o.rate > 0;
  const auto interval = open ? std::chrono::duration_cast<steady::duration>(
                          seconds_d(static_cast<double>(o.clients) / o.rate))
                             : steady::duration{};
  constexpr std::size_t open_cap = 100000;
  auto next_due = win.start + interval * client / o.clients; // spread the clients' phases
  auto record = [&](steady::time_point now) {
    for (const auto& c : got) {
      auto it = started.find(c.tag);
      if (it == started.end())
        throw target_error(o.endpoint + " answered a request that was not sent (tag "
                           + std::to_string(c.tag) + ")");
      if (it->second >= win.measure_from && now <= win.measure_to) {
        st.latency.record(
          std::chrono::duration_cast<std::chrono::nanoseconds>(now - it->second).count());
        ++st.ops;
        st.errors += c.ok ? 0 : 1;
      }
      started.erase(it);
    }
    st.done.fetch_add(got.size(), std::memory_order_relaxed);
  };
  while (true) {
    auto now = steady::now();
    const bool sending = now < win.measure_to;
    if (!sending && started.empty())
      break;
    if (sending) {
      if (open) {
        while (next_due <= now && started.size() < open_cap) {
          conn->send(ops.next(), tag);
          started.emplace(tag++, next_due);
          next_due += interval;
        }
      } else {
        while (started.size() < o.depth) {
          conn->send(ops.next(), tag);
          started.emplace(tag++, steady::now());
        }
      }
      conn->flush();
    } else if (now > win.measure_to + std::chrono::seconds(10)) {
      throw target_error(o.endpoint + " left " + std::to_string(started.size())
                         + " requests unanswered 10 s after the run");
    }
    int wait_ms = 100;
    // Open loop keeps its schedule at 1 ms granularity: a poll of 0 ms would
    // spin, and spinning client threads take the CPU from the target on a
    // small machine. A late send is charged to the latency (it counts from
    // the intended time), so this can only make results look worse.
    if (open && sending)
      wait_ms = static_cast<int>(std::clamp<int64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(next_due - now).count() + 1, 1, 100));
    if (conn->wait(wait_ms) || open) {
      got.clear();
      conn->drain(got);
      record(steady::now());
    }
  }
}

// Ingest: fire-and-forget batches as fast as ZeroMQ takes them (or at the
// open-loop rate); what counts is when the service has applied them.
void ingest_client(const run_options& o, std::shared_ptr<const workload> w, zmq::context_t& ctx,
                   const window& win, uint64_t client, client_state& st) {
  ingest_sender push(ctx, o.endpoint, o.keys);
  op_stream ops(w, client);
  std::vector<op> batch;
  auto next_due = win.start;
  const auto interval = o.rate > 0 ? std::chrono::duration_cast<steady::duration>(
                          seconds_d(static_cast<double>(o.clients * o.batch) / o.rate))
                                   : steady::duration{};
  while (steady::now() < win.measure_to) {
    if (o.rate > 0) {
      std::this_thread::sleep_until(next_due);
      next_due += interval;
    }
    batch.clear();
    for (uint64_t i = 0; i < o.batch; ++i) {
      auto x = ops.next();
      x.kind = op_kind::submit;
      batch.push_back(x);
    }
    push.send_batch(batch);
    st.sent += batch.size();
    st.done.fetch_add(batch.size(), std::memory_order_relaxed);
  }
}

// A progress line on stderr: redrawn in place on a terminal, else one line
// every two seconds so CI logs stay readable.
class progress_line {
public:
  explicit progress_line(bool on) : on_(on), tty_(isatty(2) != 0) {}
  void show(const std::string& text) {
    if (!on_)
      return;
    if (tty_)
      std::cerr << "\r\033[K" << text << std::flush, drawn_ = true;
    else if (++calls_ % 4 == 0)
      std::cerr << text << '\n';
  }
  void clear() {
    if (drawn_)
      std::cerr << "\r\033[K" << std::flush;
    drawn_ = false;
  }

private:
  bool on_, tty_, drawn_ = false;
  uint64_t calls_ = 0;
};

} // namespace

run_result run(const run_options& o, std::shared_ptr<const workload> w) {
  zmq::context_t ctx(1);
  const bool ingest = o.target == target_kind::ingest;
  uint64_t seq_before = 0;
  if (ingest)
    seq_before = service_seq(ctx, o.stats_endpoint, o.keys);
  progress_line bar(o.progress);
  // Waits until the service's seq shows `events` more than `seq_before`.
  auto wait_applied = [&](uint64_t events, const char* what) {
    const auto deadline = steady::now() + std::chrono::seconds(60);
    for (;;) {
      const auto asked = steady::now();
      const uint64_t seq = service_seq(ctx, o.stats_endpoint, o.keys);
      if (seq - seq_before >= events) {
        bar.clear();
        return seq;
      }
      if (steady::now() > deadline)
        throw target_error("the service applied only " + std::to_string(seq - seq_before) + " of "
                           + std::to_string(events) + " " + what
                           + " events within 60 s; "
                             "check its stats (ingest_rejected) and log");
      bar.show(std::string("lb-bench: ingest: waiting until the service has applied ")
               + std::to_string(events) + " " + what + " events ("
               + std::to_string(seq - seq_before) + " so far)");
      // stats hashes every entry for its digest (a second or more at 10M
      // entries): ask again only after as long as the last answer took, so
      // that asking does not become the service's main work.
      std::this_thread::sleep_for(
        std::max<steady::duration>(std::chrono::milliseconds(20), steady::now() - asked));
    }
  };
  std::optional<uint64_t> rss_before_preload;
  if (o.preload && o.pid > 0)
    if (auto s = sample_process(o.pid))
      rss_before_preload = s->rss_bytes;

  window win;
  // Preloading takes a while; the clock starts for every client together once
  // it is done, so the window is the same for all of them.
  std::vector<client_state> states(o.clients);
  std::vector<std::thread> threads;
  std::atomic<uint64_t> ready{0};
  std::atomic<bool> go{false};
  std::mutex failed_mu;
  for (uint64_t i = 0; i < o.clients; ++i)
    threads.emplace_back([&, i] {
      try {
        if (o.preload) {
          // Each client preloads on its own connection, then waits for the start.
          zmq::context_t pctx(1);
          if (ingest) {
            preload_ingest(o, *w, pctx, i);
          } else {
            auto conn = open_connection(o, pctx);
            preload(o, *w, *conn, i);
          }
        }
        ++ready;
        while (!go)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        run_options no_preload = o;
        no_preload.preload = false;
        if (ingest)
          ingest_client(no_preload, w, ctx, win, i, states[i]);
        else
          request_client(no_preload, w, ctx, win, i, states[i]);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(failed_mu);
        states[i].failure = e.what();
        ++ready;
      }
    });
  while (ready < o.clients) {
    bar.show(std::string("lb-bench: ") + target_name(o.target) + ": preloading "
             + std::to_string(w->options().players) + " players");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const uint64_t preloaded = o.preload ? w->options().boards * w->options().players : 0;
  if (ingest && o.preload)
    seq_before = wait_applied(preloaded, "preload");
  std::optional<int64_t> preload_rss_growth;
  if (rss_before_preload) {
    // Let a merge include the last entries: views share the shards' nodes,
    // but a merge still allocates what it needs for them.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    if (auto s = sample_process(o.pid))
      preload_rss_growth = static_cast<int64_t>(s->rss_bytes)
                           - static_cast<int64_t>(*rss_before_preload);
  }
  win.start = steady::now();
  win.measure_from = win.start
                     + (ingest ? steady::duration{}
                               : std::chrono::duration_cast<steady::duration>(o.warmup));
  win.measure_to = win.measure_from
                   + std::chrono::duration_cast<steady::duration>(seconds_d(o.seconds));
  go = true;

  std::optional<proc_sample> before, peak;
  steady::time_point before_t, after_t;
  auto sample = [&]() -> std::optional<proc_sample> {
    if (o.pid <= 0)
      return std::nullopt;
    auto s = sample_process(o.pid);
    if (s && (!peak || s->rss_bytes > peak->rss_bytes))
      peak = s;
    return s;
  };
  bool measuring = false;
  uint64_t last_done = 0;
  auto last_t = win.start;
  while (steady::now() < win.measure_to) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const auto now = steady::now();
    if (!measuring && now >= win.measure_from) {
      before = sample();
      before_t = now;
      measuring = true;
    } else {
      sample();
    }
    uint64_t done = 0;
    for (auto& s : states)
      done += s.done.load(std::memory_order_relaxed);
    const double dt = seconds_d(now - last_t).count();
    char line[200];
    std::snprintf(line, sizeof line, "lb-bench: %s %s %.1f/%.1f s  %.0f %s/s",
                  target_name(o.target), now < win.measure_from ? "warming up" : "measuring",
                  std::max(0.0, seconds_d(now - win.measure_from).count()), o.seconds,
                  dt > 0 ? (done - last_done) / dt : 0.0, ingest ? "events sent" : "replies");
    bar.show(line);
    last_done = done, last_t = now;
  }
  const auto after = sample();
  after_t = steady::now();
  for (auto& t : threads)
    t.join();
  bar.clear();
  for (auto& s : states)
    if (!s.failure.empty())
      throw target_error(s.failure);

  run_result r;
  r.target = target_name(o.target);
  r.endpoint = o.endpoint;
  r.open_loop = o.rate > 0;
  r.rate = o.rate;
  for (auto& s : states) {
    r.latency.merge(s.latency);
    r.ops += s.ops;
    r.errors += s.errors;
    r.sent += s.sent;
  }
  r.seconds = o.seconds;
  if (ingest) {
    // Applied = the service's seq has moved past every event we sent (each
    // batch item is one event with a seq, assigned once it is logged).
    wait_applied(r.sent, "measured");
    r.ops = r.sent;
    r.seconds = seconds_d(steady::now() - win.start).count();
  }
  r.throughput = r.seconds > 0 ? r.ops / r.seconds : 0;
  r.preloaded = preloaded;
  r.preload_rss_growth = preload_rss_growth;
  if (before && after) {
    const double sampled = seconds_d(after_t - before_t).count();
    r.cpu_cores = (after->cpu_seconds - before->cpu_seconds) / sampled;
    r.rss_bytes = peak->rss_bytes;
    if (r.throughput > 0)
      // Counts are summed over the threads alive at each sample: a thread
      // that ended between them takes its count along, so clamp at 0.
      r.switches_per_op = std::max(0.0, static_cast<double>(after->context_switches)
                                          - static_cast<double>(before->context_switches))
                          / (r.throughput * sampled);
  } else if (o.pid > 0) {
    throw target_error("cannot read /proc/" + std::to_string(o.pid)
                       + "/stat: is --pid the target's process and is it still running?");
  }
  return r;
}

} // namespace lb::bench
