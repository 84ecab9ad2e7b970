#include "actors/ranking/digest.hpp"

#include "actors/ranking/global_view.hpp"

namespace lb::ranking {

namespace {

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<char>(v >> (8 * i))); // fixed byte order
}

void put_str(std::string& out, std::string_view s) {
  put_u64(out, s.size()); // length-prefixed: no two boards hash the same bytes
  out.append(s);
}

} // namespace

content_digest board_digest(const board_view& bv) {
  content_digest entries;
  for (auto& part : bv.parts)
    entries.add(part.digest());
  std::string buf;
  put_str(buf, bv.name);
  put_str(buf, schemas::to_string(bv.config.order));
  put_str(buf, schemas::to_string(bv.config.op));
  put_u64(buf, bv.total);
  put_u64(buf, entries.lo);
  put_u64(buf, entries.hi);
  // Seasons only where a board has them, so that other boards hash as before.
  const season_list* spans = kept_seasons(bv.closed);
  if (bv.season.number > 1 || spans != nullptr || bv.config.schedule
      || bv.config.keep != schemas::default_keep_seasons) {
    put_u64(buf, bv.season.number);
    put_str(buf, bv.config.schedule ? *bv.config.schedule : std::string{});
    put_u64(buf, bv.config.keep);
  }
  if (spans != nullptr)
    for (const auto& s : *spans) {
      content_digest sum;
      uint64_t total = 0;
      for (const auto* mine : season_on_shards(bv.closed, s.span.season)) {
        sum.add(mine->part->tree.digest());
        total += mine->part->tree.size();
      }
      put_u64(buf, s.span.season);
      put_u64(buf, total);
      put_u64(buf, sum.lo);
      put_u64(buf, sum.hi);
    }
  return bytes_digest(buf.data(), buf.size());
}

std::string state_digest(const global_view& view) {
  return view.boards.digest().hex();
}

} // namespace lb::ranking
