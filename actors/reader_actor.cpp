#include "actors/reader_actor.hpp"

#include <algorithm>

#include "actors/paging.hpp"
#include "actors/ranking/digest.hpp"
#include "actors/ranking/merged_ranking.hpp"
#include "actors/ranking/partition.hpp"
#include "schemas/overload.hpp"

namespace lb::actors {

const char* reader_state::name = "lbd-reader";

namespace {

using self_ptr = reader_handle::stateful_pointer<reader_state>;
using schemas::error_code;

schemas::error no_board(const std::string& board) {
  return {error_code::not_found, "board '" + board + "' does not exist"};
}

schemas::reply_body make_top(const reader_state& st, const schemas::top_req& q) {
  auto* bv = st.view->find(q.board);
  if (bv == nullptr)
    return no_board(q.board);
  schemas::entries_reply r;
  r.board = q.board;
  r.seq = st.view->seq;
  std::vector<const ranking::tree_reader*> parts;
  parts.reserve(bv->parts.size());
  for (auto& p : bv->parts)
    parts.push_back(&p);
  fill_top_page(parts, q, bv->config.order, r);
  return r;
}

// Past this many pages (a client paging through a huge board) the cache
// starts over rather than grow: it is only a shortcut.
constexpr size_t max_top_pages = 256;

const schemas::reply_body& cached_top(reader_state& st, const schemas::top_req& q) {
  reader_state::page key{q.board, q.offset, q.limit};
  auto i = st.top_pages.find(key);
  if (i != st.top_pages.end())
    return i->second;
  if (st.top_pages.size() >= max_top_pages)
    st.top_pages.clear();
  return st.top_pages.emplace(std::move(key), make_top(st, q)).first->second;
}

// Pages by offset are cached; a page after a cursor is built each time (a
// walk by cursor rarely asks for the same page twice).
void answer_top(reader_state& st, const reply_to& to, const schemas::top_req& q) {
  if (q.after) {
    st.out->reply(to, make_top(st, q));
    return;
  }
  st.out->reply(to, cached_top(st, q));
}

// One page of boards in name order (PROTOCOL.md "Paging"): the view's index
// is sorted, so a page costs O(log B + limit).
schemas::reply_body answer_boards(const reader_state& st, const schemas::boards_req& q) {
  const auto& index = st.view->boards;
  schemas::boards_reply r;
  r.seq = st.view->seq;
  r.total = index.size();
  auto i = q.after ? index.upper_bound(*q.after) : index.begin();
  for (; i != index.end() && r.boards.size() < q.limit; ++i) {
    const auto& bv = **i;
    r.boards.push_back(ranking::board_info_of(bv.name, bv.total, bv.config, bv.season.number));
  }
  if (i != index.end() && !r.boards.empty())
    r.next = r.boards.back().board;
  return r;
}

// A friends list spans shards: each owning shard finds its players in the
// merged view and ranks them there; this reader sorts the lot. All answers
// must come from one view: if a shard had to answer from a newer one (it no
// longer remembered keys as old as this reader's view), the shards that
// answered from older views are asked again with the newest.
struct ranks_job {
  reply_to to;
  std::string board;
  std::vector<lookup_request> per_shard; // players by owning shard
  std::vector<lookup_reply> answers;     // by shard
  size_t waiting = 0;
  int rounds = 0;
  bool failed = false;
};

void ask_shards(self_ptr self, const std::shared_ptr<ranks_job>& job,
                const ranking::view_ptr& view);

void finish_ranks(self_ptr self, const std::shared_ptr<ranks_job>& job) {
  ranking::view_ptr newest;
  for (size_t i = 0; i < job->answers.size(); ++i)
    if (!job->per_shard[i].players.empty() && (!newest || job->answers[i].used->seq > newest->seq))
      newest = job->answers[i].used;
  bool agree = true;
  for (size_t i = 0; i < job->answers.size(); ++i)
    if (!job->per_shard[i].players.empty() && job->answers[i].used->seq != newest->seq)
      agree = false;
  if (!agree && job->rounds < 3) {
    ask_shards(self, job, newest);
    return;
  }
  self->state.out->gate(newest->seq); // as for reader_queries
  schemas::entries_reply r;
  r.board = job->board;
  r.seq = newest->seq;
  bool known = false;
  for (auto& a : job->answers) {
    known = known || a.board_known;
    r.total = std::max(r.total, a.total);
    for (auto& e : a.entries)
      r.entries.push_back(std::move(e));
  }
  if (!known) {
    self->state.out->reply(job->to, no_board(job->board));
    return;
  }
  std::sort(r.entries.begin(), r.entries.end(),
            [](const auto& a, const auto& b) { return a.rank < b.rank; });
  self->state.out->reply(job->to, r);
}

void ask_shards(self_ptr self, const std::shared_ptr<ranks_job>& job,
                const ranking::view_ptr& view) {
  auto& st = self->state;
  ++job->rounds;
  for (uint32_t i = 0; i < job->per_shard.size(); ++i) {
    auto& q = job->per_shard[i];
    if (q.players.empty() || (job->answers[i].used && job->answers[i].used->seq == view->seq))
      continue;
    ++job->waiting;
    q.view = view;
    self->request(st.shards[i], caf::infinite, q)
      .then(
        [self, job, i](lookup_reply& lr) {
          auto turn = self->state.out->turn();
          job->answers[i] = std::move(lr);
          if (--job->waiting == 0 && !job->failed)
            finish_ranks(self, job);
        },
        [self, job](caf::error& e) {
          auto turn = self->state.out->turn();
          if (job->failed)
            return;
          job->failed = true;
          self->state.out->reply(job->to, schemas::error{error_code::internal,
                                                         "ranks: " + self->system().render(e)});
        });
  }
}

void answer_ranks(self_ptr self, const reply_to& to, schemas::ranks_req& q) {
  auto& st = self->state;
  auto job = std::make_shared<ranks_job>();
  job->to = to;
  job->board = q.board;
  job->per_shard.resize(st.map.size());
  job->answers.resize(st.map.size());
  for (auto& player : q.players) {
    auto& ask = job->per_shard[st.map.owner(q.board, player)];
    ask.board = q.board;
    ask.players.push_back(std::move(player));
  }
  ask_shards(self, job, st.view);
}

schemas::reply_body answer_stats(const reader_state& st, stats_job& job) {
  schemas::stats_reply r;
  auto now = std::chrono::steady_clock::now();
  auto ms = [](auto d) {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  };
  r.seq = job.counters.seq;
  r.shards = std::move(job.shards);
  r.merge_interval_ms = job.merge_interval_ms;
  r.last_merge_seq = job.view->seq;
  r.merge_age_ms = ms(now - job.view->made);
  r.digest = ranking::state_digest(*job.view);
  r.boards = job.view->boards.size();
  r.entries = job.view->boards.entries();
  r.requests = job.counters.requests;
  r.rejected = job.counters.rejected;
  r.ingest_events = job.counters.ingest_events;
  r.ingest_rejected = job.counters.ingest_rejected;
  r.ingest_sources = std::move(job.counters.ingest_sources);
  r.uptime_ms = ms(now - st.started);
  r.log = job.counters.log;
  r.updates_published = job.updates_published;
  r.updates_dropped = job.updates_dropped;
  r.merges = job.merges;
  r.clients = job.counters.clients;
  for (const auto& s : r.shards)
    r.clients.overloaded_memory += s.refused_new;
  return r;
}

} // namespace

reader_handle::behavior_type reader_actor(reader_handle::stateful_pointer<reader_state> self,
                                          std::vector<shard_handle> shards,
                                          outbox_factory make_outbox) {
  auto& st = self->state;
  st.shards = std::move(shards);
  st.map = ranking::shard_map{static_cast<uint32_t>(st.shards.size())};
  st.out = make_outbox();
  st.view = std::make_shared<ranking::global_view>();
  st.started = std::chrono::steady_clock::now();
  return {
    [self](reader_queries& qs) {
      auto turn = self->state.out->turn();
      auto& st = self->state;
      // A view is cut from events as soon as they are written; its replies
      // wait in the gateway until the log is durable that far.
      st.out->gate(st.view->seq);
      for (auto& q : qs.items)
        std::visit(
          schemas::overload{
            [&](const schemas::top_req& top) { answer_top(st, q.to, top); },
            [&](schemas::ranks_req& ranks) { answer_ranks(self, q.to, ranks); },
            [&](const schemas::boards_req& b) { st.out->reply(q.to, answer_boards(st, b)); },

          },
          q.body);
    },
    [self](stats_job& job) {
      auto turn = self->state.out->turn();
      self->state.out->gate(job.view->seq); // its digest covers every event up to it
      self->state.out->reply(job.to, answer_stats(self->state, job));
    },
    [self](ranking::view_ptr& v) {
      self->state.view = std::move(v);
      self->state.top_pages.clear();
    },
  };
}

} // namespace lb::actors
