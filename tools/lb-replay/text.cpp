#include "tools/lb-replay/text.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "schemas/json.hpp"

namespace lb::replay {

std::string iso_time(int64_t ms) {
  // Floor division, so that times before 1970 still print a valid stamp.
  int64_t secs = ms / 1000, frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    --secs;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr)
    return std::to_string(ms) + " ms";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(frac));
  return buf;
}

std::string meta_text(const std::optional<schemas::meta_value>& meta) {
  if (!meta)
    return "";
  return meta->is_bin ? tools::hex_text(meta->bytes) : printable(meta->bytes);
}

std::string duration_text(double seconds) {
  char buf[64];
  if (!(seconds >= 0) || std::isinf(seconds))
    return "?";
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.1f s", seconds);
  } else if (seconds < 3600) {
    const auto s = static_cast<long>(seconds);
    std::snprintf(buf, sizeof buf, "%ld min %02ld s", s / 60, s % 60);
  } else {
    const auto m = static_cast<long>(seconds / 60);
    std::snprintf(buf, sizeof buf, "%ld h %02ld min", m / 60, m % 60);
  }
  return buf;
}

void pack_str(json_packer& p, std::string_view s) {
  p.pack_str(static_cast<uint32_t>(s.size()));
  p.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

void pack_meta(json_packer& p, const std::optional<schemas::meta_value>& meta) {
  if (!meta) {
    p.pack_nil();
  } else if (meta->is_bin) {
    p.pack_bin(static_cast<uint32_t>(meta->bytes.size()));
    p.pack_bin_body(meta->bytes.data(), static_cast<uint32_t>(meta->bytes.size()));
  } else {
    pack_str(p, meta->bytes);
  }
}

void print_json(const msgpack::sbuffer& buf) {
  std::cout << schemas::msgpack_to_json(buf.data(), buf.size()) << '\n';
}

} // namespace lb::replay
