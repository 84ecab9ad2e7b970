// leaderboardd: the leaderboard service. Wires the transport's sockets to the
// actors and runs until SIGINT or SIGTERM.
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/front/gateway.hpp"

#include "actors/logger.hpp"

#include "actors/service.hpp"
#include "actors/storage/data_dir.hpp"
#include "tools/leaderboardd/allocator.hpp"
#include "tools/leaderboardd/ready_file.hpp"
#include "tools/leaderboardd/settings.hpp"
#include "tools/leaderboardd/socket_adapters.hpp"
#include "transport/access.hpp"
#include "transport/curve_keys.hpp"
#include "transport/publisher.hpp"
#include "transport/server.hpp"

namespace {

using namespace lb::daemon;
namespace logger = lb::actors::logger;

// A phase that cannot go on: main prints the reason and exits 1.
struct cannot_start : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void create_data_folder(const settings& s) {
  std::error_code ec;
  std::filesystem::create_directories(s.daemon.data, ec);
  if (ec)
    throw cannot_start("cannot create the data folder " + s.daemon.data + ": " + ec.message()
                       + "\n(pick another with --data=DIR)");
}

// The data folder, held for as long as the service runs, and its state.
struct recovered_data {
  std::unique_ptr<lb::storage::data_lock> lock;
  lb::storage::recovered_state state;
};

recovered_data recover(const settings& s) {
  recovered_data out;
  try {
    out.lock = std::make_unique<lb::storage::data_lock>(s.daemon.data);
    auto started = std::chrono::steady_clock::now();
    lb::storage::recovery_options ro;
    ro.dir = s.daemon.data;
    ro.shards = s.service.shards;
    ro.repair = s.daemon.repair;
    ro.progress = [](const std::string& line) { logger::note("recovery: " + line); };
    lb::storage::throw_if_error(lb::storage::recover(ro, out.state));
    for (auto& note : out.state.notes)
      logger::note("recovery: " + note);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now()
                                                                    - started)
                .count();
    logger::note("recovered up to seq " + std::to_string(out.state.last_seq) + " (snapshot at "
                 + std::to_string(out.state.snapshot_seq) + " + " + std::to_string(out.state.events)
                 + " events from the log) in " + std::to_string(ms) + " ms");
  } catch (const lb::storage::storage_error& e) {
    throw cannot_start("cannot start on " + s.daemon.data + ": " + e.what());
  }
  return out;
}

// File descriptors the service needs besides its clients' connections: the
// event log's segments, snapshots, ZeroMQ's and CAF's own.
constexpr rlim_t reserved_fds = 128;

// Takes every file descriptor the system allows, and keeps `reserved_fds`
// of them out of the clients' reach.
void fit_clients_to_fd_limit(settings& s) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    (void) setrlimit(RLIMIT_NOFILE, &lim);
    (void) getrlimit(RLIMIT_NOFILE, &lim);
  }
  auto room = lim.rlim_cur > 2 * reserved_fds ? lim.rlim_cur - reserved_fds : lim.rlim_cur / 2;
  if (s.access.max_clients > room) {
    logger::note("--max-clients lowered from " + std::to_string(s.access.max_clients) + " to "
                 + std::to_string(room) + ": the open-file limit is " + std::to_string(lim.rlim_cur)
                 + " (raise it with ulimit -n)");
    s.access.max_clients = static_cast<uint32_t>(room);
  }
}

// Signals go to a thread of ours via sigwait; they are blocked before any
// other thread (CAF's, ZeroMQ's) exists so that every thread inherits the mask.
sigset_t block_signals() {
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  return sigs;
}

// While it lives, the signals end the process at once, as if no service ran:
// a recovery can take minutes, and nothing is served yet that a clean stop
// would have to finish. Only this thread takes them; ZeroMQ's keep them
// blocked. A signal that came before is pending and ends the process here.
class signals_end_process {
public:
  explicit signals_end_process(const sigset_t& sigs) : sigs_(sigs) {
    pthread_sigmask(SIG_UNBLOCK, &sigs_, nullptr);
  }
  ~signals_end_process() { pthread_sigmask(SIG_BLOCK, &sigs_, nullptr); }
  signals_end_process(const signals_end_process&) = delete;
  signals_end_process& operator=(const signals_end_process&) = delete;

private:
  sigset_t sigs_;
};

struct sockets {
  std::unique_ptr<lb::transport::server> server;
  std::unique_ptr<lb::transport::update_publisher> updates; // until the publisher actor has it
  std::string updates_endpoint;
};

