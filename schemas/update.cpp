#include "schemas/update.hpp"

#include "schemas/types.hpp"
#include "schemas/writer.hpp"

namespace lb::schemas {

namespace {

std::string topic(std::string_view kind, std::string_view board, std::string_view tail) {
  std::string t;
  t.reserve(kind.size() + board.size() + 1 + tail.size());
  t.append(kind).append(board).push_back('/');
  t.append(tail);
  return t;
}

// One buffer per message, trimmed to what was written.
template <class F>
std::string encode(std::size_t estimate, F&& write) {
  std::string out;
  out.resize(estimate);
  detail::writer w(out);
  write(w);
  out.resize(w.size());
  return out;
}

} // namespace

std::string top_topic(std::string_view board) {
  return topic("top/", board, {});
}

std::string rank_topic(std::string_view board, std::string_view player) {
  return topic("rank/", board, player);
}

std::string score_topic(std::string_view board) {
  return topic("score/", board, {});
}

std::string follow_topic(std::string_view board, std::string_view player) {
  return topic("follow/", board, player);
}

std::string season_topic(std::string_view board) {
  return topic("season/", board, {});
}

std::optional<follow_target> parse_follow_prefix(std::string_view prefix) {
  constexpr std::string_view kind = "follow/";
  if (prefix.substr(0, kind.size()) != kind)
    return std::nullopt;
  prefix.remove_prefix(kind.size());
  // Board names hold no '/' (types.cpp), player names may.
  auto slash = prefix.find('/');
  if (slash == std::string_view::npos)
    return std::nullopt;
  auto board = prefix.substr(0, slash);
  auto player = prefix.substr(slash + 1);
  if (!check_board_name(board).empty() || !check_player_name(player).empty())
    return std::nullopt;
  return follow_target{std::string(board), std::string(player)};
}

std::string ack_topic(std::string_view source) {
  return topic("ack/", source, {});
}

void ingest_ack::refuse(std::optional<uint32_t> item, error e, uint64_t n) {
  rejected += n;
  if (errors.size() < max_ack_errors)
    errors.push_back(ack_error{item, std::move(e)});
  else
    errors_truncated = true;
}

std::string encode_update(const top_update& u) {
  std::size_t n = 64 + u.board.size();
  for (const auto& e : u.entries)
    n += detail::entry_size(e);
  return encode(n, [&](detail::writer& w) {
    w.map(4);
    w.key("board");
    w.str(u.board);
    w.key("seq");
    w.u64(u.seq);
    w.key("total");
    w.u64(u.total);
    w.key("entries");
    w.array(u.entries.size());
    for (const auto& e : u.entries)
      w.entry(e);
  });
}

// A closed season's final standings; the publisher appends `stream_seq`
// (append_stream_seq) as on top/. An unknown start (0) is nil.
std::string encode_update(const season_update& u) {
  std::size_t n = 128 + u.board.size();
  for (const auto& e : u.entries)
    n += detail::entry_size(e);
  return encode(n, [&](detail::writer& w) {
    w.map(8);
    w.key("board");
    w.str(u.board);
    w.key("season");
    w.u64(u.span.season);
    w.key("start_ms");
    u.span.start_ms != 0 ? w.i64(u.span.start_ms) : w.nil();
    w.key("end_ms");
    w.i64(u.span.end_ms);
    w.key("start_seq");
    w.u64(u.span.start_seq);
    w.key("end_seq");
    w.u64(u.span.end_seq);
    w.key("total");
    w.u64(u.total);
    w.key("entries");
    w.array(u.entries.size());
    for (const auto& e : u.entries)
      w.entry(e);
  });
}

std::string encode_update(const rank_update& u) {
  return encode(112 + u.board.size() + u.player.size(), [&](detail::writer& w) {
    w.map(7);
    w.key("board");
    w.str(u.board);
    w.key("player");
    w.str(u.player);
    w.key("score");
    w.i64(u.score);
    w.key("subscore");
    w.i64(u.subscore);
    w.key("rank");
    w.opt_u64(u.rank);
    w.key("prev_rank");
    w.opt_u64(u.prev_rank);
    w.key("seq");
    w.u64(u.seq);
  });
}

std::string encode_update(const score_update& u) {
  return encode(80 + u.board.size() + u.player.size(), [&](detail::writer& w) {
    w.map(5);
    w.key("seq");
    w.u64(u.seq);
    w.key("board");
    w.str(u.board);
    w.key("player");
    w.str(u.player);
    w.key("score");
    w.i64(u.score);
    w.key("subscore");
    w.i64(u.subscore);
  });
}

std::string encode_update(const follow_update& u) {
  return encode(128 + u.board.size() + u.player.size(), [&](detail::writer& w) {
    w.map(8);
    w.key("board");
    w.str(u.board);
    w.key("player");
    w.str(u.player);
    w.key("rank");
    w.opt_u64(u.rank);
    w.key("prev_rank");
    w.opt_u64(u.prev_rank);
    w.key("score");
    u.score ? w.i64(*u.score) : w.nil();
    w.key("subscore");
    u.subscore ? w.i64(*u.subscore) : w.nil();
    w.key("total");
    w.u64(u.total);
    w.key("seq");
    w.u64(u.seq);
  });
}

bool append_stream_seq(std::string& body, uint64_t n) {
  if (body.empty())
    return false;
  auto byte = [&](std::size_t i) { return static_cast<uint8_t>(body[i]); };
  auto put_be = [&](std::size_t at, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i, v >>= 8)
      body[at + static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
  };
  const uint8_t h = byte(0);
  if ((h & 0xf0) == 0x80) { // fixmap
    const uint32_t count = h & 0x0f;
    if (count < 15) {
      body[0] = static_cast<char>(0x80 | (count + 1));
    } else {
      body.insert(0, 2, '\0');
      body[0] = static_cast<char>(0xde);
      put_be(1, count + 1, 2);
    }
  } else if (h == 0xde) { // map16
    if (body.size() < 3)
      return false;
    const uint32_t count = (uint32_t{byte(1)} << 8) | byte(2);
    if (count < 0xffff) {
      put_be(1, count + 1, 2);
    } else {
      body.insert(1, 2, '\0');
      body[0] = static_cast<char>(0xdf);
      put_be(1, uint64_t{count} + 1, 4);
    }
  } else if (h == 0xdf) { // map32
    if (body.size() < 5)
      return false;
    uint64_t count = 0;
    for (std::size_t i = 1; i < 5; ++i)
      count = (count << 8) | byte(i);
    if (count == 0xffffffff)
      return false;
    put_be(1, count + 1, 4);
  } else {
    return false;
  }
  detail::writer w(body, body.size());
  w.key("stream_seq");
  w.u64(n);
  body.resize(w.size());
  return true;
}

std::string encode_update(const ingest_ack& a) {
  std::size_t n = 128 + a.source.size();
  for (const auto& e : a.errors)
    n += 48 + e.err.message.size();
  return encode(n, [&](detail::writer& w) {
    w.map(8);
    w.key("source");
    w.str(a.source);
    w.key("accepted");
    w.u64(a.accepted);
    w.key("rejected");
    w.u64(a.rejected);
    w.key("first_seq");
    w.opt_u64(a.first_seq);
    w.key("last_seq");
    w.opt_u64(a.last_seq);
    w.key("errors");
    w.array(a.errors.size());
    for (const auto& e : a.errors) {
      w.map(3);
      w.key("item");
      if (e.item)
        w.u64(*e.item);
      else
        w.nil();
      w.key("code");
      w.str(to_string(e.err.code));
      w.key("message");
      w.str(e.err.message);
    }
    w.key("errors_truncated");
    w.boolean(a.errors_truncated);
    w.key("memory_full");
    w.boolean(a.memory_full);
  });
}

} // namespace lb::schemas
