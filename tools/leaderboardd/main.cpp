// leaderboardd: the leaderboard service. Wires the transport's sockets to the
// actors and runs until SIGINT or SIGTERM.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <pthread.h>

#include <caf/all.hpp>

#include "actors/gateway.hpp"
#include "actors/log_actor.hpp"
#include "actors/service.hpp"
#include "actors/storage/data_lock.hpp"
#include "actors/update_sink.hpp"
#include "schemas/types.hpp"
#include "tools/common/flags.hpp"
#include "transport/publisher.hpp"
#include "transport/server.hpp"

namespace {

const char* usage = R"(usage: leaderboardd [options]

Real-time leaderboard service: ZeroMQ + msgpack requests (PROTOCOL.md).

options (--name=value or --name value):
  --requests=EP            ROUTER endpoint for requests   (default tcp://127.0.0.1:7400)
  --ingest=EP              PULL endpoint for score events (default tcp://127.0.0.1:7401)
  --updates=EP             PUB endpoint for update streams (default tcp://127.0.0.1:7402)
  --updates-hwm=N          messages queued per subscriber before ZeroMQ drops
                           its new ones (default 10000)
  --top-k=N                entries in a top/ update, 1..1000 (default 10)
  --data=DIR               data folder: event log and snapshots, created if
                           missing (default ./data)
  --fsync=POLICY           when an event counts as durable (default group):
                             group   a reply waits until its event is on disk;
                                     one fdatasync covers every event that came
                                     in meanwhile (at most --group-commit-us)
                             always  a reply waits until its event is on disk;
                                     every batch of events is synced on its own
                             none    events are written but never synced: the OS
                                     flushes them when it likes, so a crash of
                                     the machine (not of the service) can lose
                                     acknowledged events
  --group-commit-us=N      longest wait to gather events into one fdatasync
                           (default 2000)
  --segment-bytes=N        start a new log segment past this size (default 67108864)
  --snapshot-every-events=N  snapshot after this many events (default 1000000; 0: off)
  --snapshot-every-s=N     snapshot after this many seconds with events (default 300; 0: off)
  --retain                 keep log segments that a snapshot covers (default: delete)
  --repair                 start even if the log is damaged in the middle: keep
                           every good record, move damaged files aside
  --shards=N               shard actors owning the players (default: number of cores)
  --merge-interval-ms=N    how often the global rank view is rebuilt (default 50)
  --max-frame=BYTES        larger request frames drop the connection (default 1048576)
  --threads=N              CAF scheduler threads (default: number of cores)
  --scheduler=POLICY       CAF scheduler: sharing or stealing (default sharing)
  --help                   this text

Stops cleanly on SIGINT or SIGTERM.
)";

struct options {
  std::string requests = "tcp://127.0.0.1:7400";
  std::string ingest = "tcp://127.0.0.1:7401";
  std::string updates = "tcp://127.0.0.1:7402";
  uint64_t updates_hwm = 10000;
  uint64_t top_k = 10;
  std::string data = "./data";
  uint64_t shards = 0;
  uint64_t merge_interval_ms = 50;
  uint64_t max_frame = 1 << 20;
  uint64_t threads = 0;
  std::string scheduler = "sharing";
  std::string fsync = "group";
  uint64_t group_commit_us = 2000;
  uint64_t segment_bytes = 64 << 20;
  uint64_t snapshot_every_events = 1000000;
  uint64_t snapshot_every_s = 300;
  bool retain = false;
  bool repair = false;
};

std::optional<lb::actors::fsync_policy> parse_fsync(const std::string& s) {
  using lb::actors::fsync_policy;
  if (s == "group")
    return fsync_policy::group;
  if (s == "always")
    return fsync_policy::always;
  if (s == "none")
    return fsync_policy::none;
  return std::nullopt;
}

class socket_outbox : public lb::actors::outbox {
public:
  socket_outbox(zmq::context_t& ctx, const std::string& ep) : sock_(ctx, ep) {}
  void send(std::string_view route, std::string_view body) override { sock_.send(route, body); }

private:
  lb::transport::reply_socket sock_;
};

// The PUB socket, handed to the publisher actor, its only user from then on.
class socket_update_sink : public lb::actors::update_sink {
public:
  explicit socket_update_sink(std::unique_ptr<lb::transport::update_publisher> pub)
    : pub_(std::move(pub)) {}
  bool publish(std::string_view topic, std::string_view body) override {
    return pub_->send(topic, body);
  }
  std::optional<std::vector<std::string>> subscriptions() override { return pub_->subscriptions(); }

private:
  std::unique_ptr<lb::transport::update_publisher> pub_;
};

} // namespace

int main(int argc, char** argv) {
  options o;
  lb::tools::flag_parser flags{"leaderboardd", usage};
  flags.add("requests", o.requests);
  flags.add("ingest", o.ingest);
  flags.add("updates", o.updates);
  flags.add("updates-hwm", o.updates_hwm, 1, 10'000'000);
  flags.add("top-k", o.top_k, 1, lb::schemas::max_top_limit);
  flags.add("data", o.data);
  flags.add("shards", o.shards, 1, 1024);
  flags.add("merge-interval-ms", o.merge_interval_ms, 1, 60000);
  flags.add("max-frame", o.max_frame, 1024, 64 << 20);
  flags.add("threads", o.threads, 1, 256);
  flags.add("scheduler", o.scheduler);
  flags.add("fsync", o.fsync);
  flags.add("group-commit-us", o.group_commit_us, 1, 1000000);
  flags.add("segment-bytes", o.segment_bytes, 4096, uint64_t{1} << 40);
  flags.add("snapshot-every-events", o.snapshot_every_events, 0, uint64_t{1} << 62);
  flags.add("snapshot-every-s", o.snapshot_every_s, 0, 86400 * 365);
  flags.add_switch("retain", o.retain);
  flags.add_switch("repair", o.repair);
  if (auto rc = flags.parse(argc, argv))
    return *rc;
  if (!flags.positional().empty()) {
    std::cerr << "leaderboardd: unexpected argument '" << flags.positional().front()
              << "': options are --name=value\n(see leaderboardd --help)\n";
    return 2;
  }
  if (o.scheduler != "sharing" && o.scheduler != "stealing") {
    std::cerr << "leaderboardd: --scheduler expects sharing or stealing, got '" << o.scheduler
              << "'\n(see leaderboardd --help)\n";
    return 2;
  }
  auto fsync = parse_fsync(o.fsync);
  if (!fsync) {
    std::cerr << "leaderboardd: --fsync expects group, always or none, got '" << o.fsync
              << "'\n(see leaderboardd --help)\n";
    return 2;
  }
  auto cores = std::max(1u, std::thread::hardware_concurrency());
  if (o.shards == 0)
    o.shards = cores;
  if (o.threads == 0)
    o.threads = cores;

  std::error_code ec;
  std::filesystem::create_directories(o.data, ec);
  if (ec) {
    std::cerr << "leaderboardd: cannot create the data folder " << o.data << ": " << ec.message()
              << "\n(pick another with --data=DIR)\n";
    return 1;
  }

  // Past a file-size limit (ulimit -f) write() must fail with EFBIG, which
  // refuses the events, rather than kill the service.
  std::signal(SIGXFSZ, SIG_IGN);

  std::unique_ptr<lb::storage::data_lock> lock;
  lb::storage::recovered_state recovered;
  try {
    lock = std::make_unique<lb::storage::data_lock>(o.data);
    auto started = std::chrono::steady_clock::now();
    lb::storage::recovery_options ro;
    ro.dir = o.data;
    ro.shards = static_cast<uint32_t>(o.shards);
    ro.repair = o.repair;
    ro.progress = [](const std::string& line) {
      std::cout << "leaderboardd: recovery: " << line << std::endl;
    };
    recovered = lb::storage::recover(ro);
    for (auto& note : recovered.notes)
      std::cout << "leaderboardd: recovery: " << note << std::endl;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now()
                                                                    - started)
                .count();
    std::cout << "leaderboardd: recovered up to seq " << recovered.last_seq << " (snapshot at "
              << recovered.snapshot_seq << " + " << recovered.events << " events from the log) in "
              << ms << " ms" << std::endl;
  } catch (const lb::storage::storage_error& e) {
    std::cerr << "leaderboardd: cannot start on " << o.data << ": " << e.what() << std::endl;
    return 1;
  }

  // Signals go to a thread of ours via sigwait; block them before any other
  // thread (CAF's, ZeroMQ's) exists so that they inherit the mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  zmq::context_t ctx;
  std::unique_ptr<lb::transport::server> srv;
  std::unique_ptr<lb::transport::update_publisher> updates;
  try {
    lb::transport::server_options so;
    so.requests = o.requests;
    so.ingest = o.ingest;
    so.max_frame = o.max_frame;
    srv = std::make_unique<lb::transport::server>(ctx, so);
    updates = std::make_unique<lb::transport::update_publisher>(ctx, o.updates,
                                                                static_cast<int>(o.updates_hwm));
  } catch (const std::exception& e) {
    std::cerr << "leaderboardd: " << e.what()
              << "\n(is another leaderboardd running? pick free endpoints with "
                 "--requests=, --ingest=, --updates=)\n";
    return 1;
  }

  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", static_cast<int64_t>(o.threads));
  // Measured on 2 cores (README): `sharing` wakes an idle worker at once and
  // gave about 30% more single-request round trips; batched loads were equal.
  cfg.set("scheduler.policy",
          o.scheduler == "sharing" ? caf::atom("sharing") : caf::atom("stealing"));
  caf::actor_system sys{cfg};
  lb::actors::service_options so;
  so.shards = static_cast<uint32_t>(o.shards);
  so.readers = static_cast<uint32_t>(o.shards);
  so.merge_interval = std::chrono::milliseconds(o.merge_interval_ms);
  so.top_k = static_cast<uint32_t>(o.top_k);
  so.log.dir = o.data;
  so.log.policy = *fsync;
  so.log.segment_bytes = o.segment_bytes;
  so.log.group_window = std::chrono::microseconds(o.group_commit_us);
  so.log.retain = o.retain;
  so.snapshot.every_events = o.snapshot_every_events;
  so.snapshot.every = std::chrono::seconds(o.snapshot_every_s);
  auto reply_ep = srv->reply_endpoint();
  auto updates_ep = updates->endpoint();
  lb::actors::service svc;
  try {
    svc = lb::actors::start_service(
      sys, so, [&ctx, reply_ep] { return std::make_unique<socket_outbox>(ctx, reply_ep); },
      std::move(recovered),
      // Called once, by the publisher actor, which then owns the socket.
      [&updates] { return std::make_unique<socket_update_sink>(std::move(updates)); });
  } catch (const lb::storage::storage_error& e) {
    std::cerr << "leaderboardd: cannot open the event log: " << e.what() << std::endl;
    return 1;
  }
  // The first merged view holds every recovered entry: serve only once it is in.
  svc.settled_view(sys, std::chrono::seconds(60));

  lb::actors::gateway gw{svc.ingress, svc.shards, svc.readers};
  lb::transport::server_handlers h;
  h.on_request = [&gw](auto route, auto body, auto& reply_now) {
    gw.on_request(route, body, reply_now);
  };
  h.on_ingest = [&gw](auto body) { gw.on_ingest(body); };
  h.on_control = [&gw](auto body) { gw.on_control(body); };
  h.on_reply_sent = [&gw] { gw.on_reply_sent(); };
  h.on_drained = [&gw] { gw.flush(); };
  h.ingest_paused = [&gw] { return gw.ingest_paused(); };

  // Read before the I/O thread owns the sockets: they are not thread-safe.
  auto requests_ep = srv->requests_endpoint();
  auto ingest_ep = srv->ingest_endpoint();
  std::atomic<bool> stop{false};
  std::thread io{[&] { srv->run(h, stop); }};
  std::cout << "leaderboardd: requests " << requests_ep << ", ingest " << ingest_ep << ", updates "
            << updates_ep << ", " << o.shards << " shards, merge every " << o.merge_interval_ms
            << " ms, data " << o.data << ", fsync " << o.fsync << std::endl;

  int sig = 0;
  sigwait(&sigs, &sig);
  std::cout << "leaderboardd: " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ", stopping"
            << std::endl;
  stop.store(true, std::memory_order_release);
  io.join();         // closes the service's sockets
  svc.snapshot(sys); // so that the next start replays nothing
  svc.stop(sys);     // closes every actor's reply socket and the PUB socket
  return 0;          // the context closes last, once every socket is gone
}
