#include "actors/storage/event_batch.hpp"

#include <chrono>

#include "actors/storage/log_format.hpp"

namespace lb::storage {

int64_t event_batch::time_ms() {
  if (count_ == 0) {
    using namespace std::chrono;
    time_ms_ = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
  return time_ms_;
}

void event_batch::add_body(uint64_t seq, std::string_view body) {
  append_record(records_, body);
  last_seq_ = seq;
  ++count_;
}

} // namespace lb::storage
