#include "actors/ranking/content_digest.hpp"

#include <cstdio>
#include <string_view>

#include <xxhash.h>

namespace lb::ranking {

namespace {

// Every field is length- or width-prefixed, in a fixed byte order, so that
// no two different entries hash the same byte string.
void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<char>(v >> (8 * i)));
}

void put_str(std::string& out, std::string_view s) {
  put_u64(out, s.size());
  out.append(s);
}

} // namespace

std::string content_digest::hex() const {
  char out[33];
  std::snprintf(out, sizeof out, "%016llx%016llx", static_cast<unsigned long long>(hi),
                static_cast<unsigned long long>(lo));
  return out;
}

content_digest bytes_digest(const void* data, size_t n) {
  auto h = XXH3_128bits(data, n);
  return {h.low64, h.high64};
}

content_digest entry_digest(const rank_key& k, const entry_rec& rec) {
  // A thread-local buffer: this runs on every tree insert and erase, and a
  // short player name with no meta then costs no allocation.
  thread_local std::string buf;
  buf.clear();
  put_str(buf, rec.name());
  put_u64(buf, k.primary);
  put_u64(buf, k.secondary);
  put_u64(buf, rec.has_meta() ? (rec.meta_is_bin() ? 2 : 1) : 0);
  if (rec.has_meta())
    put_str(buf, rec.meta_bytes());
  return bytes_digest(buf.data(), buf.size());
}

} // namespace lb::ranking
