// Reply and request encoders (PROTOCOL.md section 3).
#include "schemas/reply.hpp"
#include "schemas/request.hpp"
#include "schemas/writer.hpp"

namespace lb::schemas {

namespace {

using detail::entry_size;
using detail::meta_size;
using detail::writer;

// Generous estimates so that one reserve() usually suffices.
std::size_t submit_size(const submit_reply& r) {
  return 128 + r.board.size() + r.player.size();
}

struct size_estimate {
  std::size_t operator()(const error& e) const { return 64 + e.message.size(); }
  std::size_t operator()(const submit_reply& r) const { return submit_size(r); }
  std::size_t operator()(const batch_reply& r) const {
    std::size_t n = 32;
    for (const auto& x : r.results)
      n += x.index() == 0 ? submit_size(std::get<0>(x)) : 64 + std::get<1>(x).message.size();
    return n;
  }
  std::size_t operator()(const rank_reply& r) const {
    return 96 + r.board.size() + entry_size(r.entry);
  }
  std::size_t operator()(const entries_reply& r) const {
    std::size_t n = 80 + r.board.size() + (r.paged ? 8 + top_cursor_len : 0);
    for (const auto& e : r.entries)
      n += entry_size(e);
    return n;
  }
  std::size_t operator()(const remove_reply&) const { return 48; }
  std::size_t operator()(const reset_reply&) const { return 48; }
  std::size_t operator()(const configure_reply& r) const {
    return 112 + r.board.size() + (r.schedule ? r.schedule->size() : 0);
  }
  std::size_t operator()(const boards_reply& r) const {
    std::size_t n = 48 + (r.next ? r.next->size() : 0);
    for (const auto& b : r.boards)
      n += 96 + b.board.size() + (b.schedule ? b.schedule->size() : 0);
    return n;
  }
  std::size_t operator()(const stats_reply& r) const {
    std::size_t n = 720 + 48 * r.shards.size() + r.digest.size();
    for (const auto& s : r.ingest_sources)
      n += 64 + s.first.size();
    return n;
  }
  std::size_t operator()(const pong_reply&) const { return 24; }
  std::size_t operator()(const seasons_reply& r) const {
    return 128 + r.board.size() + (r.schedule ? r.schedule->size() : 0) + 112 * r.seasons.size();
  }
};

struct reply_encoder {
  writer& w;
  const std::optional<uint64_t>& id;
  bool ok;

  // Every reply map starts with `ok`, then `id` when given, then n keys.
  void begin(uint32_t n) const {
    w.map(n + (id ? 2 : 1));
    w.key("ok");
    w.boolean(ok);
    if (id) {
      w.key("id");
      w.u64(*id);
    }
  }

