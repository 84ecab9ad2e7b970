// lb-replay's shared pieces: its options and how LOG arguments become files
// and events. The commands live in inspect.cpp, rebuild.cpp and send.cpp,
// the text and JSON they print with in text.hpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/storage/recovery_plan.hpp"
#include "schemas/event_record.hpp"

namespace lb::replay {

namespace fs = std::filesystem;

// A command line lb-replay cannot act on: exit code 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1; // damage, error replies, unreadable log
inline constexpr int exit_usage = 2;
inline constexpr int exit_no_reply = 3;

inline constexpr uint64_t no_limit = std::numeric_limits<uint64_t>::max();

struct options {
  std::vector<std::string> logs;
  bool json = false;
  std::string board;     // empty: every board
  uint64_t from_seq = 0; // send only
  uint64_t until_seq = no_limit;
  uint64_t top = 10;            // rebuild only
  uint64_t season = 0;          // rebuild: a closed season instead of the live boards (0: none)
  std::string to;               // send only
  double speed = 1;             // send: log time / wall time
  bool max = false;             // send: no pacing
  uint64_t window = 256;        // send: requests in flight
  uint64_t timeout_ms = 5000;   // send
  std::string curve_server_key; // send: the service's CURVE public key, or a file holding it
  std::string curve_key;        // send: this client's CURVE secret key file
  bool force = false;           // send: into a service that already holds events
};

int run_inspect(const options& o);
int run_rebuild(const options& o);
int run_send(const options& o);

// ---------------------------------------------------------------- inputs

// One LOG argument, checked: a data folder or a single file.
struct log_input {
  fs::path path;
  bool folder = false;
  bool snapshot = false; // a single snapshot-*.snap file (inspect only)
};

// Throws usage_error for a path that does not exist or is neither a file
// nor a folder.
std::vector<log_input> resolve_inputs(const std::vector<std::string>& logs);

// Where send and rebuild read events from: one data folder, or segment
// files given one by one.
struct log_source {
  std::optional<fs::path> folder;
  std::vector<fs::path> segments; // without a folder: the files in the order given
};
// Throws usage_error for a snapshot file or for a folder mixed with other
// LOGs (two folders are two histories, not one).
log_source source_of(const std::vector<log_input>& inputs);

using event_fn = storage::event_fn;

// Reads every event of `src` up to `until_seq`, in order, and nothing after
// it (so damage after it goes unseen). Segment files given one by one go
// through storage::read_events, which stops at any damage. A data folder is
// read from its oldest segment through the plan recovery makes
// (storage::plan_recovery), without its snapshots and without changing any
// file; see take_plan for what becomes of damage.
void read_log(const log_source& src, uint64_t until_seq, const event_fn& on_event,
              std::vector<std::string>& notes);

// What lb-replay makes of a folder's plan: a torn tail of the newest segment
// (a crash mid-write, or a write in progress in a running service) ends the
// log, and an empty newest segment is skipped, each with a note instead of
// an error; a plan that stops (any other damage, a missing segment, a seq
// out of order) throws storage_error.
void take_plan(const storage::recovery_plan& plan, std::vector<std::string>& notes);

// Whether an event passes --board, --from-seq and --until-seq.
struct event_filter {
  std::string board;
  uint64_t from_seq = 0;
  uint64_t until_seq = no_limit;
  bool operator()(const schemas::event_record& ev) const {
    return ev.seq >= from_seq && ev.seq <= until_seq
           && (board.empty() || schemas::board_of(ev.body) == board);
  }
};

} // namespace lb::replay
