#include "actors/storage/snapshot_file.hpp"

#include <utility>

#include "actors/ranking/merged_ranking.hpp"
#include "actors/ranking/partition.hpp"
#include "actors/ranking/rank_key.hpp"
#include "actors/storage/data_dir.hpp"
#include "actors/storage/log_reader.hpp"
#include "schemas/snapshot_record.hpp"

namespace lb::storage {

namespace {

// The records of one snapshot going into its temporary file. The first
// failure sticks: later records are dropped and commit() reports it.
class snapshot_out {
public:
  snapshot_out(const fs::path& dir, uint64_t seq) : st_(create_snapshot_temp(dir, seq, out_)) {}

  void add(const schemas::snapshot_item& item) {
    if (!st_.ok())
      return;
    body_.clear();
    schemas::append_snapshot_item(body_, item);
    record_.clear();
    try {
      append_record(record_, body_);
    } catch (const storage_error& e) { // a chunk over the record limit: a bug, reported
      st_ = e.cause();
      return;
    }
    st_ = out_.append(record_);
  }

  void fail(status why) {
    if (st_.ok())
      st_ = std::move(why);
  }

  status commit() {
    if (st_.ok())
      st_ = out_.commit();
    if (st_.ok())
      return st_;
    if (out_.in_place())
      return status::error("snapshot " + out_.final_path().string() + " written but "
                           + st_.message());
    return status::error(st_.message() + " (the snapshot was not written)");
  }

private:
  temp_file out_;
  status st_;
  std::string body_;
  std::string record_;
};

// Entries in rank order, in chunks of max_snapshot_chunk; returns how many.
uint64_t write_entries(snapshot_out& out, const ranking::merged_ranking& ranking, uint64_t total,
                       schemas::board_order order) {
  schemas::snapshot_chunk chunk;
  chunk.entries.reserve(schemas::max_snapshot_chunk);
  uint64_t walked = 0;
  ranking.walk(0, total, [&](uint64_t, const ranking::rank_key& k, const ranking::entry_rec& rec) {
    chunk.entries.push_back(
      schemas::snapshot_entry{std::string(rec.name()), ranking::unfold(k.primary, order),
                              ranking::unfold(k.secondary, order), k.seq, rec.meta()});
    ++walked;
    if (chunk.entries.size() == schemas::max_snapshot_chunk) {
      out.add(chunk);
      chunk.entries.clear();
    }
  });
  if (!chunk.entries.empty())
    out.add(chunk);
  return walked;
}

// One board: its settings and current season, its entries, then each kept
// closed season and its entries.
void write_board(snapshot_out& out, const ranking::board_view& bv) {
  schemas::snapshot_board b;
  b.board = bv.name;
  b.order = bv.config.order;
  b.op = bv.config.op;
  b.total = bv.total;
  b.schedule = bv.config.schedule ? *bv.config.schedule : std::string{};
  b.keep = bv.config.keep;
  b.season = bv.season.number;
  b.season_start_ms = bv.season.start_ms;
  b.season_start_seq = bv.season.start_seq;
  b.anchor_ms = bv.season.anchor_ms;
  out.add(b);
  const auto order = bv.config.order;
  const uint64_t walked = write_entries(out, ranking::view_ranking(bv), bv.total, order);
  if (walked != bv.total)
    out.fail(status::error("board '" + bv.name + "' has " + std::to_string(walked)
                           + " entries but its view says " + std::to_string(bv.total)
                           + " (a bug)"));
  const ranking::season_list* spans = ranking::kept_seasons(bv.closed);
  if (spans == nullptr)
    return;
  for (const auto& s : *spans) {
    auto ranking = ranking::season_ranking(ranking::season_on_shards(bv.closed, s.span.season));
    out.add(schemas::snapshot_season{s.span, ranking.total(), s.config.order, s.config.op});
    write_entries(out, ranking, ranking.total(), s.config.order);
  }
}

// Checks the records of a snapshot in order and loads them into the shards.
// Each method returns an empty string, or what is wrong with the record.
class snapshot_loader {
public:
  snapshot_loader(std::vector<replay_state>& into)
    : into_(into), map_(static_cast<uint32_t>(into.size())) {}