  void operator()(const error& e) const {
    begin(1);
    w.key("error");
    w.error_map(e);
  }
  void operator()(const submit_reply& r) const {
    begin(writer::submit_key_count);
    w.submit_keys(r);
  }
  void operator()(const batch_reply& r) const {
    begin(1);
    w.key("results");
    w.array(r.results.size());
    for (const auto& x : r.results) {
      if (const auto* s = std::get_if<submit_reply>(&x)) {
        w.map(1 + writer::submit_key_count);
        w.key("ok");
        w.boolean(true);
        w.submit_keys(*s);
      } else {
        w.map(2);
        w.key("ok");
        w.boolean(false);
        w.key("error");
        w.error_map(std::get<error>(x));
      }
    }
  }
  // `season` only when the request named one.
  void season(const std::optional<uint32_t>& s) const {
    if (s) {
      w.key("season");
      w.u64(*s);
    }
  }
  void operator()(const rank_reply& r) const {
    begin(9 + (r.season ? 1 : 0));
    w.key("board");
    w.str(r.board);
    w.key("player");
    w.str(r.entry.player);
    w.key("score");
    w.i64(r.entry.score);
    w.key("subscore");
    w.i64(r.entry.subscore);
    w.key("meta");
    w.meta(r.entry.meta);
    w.key("rank");
    w.u64(r.entry.rank);
    w.key("total");
    w.u64(r.total);
    w.key("percentile");
    w.f64(percentile(r.entry.rank, r.total));
    w.key("seq");
    w.u64(r.seq);
    season(r.season);
  }
  void operator()(const entries_reply& r) const {
    begin((r.paged ? 5 : 4) + (r.season ? 1 : 0));
    w.key("board");
    w.str(r.board);
    w.key("total");
    w.u64(r.total);
    w.key("seq");
    w.u64(r.seq);
    w.key("entries");
    w.array(r.entries.size());
    for (const auto& e : r.entries)
      w.entry(e);
    if (r.paged) {
      w.key("next");
      if (r.next)
        w.str(to_string(*r.next));
      else
        w.nil();
    }
    season(r.season);
  }
  void operator()(const remove_reply& r) const {
    begin(2);
    w.key("removed");
    w.boolean(r.removed);
    w.key("seq");
    w.u64(r.seq);
  }
  void operator()(const reset_reply& r) const {
    begin(2 + (r.season ? 1 : 0));
    w.key("removed");
    w.u64(r.removed);
    w.key("seq");
    w.u64(r.seq);
    season(r.season);
  }
  void operator()(const configure_reply& r) const {
    begin(6);
    w.key("board");
    w.str(r.board);
    w.key("order");
    w.str(to_string(r.order));
    w.key("operator");
    w.str(to_string(r.op));
    w.key("seq");
    w.u64(r.seq);
    w.key("schedule");
    w.opt_str(r.schedule);
    w.key("keep");
    w.u64(r.keep);
  }
  void operator()(const boards_reply& r) const {
    begin(r.total ? 4 : 3);
    w.key("seq");
    w.u64(r.seq);
    w.key("boards");
    w.array(r.boards.size());
    for (const auto& b : r.boards) {
      w.map(7);
      w.key("board");
      w.str(b.board);
      w.key("total");
      w.u64(b.total);
      w.key("order");
      w.str(to_string(b.order));
      w.key("operator");
      w.str(to_string(b.op));
      w.key("season");
      w.u64(b.season);
      w.key("schedule");
      w.opt_str(b.schedule);
      w.key("keep");
      w.u64(b.keep);
    }
    w.key("next");
    if (r.next)
      w.str(*r.next);
    else
      w.nil();
    if (r.total) {
      w.key("total");
      w.u64(*r.total);
    }
  }
  void operator()(const stats_reply& r) const {
    begin(16);
    w.key("seq");
    w.u64(r.seq);
    w.key("shards");
    w.array(r.shards.size());
    for (const auto& s : r.shards) {
      w.map(3);
      w.key("shard");
      w.u64(s.shard);
      w.key("entries");
      w.u64(s.entries);
      w.key("mailbox");
      w.u64(s.mailbox);
    }
    w.key("merge");
    w.map(3);
    w.key("interval_ms");
    w.u64(r.merge_interval_ms);
    w.key("last_merge_seq");
    w.u64(r.last_merge_seq);
    w.key("age_ms");
    w.u64(r.merge_age_ms);
    w.key("digest");
    w.str(r.digest);
    w.key("boards");
    w.u64(r.boards);
    w.key("entries");
    w.u64(r.entries);
    w.key("requests");
    w.u64(r.requests);
    w.key("rejected");
    w.u64(r.rejected);
    w.key("ingest_events");
    w.u64(r.ingest_events);
    w.key("ingest_rejected");
    w.u64(r.ingest_rejected);
    w.key("ingest_sources");
    w.map(static_cast<uint32_t>(r.ingest_sources.size()));
    for (const auto& [source, n] : r.ingest_sources) {
      w.str(source);
      w.map(3);
      w.key("frames");
      w.u64(n.frames);
      w.key("accepted");
      w.u64(n.accepted);
      w.key("rejected");
      w.u64(n.rejected);
    }
    w.key("uptime_ms");
    w.u64(r.uptime_ms);
    w.key("log");
    w.map(5);
    w.key("fsync");
    w.str(r.log.fsync);
    w.key("durable_seq");
    w.u64(r.log.durable_seq);
    w.key("bytes");
    w.u64(r.log.bytes);
    w.key("syncs");
    w.u64(r.log.syncs);
    w.key("refused");
    w.u64(r.log.refused);
    w.key("updates");
    w.map(2);
    w.key("published");
    w.u64(r.updates_published);
    w.key("dropped");
    w.u64(r.updates_dropped);
    w.key("merges");
    w.map(3);
    w.key("count");
    w.u64(r.merges.count);
    w.key("last_us");
    w.u64(r.merges.last_us);
    w.key("max_us");
    w.u64(r.merges.max_us);
    const auto& c = r.clients;
    w.key("clients");
    w.map(11);
    w.key("connections");
    w.u64(c.connections);
    w.key("refused_connections");
    w.u64(c.refused_connections);
    w.key("refused_keys");
    w.u64(c.refused_keys);
    w.key("unauthorized");
    w.u64(c.unauthorized);
    w.key("overloaded_busy");
    w.u64(c.overloaded_busy);
    w.key("overloaded_unread");
    w.u64(c.overloaded_unread);
    w.key("overloaded_memory");
    w.u64(c.overloaded_memory);
    w.key("reply_backlog_bytes");
    w.u64(c.reply_backlog_bytes);
    w.key("replies_dropped");
    w.u64(c.replies_dropped);
    w.key("replies_orphaned");
    w.u64(c.replies_orphaned);
    w.key("bad_envelopes");
    w.u64(c.bad_envelopes);
  }
  void operator()(const pong_reply&) const {
    begin(1);
    w.key("pong");
    w.boolean(true);
  }
  // Unknown times (0) and the current season's end are nil.
  void operator()(const seasons_reply& r) const {
    begin(7);
    w.key("board");
    w.str(r.board);
    w.key("current");
    w.u64(r.current);
    w.key("schedule");
    w.opt_str(r.schedule);
    w.key("next_ms");
    w.opt_i64(r.next_ms);
    w.key("keep");
    w.u64(r.keep);
    w.key("seq");
    w.u64(r.seq);
    w.key("seasons");
    w.array(r.seasons.size());
    for (const auto& s : r.seasons) {
      w.map(7);
      w.key("season");
      w.u64(s.span.season);
      w.key("start_ms");
      s.span.start_ms != 0 ? w.i64(s.span.start_ms) : w.nil();
      w.key("end_ms");
      s.current ? w.nil() : w.i64(s.span.end_ms);
      w.key("start_seq");
      w.u64(s.span.start_seq);
      w.key("end_seq");
      s.current ? w.nil() : w.u64(s.span.end_seq);
      w.key("total");
      w.u64(s.total);
      w.key("current");
      w.boolean(s.current);
    }
  }
};

// Requests: `op`, `id` when given, then the op's keys (optional ones only
// when set). A batch item that is an error (it failed to decode) has no
// submit to write: it is encoded as nil, which decodes back to an error item.
struct request_encoder {
  writer& w;
  const std::optional<uint64_t>& id;
  std::string_view source;

