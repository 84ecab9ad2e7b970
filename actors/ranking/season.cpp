#include "actors/ranking/season.hpp"

#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

namespace lb::ranking {

namespace {

// Records freed between two pauses of the reaper.
constexpr uint64_t release_step = 1024;

// The thread that frees dropped seasons. Holders hand it parts through a
// lock-free stack (one compare-and-swap per dropped season) and wake it
// through an eventfd, whose counter keeps a wake-up that comes before the
// thread waits: no lock anywhere, as everywhere in actors/.
class season_reaper {
public:
  static season_reaper& get() {
    // Never destroyed: a holder may let go of a season during static
    // destruction, after a static reaper would be gone.
    static auto* r = new season_reaper;
    return *r;
  }

  void take(const season_part* p) {
    auto* n = new node{p, stack_.load(std::memory_order_relaxed)};
    while (!stack_.compare_exchange_weak(n->next, n, std::memory_order_release,
                                         std::memory_order_relaxed)) {
    }
    taken_.fetch_add(1, std::memory_order_relaxed);
    const uint64_t one = 1;
    // Only fails if the counter would overflow, which a pending wake-up covers.
    [[maybe_unused]] auto written = ::write(wake_fd_, &one, sizeof one);
  }

  // Tests only: polls, as nothing on the service's path ever waits for it.
  void wait_idle() const {
    while (freed_.load(std::memory_order_acquire) != taken_.load(std::memory_order_relaxed))
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }

private:
  struct node {
    const season_part* part;
    node* next;
  };

  season_reaper() : wake_fd_(::eventfd(0, EFD_CLOEXEC)) {
    std::thread([this] { run(); }).detach();
  }

  void run() {
    // Below the service's threads: freeing can wait, requests cannot.
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
    for (;;) {
      uint64_t wakes = 0;
      // EINTR, or no eventfd at all: then the thread polls.
      if (::read(wake_fd_, &wakes, sizeof wakes) != static_cast<ssize_t>(sizeof wakes))
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      node* n = stack_.exchange(nullptr, std::memory_order_acquire);
      while (n != nullptr) {
        free_part(n->part);
        auto* next = n->next;
        delete n;
        n = next;
        freed_.fetch_add(1, std::memory_order_release);
      }
    }
  }

  // Nobody else holds the part any more (its last shared_ptr is gone): it
  // may change now. Freed in steps of a thousand records with a pause
  // between, as the threads that made the records collect them from their
  // pages in their own time.
  static void free_part(const season_part* p) {
    auto* part = const_cast<season_part*>(p);
    const auto pause = [] { std::this_thread::sleep_for(std::chrono::milliseconds(2)); };
    part->tree.release_paced(release_step, pause);
    part->players.release_paced(release_step, pause);
    delete p;
  }

  const int wake_fd_;
  std::atomic<node*> stack_{nullptr};
  std::atomic<uint64_t> taken_{0}, freed_{0};
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
