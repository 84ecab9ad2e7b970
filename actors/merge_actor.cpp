#include "actors/merge_actor.hpp"

#include <algorithm>
#include <memory>
#include <set>

#include "actors/ranking/merged_ranking.hpp"
#include "schemas/update.hpp"

namespace lb::actors {

const char* merge_state::name = "lbd-merge";

namespace {

using self_ptr = merge_handle::stateful_pointer<merge_state>;

// Every shard and reader gets each view.
void send_view(self_ptr self) {
  auto& st = self->state;
  for (auto& shard : st.shards)
    self->send(shard, st.view);
  for (auto& reader : st.readers)
    self->send(reader, st.view);
}

// The previous view with every changed board's parts replaced.
ranking::view_ptr merge_cut(const merge_state& st, std::vector<shard_snapshot>& snaps) {
  auto next = std::make_shared<ranking::global_view>();
  next->seq = snaps.front().marker.seq;
  next->made = std::chrono::steady_clock::now();
  std::map<std::string, std::shared_ptr<ranking::board_view>> edited;
  for (auto& snap : snaps) {
    for (auto& b : snap.changed) {
      auto& bv = edited[b.name];
      if (!bv) {
        auto old = st.view ? st.view->find(b.name) : nullptr;
        bv = old ? std::make_shared<ranking::board_view>(*old)
                 : std::make_shared<ranking::board_view>();
        bv->name = b.name;
        bv->parts.resize(st.shard_count);
      }
      bv->config = b.config;
      bv->parts[snap.shard] = std::move(b.tree);
      bv->season = b.season;
      bv->closed.resize(st.shard_count);
      bv->closed[snap.shard] = std::move(b.closed);
    }
  }
  std::vector<ranking::board_view_ptr> changed; // in name order, as `edited` is
  changed.reserve(edited.size());
  for (auto& [name, bv] : edited) {
    bv->total = 0;
    for (auto& p : bv->parts)
      bv->total += p.size();
    changed.push_back(std::move(bv));
  }
  // Shares every board and chunk of boards the cut did not change.
  next->boards = st.view ? st.view->boards.with(changed) : ranking::board_index{}.with(changed);
  return next;
}

void dispatch_stats(self_ptr self, stats_wanted& w) {
  auto& st = self->state;
  stats_job job;
  job.to = std::move(w.to);
  job.view = st.view;
  job.counters = w.counters;
  job.shards = st.shard_stats;
  job.merge_interval_ms = static_cast<uint32_t>(st.interval.count());
  job.updates_published = st.updates.published();
  job.updates_dropped = st.updates.dropped();
  job.merges = st.timing;
  job.merges.max_us = *std::max_element(st.recent_us.begin(), st.recent_us.end());
  self->send(st.readers[st.next_reader++ % st.readers.size()], std::move(job));
}

bool snapshot_due(const merge_state& st) {
  if (!st.snapshots || st.snapshot_running || st.view->seq <= st.snapshot_seq)
    return false;
  auto& p = st.snapshot;
  return (p.every_events > 0 && st.view->seq - st.snapshot_seq >= p.every_events)
         || (p.every.count() > 0 && st.view->made - st.snapshot_at >= p.every);
}

void maybe_snapshot(self_ptr self) {
  auto& st = self->state;
  if (!snapshot_due(st))
    return;
  st.snapshot_running = true;
  st.snapshot_at = st.view->made;
  self->request(st.snapshots, caf::infinite, st.view)
    .then(
      [self](uint64_t seq) {
        self->state.snapshot_running = false;
        self->state.snapshot_seq = std::max(self->state.snapshot_seq, seq);
      },
      // The snapshot actor logged why; the log still holds every event, so
      // the next attempt comes with the next due time.
      [self](caf::error&) { self->state.snapshot_running = false; });
}

bool same_entries(const std::vector<schemas::entry_view>& a,
                  const std::vector<schemas::entry_view>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.rank == y.rank && x.player == y.player && x.score == y.score
           && x.subscore == y.subscore && x.meta == y.meta;
  });
}

// The boards a cut changed, and those among them reset (or rolled over)
// since the previous view.
struct cut_boards {
  std::set<std::string_view> changed;
  std::set<std::string_view> reset;
};

cut_boards boards_of(const ranking::global_view& prev, const std::vector<shard_snapshot>& snaps) {
  cut_boards out;
  for (auto& snap : snaps)
    for (auto& b : snap.changed) {
      out.changed.insert(b.name);
      if (b.reset_seq > prev.seq)
        out.reset.insert(b.name);
    }
  return out;
}

// top/ for each board this cut changed whose top K differ from the last
// top/ (a reset always counts: subscribers see the board emptied).
std::vector<update_msg> top_updates(merge_state& st, const cut_boards& boards) {
  std::vector<update_msg> out;
  for (auto name : boards.changed) {
    auto* bv = st.view->find(name);
    if (bv == nullptr)
      continue;
    schemas::top_update u;
    u.board = std::string(name);
    u.seq = st.view->seq;
    u.total = bv->total;
    auto order = bv->config.order;
    ranking::view_ranking(*bv).walk(
      0, st.top_k, [&](uint64_t at, const ranking::rank_key& k, const ranking::entry_rec& rec) {
        u.entries.push_back(ranking::to_entry_view(at + 1, k, rec, order));
      });
    auto& last = st.published_top[u.board];
    if (same_entries(last, u.entries) && boards.reset.count(name) == 0)
      continue;
    last = u.entries;
    out.push_back(update_msg{u.seq, schemas::top_topic(name), schemas::encode_update(u)});
  }
  return out;
}

