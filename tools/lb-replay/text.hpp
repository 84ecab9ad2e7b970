// The text and JSON that lb-replay's commands print.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <msgpack.hpp>

#include "schemas/event_record.hpp"
#include "tools/common/table.hpp"
#include "tools/common/term_text.hpp"

namespace lb::replay {

// Control characters as \xNN, so that log content cannot act on a terminal.
using tools::printable;

using tools::count;
using tools::table;

// UTC ISO-8601 with milliseconds, e.g. 2024-05-01T10:00:00.123Z.
std::string iso_time(int64_t ms);
// A meta value for a table cell: str as text, bin as 0x<hex>.
std::string meta_text(const std::optional<schemas::meta_value>& meta);
// "1.5 s", "2 min 05 s", "1 h 02 min": for durations and ETAs.
std::string duration_text(double seconds);

// --json output is built as msgpack and rendered by schemas::msgpack_to_json,
// so that names, meta (str or {"$bin": ...}) and escapes look exactly as in
// lbctl --json.
using json_packer = msgpack::packer<msgpack::sbuffer>;
void pack_str(json_packer& p, std::string_view s);
void pack_meta(json_packer& p, const std::optional<schemas::meta_value>& meta);
// Prints the packed document as one line of JSON on stdout.
void print_json(const msgpack::sbuffer& buf);

} // namespace lb::replay
