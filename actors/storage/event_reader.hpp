// Events out of segment records. One rule decides which records of a segment
// are events, for the recovery plan, --repair and lb-replay alike, so that
// they all keep exactly the same ones: the body decodes
// (schemas/event_record.hpp) and its seq is above the one before.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/storage/status.hpp"
#include "schemas/event_record.hpp"

namespace lb::storage {

namespace fs = std::filesystem;

using event_fn = std::function<void(const schemas::event_record&)>;

// Why `body` is not an event that may follow seq `*last` (any seq when `last`
// is empty), or empty if it is: `out` then holds it and `last` its seq.
std::string accept_event(std::string_view body, std::optional<uint64_t>& last,
                         schemas::event_record& out);

// Segment files read in the order given (lb-replay's loose files, where no
// folder says how they fit together): every event up to `until_seq`, in
// order. Fails at the first damage, a torn tail of the last file included.
status read_events(const std::vector<fs::path>& files, uint64_t until_seq,
                   const event_fn& on_event);

} // namespace lb::storage
