// A reader actor answers reads that ask for the merged view (`top`,
// `boards` and `ranks` with `exact: false`) and `stats`, and gathers those
// friends lists from the shards that own the players. Several readers share
// the load; each holds the latest view by pointer.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <caf/all.hpp>

#include "actors/outbox.hpp"
#include "actors/protocol.hpp"
#include "actors/ranking/partition.hpp"

namespace lb::actors {

struct reader_state {
  std::vector<shard_handle> shards;
  ranking::shard_map map{1};
  std::unique_ptr<outbox> out;
  ranking::view_ptr view;
  std::chrono::steady_clock::time_point started;

  // `top` answers of the current view. A view never changes, and dashboards
  // ask for the same page over and over, so each page is walked and built
  // once per merge instead of once per request. Cleared with every new view.
  struct page {
    std::string board;
    uint64_t offset = 0;
    uint32_t limit = 0;
    bool operator<(const page& o) const {
      return std::tie(board, offset, limit) < std::tie(o.board, o.offset, o.limit);
    }
  };
  std::map<page, schemas::reply_body> top_pages;

  static const char* name;
};

reader_handle::behavior_type reader_actor(reader_handle::stateful_pointer<reader_state> self,
                                          std::vector<shard_handle> shards,
                                          outbox_factory make_outbox);

} // namespace lb::actors
