// Events framed as log records, in seq order: what one append to the event
// log writes. The gateway's round builder fills one per round as it numbers
// events, and the journal hands its bytes to the segment writer unchanged,
// so the events are framed once, already in the order of the log. Every
// event of a batch carries the wall-clock time of its first one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "schemas/event_record.hpp"

namespace lb::storage {

class event_batch {
public:
  // Appends one event; seqs must increase from call to call.
  template <class Body>
  void add(uint64_t seq, const Body& body) {
    body_.clear();
    schemas::append_event(body_, seq, time_ms(), body);
    add_body(seq, body_);
  }

  // The framed records, ready for log_writer::write.
  std::string_view records() const { return records_; }
  uint64_t last_seq() const { return last_seq_; }
  uint64_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  // The time every event of the batch carries: the clock at its first.
  int64_t time_ms();

private:
  void add_body(uint64_t seq, std::string_view body);

  std::string records_;
  std::string body_; // scratch for one record body
  uint64_t last_seq_ = 0;
  uint64_t count_ = 0;
  int64_t time_ms_ = 0;
};

} // namespace lb::storage
