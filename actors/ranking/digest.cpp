#include "actors/ranking/digest.hpp"

#include <cstdio>
#include <memory>

#include <xxhash.h>

#include "actors/ranking/merged_ranking.hpp"

namespace lb::ranking {

namespace {

// Every field is length- or width-prefixed so that no two different states
// hash the same byte stream.
struct hasher {
  // The state's layout is private to libxxhash: let the library allocate it.
  std::unique_ptr<XXH3_state_t, XXH_errorcode (*)(XXH3_state_t*)> st{XXH3_createState(),
                                                                     XXH3_freeState};
  hasher() { XXH3_128bits_reset(st.get()); }
  void bytes(const void* p, size_t n) { XXH3_128bits_update(st.get(), p, n); }
  void u64(uint64_t v) {
    unsigned char b[8];
    for (int i = 0; i < 8; ++i)
      b[i] = static_cast<unsigned char>(v >> (8 * i)); // fixed byte order
    bytes(b, 8);
  }
  void str(std::string_view s) {
    u64(s.size());
    bytes(s.data(), s.size());
  }
};

} // namespace

std::string state_digest(const global_view& view) {
  hasher h;
  for (auto& bv : view.boards) {
    h.str(bv->name);
    h.str(schemas::to_string(bv->config.order));
    h.str(schemas::to_string(bv->config.op));
    h.u64(bv->total);
    auto ranking = view_ranking(*bv);
    auto order = bv->config.order;
    ranking.walk(0, bv->total, [&](uint64_t, const rank_key& k, const entry_rec& rec) {
      h.str(rec.name());
      h.u64(static_cast<uint64_t>(unfold(k.primary, order)));
      h.u64(static_cast<uint64_t>(unfold(k.secondary, order)));
      auto meta = rec.meta();
      h.u64(meta ? (meta->is_bin ? 2 : 1) : 0);
      if (meta)
        h.str(meta->bytes);
    });
  }
  auto d = XXH3_128bits_digest(h.st.get());
  char out[33];
  std::snprintf(out, sizeof out, "%016llx%016llx", static_cast<unsigned long long>(d.high64),
                static_cast<unsigned long long>(d.low64));
  return out;
}

} // namespace lb::ranking
