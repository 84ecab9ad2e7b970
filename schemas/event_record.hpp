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
struct configure_event_body {
  std::string board;
  board_order order = board_order::desc;
  score_operator op = score_operator::best;
};

using event_body = std::variant<submit_req, remove_req, reset_req, configure_event_body>;

struct event_record {
  uint64_t seq = 0;
  int64_t time_ms = 0; // wall clock when the service logged it, ms since the Unix epoch
  event_body body;
};

const std::string& board_of(const event_body& body);
const char* type_name(const event_body& body); // "submit", "remove", "reset", "configure"

// Appends the msgpack body of one event to `out`.
void append_event(std::string& out, uint64_t seq, int64_t time_ms, const submit_req& e);
void append_event(std::string& out, uint64_t seq, int64_t time_ms, const remove_req& e);
void append_event(std::string& out, uint64_t seq, int64_t time_ms, const reset_req& e);
void append_event(std::string& out, uint64_t seq, int64_t time_ms, const configure_event_body& e);
void append_event(std::string& out, const event_record& r);

// Decodes one body. Checks the same name and size rules as requests, so a
// record that passes its checksum but breaks them is reported, not applied.
// Never throws; on failure the string says what is wrong.
std::variant<event_record, std::string> decode_event(const char* data, std::size_t size);

} // namespace lb::schemas