  std::string record(std::string_view body) {
    auto decoded = schemas::decode_snapshot_item(body.data(), body.size());
    if (auto* why = std::get_if<std::string>(&decoded))
      return *why;
    auto& item = std::get<schemas::snapshot_item>(decoded);
    if (ended_)
      return "a record after the end record";
    if (!head_seen_ && !std::holds_alternative<schemas::snapshot_head>(item))
      return "the first record is not the head";
    return std::visit([this](const auto& x) { return on(x); }, item);
  }

  bool ended() const { return ended_; }
  const snapshot_summary& summary() const { return sum_; }

private:
  std::string on(const schemas::snapshot_head& h) {
    if (head_seen_)
      return "a second head record";
    head_seen_ = true;
    sum_ = snapshot_summary{h.seq, h.time_ms, h.boards, h.entries};
    return {};
  }

  std::string on(const schemas::snapshot_board& b) {
    if (std::string why = close_board(); !why.empty())
      return why;
    if (std::string why = close_season(); !why.empty())
      return why;
    if (boards_ > 0 && !(board_ < b.board))
      return "board '" + b.board + "' after '" + board_
             + "': boards must be in strictly increasing name order";
    for (auto& shard : into_)
      shard.restore_board(b);
    ++boards_;
    board_ = b.board;
    order_ = b.order;
    board_total_ = b.total;
    board_entries_ = 0;
    season_now_ = b.season;
    last_season_ = 0;
    return {};
  }

  // A closed season of the board: its entries follow, like the board's.
  std::string on(const schemas::snapshot_season& s) {
    if (boards_ == 0)
      return "a season before any board record";
    if (std::string why = close_board(); !why.empty())
      return why;
    if (std::string why = close_season(); !why.empty())
      return why;
    if (s.span.season >= season_now_ || s.span.season <= last_season_)
      return "season " + std::to_string(s.span.season) + " of board '" + board_
             + "' is out of order";
    for (auto& shard : into_)
      shard.begin_season(board_, s);
    in_season_ = true;
    season_order_ = s.order;
    last_season_ = s.span.season;
    season_total_ = s.total;
    season_entries_ = 0;
    board_entries_ = board_total_; // the board's own entries are done
    return {};
  }

  std::string season_chunk(const schemas::snapshot_chunk& c) {
    if (c.entries.size() > season_total_ - season_entries_)
      return "season " + std::to_string(last_season_) + " of board '" + board_
             + "' gets more entries than its total of " + std::to_string(season_total_);
    for (const auto& e : c.entries) {
      const ranking::rank_key key = ranking::make_key(e.score, e.subscore, e.seq, season_order_);
      if (season_entries_ > 0 && !(last_key_ < key))
        return "player '" + e.player + "' in season " + std::to_string(last_season_) + " of board '"
               + board_ + "' is out of rank order";
      into_[map_.owner(board_, e.player)].restore_season_entry(e);
      last_key_ = key;
      ++season_entries_;
    }
    return {};
  }

  std::string close_season() {
    if (!in_season_)
      return {};
    in_season_ = false;
    if (season_entries_ != season_total_)
      return "season " + std::to_string(last_season_) + " of board '" + board_ + "' has "
             + std::to_string(season_entries_) + " entries, its total says "
             + std::to_string(season_total_);
    for (auto& shard : into_)
      shard.end_season(board_);
    return {};
  }

