#include "actors/storage/snapshot_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "actors/ranking/merged_ranking.hpp"
#include "actors/ranking/partition.hpp"
#include "actors/ranking/rank_key.hpp"
#include "schemas/snapshot_record.hpp"

namespace lb::storage {

namespace {

// The temporary file of one snapshot. Removed unless commit() succeeds, so
// an error anywhere (this code's or a bad_alloc) leaves nothing behind.
class snapshot_out {
public:
  snapshot_out(fs::path final_path, uint64_t seq)
    : final_(std::move(final_path)), out_(fs::path(final_).concat(".tmp")) {
    if (const int e = out_.create(file_header(file_kind::snapshot, seq)))
      fail("cannot create", e);
  }

  void add(const schemas::snapshot_item& item) {
    body_.clear();
    schemas::append_snapshot_item(body_, item);
    if (const int e = out_.add(body_))
      fail("cannot write", e);
  }

  void commit() {
    if (const int e = out_.flush())
      fail("cannot write", e);
    if (const int e = out_.sync())
      fail("cannot fdatasync", e);
    if (const int e = out_.close())
      fail("cannot close", e);
    if (::rename(out_.path().c_str(), final_.c_str()) != 0)
      fail("cannot rename to " + final_.string() + ":", errno);
    out_.keep();
    if (std::string why = sync_dir(final_.parent_path()); !why.empty())
      throw storage_error("snapshot " + final_.string() + " written but " + why);
  }

private:
  [[noreturn]] void fail(const std::string& what, int e) const {
    throw storage_error(what + " " + out_.path().string() + ": " + std::strerror(e)
                        + " (the snapshot was not written)");
  }

  fs::path final_;
  temp_file_writer out_;
  std::string body_;
};

// One board's entries in rank order, in chunks of max_snapshot_chunk.
void write_board(snapshot_out& out, const ranking::board_view& bv) {
  out.add(schemas::snapshot_board{bv.name, bv.config.order, bv.config.op, bv.total});
  const auto order = bv.config.order;
  schemas::snapshot_chunk chunk;
  chunk.entries.reserve(schemas::max_snapshot_chunk);
  uint64_t walked = 0;
  ranking::view_ranking(bv).walk(
    0, bv.total, [&](uint64_t, const ranking::rank_key& k, const ranking::entry_rec& rec) {
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
  if (walked != bv.total)
    throw storage_error("board '" + bv.name + "' has " + std::to_string(walked)
                        + " entries but its view says " + std::to_string(bv.total)
                        + " (a bug; the snapshot was not written)");
}

// Checks the records of a snapshot in order and loads them into the shards.
// Each method returns an empty string, or what is wrong with the record.
class snapshot_loader {
public:
  snapshot_loader(std::vector<replay_state>& into) : into_(into) {}

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
    return {};
  }

  std::string on(const schemas::snapshot_chunk& c) {
    if (boards_ == 0)
      return "entries before any board record";
    if (c.entries.size() > board_total_ - board_entries_)
      return "board '" + board_ + "' gets more entries than its total of "
             + std::to_string(board_total_);
    const auto shards = static_cast<uint32_t>(into_.size());
    for (const auto& e : c.entries) {
      if (e.seq > sum_.seq)
        return "player '" + e.player + "' on board '" + board_ + "' has seq "
               + std::to_string(e.seq) + ", after the snapshot's seq " + std::to_string(sum_.seq);
      const ranking::rank_key key = ranking::make_key(e.score, e.subscore, e.seq, order_);
      // Strictly increasing keys: rank order as written, and no two entries
      // share a key (the tree requires it).
      if (board_entries_ > 0 && !(last_key_ < key))
        return "player '" + e.player + "' on board '" + board_ + "' is out of rank order";
      auto& shard = into_[ranking::owner_shard(board_, e.player, shards)];
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
};

} // namespace

fs::path write_snapshot(const fs::path& dir, const ranking::global_view& view, int64_t time_ms) {
  const fs::path path = snapshot_path(dir, view.seq);
  snapshot_out out(path, view.seq);
  uint64_t entries = 0;
  for (const auto& kv : view.boards)
    entries += kv.second->total;
  const uint64_t boards = view.boards.size();
  out.add(schemas::snapshot_head{view.seq, time_ms, boards, entries});
  for (const auto& kv : view.boards)
    write_board(out, *kv.second);
  out.add(schemas::snapshot_end{boards, entries});
  out.commit();
  return path;
}

snapshot_summary read_snapshot(const fs::path& file, std::vector<replay_state>& into) {
  if (into.empty())
    throw storage_error("cannot read " + file.string() + " into zero shards");
  snapshot_loader loader(into);
  const scan_result r = scan_file(file, file_kind::snapshot, [&](uint64_t, std::string_view body) {
    return loader.record(body);
  });
  if (r.damage != damage_kind::none)
    throw storage_error(r.message);
  if (!loader.ended())
    throw storage_error(file.string() + ": no end record after offset " + std::to_string(r.good_end)
                        + ": the snapshot is cut short");
  if (r.header_seq != loader.summary().seq)
    throw storage_error(file.string() + ": the header says seq " + std::to_string(r.header_seq)
                        + " but the head record " + std::to_string(loader.summary().seq));
  return loader.summary();
}

} // namespace lb::storage
