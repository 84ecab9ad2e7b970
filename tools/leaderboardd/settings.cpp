#include "tools/leaderboardd/settings.hpp"

#include <algorithm>
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
Stops cleanly on SIGINT or SIGTERM.
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
    whole_flag("threads", "N", "CAF scheduler threads", d.threads, 1, 256)
      .default_is("one per core"),
    choice_flag("scheduler", "POLICY", "CAF scheduler: sharing or stealing", d.scheduler,
                std::vector{scheduler_policy::sharing, scheduler_policy::stealing}),
    help_flag(),
  };
}

} // namespace

const char* to_string(scheduler_policy p) {
  return p == scheduler_policy::sharing ? "sharing" : "stealing";
}

uint32_t cores() {
  return std::max(1u, std::thread::hardware_concurrency());
}

std::optional<int> parse_settings(int argc, char** argv, settings& s) {
  tools::flag_parser flags{
    "leaderboardd", intro, {{"options (--name=value or --name value):", flag_table(s)}}, outro};
  if (auto rc = flags.parse(argc, argv))
    return rc;
  if (!flags.positional().empty()) {
    std::cerr << "leaderboardd: unexpected argument '" << flags.positional().front()
              << "': options are --name=value\n(see leaderboardd --help)\n";
    return 2;
  }
  s.service.readers = s.service.shards;
  s.service.log.dir = s.daemon.data;
  return std::nullopt;
}

} // namespace lb::daemon
