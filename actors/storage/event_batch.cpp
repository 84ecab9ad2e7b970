#include "actors/storage/event_batch.hpp"

#include "actors/storage/log_format.hpp"

namespace lb::storage {

void event_batch::add_body(uint64_t seq, std::string_view body) {
  append_record(records_, body);
  last_seq_ = seq;
  ++count_;
}

} // namespace lb::storage
