// Replies the gateway assembles from several shards' parts: a batch (one
// item per submit, wherever its player lives), a reset (each shard's count
// of removed entries), a configure's emptiness check (each shard's count and
// configuration) and a friends list (each owning shard's entries). Each
// waits under a gather_id until its last part is in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "actors/protocol.hpp"
#include "schemas/reply.hpp"
#include "schemas/request.hpp"

namespace lb::actors {

// A reply ready to go.
struct finished {
  reply_to to;
  schemas::reply_body body;
};

// A configure whose every shard has answered its check.
struct checked_configure {
  reply_to to;
  schemas::configure_req req;
  uint64_t entries = 0;                       // on the board, over all shards
  std::optional<ranking::board_config> known; // its configuration, if it exists
};

class gathers {
public:
  // `results` has one slot per item, those already decided filled in.
  gather_id open_batch(reply_to to, std::vector<std::optional<schemas::batch_result>> results);
  // `season`: the season an archiving reset closes.
  gather_id open_reset(reply_to to, uint64_t seq, uint32_t parts,
                       std::optional<uint32_t> season = std::nullopt);
  gather_id open_check(reply_to to, schemas::configure_req req, uint32_t parts);
  gather_id open_friends(reply_to to, std::string board, uint32_t parts);

  // A batch with no slot left open is finished at once.
  std::optional<finished> close_if_done(gather_id batch);

  std::optional<finished> batch_item(gather_id batch, uint32_t index, schemas::batch_result r);
  // A reset's or a check's part. The last part finishes a reset; a check's
  // gives the gateway what it needs to decide.
  std::variant<std::monostate, finished, checked_configure>
  count_part(gather_id gather, uint64_t count, std::optional<ranking::board_config> c);
  // `seq`: the last event the part reflects.
  std::optional<finished> friends_part(gather_id gather, friends_answer&& part);
  // The gather is answered with `why` (its events were refused).
  std::optional<finished> fail(gather_id gather, const schemas::error& why);

private:
  struct batch {
    std::vector<std::optional<schemas::batch_result>> results;
  };
  struct reset {
    uint64_t seq = 0;
    uint64_t removed = 0;
    std::optional<uint32_t> season;
  };
  struct check {
    schemas::configure_req req;
    uint64_t entries = 0;
    std::optional<ranking::board_config> known;
  };
  struct friends {
    std::string board;
    uint64_t seq = 0;
    uint64_t total = 0;
    bool known = false;
    std::optional<uint32_t> season;
    std::string missing;
    std::vector<schemas::entry_view> entries;
  };
  struct pending {
    reply_to to;
    uint32_t parts_left = 0;
    std::variant<batch, reset, check, friends> what;
  };

  gather_id add(reply_to to, uint32_t parts, decltype(pending::what) what);
  // The pending gather, counted down by one part; nullptr if unknown.
  pending* part_of(gather_id id);

  gather_id next_ = 1;
  std::unordered_map<gather_id, pending> pending_;
};

} // namespace lb::actors
