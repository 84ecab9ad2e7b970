// lb-replay rebuild: the state a log describes, rebuilt in this process with
// one replay_state (the whole state as a single shard), and its digest, which
// is the one leaderboardd's `stats` reports for the same data.
#include <algorithm>
#include <iostream>

#include "actors/ranking/digest.hpp"
#include "actors/ranking/merged_ranking.hpp"
#include "tools/lb-replay/common.hpp"
#include "tools/lb-replay/text.hpp"

namespace lb::replay {

namespace {

struct rebuilt {
  ranking::global_view view;
  uint64_t last_seq = 0;     // the state is the one after this event
  uint64_t events = 0;       // events applied (after the snapshot, if one was used)
  uint64_t snapshot_seq = 0; // 0: none
  std::vector<std::string> notes;
};

// Segment files given one by one: every event from the first file on.
rebuilt from_files(const std::vector<fs::path>& files, const event_filter& filter) {
  rebuilt out;
  storage::replay_state state;
  const auto read = storage::read_events(files, filter.until_seq,
                                         [&](const schemas::event_record& ev) {
                                           out.last_seq = ev.seq;
                                           if (filter(ev)) {
                                             state.apply(ev);
                                             ++out.events;
                                           }
                                         });
  if (!read.ok())
    throw storage::storage_error(storage::status::error(
      read.message()
      + " (lb-replay inspect lists every damaged record; a data folder given instead of files is "
        "read past a torn tail of its newest segment, as recovery does)"));
  out.view = state.freeze(out.last_seq);
  return out;
}

// Why a folder has no state after --until-seq: the log does not reach back
// to the newest snapshot at or before it (or to seq 0, without one).
std::string history_gone(const fs::path& dir, const storage::recovery_plan& plan,
                         uint64_t until_seq) {
  // Damaged snapshots the log continued: the plan's message names them.
  if (!plan.skipped.empty())
    return plan.stop->message;
  // Otherwise every snapshot at or before the limit is older than the log.
  const auto& snaps = plan.files.snapshots;
  uint64_t base = 0;
  for (const auto& s : snaps)
    if (s.seq <= until_seq)
      base = s.seq;
  const uint64_t first = plan.log_start + 1;
  std::string why = "the log in " + dir.string() + " starts at seq " + std::to_string(first)
                    + ", so events " + std::to_string(base + 1) + ".." + std::to_string(first - 1)
                    + " are gone";
  if (!snaps.empty() && snaps.front().seq > until_seq)
    why = "every snapshot in " + dir.string() + " is past --until-seq " + std::to_string(until_seq)
          + " (the oldest is at seq " + std::to_string(snaps.front().seq) + ") and " + why
          + ": use --until-seq of at least " + std::to_string(snaps.front().seq)
          + ", or keep old segments with leaderboardd --retain";
  return why;
}

// A data folder, read through the plan recovery makes but without changing
// a file (an offline tool must never cut a live service's segment): the
// newest snapshot at or before the limit, then the logged events after it,
// up to the limit.
rebuilt from_folder(const fs::path& dir, const event_filter& filter) {
  rebuilt out;
  std::vector<storage::replay_state> states(1);
  storage::plan_options po;
  po.dir = dir;
  po.until_seq = filter.until_seq;
  storage::recovery_plan plan;
  storage::throw_if_error(storage::plan_recovery(
    po, states,
    [&](const schemas::event_record& ev) {
      out.last_seq = ev.seq;
      if (filter(ev)) {
        states[0].apply(ev);
        ++out.events;
      }
    },
    plan));
  for (const auto& s : plan.skipped)
    out.notes.push_back("skipped a damaged snapshot: " + s.why);
  if (plan.stop && plan.stop->what == storage::plan_stop::kind::history)
    throw usage_error(history_gone(dir, plan, filter.until_seq));
  take_plan(plan, out.notes);
  out.snapshot_seq = plan.snapshot_seq();
  out.last_seq = std::max(out.last_seq, out.snapshot_seq);
  out.view = states[0].freeze(out.last_seq);
  // The snapshot restored every board; boards are independent, so leaving
  // the others out afterwards equals never having applied them.
  if (!filter.board.empty()) {
    std::vector<ranking::board_view_ptr> kept;
    if (auto i = out.view.boards.lower_bound(filter.board);
        i != out.view.boards.end() && (*i)->name == filter.board)
      kept.push_back(*i);
    out.view.boards = ranking::board_index{}.with(kept);
  }
  return out;
}

// The boards that keep closed season `n`, each as that season's standings
// (its parts on every shard, its total); the others left out.
ranking::board_index season_boards(const ranking::global_view& view, uint32_t n) {
  std::vector<ranking::board_view_ptr> kept;
  for (const auto& bv : view.boards) {
    auto closed = std::make_shared<ranking::board_view>();
    closed->name = bv->name;
    closed->config = bv->config;
    for (const auto* s : ranking::season_on_shards(bv->closed, n)) {
      closed->config = s->config; // the settings it closed with
      closed->parts.push_back(s->part->tree);
      closed->total += s->part->tree.size();
      closed->season.number = n;
      closed->season.start_ms = s->span.start_ms;
      closed->season.start_seq = s->span.start_seq;
    }
    if (!closed->parts.empty())
      kept.push_back(std::move(closed));
  }
  return ranking::board_index{}.with(kept);
}

std::vector<schemas::entry_view> top_of(const ranking::board_view& bv, uint64_t n) {
  std::vector<schemas::entry_view> out;
  ranking::view_ranking(bv).walk(
    0, n, [&](uint64_t pos, const ranking::rank_key& key, const ranking::entry_rec& rec) {
      out.push_back(ranking::to_entry_view(pos + 1, key, rec, bv.config.order));
    });
  return out;
}

void print_text(const rebuilt& r, const std::string& digest, const options& o) {
  const uint64_t entries = r.view.boards.entries();
  std::cout << "digest " << digest << '\n'
            << "state after seq " << r.last_seq << ": "
            << count(r.view.boards.size(), "board", "boards") << ", "
            << count(entries, "entry", "entries") << " (";
  if (r.snapshot_seq > 0)
    std::cout << "snapshot at seq " << r.snapshot_seq << " + ";
  std::cout << count(r.events, "event", "events");
  if (!o.board.empty())
    std::cout << " of board " << printable(o.board);
  std::cout << ")\n";
  for (const auto& bv : r.view.boards) {
    const auto& name = bv->name;
    std::cout << '\n' << printable(name);
    if (o.season > 0)
      std::cout << " season " << o.season;
    std::cout << " (" << schemas::to_string(bv->config.order) << ", "
              << schemas::to_string(bv->config.op) << "): " << count(bv->total, "entry", "entries")
              << '\n';
    if (o.top == 0 || bv->total == 0)
      continue;
    table t({"RANK", "PLAYER", "SCORE", "SUBSCORE", "META"}, {true, false, true, true, false});
    for (const auto& e : top_of(*bv, o.top))
      t.add({std::to_string(e.rank), printable(e.player), std::to_string(e.score),
             std::to_string(e.subscore), meta_text(e.meta)});
    std::cout << t.render("  ");
    if (bv->total > o.top)
      std::cout << "  ... and " << bv->total - o.top << " more\n";
  }
}

void print_json_doc(const rebuilt& r, const std::string& digest, const options& o) {
  msgpack::sbuffer buf;
  json_packer p(buf);
  p.pack_map(6);
  pack_str(p, "digest"), pack_str(p, digest);
  pack_str(p, "season");
  if (o.season > 0)
    p.pack(o.season);
  else
    p.pack_nil();
  pack_str(p, "last_seq"), p.pack(r.last_seq);
  pack_str(p, "events"), p.pack(r.events);
  pack_str(p, "snapshot_seq"), p.pack(r.snapshot_seq);
  pack_str(p, "boards");
  p.pack_array(static_cast<uint32_t>(r.view.boards.size()));
  for (const auto& bv : r.view.boards) {
    const auto& name = bv->name;
    p.pack_map(5);
    pack_str(p, "board"), pack_str(p, name);
    pack_str(p, "order"), pack_str(p, schemas::to_string(bv->config.order));
    pack_str(p, "operator"), pack_str(p, schemas::to_string(bv->config.op));
    pack_str(p, "total"), p.pack(bv->total);
    pack_str(p, "top");
    const auto top = top_of(*bv, o.top);
    p.pack_array(static_cast<uint32_t>(top.size()));
    for (const auto& e : top) {
      p.pack_map(5);
      pack_str(p, "rank"), p.pack(e.rank);
      pack_str(p, "player"), pack_str(p, e.player);
      pack_str(p, "score"), p.pack(e.score);
      pack_str(p, "subscore"), p.pack(e.subscore);
      pack_str(p, "meta"), pack_meta(p, e.meta);
    }
  }
  print_json(buf);
}

} // namespace

int run_rebuild(const options& o) {
  const auto src = source_of(resolve_inputs(o.logs));
  const event_filter filter{o.board, 0, o.until_seq};
  rebuilt r;
  if (!src.folder)
    r = from_files(src.segments, filter);
  else
    r = from_folder(*src.folder, filter);
  for (const auto& note : r.notes)
    std::cerr << "lb-replay: note: " << note << '\n';
  if (!o.board.empty() && r.view.find(o.board) == nullptr)
    std::cerr << "lb-replay: note: board '" << printable(o.board)
              << "' has no events in this log (names are case-sensitive)\n";
  // The digest is always the whole state's, which `stats` shows.
  const auto digest = ranking::state_digest(r.view);
  if (o.season > 0) {
    r.view.boards = season_boards(r.view, static_cast<uint32_t>(o.season));
    if (r.view.boards.size() == 0)
      std::cerr << "lb-replay: note: no board keeps season " << o.season
                << " (lb-replay inspect lists the rollovers)\n";
  }
  if (o.json)
    print_json_doc(r, digest, o);
  else
    print_text(r, digest, o);
  return exit_ok;
}

} // namespace lb::replay
