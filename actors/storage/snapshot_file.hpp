// Snapshots: the whole state at one event seq, so that a restart replays
// only the log after it. Written from a merged view (frozen trees, safe to
// read from any thread) and read back into replay_state.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "actors/ranking/global_view.hpp"
#include "actors/storage/replay_state.hpp"
#include "actors/storage/status.hpp"

namespace lb::storage {

namespace fs = std::filesystem;

// Writes `view` as snapshot-<view.seq>.snap atomically: a temporary file,
// fsync, rename, fsync of the folder. A crash leaves either the old set of
// snapshots or the new one, never a half-written snapshot under the final
// name; a failure leaves no temporary. `written` gets the snapshot's path.
status write_snapshot(const fs::path& dir, const ranking::global_view& view, int64_t time_ms,
                      fs::path& written);

struct snapshot_summary {
  uint64_t seq = 0;
  int64_t time_ms = 0;
  uint64_t boards = 0;
  uint64_t entries = 0;
};

// Reads a snapshot into `into`, one replay_state per shard (entries go to
// their owner shard, board configurations to every shard). Fails naming the
// file and offset if any record is damaged or the end record is missing or
// disagrees with the counts; `into` then holds part of the snapshot.
status read_snapshot(const fs::path& file, std::vector<replay_state>& into, snapshot_summary& out);

} // namespace lb::storage
