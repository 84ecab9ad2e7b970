#include "actors/snapshot_actor.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <optional>

#include "actors/logger.hpp"
#include "actors/storage/data_dir.hpp"
#include "actors/storage/log_format.hpp"
#include "actors/storage/snapshot_file.hpp"

namespace lb::actors {

const char* snapshot_state::name = "lbd-snapshot";

std::chrono::milliseconds snapshot_backoff::delay(uint32_t n) const {
  auto d = first;
  for (uint32_t i = 1; i < n && d < most; ++i)
    d *= 2;
  return std::min(d, most);
}

std::chrono::milliseconds snapshot_backoff::failed(clock::time_point now) {
  if (failures < UINT32_MAX)
    ++failures;
  auto wait = delay(failures);
  next = now + wait;
  return wait;
}

std::string snapshot_failure_line(uint64_t seq, const std::string& why, uint32_t failures,
                                  std::chrono::milliseconds wait, int64_t next_wall_ms) {
  std::string at;
  std::time_t t = static_cast<std::time_t>(next_wall_ms / 1000);
  std::tm tm{};
  char buf[32];
  if (gmtime_r(&t, &tm) != nullptr && std::strftime(buf, sizeof buf, "%H:%M:%S UTC", &tm) > 0)
    at = std::string(" (") + buf + ")";
  auto secs = (wait.count() + 999) / 1000;
  return "snapshot at seq " + std::to_string(seq) + " failed: " + why + "; attempt "
         + std::to_string(failures)
         + " in a row; the event log still holds every event; next attempt in "
         + std::to_string(secs) + " s" + at + " or later, with the next merge";
}

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
               bool retain, caf::actor_addr due_by) {
  self->state.dir = std::move(dir);
  self->state.retain = retain;
  self->state.due_by = std::move(due_by);
  // A crash while writing leaves a temporary that nothing reads: clear it.
  if (auto cleared = storage::remove_leftover_temps(self->state.dir); !cleared.ok())
    logger::problem(cleared.message());
  return {
    [self](const ranking::view_ptr& view) -> caf::result<uint64_t> {
      auto& st = self->state;
      auto started = std::chrono::steady_clock::now();
      // A periodic snapshot waits out the backoff of a failed one, silently:
      // the merge actor asks again with a later cut.
      if (!st.backoff.may_try(started) && st.due_by
          && caf::actor_cast<caf::actor_addr>(self->current_sender()) == st.due_by)
        return caf::make_error(caf::sec::runtime_error, "backing off after a failed snapshot");
      std::filesystem::path path;
      auto written = storage::write_snapshot(st.dir, *view, storage::wall_clock_ms(), path);
      if (!written.ok()) {
        auto wait = st.backoff.failed(std::chrono::steady_clock::now());
        logger::problem(snapshot_failure_line(view->seq, written.message(), st.backoff.failures,
                                              wait, storage::wall_clock_ms() + wait.count()));
        return caf::make_error(caf::sec::runtime_error, written.message());
      }
      auto failed_before = st.backoff.failures;
      st.backoff.succeeded();
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - started)
                  .count();
      logger::note("snapshot at seq " + std::to_string(view->seq) + " written to " + path.string()
                   + " in " + std::to_string(ms) + " ms"
                   + (failed_before > 0
                        ? " (after " + std::to_string(failed_before) + " failed attempts)"
                        : std::string()));
      prune(st);
      return view->seq;
    },
  };
}

} // namespace lb::actors
