#include "tools/leaderboardd/settings.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <thread>

#include "schemas/types.hpp"
#include "tools/common/flags.hpp"

namespace lb::daemon {

namespace {

const char* intro = R"(usage: leaderboardd [options]

Real-time leaderboard service: ZeroMQ + msgpack requests (PROTOCOL.md).

)";

const char* outro = R"(
Stops cleanly on SIGINT or SIGTERM. Logs to stderr.
)";

std::vector<tools::flag> flag_table(settings& s) {
  using namespace tools;
  auto& d = s.daemon;
  auto& log = s.service.log;
  return {
    text_flag("requests", "EP", "ROUTER endpoint for requests", s.server.requests),
    text_flag("ingest", "EP", "PULL endpoint for score events", s.server.ingest),
    text_flag("updates", "EP", "PUB endpoint for update streams", d.updates),
    whole_flag("updates-hwm", "N",
               "messages queued per subscriber before ZeroMQ drops its new ones", d.updates_hwm, 1,
               10'000'000),
    whole_flag("top-k", "N", "entries in a top/ update, 1..1000", s.service.top_k, 1,
               schemas::max_top_limit),
    text_flag("ready-file", "PATH",
              "once the service answers, write PATH (JSON: pid and the bound endpoints); "
              "removed at a clean stop",
              d.ready_file),
    text_flag("data", "DIR", "data folder: event log and snapshots, created if missing", d.data),
    choice_flag("fsync", "POLICY", "when an event counts as durable", log.policy,
                std::vector{actors::fsync_policy::group, actors::fsync_policy::always,
                            actors::fsync_policy::none})
      .with_details(R"(group   a reply waits until its event is on disk;
        one fdatasync covers every event that
        came in meanwhile (--group-commit-us)
always  a reply waits until its event is on disk;
        every batch of events is synced alone
none    events are written but never synced:
        the OS flushes them when it likes, so a
        crash of the machine (not the service)
        can lose acknowledged events)"),
    whole_flag("group-commit-us", "N", "longest wait to gather events into one fdatasync",
               log.group_window, 1, 1000000),
    whole_flag("segment-bytes", "N", "start a new log segment past this size", log.segment_bytes,
               4096, uint64_t{1} << 40),
    whole_flag("snapshot-every-events", "N", "snapshot after this many events; 0: off",
               s.service.snapshot.every_events, 0, uint64_t{1} << 62),
    whole_flag("snapshot-every-s", "N", "snapshot after this many seconds with events; 0: off",
               s.service.snapshot.every, 0, 86400 * 365),
    switch_flag("retain", "keep log segments that a snapshot covers (without it: delete them)",
                log.retain),
    switch_flag("repair",
                "start even if the log is damaged in the middle: keep every good record, move "
                "damaged files aside",
                d.repair),
    whole_flag("shards", "N", "shard actors owning the players", s.service.shards, 1, 1024)
      .default_is("one per core"),
    whole_flag("merge-interval-ms", "N", "how often the global rank view is rebuilt",
               s.service.merge_interval, 1, 60000),
    whole_flag("max-frame", "BYTES", "larger request frames drop the connection",
               s.server.max_frame, 1024, 64 << 20),
    whole_flag("max-clients", "N", "open connections on all sockets; past it new ones are closed",
               s.access.max_clients, 1, 1'000'000),
    whole_flag("max-inflight", "N", "requests in flight in all; past it: overloaded",
               s.limits.max_inflight, 1, 10'000'000),
    whole_flag("max-inflight-per-client", "N",
               "requests in flight per connection (less when many connections share "
               "--max-inflight)",
               s.limits.max_inflight_per_client, 1, 10'000'000),
    whole_flag("max-unread-bytes", "BYTES",
               "reply bytes a connection leaves unread before its requests get overloaded",
               s.limits.max_unread, 4096, uint64_t{1} << 34),
    whole_flag("max-memory", "BYTES",
               "resident memory past which new entries and boards get overloaded (existing ones "
               "can still be updated); 0: no limit",
               s.limits.max_memory, 0, uint64_t{1} << 50)
      .default_is("80% of RAM"),
    whole_flag("threads", "N", "CAF scheduler threads", d.threads, 1, 256)
      .default_is("one per core"),
    choice_flag("scheduler", "POLICY", "CAF scheduler: sharing or stealing", d.scheduler,
                std::vector{scheduler_policy::sharing, scheduler_policy::stealing}),
    help_flag(),
  };
}

