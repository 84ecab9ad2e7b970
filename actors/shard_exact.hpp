// Phase 2 of a round (shard_actor.hpp): the exact answers, from this
// shard's live parts and the other shards' published ones.
#pragma once

#include <cstdint>

#include "actors/shard_actor.hpp"

namespace lb::actors {

// Whether every other shard's publications that round `r` needs are in.
bool publications_in(const shard_state& st, const round_answers& r);

// Answers the round's submits and reads into the outbox, behind a gate at
// its last seq, and applies the other shards' publications up to the round.
// Pre: publications_in(st, r), and the live parts are as of the round's end.
void answer_round(shard_state& st, round_answers& r);

// Applies the received publications of rounds before `round` (with
// `including`, of `round` itself too) to the other shards' parts.
void apply_publications(shard_state& st, uint64_t round, bool including);

} // namespace lb::actors
