// The publisher actor: the only user of the update sink (the PUB socket,
// which is not thread-safe). It writes what shards and the merge actor
// encoded, in the order they sent it, and keeps the counters that `stats`
// reports. It never blocks: the sink drops what it cannot take, and
// producers stop handing it updates while its backlog is over the bound
// (see update_channel.hpp).
//
// Being the one writer, it is where two things that need the whole picture
// live (PROTOCOL.md section 5):
// - follow/: it reads the follow/<board>/<player> subscriptions off the
//   sink and hands every shard the set (follow_set), with a new generation
//   for a topic that got a new subscriber, so that its owner shard sends the
//   current state again;
// - stream_seq: it numbers the messages of every score/, top/, follow/ and
//   ack/ topic, one counter per exact topic. When a producer dropped
//   updates (update_counters::shed grew), every topic skips a number before
//   its next message: the dropped message's topic, whichever it was, shows
//   a gap. Rather than touch every counter, a topic's number is its own
//   count plus the skips so far, which is the same for the topics that have
//   counters and also covers the topics whose first message was the one
//   dropped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <absl/container/flat_hash_map.h>
#include <caf/all.hpp>

#include "actors/protocol.hpp"
#include "actors/update_channel.hpp"
#include "actors/update_sink.hpp"

namespace lb::actors {

// The topic families that carry stream_seq.
bool has_stream_seq(std::string_view topic);

struct publisher_state {
  std::unique_ptr<update_sink> sink;
  std::shared_ptr<update_counters> counters;
  std::vector<shard_handle> shards;

  // follow/ topics subscribed to now -> their generation.
  std::unordered_map<std::string, uint64_t> follows;
  uint64_t next_generation = 1;

  // stream_seq: messages written per topic, keyed by XXH3-64 of the topic,
  // and the skips for updates dropped before the publisher.
  absl::flat_hash_map<uint64_t, uint64_t> stream_counts;
  uint64_t skipped = 0;
  uint64_t shed_seen = 0; // update_counters::shed when last looked at

  static const char* name;

  // Numbers the message if its topic is counted, and writes it. A follow/
  // message whose topic nobody follows any more is not written.
  void publish(update_msg& m);
  // Asks the sink who subscribes to what; tells the producers which streams
  // to produce, and the shards which follow/ feeds. Returns whether the
  // follow set changed.
  bool poll_subscriptions();
  // The current follow set, as the shards get it.
  follow_set follow_snapshot() const;
  // `n` updates handed over by a producer are done (written or dropped).
  void done(uint64_t n);
};

publisher_handle::behavior_type
publisher_actor(publisher_handle::stateful_pointer<publisher_state> self,
                std::shared_ptr<update_counters> counters, update_sink_factory make_sink);

} // namespace lb::actors