std::vector<tools::flag> access_table(settings& s) {
  using namespace tools;
  auto& a = s.access;
  return {
    text_flag("curve-secret", "FILE",
              "the server's CURVE secret key (lbctl keygen): clients must have a listed key",
              a.curve_secret),
    text_flag("readers", "FILE|any", "public keys that may read and subscribe; any: every key",
              a.readers),
    text_flag("writers", "FILE", "public keys that may also submit, batch and ingest", a.writers),
    text_flag("admins", "FILE", "public keys that may also remove, reset and configure", a.admins),
    switch_flag("insecure", "serve a non-loopback address without --curve-secret",
                s.daemon.insecure),
  };
}

// tcp://127.0.0.1:7400, tcp://localhost:*, tcp://[::1]:7400, tcp://lo:7400,
// and every ipc:// or inproc:// endpoint reach this machine only.
bool loopback_only(const std::string& ep) {
  auto scheme = ep.find("://");
  if (scheme == std::string::npos || ep.compare(0, scheme, "tcp") != 0)
    return true;
  auto host = ep.substr(scheme + 3);
  host = host.substr(0, host.rfind(':'));
  if (auto semi = host.rfind(';'); semi != std::string::npos)
    host = host.substr(semi + 1); // "source;destination": bind takes the last
  return host.rfind("127.", 0) == 0 || host == "localhost" || host == "[::1]" || host == "::1"
         || host == "lo";
}

// Redis's protected mode: reachable from other machines only with keys.
std::optional<int> check_protected_mode(const settings& s) {
  if (!s.access.curve_secret.empty() || s.daemon.insecure)
    return std::nullopt;
  for (const auto* ep : {&s.server.requests, &s.server.ingest, &s.daemon.updates})
    if (!loopback_only(*ep)) {
      std::cerr << "leaderboardd: " << *ep
                << " is reachable from other machines, and without keys anyone there could "
                   "reset every board.\n"
                   "Give the service a key: `lbctl keygen server` then "
                   "--curve-secret=server.key with --readers/--writers/--admins key lists "
                   "(README, \"Keys and roles\"),\n"
                   "or bind to 127.0.0.1, or pass --insecure if the network is trusted.\n";
      return 2;
    }
  return std::nullopt;
}

} // namespace

const char* to_string(scheduler_policy p) {
  return p == scheduler_policy::sharing ? "sharing" : "stealing";
}

uint32_t cores() {
  return std::max(1u, std::thread::hardware_concurrency());
}

uint64_t default_max_memory() {
  auto pages = sysconf(_SC_PHYS_PAGES);
  auto page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0)
    return 0;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) / 5 * 4;
}

uint64_t resident_bytes() {
  // statm: size, resident, ... in pages.
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

std::optional<int> parse_settings(int argc, char** argv, settings& s) {
  tools::flag_parser flags{"leaderboardd",
                           intro,
                           {{"options (--name=value or --name value):", flag_table(s)},
                            {"access (README, \"Keys and roles\"):", access_table(s)}},
                           outro};
  if (auto rc = flags.parse(argc, argv))
    return rc;
  if (!flags.positional().empty()) {
    std::cerr << "leaderboardd: unexpected argument '" << flags.positional().front()
              << "': options are --name=value\n(see leaderboardd --help)\n";
    return 2;
  }
  if (!s.access.curve_secret.empty() && s.access.readers.empty() && s.access.writers.empty()
      && s.access.admins.empty()) {
    std::cerr << "leaderboardd: --curve-secret without --readers, --writers or --admins admits "
                 "no client\n(list client public keys in a file, one a line; see "
                 "leaderboardd --help)\n";
    return 2;
  }
  if (s.access.curve_secret.empty()
      && !(s.access.readers.empty() && s.access.writers.empty() && s.access.admins.empty())) {
    std::cerr << "leaderboardd: key lists need --curve-secret=FILE, the server's own key\n";
    return 2;
  }
  if (auto rc = check_protected_mode(s))
    return rc;
  s.service.readers = s.service.shards;
  s.service.log.dir = s.daemon.data;
  return std::nullopt;
}

} // namespace lb::daemon
