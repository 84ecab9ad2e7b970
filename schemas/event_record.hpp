// The body of one event-log record (docs/EVENT-LOG.md): a msgpack map with
// string keys, so that a reader in any language needs only a msgpack library.
// The framing around bodies (length, checksum, file headers) is the storage
// layer's (actors/storage/log_format.hpp); this file knows only the bodies.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "schemas/request.hpp"

namespace lb::schemas {

// A configure as the log holds it: the configuration the board got, with
// both keys resolved (a configure request may leave one out).
// Also the board's season settings as they are after it (`schedule` empty:
// none); a configure that leaves them out keeps them.
struct configure_event_body {
  std::string board;
  board_order order = board_order::desc;
  score_operator op = score_operator::best;
  std::string schedule;
  uint32_t keep = default_keep_seasons;
};

// A rollover: the board's current season `season` closes at this event's seq
// and is kept; season + 1 starts, empty. Scheduled ones carry the schedule's
// boundary as `end_ms` (not the clock when it was logged), so a replay never
// reads a clock; a manual one (`reset` with `archive`) the time of the reset.
// `start_ms` is when the next season starts: the boundary, or the last one
// before the service came back when it missed some.
struct rollover_body {
  std::string board;
  uint32_t season = 1;
  int64_t end_ms = 0;
  int64_t start_ms = 0;
  bool scheduled = false;
};

using event_body
  = std::variant<submit_req, remove_req, reset_req, configure_event_body, rollover_body>;

struct event_record {
  uint64_t seq = 0;
  int64_t time_ms = 0; // wall clock when the service logged it, ms since the Unix epoch
  event_body body;
};

const std::string& board_of(const event_body& body);
// "submit", "remove", "reset", "configure", "rollover"
const char* type_name(const event_body& body);

// Appends the msgpack body of one event to `out`.
void append_event(std::string& out, uint64_t seq, int64_t time_ms, const submit_req& e);
void append_event(std::string& out, uint64_t seq, int64_t time_ms, const remove_req& e);
void append_event(std::string& out, uint64_t seq, int64_t time_ms, const reset_req& e);
void append_event(std::string& out, uint64_t seq, int64_t time_ms, const configure_event_body& e);
void append_event(std::string& out, uint64_t seq, int64_t time_ms, const rollover_body& e);
void append_event(std::string& out, const event_record& r);

// Decodes one body. Checks the same name and size rules as requests, so a
// record that passes its checksum but breaks them is reported, not applied.
// Never throws; on failure the string says what is wrong.
std::variant<event_record, std::string> decode_event(const char* data, std::size_t size);

} // namespace lb::schemas
