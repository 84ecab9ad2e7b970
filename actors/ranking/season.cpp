#include "actors/ranking/season.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace lb::ranking {

namespace {

// Records freed between two pauses of the reaper.
constexpr uint64_t release_step = 1024;

// The thread that frees dropped seasons. A mutex guards its queue: it is
// taken once per dropped season, never on the path of an event.
class season_reaper {
public:
  static season_reaper& get() {
    // Never destroyed: a holder may let go of a season during static
    // destruction, after a static reaper would be gone.
    static auto* r = new season_reaper;
    return *r;
  }

  void take(const season_part* p) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(p);
      ++taken_;
    }
    wake_.notify_one();
  }

  void wait_idle() {
    std::unique_lock<std::mutex> lock(mu_);
    idle_.wait(lock, [&] { return freed_ == taken_; });
  }

private:
  season_reaper() {
    std::thread([this] { run(); }).detach();
  }

  void run() {
    // Below the service's threads: freeing can wait, requests cannot.
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
    for (;;) {
      const season_part* p = nullptr;
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] { return !queue_.empty(); });
        p = queue_.front();
        queue_.pop_front();
      }
      // Nobody else holds the part any more (its last shared_ptr is gone):
      // it may change now. Freed in steps of a few thousand records with a
      // pause between, as the threads that made the records collect them
      // from their pages in their own time.
      auto* part = const_cast<season_part*>(p);
      const auto pause = [] { std::this_thread::sleep_for(std::chrono::milliseconds(2)); };
      part->tree.release_paced(release_step, pause);
      part->players.release_paced(release_step, pause);
      delete p;
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++freed_;
      }
      idle_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable wake_, idle_;
  std::deque<const season_part*> queue_;
  uint64_t taken_ = 0, freed_ = 0;
};

} // namespace

std::shared_ptr<const season_part> share_season_part(season_part&& part) {
  return std::shared_ptr<const season_part>(
    new season_part(std::move(part)), [](const season_part* p) { season_reaper::get().take(p); });
}

void wait_for_freed_seasons() {
  season_reaper::get().wait_idle();
}

const closed_season* find_season(const season_list* list, uint32_t n) {
  if (list == nullptr)
    return nullptr;
  auto i = std::lower_bound(list->begin(), list->end(), n,
                            [](const closed_season& s, uint32_t x) { return s.span.season < x; });
  return i != list->end() && i->span.season == n ? &*i : nullptr;
}

season_list_ptr with_season(const season_list* list, closed_season added, uint32_t keep) {
  auto out = std::make_shared<season_list>();
  if (list != nullptr) {
    const size_t room = keep > 0 ? keep - 1 : 0;
    const size_t skip = list->size() > room ? list->size() - room : 0;
    out->assign(list->begin() + static_cast<std::ptrdiff_t>(skip), list->end());
  }
  if (keep > 0)
    out->push_back(std::move(added));
  return out;
}

season_list_ptr trimmed(const season_list_ptr& list, uint32_t keep) {
  if (list == nullptr || list->size() <= keep)
    return list;
  auto out = std::make_shared<season_list>(
    list->begin() + static_cast<std::ptrdiff_t>(list->size() - keep), list->end());
  return out;
}

std::string check_season_list(const season_list& list, uint32_t keep) {
  if (list.size() > keep)
    return "holds " + std::to_string(list.size()) + " seasons, keep is " + std::to_string(keep);
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& s = list[i];
    if (i > 0 && list[i - 1].span.season >= s.span.season)
      return "season " + std::to_string(s.span.season) + " follows "
             + std::to_string(list[i - 1].span.season);
    if (!s.part)
      return "season " + std::to_string(s.span.season) + " has no part";
    if (s.part->tree.size() != s.part->players.size())
      return "season " + std::to_string(s.span.season) + ": tree holds "
             + std::to_string(s.part->tree.size()) + " entries, index "
             + std::to_string(s.part->players.size());
    std::string bad;
    s.part->players.for_each([&](const player_slot& slot) {
      if (bad.empty() && !s.part->tree.contains(slot.key))
        bad = "season " + std::to_string(s.span.season) + ": a player's key is not in the tree";
    });
    if (!bad.empty())
      return bad;
  }
  return {};
}

} // namespace lb::ranking
