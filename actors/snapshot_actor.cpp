#include "actors/snapshot_actor.hpp"

#include <chrono>

#include "actors/logger.hpp"
#include "actors/storage/snapshot_file.hpp"

namespace lb::actors {

const char* snapshot_state::name = "lbd-snapshot";

namespace {

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Keeps the newest two snapshots; the log must reach back to the older one.
void prune(snapshot_state& st, snapshot_handle::stateful_pointer<snapshot_state> self) {
  auto snaps = storage::list_snapshots(st.dir);
  if (snaps.size() < 2)
    return;
  for (size_t i = 0; i + 2 < snaps.size(); ++i) {
    std::error_code ec;
    std::filesystem::remove(snaps[i].path, ec);
    if (ec)
      logger::problem("could not delete the old snapshot " + snaps[i].path.string() + ": "
                      + ec.message());
  }
  storage::sync_dir(st.dir);
  self->send(st.log, log_covered{snaps[snaps.size() - 2].seq});
}

} // namespace

snapshot_handle::behavior_type
snapshot_actor(snapshot_handle::stateful_pointer<snapshot_state> self, std::filesystem::path dir,
               log_handle log) {
  self->state.dir = std::move(dir);
  self->state.log = std::move(log);
  // A crash while writing leaves a temporary that nothing reads: clear it.
  std::error_code ec;
  for (auto& f : std::filesystem::directory_iterator(self->state.dir, ec))
    if (f.path().extension() == ".tmp" && f.path().stem().extension() == ".snap")
      std::filesystem::remove(f.path(), ec);
  return {
    [self](const ranking::view_ptr& view) -> caf::result<uint64_t> {
      auto& st = self->state;
      auto started = std::chrono::steady_clock::now();
      try {
        auto path = storage::write_snapshot(st.dir, *view, now_ms());
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - started)
                    .count();
        logger::note("snapshot at seq " + std::to_string(view->seq) + " written to " + path.string()
                     + " in " + std::to_string(ms) + " ms");
      } catch (const storage::storage_error& e) {
        logger::problem("snapshot at seq " + std::to_string(view->seq) + " failed: " + e.what()
                        + " (the event log still holds every event; the next snapshot will "
                          "try again)");
        return caf::make_error(caf::sec::runtime_error, e.what());
      }
      prune(st, self);
      return view->seq;
    },
  };
}

} // namespace lb::actors
