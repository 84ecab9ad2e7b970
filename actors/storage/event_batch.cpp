#include "actors/storage/event_batch.hpp"

#include "actors/storage/log_format.hpp"

namespace lb::storage {

int64_t event_batch::time_ms() {
  if (count_ == 0)
    time_ms_ = wall_clock_ms();
  return time_ms_;
}

void event_batch::add_body(uint64_t seq, std::string_view body) {
  append_record(records_, body);
  last_seq_ = seq;
  ++count_;
}

} // namespace lb::storage
