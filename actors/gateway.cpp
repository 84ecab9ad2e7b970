#include "actors/gateway.hpp"

#include <algorithm>

#include "actors/outbox.hpp"
#include "schemas/overload.hpp"

namespace lb::actors {

gateway::gateway(ingress_handle ingress, std::vector<shard_handle> shards,
                 std::vector<reader_handle> readers, gateway_limits limits)
  : ingress_(std::move(ingress)),
    shards_(std::move(shards)),
    readers_(std::move(readers)),
    map_(static_cast<uint32_t>(shards_.size())),
    limits_(limits),
    to_shards_(shards_.size()) {}

void gateway::on_request(std::string_view route, std::string_view body, const reply_fn& reply_now) {
  ++to_ingress_.requests_seen;
  auto decoded = schemas::decode_request(body.data(), body.size());
  if (!decoded.ok()) {
    ++to_ingress_.requests_rejected;
    reply_now(route, schemas::encode_reply(decoded.id, std::get<schemas::error>(decoded.body)));
    return;
  }
  if (inflight_ >= limits_.max_inflight) {
    reply_now(route, schemas::encode_reply(
                       decoded.id, schemas::error{schemas::error_code::overloaded,
                                                  "too many requests in flight; retry later"}));
    return;
  }
  ++inflight_;
  reply_to to{std::string(route), decoded.id};
  // Reads of one player go to the shard that owns it, reads of the merged
  // view to a reader, everything that needs the seq order to the ingress.
  auto to_owner = [&](auto& q) {
    to_shards_[map_.owner(q.board, q.player)].items.push_back(
      shard_query{std::move(to), std::move(q)});
  };
  auto to_reader = [&](auto& q) {
    to_reader_.items.push_back(reader_query{std::move(to), std::move(q)});
  };
  auto to_ingress = [&](auto& q) {
    to_ingress_.items.push_back(routed_request{std::move(to), std::move(q)});
  };
  std::visit(schemas::overload{
               [&](schemas::rank_req& q) { to_owner(q); },
               [&](schemas::around_req& q) { to_owner(q); },
               [&](schemas::top_req& q) { to_reader(q); },
               [&](schemas::ranks_req& q) { to_reader(q); },
               [&](schemas::boards_req& q) { to_reader(q); },
               [&](schemas::ping_req& q) { to_reader(q); },
               [&](schemas::submit_req& q) { to_ingress(q); },
               [&](schemas::batch_req& q) { to_ingress(q); },
               [&](schemas::remove_req& q) { to_ingress(q); },
               [&](schemas::reset_req& q) { to_ingress(q); },
               [&](schemas::configure_req& q) { to_ingress(q); },
               [&](schemas::stats_req& q) { to_ingress(q); },
             },
             std::get<schemas::request_body>(decoded.body));
}

void gateway::on_ingest(std::string_view body) {
  auto decoded = schemas::decode_ingest(body.data(), body.size());
  if (!decoded.ok()) {
    ++to_ingress_.ingest_frames_rejected;
    return;
  }
  std::visit(schemas::overload{
               [&](schemas::submit_req& s) {
                 ++ingest_inflight_;
                 to_ingress_.items.push_back(routed_request{reply_to{}, std::move(s)});
               },
               [&](schemas::batch_req& b) {
                 // Only valid items reach a shard, and only those are reported applied.
                 for (auto& item : b.items)
                   ingest_inflight_ += std::holds_alternative<schemas::submit_req>(item);
                 to_ingress_.items.push_back(routed_request{reply_to{}, std::move(b)});
               },
               // decode_ingest yields submits and batches only.
               [&](auto&) { ++to_ingress_.ingest_frames_rejected; },
             },
             std::get<schemas::request_body>(decoded.body));
}

void gateway::on_internal(std::string_view batch, const reply_fn& send) {
  outbox_batch::handlers h;
  h.reply = [&](std::string_view route, std::string_view body) {
    send(route, body);
    if (inflight_ > 0)
      --inflight_;
  };
  h.applied = [&](const ingest_applied& m) {
    ingest_inflight_ -= std::min(m.events, ingest_inflight_);
  };
  // Only our own actors write these; a malformed one is a bug, and the
  // items before the damage were handled.
  static_cast<void>(outbox_batch::read(batch, h));
}

void gateway::flush() {
  if (!to_ingress_.items.empty() || to_ingress_.requests_seen > 0
      || to_ingress_.ingest_frames_rejected > 0) {
    caf::anon_send(ingress_, std::move(to_ingress_));
    to_ingress_ = ingress_batch{};
  }
  for (size_t i = 0; i < to_shards_.size(); ++i) {
    if (to_shards_[i].items.empty())
      continue;
    caf::anon_send(shards_[i], std::move(to_shards_[i]));
    to_shards_[i] = shard_queries{};
  }
  if (!to_reader_.items.empty()) {
    caf::anon_send(readers_[next_reader_++ % readers_.size()], std::move(to_reader_));
    to_reader_ = reader_queries{};
  }
}

} // namespace lb::actors