  std::string on(const schemas::snapshot_chunk& c) {
    if (boards_ == 0)
      return "entries before any board record";
    if (in_season_)
      return season_chunk(c);
    if (c.entries.size() > board_total_ - board_entries_)
      return "board '" + board_ + "' gets more entries than its total of "
             + std::to_string(board_total_);
    for (const auto& e : c.entries) {
      if (e.seq > sum_.seq)
        return "player '" + e.player + "' on board '" + board_ + "' has seq "
               + std::to_string(e.seq) + ", after the snapshot's seq " + std::to_string(sum_.seq);
      const ranking::rank_key key = ranking::make_key(e.score, e.subscore, e.seq, order_);
      // Strictly increasing keys: rank order as written, and no two entries
      // share a key (the tree requires it).
      if (board_entries_ > 0 && !(last_key_ < key))
        return "player '" + e.player + "' on board '" + board_ + "' is out of rank order";
      auto& shard = into_[map_.owner(board_, e.player)];
      if (shard.boards().at(board_).find(e.player) != nullptr)
        return "player '" + e.player + "' appears twice on board '" + board_ + "'";
      shard.restore_entry(board_, e);
      last_key_ = key;
      ++board_entries_;
      ++entries_;
    }
    return {};
  }

  std::string on(const schemas::snapshot_end& e) {
    if (std::string why = close_board(); !why.empty())
      return why;
    if (std::string why = close_season(); !why.empty())
      return why;
    ended_ = true;
    if (e.boards != sum_.boards || e.entries != sum_.entries)
      return "the end record counts " + counts(e.boards, e.entries) + " but the head "
             + counts(sum_.boards, sum_.entries);
    if (boards_ != sum_.boards || entries_ != sum_.entries)
      return "the file holds " + counts(boards_, entries_) + " but the head counts "
             + counts(sum_.boards, sum_.entries);
    return {};
  }

  std::string close_board() {
    if (boards_ == 0 || board_entries_ == board_total_)
      return {};
    return "board '" + board_ + "' has " + std::to_string(board_entries_)
           + " entries, its total says " + std::to_string(board_total_);
  }

  static std::string counts(uint64_t boards, uint64_t entries) {
    return std::to_string(boards) + " boards and " + std::to_string(entries) + " entries";
  }

  std::vector<replay_state>& into_;
  ranking::shard_map map_;
  snapshot_summary sum_;
  bool head_seen_ = false;
  bool ended_ = false;
  uint64_t boards_ = 0;
  uint64_t entries_ = 0;
  std::string board_;
  schemas::board_order order_ = schemas::board_order::desc;
  uint64_t board_total_ = 0;
  uint64_t board_entries_ = 0;
  ranking::rank_key last_key_;
  // The board's closed season being read.
  bool in_season_ = false;
  uint32_t season_now_ = 1; // the board's current season
  schemas::board_order season_order_ = schemas::board_order::desc;
  uint32_t last_season_ = 0; // the last season record's number
  uint64_t season_total_ = 0;
  uint64_t season_entries_ = 0;
};

} // namespace

status write_snapshot(const fs::path& dir, const ranking::global_view& view, int64_t time_ms,
                      fs::path& written) {
  snapshot_out out(dir, view.seq);
  const uint64_t entries = view.boards.entries();
  const uint64_t boards = view.boards.size();
  out.add(schemas::snapshot_head{view.seq, time_ms, boards, entries});
  for (const auto& bv : view.boards)
    write_board(out, *bv);
  out.add(schemas::snapshot_end{boards, entries});
  written = snapshot_path(dir, view.seq);
  return out.commit();
}

status read_snapshot(const fs::path& file, std::vector<replay_state>& into, snapshot_summary& out) {
  if (into.empty())
    return status::error("cannot read " + file.string() + " into zero shards");
  snapshot_loader loader(into);
  scan_result r;
  status st = scan_file(
    file, file_kind::snapshot, [&](uint64_t, std::string_view body) { return loader.record(body); },
    r);
  if (!st.ok())
    return st;
  if (r.damage != damage_kind::none)
    return status::error(r.message);
  if (!loader.ended())
    return status::error(file.string() + ": no end record after offset "
                         + std::to_string(r.good_end) + ": the snapshot is cut short");
  if (r.header_seq != loader.summary().seq)
    return status::error(file.string() + ": the header says seq " + std::to_string(r.header_seq)
                         + " but the head record " + std::to_string(loader.summary().seq));
  out = loader.summary();
  return {};
}

} // namespace lb::storage
