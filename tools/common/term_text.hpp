// Text for a terminal, shared by lbctl and lb-replay.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lb::tools {

// Text from the service or a log as a terminal may show it: control
// characters (ASCII and the UTF-8-encoded C1 range, where ESC and CSI live)
// would act on the terminal, so they appear as \xNN escapes instead.
std::string printable(std::string_view s);

// Bytes (a meta sent as bin) as 0x and two hex digits each.
std::string hex_text(std::string_view bytes);

// "1 entry", "2 entries".
std::string count(uint64_t n, const char* one, const char* many);

} // namespace lb::tools