std::unique_ptr<lb::transport::gatekeeper> open_gate(zmq::context_t& ctx, const settings& s,
                                                     lb::transport::client_counters& counters) {
  auto opts = s.access;
  opts.note = [](const std::string& line) { logger::note(line); };
  try {
    auto gate = std::make_unique<lb::transport::gatekeeper>(ctx, std::move(opts), counters);
    if (gate->curve())
      logger::note("CURVE on: clients need --curve-server-key=" + gate->server_public());
    return gate;
  } catch (const lb::transport::key_error& e) {
    throw cannot_start(std::string(e.what()) + "\n(make keys with `lbctl keygen NAME`)");
  }
}

sockets open_sockets(zmq::context_t& ctx, const settings& s, lb::transport::gatekeeper& gate,
                     lb::transport::client_counters& counters) {
  sockets out;
  try {
    out.server = std::make_unique<lb::transport::server>(ctx, s.server, gate, counters);
    out.updates = std::make_unique<lb::transport::update_publisher>(ctx, s.daemon.updates,
                                                                    s.daemon.updates_hwm, gate);
  } catch (const std::exception& e) {
    throw cannot_start(std::string(e.what())
                       + "\n(is another leaderboardd running? pick free endpoints with "
                         "--requests=, --ingest=, --updates=)");
  }
  out.updates_endpoint = out.updates->endpoint();
  return out;
}

void configure_scheduler(caf::actor_system_config& cfg, const settings& s) {
  cfg.set("scheduler.max-threads", static_cast<int64_t>(s.daemon.threads));
  // Measured on 2 cores (docs/PERFORMANCE.md): `sharing` wakes an idle worker at once and
  // gave about 30% more single-request round trips; batched loads were equal.
  cfg.set("scheduler.policy", s.daemon.scheduler == scheduler_policy::sharing
                                ? caf::atom("sharing")
                                : caf::atom("stealing"));
}

lb::actors::service start_actors(caf::actor_system& sys, zmq::context_t& ctx, const settings& s,
                                 lb::storage::recovered_state recovered, sockets& socks) {
  auto reply_ep = socks.server->reply_endpoint();
  lb::actors::service svc;
  try {
    svc = lb::actors::start_service(
      sys, s.service, [&ctx, reply_ep] { return std::make_unique<socket_outbox>(ctx, reply_ep); },
      std::move(recovered),
      // Called once, by the publisher actor, which then owns the socket.
      [&socks] { return std::make_unique<socket_update_sink>(std::move(socks.updates)); });
  } catch (const lb::storage::storage_error& e) {
    throw cannot_start(std::string("cannot open the event log: ") + e.what());
  }
  // The first merged view holds every recovered entry: serve only once it is in.
  svc.settled_view(sys, std::chrono::seconds(60));
  return svc;
}

// Runs the I/O thread, which hands the sockets' frames to the gateway, until
// SIGINT or SIGTERM; returns once that thread is gone and with it the
// service's sockets.
lb::actors::client_role to_actors(lb::transport::role r) {
  switch (r) {
    case lb::transport::role::admin:
      return lb::actors::client_role::admin;
    case lb::transport::role::writer:
      return lb::actors::client_role::writer;
    case lb::transport::role::reader:
      return lb::actors::client_role::reader;
    case lb::transport::role::none:
      break;
  }
  return lb::actors::client_role::none;
}

lb::schemas::client_stats read_counters(const lb::transport::client_counters& c) {
  auto get = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  lb::schemas::client_stats out;
  out.connections = get(c.open);
  out.refused_connections = get(c.refused_clients);
  out.refused_keys = get(c.refused_keys);
  out.reply_backlog_bytes = get(c.reply_backlog);
  out.replies_dropped = get(c.replies_dropped);
  out.replies_orphaned = get(c.replies_orphaned);
  out.bad_envelopes = get(c.bad_envelopes);
  return out;
}

// Writes the --ready-file, if there is one; false (the reason logged) if it
// cannot be written.
bool announce_ready(const settings& s, const bound_endpoints& eps) {
  if (s.daemon.ready_file.empty())
    return true;
  try {
    write_atomically(s.daemon.ready_file, ready_text(static_cast<long>(::getpid()), eps));
    return true;
  } catch (const std::exception& e) {
    logger::problem(std::string(e.what()) + "\n(pick a writable path with --ready-file=PATH)");
    return false;
  }
}

