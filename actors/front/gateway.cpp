#include "actors/front/gateway.hpp"

#include "actors/storage/log_format.hpp"

#include <algorithm>
#include <cstring>

#include "actors/logger.hpp"
#include "actors/outbox.hpp"
#include "schemas/overload.hpp"

namespace lb::actors {

namespace {

schemas::error overloaded(const std::string& why) {
  return {schemas::error_code::overloaded, why};
}

// However many connections wait, each may have this many requests in flight.
constexpr uint64_t min_client_share = 8;

// The gateway's counts with the transport's.
schemas::client_stats merged_client_stats(const schemas::client_stats& mine,
                                          schemas::client_stats transport) {
  transport.unauthorized = mine.unauthorized;
  transport.overloaded_busy = mine.overloaded_busy;
  transport.overloaded_unread = mine.overloaded_unread;
  return transport; // overloaded_memory: the shards count it (reader_actor sums it)
}

// Reads with `exact: false` take the merged view; every other request takes
// its place in the event stream.
bool reads_merged_view(const schemas::request_body& body) {
  return std::visit(schemas::overload{
                      // A season's reads go the exact way: closed seasons
                      // are not in the merged view, and never change.
                      [](const schemas::rank_req& q) { return !q.exact && !q.season; },
                      [](const schemas::around_req& q) { return !q.exact && !q.season; },
                      [](const schemas::top_req& q) { return !q.exact && !q.season; },
                      [](const schemas::ranks_req& q) { return !q.exact && !q.season; },
                      [](const schemas::boards_req& q) { return !q.exact; },
                      [](const auto&) { return false; },
                    },
                    body);
}

// What each op needs (PROTOCOL.md, "Access"); a board the admin op acts on.
client_role needed_role(const schemas::request_body& body) {
  return std::visit(schemas::overload{
                      [](const schemas::submit_req&) { return client_role::writer; },
                      [](const schemas::batch_req&) { return client_role::writer; },
                      [](const schemas::remove_req&) { return client_role::admin; },
                      [](const schemas::reset_req&) { return client_role::admin; },
                      [](const schemas::configure_req&) { return client_role::admin; },
                      [](const auto&) { return client_role::reader; },
                    },
                    body);
}

// The entries a reply may carry: what a request in flight may cost its
// connection in queued bytes once answered.
uint64_t reply_weight(const schemas::request_body& body) {
  return std::visit(schemas::overload{
                      [](const schemas::top_req& q) -> uint64_t { return q.limit; },
                      [](const schemas::around_req& q) -> uint64_t { return 2 * q.radius + 1; },
                      [](const schemas::ranks_req& q) -> uint64_t { return q.players.size(); },
                      [](const schemas::boards_req& q) -> uint64_t { return q.limit; },
                      [](const schemas::batch_req& q) -> uint64_t { return q.items.size(); },
                      [](const auto&) -> uint64_t { return 1; },
                    },
                    body);
}

// A reply_to's route is the transport's route and then the request's weight
// (4 bytes): the actors carry it back untouched, and the gateway strips it
// as the reply goes out, knowing what the reply frees.
std::string weighed(std::string_view route, uint64_t weight) {
  std::string out(route);
  auto w = static_cast<uint32_t>(std::min<uint64_t>(weight, UINT32_MAX));
  out.append(reinterpret_cast<const char*>(&w), sizeof w);
  return out;
}

std::pair<std::string_view, uint64_t> unweighed(std::string_view route) {
  uint32_t w = 0;
  if (route.size() < sizeof w)
    return {route, 0};
  std::memcpy(&w, route.data() + route.size() - sizeof w, sizeof w);
  return {route.substr(0, route.size() - sizeof w), w};
}

const char* to_string(client_role r) {
  switch (r) {
    case client_role::admin:
      return "admin";
    case client_role::writer:
      return "writer";
    case client_role::reader:
      return "reader";
    case client_role::none:
      break;
  }
  return "no";
}

// The admin op for the log: "reset of board 'b'".
std::string admin_op(const schemas::request_body& body) {
  return std::visit(
    schemas::overload{
      [](const schemas::remove_req& r) {
        return "remove of player '" + r.player + "' from board '" + r.board + "'";
      },
      [](const schemas::reset_req& r) { return "reset of board '" + r.board + "'"; },
      [](const schemas::configure_req& r) { return "configure of board '" + r.board + "'"; },
      [](const auto&) { return std::string("?"); },
    },
    body);
}

} // namespace

gateway::gateway(service& svc, const service_options& opts, send_fn send, gateway_limits limits,
                 client_stats_fn client_stats)
  : svc_(svc),
    send_(std::move(send)),
    limits_(limits),
    merge_interval_(opts.merge_interval),
    rounds_(static_cast<uint32_t>(svc.shards.size()), svc.last_seq),
    journal_(opts.log, std::move(svc.log_writer), svc.last_seq, svc.log),
    to_shards_(svc.shards.size()),
    next_cut_(svc.next_cut),
    cut_seq_(svc.last_seq),
    next_cut_at_(std::chrono::steady_clock::now() + opts.merge_interval),
    data_dir_(opts.log.dir),
    client_stats_(std::move(client_stats)),
    updates_(svc.updates) {
  seasons_.load(svc.seasons);
}

void gateway::on_request(std::string_view route, std::string_view body,
                         const request_origin& from) {
  ++counters_.requests;
  auto decoded = schemas::decode_request(body.data(), body.size());
  if (!decoded.ok()) {
    ++counters_.rejected;
    send_(route, schemas::encode_reply(decoded.id, std::get<schemas::error>(decoded.body)));
    return;
  }
  auto& req = std::get<schemas::request_body>(decoded.body);
  auto weight = reply_weight(req);
  std::string connection(route);
  auto it = inflight_by_client_.find(connection);
  const client_load* mine = it == inflight_by_client_.end() ? nullptr : &it->second;
  if (!admitted(route, req, weight, mine, from, decoded.id))
    return;
  ++inflight_;
  auto& load = mine != nullptr ? it->second : inflight_by_client_[std::move(connection)];
  ++load.requests;
  load.weight += weight;
  dispatch(reply_to{weighed(route, weight), decoded.id}, std::move(req), false);
}

bool gateway::admitted(std::string_view route, const schemas::request_body& body, uint64_t weight,
                       const client_load* in_flight, const request_origin& from,
                       std::optional<uint64_t> id) {
  auto refuse = [&](uint64_t& counter, schemas::error err) {
    ++counter;
    send_(route, schemas::encode_reply(id, err));
    return false;
  };
  auto& counted = counters_.clients;
  auto need = needed_role(body);
  if (from.role < need)
    return refuse(counted.unauthorized,
                  {schemas::error_code::unauthorized,
                   std::string("this client's key is a ") + to_string(from.role)
                     + " key; the op needs "
                     + (need == client_role::admin ? "an admin key (--admins)"
                                                   : "a writer key (--writers) or an admin key")});
  if (from.unread >= limits_.max_unread)
    return refuse(counted.overloaded_unread,
                  overloaded(std::to_string(from.unread)
                             + " bytes of replies to this connection are unread; read them "
                               "before sending more"));
  const client_load mine = in_flight != nullptr ? *in_flight : client_load{};
  if (mine.requests > 0 && mine.weight + weight > limits_.max_inflight_entries_per_client)
    return refuse(counted.overloaded_busy,
                  overloaded("this connection's requests in flight may answer with "
                             + std::to_string(mine.weight)
                             + " entries, its limit; wait for replies before sending more"));
  // The budget split over the connections waiting for replies, this one
  // too, and one more: however greedy the others, a newcomer finds room.
  uint64_t waiting = inflight_by_client_.size() + (mine.requests == 0 ? 1 : 0);
  uint64_t share = std::min(limits_.max_inflight_per_client,
                            std::max(min_client_share, limits_.max_inflight / (waiting + 1)));
  if (mine.requests >= share)
    return refuse(counted.overloaded_busy,
                  overloaded("this connection has " + std::to_string(mine.requests)
                             + " requests in flight, its share; wait for replies before sending "
                               "more"));
  if (inflight_ >= limits_.max_inflight)
    return refuse(counted.overloaded_busy, overloaded("too many requests in flight; retry later"));
  if (need == client_role::admin)
    logger::note("admin: " + admin_op(body) + " by "
                 + (from.key.empty() ? std::string("a client without a key (no --curve-secret)")
                                     : "key " + std::string(from.key))
                 + (from.address.empty() ? "" : " from " + std::string(from.address)));
  return true;
}

void gateway::send_reply(std::string_view weighed_route, std::string_view body) {
  auto [route, weight] = unweighed(weighed_route);
  send_(route, body);
  if (inflight_ > 0)
    --inflight_;
  auto it = inflight_by_client_.find(std::string(route));
  if (it == inflight_by_client_.end())
    return;
  auto& load = it->second;
  load.weight -= std::min(load.weight, weight);
  if (--load.requests == 0)
    inflight_by_client_.erase(it);
}

void gateway::on_ingest(std::string_view body) {
  auto decoded = schemas::decode_ingest(body.data(), body.size());
  if (!decoded.ok()) {
    ++counters_.ingest_rejected;
    if (!decoded.source)
      return;
    schemas::ingest_ack ack;
    ack.source = std::move(*decoded.source);
    ack.refuse(std::nullopt, std::move(std::get<schemas::error>(decoded.body)));
    if (barrier_)
      stalled_.push_back(stalled{{}, {}, true, std::nullopt, std::move(ack)});
    else
      acknowledge(std::move(ack));
    return;
  }
  auto& req = std::get<schemas::request_body>(decoded.body);
  // Only valid items reach a shard, and only those are reported applied.
  if (auto* b = std::get_if<schemas::batch_req>(&req))
    for (auto& item : b->items)
      ingest_inflight_ += std::holds_alternative<schemas::submit_req>(item);
  else
    ++ingest_inflight_;
  dispatch(reply_to{}, std::move(req), true, std::move(decoded.source));
}

void gateway::dispatch(reply_to&& to, schemas::request_body&& body, bool ingest,
                       std::optional<std::string> source) {
  if (std::holds_alternative<schemas::ping_req>(body)) {
    answer(to, schemas::pong_reply{});
    return;
  }
  if (reads_merged_view(body)) {
    std::visit(schemas::overload{
                 [&](schemas::rank_req& q) {
                   auto& to_shard = to_shards_[rounds_.map().owner(q.board, q.player)];
                   to_shard.items.push_back(shard_query{std::move(to), std::move(q)});
                 },
                 [&](schemas::around_req& q) {
                   auto& to_shard = to_shards_[rounds_.map().owner(q.board, q.player)];
                   to_shard.items.push_back(shard_query{std::move(to), std::move(q)});
                 },
                 [&](schemas::top_req& q) {
                   to_reader_.items.push_back(reader_query{std::move(to), std::move(q)});
                 },
                 [&](schemas::ranks_req& q) {
                   to_reader_.items.push_back(reader_query{std::move(to), std::move(q)});
                 },
                 [&](schemas::boards_req& q) {
                   to_reader_.items.push_back(reader_query{std::move(to), q});
                 },
                 [&](auto&) {},
               },
               body);
    return;
  }
  // While a configure waits for its check, nothing else may be ordered
  // after it: later requests wait, in arrival order.
  if (barrier_) {
    stalled_.push_back(stalled{std::move(to), std::move(body), ingest, std::move(source), {}});
    return;
  }
  order(std::move(to), std::move(body), ingest, std::move(source));
}

void gateway::order(reply_to&& to, schemas::request_body&& body, bool ingest,
                    std::optional<std::string> source) {
  const auto shards = static_cast<uint32_t>(svc_.shards.size());
  std::visit(
    schemas::overload{
      [&](schemas::submit_req& s) {
        counters_.ingest_events += ingest;
        s.existing_only = memory_full_;
        auto seq = rounds_.event(
          s,
          [&](uint64_t seq) {
            return submit_event{seq, std::move(s), std::move(to)};
          },
          ingest);
        if (source) {
          schemas::ingest_ack ack;
          ack.source = std::move(*source);
          ack.accepted = 1;
          ack.first_seq = ack.last_seq = seq;
          ack.memory_full = memory_full_;
          acknowledge(std::move(ack));
        }
      },
      [&](schemas::batch_req& b) {
        order_batch(std::move(to), std::move(b), ingest, std::move(source));
      },
      [&](schemas::remove_req& rm) {
        rounds_.event(
          rm,
          [&](uint64_t seq) {
            return remove_event{seq, std::move(rm), std::move(to)};
          },
          false);
      },
      [&](schemas::reset_req& rs) {
        if (rs.archive) {
          auto body = seasons_.close_now(rs.board, storage::wall_clock_ms());
          auto gather = gathers_.open_reset(std::move(to), rounds_.last_seq() + 1, shards,
                                            body.season);
          rollover(std::move(body), gather);
          return;
        }
        auto gather = gathers_.open_reset(std::move(to), rounds_.last_seq() + 1, shards);
        rounds_.event(
          rs,
          [&](uint64_t seq) {
            return reset_event{seq, rs.board, gather};
          },
          false);
      },
      [&](schemas::seasons_req& q) {
        auto shard = rounds_.map().owner(q.board, {});
        auto next = seasons_.next_ms(q.board);
        rounds_.op(shard, seasons_read{std::move(to), std::move(q), next});
      },
      [&](schemas::configure_req& cf) {
        // Not an event yet: first every shard says whether the board is empty.
        auto board = cf.board;
        auto gather = gathers_.open_check(std::move(to), std::move(cf), shards);
        rounds_.to_all(config_check{std::move(board), gather});
        barrier_ = true;
      },
      [&](schemas::stats_req&) {
        auto cut = next_cut_++;
        rounds_.to_all(freeze_marker{cut, rounds_.last_seq(), std::chrono::steady_clock::now()});
        auto counters = counters_;
        counters.seq = rounds_.last_seq(); // lowered if the round is refused (refuse)
        counters.ingest_sources = source_table();
        if (client_stats_)
          counters.clients = merged_client_stats(counters_.clients, client_stats_());
        counters.log = journal_.stats();
        stats_waiting_.push_back(stats_wanted{cut, std::move(to), counters});
      },
      [&](schemas::rank_req& q) {
        auto shard = rounds_.map().owner(q.board, q.player);
        rounds_.op(shard, rank_read{std::move(to), std::move(q)});
      },
      [&](schemas::around_req& q) {
        auto shard = rounds_.map().owner(q.board, q.player);
        rounds_.op(shard, around_read{std::move(to), std::move(q)});
      },
      [&](schemas::top_req& q) {
        // Any shard can: each knows every part. Spread boards over them.
        auto shard = rounds_.map().owner(q.board, {});
        rounds_.op(shard, top_read{std::move(to), std::move(q)});
      },
      [&](schemas::boards_req& q) {
        rounds_.op(static_cast<uint32_t>(next_boards_shard_++ % shards),
                   boards_read{std::move(to), std::move(q)});
      },
      [&](schemas::ranks_req& q) { order_friends(std::move(to), std::move(q)); },
      [&](schemas::ping_req&) { answer(to, schemas::pong_reply{}); },
    },
    body);
}

void gateway::order_batch(reply_to&& to, schemas::batch_req&& b, bool ingest,
                          std::optional<std::string> source) {
  std::optional<schemas::ingest_ack> ack;
  if (source) {
    ack.emplace();
    ack->source = std::move(*source);
  }
  std::vector<std::optional<schemas::batch_result>> results(b.items.size());
  for (uint32_t i = 0; i < b.items.size(); ++i)
    if (auto* err = std::get_if<schemas::error>(&b.items[i])) {
      if (ack)
        ack->refuse(i, *err);
      results[i] = std::move(*err);
      counters_.ingest_rejected += ingest;
    }
  // Nobody reads an ingest batch's results: its submits carry no slot, which
  // spares the shards the rank counts.
  gather_id gather = ingest ? 0 : gathers_.open_batch(std::move(to), std::move(results));
  for (uint32_t i = 0; i < b.items.size(); ++i) {
    auto* s = std::get_if<schemas::submit_req>(&b.items[i]);
    if (s == nullptr)
      continue;
    counters_.ingest_events += ingest;
    s->existing_only = memory_full_;
    submit_target target = ingest ? submit_target{reply_to{}} : batch_slot{gather, i};
    auto seq = rounds_.event(
      *s,
      [&](uint64_t seq) {
        return submit_event{seq, std::move(*s), std::move(target)};
      },
      ingest);
    if (ack) {
      ++ack->accepted;
      if (!ack->first_seq)
        ack->first_seq = seq;
      ack->last_seq = seq;
      ack->memory_full = memory_full_;
    }
  }
  if (ack)
    acknowledge(std::move(*ack));
  if (!ingest)
    finish(gathers_.close_if_done(gather)); // every item was an error
}

void gateway::order_friends(reply_to&& to, schemas::ranks_req&& q) {
  std::vector<std::vector<std::string>> by_shard(svc_.shards.size());
  for (auto& player : q.players)
    by_shard[rounds_.map().owner(q.board, player)].push_back(std::move(player));
  uint32_t parts = 0;
  for (const auto& players : by_shard)
    parts += !players.empty();
  auto gather = gathers_.open_friends(std::move(to), q.board, parts);
  for (uint32_t s = 0; s < by_shard.size(); ++s)
    if (!by_shard[s].empty())
      rounds_.op(s, ranks_read{gather, q.board, std::move(by_shard[s]), q.season});
}

void gateway::rollover(schemas::rollover_body&& body, gather_id gather) {
  rounds_.event(
    body,
    [&](uint64_t seq) {
      auto board = body.board;
      return reset_event{seq, std::move(board), gather, std::move(body)};
    },
    false);
}

void gateway::roll_due_seasons() {
  // Not while a configure's check is out: its answer must hold when the
  // configure is ordered. The next drain rolls the board over.
  if (barrier_)
    return;
  const auto earliest = seasons_.earliest();
  if (!earliest)
    return;
  const int64_t now = storage::wall_clock_ms();
  if (*earliest > now)
    return;
  for (auto& body : seasons_.due(now))
    rollover(std::move(body), 0);
}

void gateway::decide(checked_configure&& c) {
  auto& req = c.req;
  // Order and operator change what entries mean; a schedule and the seasons
  // kept do not, so those may change on a board in use.
  if (c.entries > 0 && (req.order || req.op)) {
    answer(c.to, schemas::error{schemas::error_code::conflict,
                                "board '" + req.board + "' has " + std::to_string(c.entries)
                                  + " entries; order and operator can only be configured on an"
                                    " empty board (schedule and keep can change any time)"});
  } else {
    ranking::board_config config = c.known.value_or(ranking::board_config{});
    if (req.order)
      config.order = *req.order;
    if (req.op)
      config.op = *req.op;
    const std::string schedule = req.schedule.value_or(seasons_.schedule(req.board));
    config.keep = req.keep.value_or(seasons_.keep(req.board));
    config.schedule = schedule.empty() ? nullptr : std::make_shared<const std::string>(schedule);
    int64_t at_ms = 0;
    auto seq = rounds_.event(
      schemas::configure_event_body{req.board, config.order, config.op, schedule, config.keep},
      [&](uint64_t s) {
        at_ms = rounds_.current().events.time_ms(); // what the log says, so replays agree
        return configure_event{s, req.board, config, at_ms};
      },
      false);
    seasons_.configured(req.board, schedule, config.keep, at_ms);
    schemas::configure_reply reply{req.board, config.order, config.op, seq};
    if (!schedule.empty())
      reply.schedule = schedule;
    reply.keep = config.keep;
    answer_when_durable(seq, c.to, reply);
  }
  barrier_ = false;
  unstall();
}

void gateway::unstall() {
  while (!barrier_ && !stalled_.empty()) {
    auto s = std::move(stalled_.front());
    stalled_.pop_front();
    if (s.refused)
      acknowledge(std::move(*s.refused));
    else
      order(std::move(s.to), std::move(s.body), s.ingest, std::move(s.source));
  }
}

void gateway::check_memory(std::chrono::steady_clock::time_point now) {
  if (limits_.max_memory == 0 || !limits_.resident_bytes || now < next_memory_check_)
    return;
  next_memory_check_ = now + std::chrono::milliseconds(50);
  auto used = limits_.resident_bytes();
  auto mib = [](uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; };
  // Back under at 95%, so that one entry more or less does not flap it.
  if (!memory_full_ && used > limits_.max_memory) {
    memory_full_ = true;
    logger::problem("memory: " + mib(used) + " resident, past --max-memory ("
                    + mib(limits_.max_memory)
                    + "): new entries and boards are refused with `overloaded`; existing "
                      "entries can still be updated (remove entries, or raise the limit)");
  } else if (memory_full_ && used < limits_.max_memory / 20 * 19) {
    memory_full_ = false;
    logger::note("memory: " + mib(used) + " resident, under --max-memory again ("
                 + mib(limits_.max_memory) + "): new entries are accepted");
  }
}

void gateway::flush(std::chrono::steady_clock::time_point now) {
  check_memory(now);
  roll_due_seasons();
  if (now >= next_cut_at_) {
    // A cut only when events came since the last one, and one at a time:
    // a slow merge skips cuts instead of queueing them.
    if (cut_pending_ == 0 && rounds_.last_seq() > cut_seq_)
      cut(now);
    next_cut_at_ = now + merge_interval_;
  }
  send_round();
  for (auto& st : stats_waiting_)
    caf::anon_send(svc_.merge, std::move(st));
  stats_waiting_.clear();
  for (size_t i = 0; i < to_shards_.size(); ++i) {
    if (to_shards_[i].items.empty())
      continue;
    caf::anon_send(svc_.shards[i], std::move(to_shards_[i]));
    to_shards_[i] = shard_queries{};
  }
  if (!to_reader_.items.empty()) {
    caf::anon_send(svc_.readers[next_reader_++ % svc_.readers.size()], std::move(to_reader_));
    to_reader_ = reader_queries{};
  }
  send_acks();
}

void gateway::cut(std::chrono::steady_clock::time_point now) {
  cut_pending_ = next_cut_++;
  cut_seq_ = rounds_.last_seq();
  rounds_.to_all(freeze_marker{cut_pending_, cut_seq_, now});
}

void gateway::send_round() {
  if (!rounds_.empty()) {
    auto& current = rounds_.current();
    if (auto written = journal_.write(current.events); !written.ok())
      refuse(current, written);
    for (auto& [shard, round] : rounds_.cut())
      caf::anon_send(svc_.shards[shard], std::move(round));
    release_durable(); // without fsync, written is durable
  }
  post_acks(); // after the release: a source's earlier acks go first
}

void gateway::refuse(round_builder::round& r, const storage::status& why) {
  auto err = overloaded("the event log could not be written (" + why.message()
                        + "); nothing was applied; retry later");
  auto now = std::chrono::steady_clock::now();
  // One line a second at most: a full disk fails every round.
  if (now - last_complaint_ >= std::chrono::seconds(1)) {
    last_complaint_ = now;
    logger::problem(refused_write_line(why, journal_.stats().refused, data_dir_));
  }
  for (size_t s = 0; s < r.ops.size(); ++s) {
    ingest_inflight_ -= std::min<uint64_t>(r.ingest_events[s], ingest_inflight_);
    r.ingest_events[s] = 0;
    std::vector<shard_op> keep;
    for (auto& op : r.ops[s])
      std::visit(schemas::overload{
                   [&](submit_event& ev) {
                     std::visit(schemas::overload{
                                  [&](reply_to& to) { answer(to, err); },
                                  [&](batch_slot& slot) {
                                    finish(gathers_.batch_item(slot.batch, slot.index, err));
                                  },
                                },
                                ev.target);
                   },
                   [&](remove_event& ev) { answer(ev.to, err); },
                   [&](reset_event& ev) {
                     if (ev.rollover && s == 0) // every shard has it: undo it once
                       seasons_.refused(*ev.rollover);
                     finish(gathers_.fail(ev.gather, err));
                   },
                   [&](configure_event& ev) {
                     // Its reply waits among the held ones: it becomes the error.
                     auto range = held_.equal_range(ev.seq);
                     for (auto i = range.first; i != range.second; ++i)
                       if (i->second.batch.empty()) {
                         answer(i->second.to, err);
                         held_.erase(i);
                         break;
                       }
                   },
                   [&](auto& other) { keep.push_back(std::move(other)); },
                 },
                 op);
    r.ops[s] = std::move(keep);
  }
  // The round's acks say so, a frame's refused events in one error.
  for (auto& a : round_acks_) {
    if (a.accepted == 0)
      continue;
    auto& n = counts_of(a.source);
    n.accepted -= a.accepted;
    n.rejected += a.accepted;
    a.refuse(std::nullopt, err, a.accepted);
    a.accepted = 0;
    a.first_seq.reset();
    a.last_seq.reset();
    a.memory_full = false;
  }
  rounds_.rewind();
  cut_seq_ = std::min(cut_seq_, rounds_.last_seq());
  // The refused seqs go to the next events: no `stats` may claim them (the
  // round's cut markers moved back with rewind()).
  for (auto& st : stats_waiting_)
    st.counters.seq = std::min(st.counters.seq, rounds_.last_seq());
}

void gateway::answer(const reply_to& to, const schemas::reply_body& body) {
  if (!to.wanted())
    return;
  send_reply(to.route, schemas::encode_reply(to.id, body));
}

void gateway::answer_when_durable(uint64_t seq, const reply_to& to,
                                  const schemas::reply_body& body) {
  if (seq <= journal_.durable())
    answer(to, body);
  else
    held_.emplace(seq, held{{}, to, body});
}

void gateway::finish(std::optional<finished> f) {
  if (f)
    answer(f->to, f->body);
}

void gateway::on_internal(std::string_view batch) {
  read_batch(batch);
  send_acks();
}

void gateway::read_batch(std::string_view batch) {
  outbox_batch::handlers h;
  h.gate = [this](uint64_t seq, std::string_view rest) {
    if (seq <= journal_.durable())
      return true;
    if (!rest.empty())
      held_.emplace(seq, held{std::string(rest), {}, {}});
    return false;
  };
  h.reply = [this](std::string_view route, std::string_view body) { send_reply(route, body); };
  h.batch_item = [this](gather_id id, uint32_t index, schemas::batch_result&& r) {
    finish(gathers_.batch_item(id, index, std::move(r)));
  };
  h.count = [this](gather_id id, uint64_t n, std::optional<ranking::board_config> c) {
    auto done = gathers_.count_part(id, n, c);
    std::visit(schemas::overload{
                 [](std::monostate) {},
                 [&](finished& f) { answer(f.to, f.body); },
                 [&](checked_configure& c) { decide(std::move(c)); },
               },
               done);
  };
  h.friends = [this](gather_id id, friends_answer&& part) {
    finish(gathers_.friends_part(id, std::move(part)));
  };
  h.applied = [this](const ingest_applied& m) {
    ingest_inflight_ -= std::min(m.events, ingest_inflight_);
  };
  h.durable = [this](uint64_t seq, uint64_t syncs) {
    journal_.on_durable(seq, syncs);
    release_durable();
  };
  h.merged = [this](uint64_t cut) {
    if (cut >= cut_pending_)
      cut_pending_ = 0;
  };
  // Only the service's own actors write batches: a malformed one is a bug,
  // and the items before the damage were handled.
  static_cast<void>(outbox_batch::read(batch, h));
}

void gateway::release_durable() {
  while (!held_.empty() && held_.begin()->first <= journal_.durable()) {
    auto h = std::move(held_.begin()->second);
    held_.erase(held_.begin());
    if (h.batch.empty())
      answer(h.to, h.body);
    else
      read_batch(h.batch);
  }
  while (!acks_held_.empty() && acks_held_.begin()->first <= journal_.durable()) {
    auto ack = std::move(acks_held_.begin()->second);
    acks_held_.erase(acks_held_.begin());
    if (auto t = held_tail_.find(ack.source);
        t != held_tail_.end() && t->second <= journal_.durable())
      held_tail_.erase(t);
    emit_ack(std::move(ack));
  }
}

void gateway::acknowledge(schemas::ingest_ack&& ack) {
  auto& n = counts_of(ack.source);
  ++n.frames;
  n.accepted += ack.accepted;
  n.rejected += ack.rejected;
  round_acks_.push_back(std::move(ack));
}

void gateway::post_acks() {
  const uint64_t durable = journal_.durable();
  for (auto& ack : round_acks_) {
    uint64_t key = ack.last_seq.value_or(0);
    if (auto t = held_tail_.find(ack.source); t != held_tail_.end())
      key = std::max(key, t->second);
    if (key <= durable) {
      emit_ack(std::move(ack));
      continue;
    }
    held_tail_[ack.source] = key;
    acks_held_.emplace(key, std::move(ack));
  }
  round_acks_.clear();
}

void gateway::emit_ack(schemas::ingest_ack&& ack) {
  if (!updates_.enabled())
    return;
  auto topic = schemas::ack_topic(ack.source);
  auto body = schemas::encode_update(ack);
  acks_out_.push_back(update_msg{ack.last_seq.value_or(0), std::move(topic), std::move(body)});
}

void gateway::send_acks() {
  if (acks_out_.empty())
    return;
  updates_.offer_from_outside(update_batch{std::move(acks_out_)});
  acks_out_.clear();
}

schemas::source_counts& gateway::counts_of(const std::string& source) {
  if (auto it = sources_.find(source); it != sources_.end())
    return it->second;
  // A source is a client's choice: the table stays bounded however many come.
  if (sources_.size() >= schemas::max_stats_sources)
    return other_sources_;
  return sources_[source];
}

std::vector<std::pair<std::string, schemas::source_counts>> gateway::source_table() const {
  std::vector<std::pair<std::string, schemas::source_counts>> out(sources_.begin(), sources_.end());
  if (other_sources_.frames > 0)
    out.emplace_back(schemas::other_sources, other_sources_);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::chrono::milliseconds gateway::until_next_cut() const {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
    next_cut_at_ - std::chrono::steady_clock::now());
  if (auto due = seasons_.earliest())
    left = std::min(left, std::chrono::milliseconds(*due - storage::wall_clock_ms()));
  return std::max(left, std::chrono::milliseconds(1));
}

} // namespace lb::actors
