// The immutable part of a leaderboard entry that readers need besides its
// key: the player's name and the stored meta. Shared between the live tree
// of a shard and the frozen snapshots other actors read, so it is
// reference-counted and never changed after creation; a new meta makes a
// new record. One allocation holds the header, the name and the meta.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string_view>

#include "schemas/types.hpp"

namespace lb::ranking {

class entry_rec {
public:
  // Returns a record with one reference held by the caller.
  static entry_rec* make(std::string_view name, const std::optional<schemas::meta_value>& meta);

  // Inline: every lookup in a board's player index compares names.
  std::string_view name() const { return {data(), name_len_}; }
  bool has_meta() const;
  std::optional<schemas::meta_value> meta() const;
  // The meta's bytes (empty without meta) and kind, without a copy.
  std::string_view meta_bytes() const;
  bool meta_is_bin() const;

  void add_ref() const;
  void release() const; // frees the record when the last reference goes

  // Records alive in the process, for leak tests.
  static int64_t live_count();

private:
  entry_rec() = default;
  const char* data() const { return reinterpret_cast<const char*>(this + 1); }

  mutable std::atomic<uint32_t> refs_{1};
  uint16_t meta_len_ = 0;
  uint8_t name_len_ = 0; // names are at most 128 bytes
  uint8_t flags_ = 0;    // bit 0: has meta, bit 1: meta is bin
};

// Owning handle to a record (intrusive reference count).
class rec_ptr {
public:
  rec_ptr() = default;
  explicit rec_ptr(const entry_rec* adopt) : p_(adopt) {} // takes over one ref
  rec_ptr(const rec_ptr& o) : p_(o.p_) {
    if (p_)
      p_->add_ref();
  }
  rec_ptr(rec_ptr&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  rec_ptr& operator=(rec_ptr o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~rec_ptr() {
    if (p_)
      p_->release();
  }

  const entry_rec* get() const { return p_; }
  const entry_rec& operator*() const { return *p_; }
  const entry_rec* operator->() const { return p_; }
  explicit operator bool() const { return p_ != nullptr; }
  // Gives up ownership without releasing (the tree keeps the reference).
  const entry_rec* release_ownership() {
    auto p = p_;
    p_ = nullptr;
    return p;
  }

private:
  const entry_rec* p_ = nullptr;
};

} // namespace lb::ranking
