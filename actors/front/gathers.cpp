#include "actors/front/gathers.hpp"

#include <algorithm>

namespace lb::actors {

gather_id gathers::add(reply_to to, uint32_t parts, decltype(pending::what) what) {
  auto id = next_++;
  pending_.emplace(id, pending{std::move(to), parts, std::move(what)});
  return id;
}

gathers::pending* gathers::part_of(gather_id id) {
  auto i = pending_.find(id);
  if (i == pending_.end())
    return nullptr;
  if (i->second.parts_left > 0)
    --i->second.parts_left;
  return &i->second;
}

gather_id gathers::open_batch(reply_to to,
                              std::vector<std::optional<schemas::batch_result>> results) {
  // One part per item still to come; items that failed to decode are in.
  auto waiting = static_cast<uint32_t>(std::count(results.begin(), results.end(), std::nullopt));
  return add(std::move(to), waiting, batch{std::move(results)});
}

gather_id gathers::open_reset(reply_to to, uint64_t seq, uint32_t parts,
                              std::optional<uint32_t> season) {
  return add(std::move(to), parts, reset{seq, 0, season});
}

gather_id gathers::open_check(reply_to to, schemas::configure_req req, uint32_t parts) {
  return add(std::move(to), parts, check{std::move(req), 0, std::nullopt});
}

gather_id gathers::open_friends(reply_to to, std::string board, uint32_t parts) {
  friends f;
  f.board = std::move(board);
  return add(std::move(to), parts, std::move(f));
}

std::optional<finished> gathers::close_if_done(gather_id id) {
  auto i = pending_.find(id);
  if (i == pending_.end() || i->second.parts_left > 0)
    return std::nullopt;
  auto& b = std::get<batch>(i->second.what);
  schemas::batch_reply r;
  r.results.reserve(b.results.size());
  for (auto& x : b.results)
    r.results.push_back(std::move(*x));
  finished out{std::move(i->second.to), std::move(r)};
  pending_.erase(i);
  return out;
}

std::optional<finished> gathers::batch_item(gather_id id, uint32_t index, schemas::batch_result r) {
  auto* p = part_of(id);
  if (p == nullptr)
    return std::nullopt;
  auto& b = std::get<batch>(p->what);
  if (index < b.results.size())
    b.results[index] = std::move(r);
  return close_if_done(id);
}

std::variant<std::monostate, finished, checked_configure>
gathers::count_part(gather_id id, uint64_t count, std::optional<ranking::board_config> c) {
  auto* p = part_of(id);
  if (p == nullptr)
    return std::monostate{};
  if (auto* r = std::get_if<reset>(&p->what)) {
    r->removed += count;
    if (p->parts_left > 0)
      return std::monostate{};
    finished out{std::move(p->to), schemas::reset_reply{r->removed, r->seq, r->season}};
    pending_.erase(id);
    return out;
  }
  auto& k = std::get<check>(p->what);
  k.entries += count;
  if (c)
    k.known = c;
  if (p->parts_left > 0)
    return std::monostate{};
  checked_configure out{std::move(p->to), std::move(k.req), k.entries, k.known};
  pending_.erase(id);
  return out;
}

std::optional<finished> gathers::friends_part(gather_id id, friends_answer&& part) {
  auto* p = part_of(id);
  if (p == nullptr)
    return std::nullopt;
  auto& f = std::get<friends>(p->what);
  f.known = f.known || part.known;
  f.total = std::max(f.total, part.total); // every part counts the same board, at the same seq
  f.seq = std::max(f.seq, part.seq);
  f.season = part.season;
  if (f.missing.empty())
    f.missing = std::move(part.missing);
  for (auto& e : part.entries)
    f.entries.push_back(std::move(e));
  if (p->parts_left > 0)
    return std::nullopt;
  finished out;
  out.to = std::move(p->to);
  if (!f.known) {
    out.body = schemas::error{schemas::error_code::not_found,
                              "board '" + f.board + "' does not exist"};
  } else if (!f.missing.empty()) {
    out.body = schemas::error{schemas::error_code::not_found, std::move(f.missing)};
  } else {
    std::sort(f.entries.begin(), f.entries.end(),
              [](const auto& a, const auto& b) { return a.rank < b.rank; });
    schemas::entries_reply r{std::move(f.board), f.total, f.seq, std::move(f.entries)};
    r.season = f.season;
    out.body = std::move(r);
  }
  pending_.erase(id);
  return out;
}

std::optional<finished> gathers::fail(gather_id id, const schemas::error& why) {
  auto i = pending_.find(id);
  if (i == pending_.end())
    return std::nullopt;
  finished out{std::move(i->second.to), why};
  pending_.erase(i);
  return out;
}

} // namespace lb::actors