// season/ for every season this cut closed (PROTOCOL.md "Seasons"): the
// final standings, from the closed season's parts on every shard. Every
// shard changed the board at the rollover, so the cut holds all its parts.
std::vector<update_msg> season_updates(const merge_state& st, const ranking::global_view& prev,
                                       const cut_boards& boards) {
  std::vector<update_msg> out;
  for (auto name : boards.changed) {
    const auto* bv = st.view->find(name);
    const auto* before = prev.find(name);
    const uint32_t was = before ? before->season.number : 1;
    if (bv == nullptr || bv->season.number == was)
      continue;
    for (uint32_t n = was; n < bv->season.number; ++n) {
      const auto parts = ranking::season_on_shards(bv->closed, n);
      if (parts.empty())
        continue; // closed and dropped again before this cut (keep: 1, two rollovers)
      schemas::season_update u;
      u.board = std::string(name);
      u.span = parts.front()->span;
      const auto order = parts.front()->config.order; // the season's own
      auto ranking = ranking::season_ranking(parts);
      u.total = ranking.total();
      ranking.walk(0, st.top_k,
                   [&](uint64_t at, const ranking::rank_key& k, const ranking::entry_rec& rec) {
                     u.entries.push_back(ranking::to_entry_view(at + 1, k, rec, order));
                   });
      out.push_back(
        update_msg{st.view->seq, schemas::season_topic(name), schemas::encode_update(u)});
    }
  }
  return out;
}

void publish_cut(self_ptr self, const ranking::global_view& prev,
                 std::vector<shard_snapshot>& snaps) {
  auto& st = self->state;
  if (!st.updates.enabled())
    return;
  cut_updates c;
  uint64_t n = 0;
  for (auto& snap : snaps) {
    n += snap.scores.size();
    if (!snap.scores.empty())
      c.score_runs.push_back(std::move(snap.scores));
  }
  const auto boards = boards_of(prev, snaps);
  if (st.updates.wants(top_stream))
    c.tops = top_updates(st, boards);
  // Rare and what rewards are granted from: made whoever subscribes.
  for (auto& m : season_updates(st, prev, boards))
    c.tops.push_back(std::move(m));
  n += c.tops.size();
  st.updates.offer(self, std::move(c), n);
}

void complete_cut(self_ptr self, uint64_t cut, std::vector<shard_snapshot>& snaps) {
  auto& st = self->state;
  for (auto& s : snaps)
    st.shard_stats[s.shard] = schemas::shard_stats{s.shard, s.entries, s.mailbox, s.refused_new};
  auto prev = st.view;
  st.view = merge_cut(st, snaps);
  st.last_cut = cut;
  send_view(self);
  // After the view is out: the top-K walks need not delay readers and shards.
  publish_cut(self, *prev, snaps);
  // Stats requests wait for the cut that follows them; cuts complete in order.
  auto i = st.stats_waiting.begin();
  while (i != st.stats_waiting.end() && i->first <= cut) {
    for (auto& w : i->second)
      dispatch_stats(self, w);
    i = st.stats_waiting.erase(i);
  }
  auto w = st.view_waiting.begin();
  while (w != st.view_waiting.end() && w->first <= cut) {
    w->second.deliver(st.view);
    w = st.view_waiting.erase(w);
  }
  {
    // From the cut's request to its view: it bounds how stale views get.
    auto took = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - snaps.front().marker.at)
                  .count();
    st.timing.last_us = static_cast<uint64_t>(took);
    st.recent_us[st.timing.count % st.recent_us.size()] = st.timing.last_us;
    st.timing.count += 1;
  }
  st.out->merged(cut); // the gateway may cut again

  maybe_snapshot(self);
}

} // namespace

merge_handle::behavior_type merge_actor(merge_handle::stateful_pointer<merge_state> self,
                                        uint32_t shards, std::chrono::milliseconds interval,
                                        uint32_t top_k, outbox_factory make_outbox) {
  auto& st = self->state;
  st.out = make_outbox();
  st.interval = interval;
  st.top_k = top_k;
  st.shard_count = shards;
  st.shard_stats.resize(shards);
  for (uint32_t i = 0; i < shards; ++i)
    st.shard_stats[i].shard = i;
  auto empty = std::make_shared<ranking::global_view>();
  empty->made = std::chrono::steady_clock::now();
  st.view = std::move(empty);
  return {
    [self](merge_wiring& w) {
      auto& st = self->state;
      st.updates = update_channel{std::move(w.updates)};
      st.shards = std::move(w.shards);
      st.readers = std::move(w.readers);
      st.snapshots = std::move(w.snapshots);
      st.snapshot = w.snapshot;
      st.snapshot_seq = w.snapshot_seq;
      st.snapshot_at = std::chrono::steady_clock::now();
      send_view(self);
    },
    [self](shard_snapshot& snap) {
      auto turn = self->state.out->turn();
      auto& st = self->state;
      auto cut = snap.marker.cut;
      auto& parts = st.cuts[cut];
      parts.push_back(std::move(snap));
      if (parts.size() < st.shard_count)
        return;
      auto snaps = std::move(parts);
      st.cuts.erase(cut);
      complete_cut(self, cut, snaps);
    },
    // The view of cut `cut` (or a later one), once it is complete.
    [self](snap_atom, uint64_t cut) -> caf::result<ranking::view_ptr> {
      auto& st = self->state;
      if (cut <= st.last_cut)
        return st.view;
      auto rp = self->make_response_promise<view_ptr>();
      st.view_waiting.emplace(cut, rp);
      return rp;
    },
    [self](stats_wanted& w) {
      auto& st = self->state;
      if (w.cut <= st.last_cut)
        dispatch_stats(self, w);
      else
        st.stats_waiting[w.cut].push_back(std::move(w));
    },
  };
}

} // namespace lb::actors