  // `op`, then `id` and `source` when given, then the op's keys.
  void op(const char* name, uint32_t keys) const {
    w.map(keys + (id ? 2 : 1) + (source.empty() ? 0 : 1));
    w.key("op");
    w.str(name);
    if (id) {
      w.key("id");
      w.u64(*id);
    }
    if (!source.empty()) {
      w.key("source");
      w.str(source);
    }
  }
  void submit_keys(const submit_req& r) const {
    w.key("board");
    w.str(r.board);
    w.key("player");
    w.str(r.player);
    w.key("score");
    w.i64(r.score);
    w.key("subscore");
    w.i64(r.subscore);
    if (r.meta) {
      w.key("meta");
      w.meta(r.meta);
    }
  }
  static uint32_t submit_count(const submit_req& r) { return r.meta ? 5 : 4; }

  void operator()(const submit_req& r) const {
    op("submit", submit_count(r));
    submit_keys(r);
  }
  void operator()(const batch_req& r) const {
    op("batch", 1);
    w.key("items");
    w.array(r.items.size());
    for (const auto& x : r.items) {
      if (const auto* s = std::get_if<submit_req>(&x)) {
        w.map(submit_count(*s));
        submit_keys(*s);
      } else {
        w.nil();
      }
    }
  }
  // `exact` is written only when false, its default being true.
  void exact(bool e) const {
    if (!e) {
      w.key("exact");
      w.boolean(false);
    }
  }
  // `season` only when set (nothing: the current season).
  void season(const std::optional<uint32_t>& s) const {
    if (s) {
      w.key("season");
      w.u64(*s);
    }
  }
  static uint32_t read_keys(bool exact, const std::optional<uint32_t>& season) {
    return (exact ? 0 : 1) + (season ? 1 : 0);
  }
  void operator()(const rank_req& r) const {
    op("rank", 2 + read_keys(r.exact, r.season));
    w.key("board");
    w.str(r.board);
    w.key("player");
    w.str(r.player);
    exact(r.exact);
    season(r.season);
  }
  // `after` replaces `offset` when set (the decoder takes one or the other).
  void operator()(const top_req& r) const {
    op("top", 3 + read_keys(r.exact, r.season));
    w.key("board");
    w.str(r.board);
    w.key("limit");
    w.u64(r.limit);
    if (r.after) {
      w.key("after");
      w.str(to_string(*r.after));
    } else {
      w.key("offset");
      w.u64(r.offset);
    }
    exact(r.exact);
    season(r.season);
  }
  void operator()(const around_req& r) const {
    op("around", 3 + read_keys(r.exact, r.season));
    w.key("board");
    w.str(r.board);
    w.key("player");
    w.str(r.player);
    w.key("radius");
    w.u64(r.radius);
    exact(r.exact);
    season(r.season);
  }
  void operator()(const ranks_req& r) const {
    op("ranks", 2 + read_keys(r.exact, r.season));
    w.key("board");
    w.str(r.board);
    w.key("players");
    w.array(r.players.size());
    for (const auto& p : r.players)
      w.str(p);
    exact(r.exact);
    season(r.season);
  }
  void operator()(const remove_req& r) const {
    op("remove", 2);
    w.key("board");
    w.str(r.board);
    w.key("player");
    w.str(r.player);
  }
  // `archive` only when true, its default being false.
  void operator()(const reset_req& r) const {
    op("reset", 1 + (r.archive ? 1 : 0));
    w.key("board");
    w.str(r.board);
    if (r.archive) {
      w.key("archive");
      w.boolean(true);
    }
  }
  void operator()(const configure_req& r) const {
    op("configure",
       1 + (r.order ? 1 : 0) + (r.op ? 1 : 0) + (r.schedule ? 1 : 0) + (r.keep ? 1 : 0));
    w.key("board");
    w.str(r.board);
    if (r.order) {
      w.key("order");
      w.str(to_string(*r.order));
    }
    if (r.op) {
      w.key("operator");
      w.str(to_string(*r.op));
    }
    if (r.schedule) {
      w.key("schedule");
      w.str(*r.schedule);
    }
    if (r.keep) {
      w.key("keep");
      w.u64(*r.keep);
    }
  }
  // `limit` only when not the default, so that a plain boards request stays
  // as short as it was before paging.
  void operator()(const boards_req& r) const {
    const bool limit = r.limit != default_boards_limit;
    op("boards", !r.exact + limit + (r.after ? 1 : 0));
    if (limit) {
      w.key("limit");
      w.u64(r.limit);
    }
    if (r.after) {
      w.key("after");
      w.str(*r.after);
    }
    exact(r.exact);
  }
  void operator()(const stats_req&) const { op("stats", 0); }
  void operator()(const ping_req&) const { op("ping", 0); }
  void operator()(const seasons_req& r) const {
    op("seasons", 1);
    w.key("board");
    w.str(r.board);
  }
};

struct request_size_estimate {
  static std::size_t submit(const submit_req& r) {
    return 64 + r.board.size() + r.player.size() + meta_size(r.meta);
  }
  std::size_t operator()(const submit_req& r) const { return 16 + submit(r); }
  std::size_t operator()(const batch_req& r) const {
    std::size_t n = 32;
    for (const auto& x : r.items)
      n += x.index() == 0 ? submit(std::get<0>(x)) : 1;
    return n;
  }
  std::size_t operator()(const ranks_req& r) const {
    std::size_t n = 48 + r.board.size();
    for (const auto& p : r.players)
      n += 5 + p.size();
    return n;
  }
  std::size_t operator()(const configure_req& r) const {
    return 160 + r.board.size() + (r.schedule ? r.schedule->size() : 0);
  }
  template <class T>
  std::size_t operator()(const T&) const {
    return 160;
  }
};

} // namespace

double percentile(uint64_t rank, uint64_t total) {
  if (total == 0 || rank >= total)
    return 0;
  return 100.0 * static_cast<double>(total - rank) / static_cast<double>(total);
}

std::string encode_reply(const std::optional<uint64_t>& id, const reply_body& body) {
  std::string out;
  append_reply(out, id, body);
  return out;
}

void append_reply(std::string& out, const std::optional<uint64_t>& id, const reply_body& body) {
  const auto at = out.size();
  out.resize(at + std::visit(size_estimate{}, body));
  writer w(out, at);
  std::visit(reply_encoder{w, id, body.index() != 0}, body);
  out.resize(w.size());
}

std::string encode_request(const std::optional<uint64_t>& id, const request_body& body,
                           std::string_view source) {
  std::string out;
  out.resize(std::visit(request_size_estimate{}, body) + source.size());
  writer w(out);
  std::visit(request_encoder{w, id, source}, body);
  out.resize(w.size());
  return out;
}

} // namespace lb::schemas
