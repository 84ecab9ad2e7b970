// The snapshot actor writes merged views to disk as snapshots
// (actors/storage/snapshot_file.hpp), keeps the newest two, and deletes the
// log segments they make unneeded. Two, so that a damaged newest snapshot
// still leaves an older one plus the log to recover from.
//
// The service runs it detached: writing millions of entries and fsyncing
// takes seconds, which must not hold a scheduler thread. The merge actor
// asks for a snapshot when one is due and never asks twice at once.
#pragma once

#include <cstdint>
#include <filesystem>

#include <caf/all.hpp>

#include "actors/protocol.hpp"

namespace lb::actors {

struct snapshot_state {
  std::filesystem::path dir;
  bool retain = false; // keep the log segments a snapshot covers
  static const char* name;
};

// Answers a view_ptr with the seq of the snapshot written, or an error.
snapshot_handle::behavior_type
snapshot_actor(snapshot_handle::stateful_pointer<snapshot_state> self, std::filesystem::path dir,
               bool retain);

} // namespace lb::actors