// The ready file says the service answers: it goes as soon as that ends.
void withdraw_ready(const settings& s) {
  if (s.daemon.ready_file.empty())
    return;
  std::error_code ec;
  std::filesystem::remove(s.daemon.ready_file, ec);
  if (ec)
    logger::problem("cannot remove the ready file " + s.daemon.ready_file + ": " + ec.message());
}

// Returns the exit code: 0 after SIGINT or SIGTERM, 1 if the ready file
// could not be written (the service then stops at once, cleanly).
int serve(lb::actors::service& svc, sockets& socks, lb::transport::gatekeeper& gate,
          const lb::transport::client_counters& counters, const sigset_t& signals,
          const settings& s) {
  auto& srv = *socks.server;
  lb::actors::gateway gw{svc, s.service, [&srv](auto route, auto body) { srv.send(route, body); },
                         s.limits, [&counters] { return read_counters(counters); }};
  lb::transport::server_handlers h;
  h.on_request = [&gw](auto route, auto body, const lb::transport::request_meta& meta) {
    gw.on_request(route, body,
                  {to_actors(meta.from.r), meta.from.key, meta.from.address, meta.backlog});
  };
  h.on_ingest = [&gw](auto body) { gw.on_ingest(body); };
  h.on_internal = [&gw](auto body) { gw.on_internal(body); };
  h.on_drained = [&gw] { gw.flush(); };
  h.ingest_paused = [&gw] { return gw.ingest_paused(); };
  h.poll_timeout = [&gw] { return gw.until_next_cut(); };

  // Read before the I/O thread owns the sockets: they are not thread-safe.
  const bound_endpoints eps{srv.requests_endpoint(), srv.ingest_endpoint(), socks.updates_endpoint};
  std::atomic<bool> stop{false};
  std::thread io{[&] { srv.run(h, stop); }};
  logger::note("requests " + eps.requests + ", ingest " + eps.ingest + ", updates " + eps.updates
               + ", " + std::to_string(s.service.shards) + " shards, merge every "
               + std::to_string(s.service.merge_interval.count()) + " ms, data " + s.daemon.data
               + ", fsync " + to_string(s.service.log.policy));

  int rc = 0;
  if (announce_ready(s, eps)) {
    int sig = 0;
    while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
      logger::note("SIGHUP: re-reading the key files");
      gate.reload();
    }
    logger::note(sig == SIGINT ? "SIGINT, stopping" : "SIGTERM, stopping");
    withdraw_ready(s);
  } else {
    rc = 1;
  }
  stop.store(true, std::memory_order_release);
  io.join(); // closes the service's sockets
  // The service goes on from where the gateway left the stream.
  svc.last_seq = gw.last_seq();
  svc.next_cut = gw.next_cut();
  return rc;
}

void stop(caf::actor_system& sys, lb::actors::service& svc) {
  svc.snapshot(sys); // so that the next start replays nothing
  svc.stop(sys);     // closes every actor's reply socket and the PUB socket
}

} // namespace

int main(int argc, char** argv) {
  settings s;
  if (auto rc = parse_settings(argc, argv, s))
    return *rc;
  tune_allocator();
  try {
    // Past a file-size limit (ulimit -f) write() must fail with EFBIG, which
    // refuses the events, rather than kill the service.
    std::signal(SIGXFSZ, SIG_IGN);
    fit_clients_to_fd_limit(s);
    const auto signals = block_signals();
    zmq::context_t ctx; // declared before the sockets: it closes last, once they are gone
    lb::transport::client_counters counters;
    auto gate = open_gate(ctx, s, counters);
    // Bound before the data folder is touched: a taken port (the commonest
    // failure: another leaderboardd) leaves no folder and no LOCK behind.
    // Clients that connect meanwhile wait in ZeroMQ's queues for recovery.
    auto socks = open_sockets(ctx, s, *gate, counters);
    gate->start(); // every socket is guarded now
    recovered_data data;
    {
      signals_end_process interruptible{signals};
      create_data_folder(s);
      data = recover(s);
    }
    caf::actor_system_config cfg;
    configure_scheduler(cfg, s);
    caf::actor_system sys{cfg};
    auto svc = start_actors(sys, ctx, s, std::move(data.state), socks);
    const int rc = serve(svc, socks, *gate, counters, signals, s);
    stop(sys, svc);
    return rc;
  } catch (const cannot_start& e) {
    logger::problem(e.what());
    return 1;
  }
}
