// A board part's players by name: a slab of fixed-size slots and a flat
// open-addressing set (Abseil's flat_hash_set) of slot numbers that hashes
// and compares through the slab. A player costs its slot (key, record,
// published rank: 40 bytes) plus 4 bytes and a control byte in the set, about
// half of a node-based map's node, bucket and key copy; the name is stored
// once, in the record.
//
// Invariants:
// (1) A slot is in use exactly when it holds a record; the set holds the
//     number of every slot in use, once, and no other number.
// (2) No two slots in use hold records of the same name.
// (3) Slots not in use are on the free list and are reused before the slab
//     grows. The slab grows by whole chunks, so slots never move and a slot
//     pointer stays valid until that player is erased: chunk c holds 2^c
//     slots up to big_chunk, then every chunk holds big_chunk. So a board
//     part of one player costs one slot, and a big one wastes at most one
//     chunk.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <absl/container/flat_hash_set.h>

#include "actors/ranking/entry_rec.hpp"
#include "actors/ranking/rank_key.hpp"

namespace lb::ranking {

struct player_slot {
  rank_key key;
  rec_ptr rec;                 // null: the slot is free (1)
  uint64_t published_rank = 0; // last rank sent on rank/ (0: none); see published_ranks.hpp
};

class player_index {
public:
  player_index();
  player_index(player_index&&) noexcept = default;
  player_index& operator=(player_index&&) noexcept = default;

  size_t size() const { return set_.size(); }
  player_slot* find(std::string_view name);
  const player_slot* find(std::string_view name) const;
  // Precondition: no player of rec's name is in the index (2).
  player_slot& insert(const rank_key& key, rec_ptr rec);
  // Gives the player's slot a new record of the same name.
  void replace_record(player_slot& slot, rec_ptr rec) { slot.rec = std::move(rec); }
  bool erase(std::string_view name);
  void clear();
  // clear(), calling `pause` after every `step` records it lets go of (see
  // frozen_tree::release_paced).
  void release_paced(uint64_t step, const std::function<void()>& pause);

  template <class F>
  void for_each(F&& f) const {
    for (uint32_t i : set_)
      f(slot(i));
  }

  // (1)-(3); a description of the first violation, empty when all hold.
  std::string check_invariants() const;

private:
  static constexpr uint32_t big_chunk = 4096;
  // Slots in the chunks of doubling size, 1 + 2 + ... + big_chunk / 2.
  static constexpr uint32_t small_slots = big_chunk - 1;
  using chunk = std::unique_ptr<player_slot[]>;

  // The set's functors reach the slab through a pointer to it, which must
  // not change when the index moves: so the slab lives on the heap.
  struct slab {
    std::vector<chunk> chunks;
    std::vector<uint32_t> free; // (3)
    // Inline: every probe of the set reads a slot.
    player_slot& at(uint32_t i) const {
      if (i < small_slots) {
        // Chunk c starts at slot 2^c - 1 (3).
        const auto c = static_cast<uint32_t>(31 - __builtin_clz(i + 1));
        return chunks[c][i + 1 - (uint32_t{1} << c)];
      }
      const uint32_t j = i - small_slots;
      return chunks[__builtin_ctz(big_chunk) + j / big_chunk][j % big_chunk];
    }
    uint32_t capacity() const; // slots in all chunks
    void grow();               // adds the next chunk, its slots free
  };
  struct hash {
    using is_transparent = void;
    const slab* s;
    size_t operator()(std::string_view name) const;
    size_t operator()(uint32_t i) const { return (*this)(s->at(i).rec->name()); }
  };
  struct equal {
    using is_transparent = void;
    const slab* s;
    std::string_view name(uint32_t i) const { return s->at(i).rec->name(); }
    std::string_view name(std::string_view n) const { return n; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      return name(a) == name(b);
    }
  };

  player_slot& slot(uint32_t i) const { return slab_->at(i); }

  std::unique_ptr<slab> slab_;
  absl::flat_hash_set<uint32_t, hash, equal> set_;
};

} // namespace lb::ranking
