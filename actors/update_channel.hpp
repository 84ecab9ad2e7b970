// How shards and the merge actor hand update messages to the publisher actor
// without ever waiting for it.
//
// Every producer sends its updates in batches; the publisher is one actor
// writing one socket, and on two cores it may fall behind a burst (a reset of
// a large board publishes a rank/ for every player). Its backlog, the updates
// handed to it and not yet written, is kept in a counter that producers check
// before they send: past the bound they drop the batch and count it, so the
// publisher's mailbox, and the memory behind it, stay bounded whatever the
// subscribers do. The counters are atomics shared by the producers and the
// publisher (and read for `stats`); nothing else is shared.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <caf/all.hpp>

#include "actors/protocol.hpp"

namespace lb::actors {

// A producer that drops updates also counts the drop in
// update_counters::shed; the publisher then skips a stream_seq on every
// counted topic (publisher_actor.hpp), so that subscribers see the loss.
//
// The streams of PROTOCOL.md section 5, as bits of update_counters::wanted.
constexpr uint32_t score_stream = 1, rank_stream = 2, top_stream = 4;
constexpr uint32_t all_streams = score_stream | rank_stream | top_stream;

struct update_counters {
  // Which streams somebody subscribes to, as the publisher last saw. Producing
  // a stream nobody reads costs the shards most of their time under ingest
  // (a rank count per changed player per merge), so producers skip it.
  std::atomic<uint32_t> wanted{all_streams};
  std::atomic<uint64_t> backlog{0};   // handed to the publisher, not yet written
  std::atomic<uint64_t> published{0}; // written to the sink
  std::atomic<uint64_t> dropped{0};   // never written: over the backlog bound, or refused
  // Of `dropped`, those a producer dropped over the backlog bound: counted
  // before the producer sends anything later, so the publisher sees the
  // count grown by the time it writes the producer's next update.
  std::atomic<uint64_t> shed{0};
};

class update_channel {
public:
  update_channel() = default; // disabled: no update streams
  explicit update_channel(update_link link) : link_(std::move(link)) {}

  bool enabled() const { return link_.counters != nullptr; }
  // Whether somebody subscribes to the stream `kind` (one of the bits above).
  bool wants(uint32_t kind) const;
  // Whether the publisher can take n more updates now.
  bool has_room(uint64_t n) const;
  // Sends `msg` (holding n updates) to the publisher, or counts the n as
  // dropped if its backlog is over the bound. True if sent.
  template <class Self, class Message>
  bool offer(Self* self, Message&& msg, uint64_t n);
  // The same from outside any actor (the gateway, on the I/O thread).
  template <class Message>
  bool offer(Message&& msg, uint64_t n);
  // n updates dropped over the backlog bound before being offered.
  void count_dropped(uint64_t n);

  uint64_t published() const;
  uint64_t dropped() const;

private:
  // Takes room for n updates in the publisher's backlog, or counts them as
  // dropped and returns false.
  bool reserve(uint64_t n);

  update_link link_;
};

template <class Self, class Message>
bool update_channel::offer(Self* self, Message&& msg, uint64_t n) {
  if (!reserve(n))
    return false;
  self->send(link_.publisher, std::forward<Message>(msg));
  return true;
}

template <class Message>
bool update_channel::offer(Message&& msg, uint64_t n) {
  if (!reserve(n))
    return false;
  caf::anon_send(link_.publisher, std::forward<Message>(msg));
  return true;
}

} // namespace lb::actors
