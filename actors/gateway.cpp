#include "actors/gateway.hpp"

#include <cstring>

#include "actors/ranking/partition.hpp"

namespace lb::actors {

gateway::gateway(caf::actor ingress, std::vector<caf::actor> shards,
                 std::vector<caf::actor> readers, gateway_limits limits)
  : ingress_(std::move(ingress)),
    shards_(std::move(shards)),
    readers_(std::move(readers)),
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
  auto& req = std::get<schemas::request_body>(decoded.body);
  auto shard_of = [&](const std::string& board, const std::string& player) {
    return ranking::owner_shard(board, player, static_cast<uint32_t>(shards_.size()));
  };
  if (auto* rank = std::get_if<schemas::rank_req>(&req)) {
    to_shards_[shard_of(rank->board, rank->player)].items.push_back(
      shard_query{std::move(to), std::move(*rank)});
  } else if (auto* around = std::get_if<schemas::around_req>(&req)) {
    to_shards_[shard_of(around->board, around->player)].items.push_back(
      shard_query{std::move(to), std::move(*around)});
  } else if (auto* top = std::get_if<schemas::top_req>(&req)) {
    to_reader_.items.push_back(reader_query{std::move(to), std::move(*top)});
  } else if (auto* ranks = std::get_if<schemas::ranks_req>(&req)) {
    to_reader_.items.push_back(reader_query{std::move(to), std::move(*ranks)});
  } else if (std::holds_alternative<schemas::boards_req>(req)) {
    to_reader_.items.push_back(reader_query{std::move(to), schemas::boards_req{}});
  } else if (std::holds_alternative<schemas::ping_req>(req)) {
    to_reader_.items.push_back(reader_query{std::move(to), schemas::ping_req{}});
  } else {
    // submit, batch, remove, reset, configure, stats: they need the seq order.
    to_ingress_.items.push_back(routed_request{std::move(to), std::move(req)});
  }
}

void gateway::on_ingest(std::string_view body) {
  auto decoded = schemas::decode_ingest(body.data(), body.size());
  if (!decoded.ok()) {
    ++to_ingress_.ingest_frames_rejected;
    return;
  }
  auto& req = std::get<schemas::request_body>(decoded.body);
  if (auto* b = std::get_if<schemas::batch_req>(&req)) {
    // Only valid items reach a shard, and only those are reported applied.
    for (auto& item : b->items)
      ingest_inflight_ += std::holds_alternative<schemas::submit_req>(item);
  } else {
    ++ingest_inflight_;
  }
  to_ingress_.items.push_back(routed_request{reply_to{}, std::move(req)});
}

void gateway::on_control(std::string_view body) {
  uint64_t applied = 0;
  if (body.size() == sizeof applied)
    std::memcpy(&applied, body.data(), sizeof applied);
  ingest_inflight_ -= std::min(applied, ingest_inflight_);
}

void gateway::on_reply_sent() {
  if (inflight_ > 0)
    --inflight_;
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
