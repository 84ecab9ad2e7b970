#include "actors/snapshot_actor.hpp"

#include <chrono>
#include <optional>

#include "actors/logger.hpp"
#include "actors/storage/data_dir.hpp"
#include "actors/storage/log_format.hpp"
#include "actors/storage/snapshot_file.hpp"

namespace lb::actors {

const char* snapshot_state::name = "lbd-snapshot";

namespace {

// Keeps the newest two snapshots; the log must reach back to the older one,
// and the segments before it may go (unless --retain). The segment the
// gateway writes is never among them: only segments with a successor go.
void prune(const snapshot_state& st) {
  std::optional<uint64_t> covered;
  if (auto done = storage::prune_snapshots(st.dir, covered); !done.ok())
    logger::problem(done.message());
  if (!covered || st.retain)
    return;
  if (auto done = storage::delete_covered_segments(st.dir, *covered, {}); !done.ok())
    logger::problem(done.message());
}

} // namespace

snapshot_handle::behavior_type
snapshot_actor(snapshot_handle::stateful_pointer<snapshot_state> self, std::filesystem::path dir,
               bool retain) {
  self->state.dir = std::move(dir);
  self->state.retain = retain;
  // A crash while writing leaves a temporary that nothing reads: clear it.
  if (auto cleared = storage::remove_leftover_temps(self->state.dir); !cleared.ok())
    logger::problem(cleared.message());
  return {
    [self](const ranking::view_ptr& view) -> caf::result<uint64_t> {
      auto& st = self->state;
      auto started = std::chrono::steady_clock::now();
      std::filesystem::path path;
      auto written = storage::write_snapshot(st.dir, *view, storage::wall_clock_ms(), path);
      if (!written.ok()) {
        logger::problem("snapshot at seq " + std::to_string(view->seq)
                        + " failed: " + written.message()
                        + " (the event log still holds every event; the next snapshot will "
                          "try again)");
        return caf::make_error(caf::sec::runtime_error, written.message());
      }
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - started)
                  .count();
      logger::note("snapshot at seq " + std::to_string(view->seq) + " written to " + path.string()
                   + " in " + std::to_string(ms) + " ms");
      prune(st);
      return view->seq;
    },
  };
}

} // namespace lb::actors
