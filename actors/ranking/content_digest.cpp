#include "actors/ranking/content_digest.hpp"

#include <cstdio>
#include <cstring>
#include <string_view>

#include <xxhash.h>

namespace lb::ranking {

namespace {

// Every field is length- or width-prefixed, in a fixed byte order, so that
// no two different entries hash the same bytes.
char* put_u64(char* out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out[i] = static_cast<char>(v >> (8 * i));
  return out + 8;
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
  // One stack buffer, no allocation: this runs on every tree insert and
  // erase. The meta goes in as its own 128-bit hash, so the buffer's size
  // is bounded by the name's (at most 255 bytes, entry_rec.hpp).
  char buf[8 + 255 + 3 * 8 + 16];
  auto name = rec.name();
  char* p = put_u64(buf, name.size());
  std::memcpy(p, name.data(), name.size());
  p += name.size();
  p = put_u64(p, k.primary);
  p = put_u64(p, k.secondary);
  p = put_u64(p, rec.has_meta() ? (rec.meta_is_bin() ? 2 : 1) : 0);
  if (rec.has_meta()) {
    auto meta = rec.meta_bytes();
    auto h = bytes_digest(meta.data(), meta.size());
    p = put_u64(p, h.lo);
    p = put_u64(p, h.hi);
  }
  return bytes_digest(buf, static_cast<size_t>(p - buf));
}

} // namespace lb::ranking
