#include "actors/ranking/entry_rec.hpp"

#include <cassert>
#include <cstring>
#include <limits>
#include <new>

namespace lb::ranking {

namespace {

// Relaxed is enough: the counter is only read by leak tests after the
// threads that touched records have been joined.
std::atomic<int64_t> live_records{0};

constexpr uint8_t has_meta_flag = 1;
constexpr uint8_t meta_bin_flag = 2;

} // namespace

entry_rec* entry_rec::make(std::string_view name, const std::optional<schemas::meta_value>& meta) {
  // The protocol layer validates lengths; these only guard the field widths.
  assert(name.size() <= std::numeric_limits<uint8_t>::max());
  const std::size_t meta_len = meta ? meta->bytes.size() : 0;
  assert(meta_len <= std::numeric_limits<uint16_t>::max());

  void* mem = ::operator new(sizeof(entry_rec) + name.size() + meta_len);
  auto* r = new (mem) entry_rec();
  r->name_len_ = static_cast<uint8_t>(name.size());
  r->meta_len_ = static_cast<uint16_t>(meta_len);
  if (meta)
    r->flags_ = has_meta_flag | (meta->is_bin ? meta_bin_flag : 0);

  char* bytes = reinterpret_cast<char*>(r + 1);
  if (!name.empty())
    std::memcpy(bytes, name.data(), name.size());
  if (meta_len)
    std::memcpy(bytes + name.size(), meta->bytes.data(), meta_len);

  live_records.fetch_add(1, std::memory_order_relaxed);
  return r;
}

bool entry_rec::has_meta() const {
  return flags_ & has_meta_flag;
}

std::optional<schemas::meta_value> entry_rec::meta() const {
  if (!has_meta())
    return std::nullopt;
  return schemas::meta_value{std::string(meta_bytes()), meta_is_bin()};
}

std::string_view entry_rec::meta_bytes() const {
  return {data() + name_len_, meta_len_};
}

bool entry_rec::meta_is_bin() const {
  return (flags_ & meta_bin_flag) != 0;
}

void entry_rec::add_ref() const {
  // A new reference is always made from an existing one, so nothing needs
  // to be ordered here; the decrement carries the synchronisation.
  refs_.fetch_add(1, std::memory_order_relaxed);
}

void entry_rec::release() const {
  // acq_rel: our reads of the record happen before the decrement (release),
  // and whoever frees it sees every other holder's reads finished (acquire).
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) != 1)
    return;
  auto* self = const_cast<entry_rec*>(this);
  self->~entry_rec();
  ::operator delete(self);
  live_records.fetch_sub(1, std::memory_order_relaxed);
}

int64_t entry_rec::live_count() {
  return live_records.load(std::memory_order_relaxed);
}

} // namespace lb::ranking
