// The batch layout: items one after the other, each a tag byte and its
// fields; numbers little-endian, byte strings as a u32 length and the bytes.
//   'G' seq u64                       gate
//   'R' route bytes, body bytes       a reply (body: the encoded reply map)
//   'I' gather u64, index u32, result a batch item (see put::result)
//   'C' gather u64, count u64, has u8, order u8, op u8
//   'F' gather u64, known u8, total u64, seq u64, n u32, n entries (see put::entry)
//   'A' events u64                    ingest applied
//   'D' seq u64, syncs u64            durable
//   'M' cut u64                       merged
#include "actors/outbox.hpp"

namespace lb::actors {

namespace {

// Appends fields to a batch.
struct put {
  std::string& out;

  void u8(uint8_t v) { out.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i)
      out.push_back(static_cast<char>(v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i)
      out.push_back(static_cast<char>(v >> (8 * i)));
  }
  void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
  void bytes(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    out.append(s);
  }
  void meta(const std::optional<schemas::meta_value>& m) {
    u8(m ? (m->is_bin ? 2 : 1) : 0);
    if (m)
      bytes(m->bytes);
  }
  void entry(const schemas::entry_view& e) {
    u64(e.rank);
    bytes(e.player);
    i64(e.score);
    i64(e.subscore);
    meta(e.meta);
  }
  void result(const schemas::batch_result& r) {
    if (const auto* s = std::get_if<schemas::submit_reply>(&r)) {
      u8(1);
      bytes(s->board);
      bytes(s->player);
      i64(s->score);
      i64(s->subscore);
      u64(s->rank);
      u8(s->prev_rank.has_value());
      u64(s->prev_rank.value_or(0));
      u8(s->changed);
      u64(s->total);
      u64(s->seq);
    } else {
      const auto& e = std::get<schemas::error>(r);
      u8(0);
      u8(static_cast<uint8_t>(e.code));
      bytes(e.message);
    }
  }
};

// Takes fields off the front of a batch; every method returns false once
// the batch runs short, and keeps doing so.
struct take {
  std::string_view in;
  bool ok = true;

  bool need(std::size_t n) {
    ok = ok && in.size() >= n;
    return ok;
  }
  uint64_t num(std::size_t n) {
    if (!need(n))
      return 0;
    uint64_t v = 0;
    for (std::size_t i = n; i-- > 0;)
      v = (v << 8) | static_cast<unsigned char>(in[i]);
    in.remove_prefix(n);
    return v;
  }
  uint8_t u8() { return static_cast<uint8_t>(num(1)); }
  uint32_t u32() { return static_cast<uint32_t>(num(4)); }
  uint64_t u64() { return num(8); }
  int64_t i64() { return static_cast<int64_t>(num(8)); }
  std::string_view bytes() {
    auto n = u32();
    if (!need(n))
      return {};
    auto s = in.substr(0, n);
    in.remove_prefix(n);
    return s;
  }
  std::optional<schemas::meta_value> meta() {
    auto kind = u8();
    if (kind == 0)
      return std::nullopt;
    return schemas::meta_value{std::string(bytes()), kind == 2};
  }
  schemas::entry_view entry() {
    schemas::entry_view e;
    e.rank = u64();
    e.player = std::string(bytes());
    e.score = i64();
    e.subscore = i64();
    e.meta = meta();
    return e;
  }
  schemas::batch_result result() {
    if (u8() == 0) {
      schemas::error e;
      e.code = static_cast<schemas::error_code>(u8());
      e.message = std::string(bytes());
      return e;
    }
    schemas::submit_reply s;
    s.board = std::string(bytes());
    s.player = std::string(bytes());
    s.score = i64();
    s.subscore = i64();
    s.rank = u64();
    const bool has_prev = u8() != 0;
    const uint64_t prev = u64();
    if (has_prev)
      s.prev_rank = prev;
    s.changed = u8() != 0;
    s.total = u64();
    s.seq = u64();
    return s;
  }
};

} // namespace

void outbox::gate(uint64_t seq) {
  put p{batch_};
  p.u8('G');
  p.u64(seq);
}

void outbox::reply(const reply_to& to, const schemas::reply_body& body) {
  if (!to.wanted())
    return;
  put p{batch_};
  p.u8('R');
  p.bytes(to.route);
  const auto len_at = batch_.size();
  p.u32(0);
  schemas::append_reply(batch_, to.id, body);
  const auto len = static_cast<uint32_t>(batch_.size() - len_at - 4);
  for (int i = 0; i < 4; ++i)
    batch_[len_at + i] = static_cast<char>(len >> (8 * i));
}

void outbox::batch_item(gather_id batch, uint32_t index, const schemas::batch_result& result) {
  put p{batch_};
  p.u8('I');
  p.u64(batch);
  p.u32(index);
  p.result(result);
}

void outbox::count_part(gather_id gather, uint64_t count,
                        const std::optional<ranking::board_config>& c) {
  put p{batch_};
  p.u8('C');
  p.u64(gather);
  p.u64(count);
  p.u8(c.has_value());
  p.u8(c ? static_cast<uint8_t>(c->order) : 0);
  p.u8(c ? static_cast<uint8_t>(c->op) : 0);
}

void outbox::friends_part(gather_id gather, const friends_answer& part) {
  put p{batch_};
  p.u8('F');
  p.u64(gather);
  p.u8(part.known);
  p.u64(part.total);
  p.u64(part.seq);
  p.u32(part.season.value_or(0)); // seasons count from 1
  p.bytes(part.missing);
  p.u32(static_cast<uint32_t>(part.entries.size()));
  for (const auto& e : part.entries)
    p.entry(e);
}

void outbox::control(const ingest_applied& m) {
  if (m.events == 0)
    return;
  put p{batch_};
  p.u8('A');
  p.u64(m.events);
}

void outbox::durable(uint64_t seq, uint64_t syncs) {
  put p{batch_};
  p.u8('D');
  p.u64(seq);
  p.u64(syncs);
}

void outbox::merged(uint64_t cut) {
  put p{batch_};
  p.u8('M');
  p.u64(cut);
}

void outbox::flush() {
  if (batch_.empty())
    return;
  send(batch_);
  batch_.clear();
}

bool outbox_batch::read(std::string_view batch, const handlers& h) {
  take t{batch};
  while (t.ok && !t.in.empty()) {
    switch (t.u8()) {
      case 'G': {
        auto seq = t.u64();
        if (t.ok && !h.gate(seq, t.in))
          return true;
        break;
      }
      case 'R': {
        auto route = t.bytes();
        auto body = t.bytes();
        if (t.ok)
          h.reply(route, body);
        break;
      }
      case 'I': {
        auto batch_id = t.u64();
        auto index = t.u32();
        auto result = t.result();
        if (t.ok)
          h.batch_item(batch_id, index, std::move(result));
        break;
      }
      case 'C': {
        auto gather = t.u64();
        auto count = t.u64();
        const bool has = t.u8() != 0;
        ranking::board_config c;
        c.order = static_cast<schemas::board_order>(t.u8());
        c.op = static_cast<schemas::score_operator>(t.u8());
        if (t.ok)
          h.count(gather, count, has ? std::optional<ranking::board_config>{c} : std::nullopt);
        break;
      }
      case 'F': {
        auto gather = t.u64();
        friends_answer part;
        part.known = t.u8() != 0;
        part.total = t.u64();
        part.seq = t.u64();
        if (auto season = t.u32(); season != 0)
          part.season = season;
        part.missing = std::string(t.bytes());
        auto n = t.u32();
        for (uint32_t i = 0; i < n && t.ok; ++i)
          part.entries.push_back(t.entry());
        if (t.ok)
          h.friends(gather, std::move(part));
        break;
      }
      case 'A': {
        ingest_applied m{t.u64()};
        if (t.ok)
          h.applied(m);
        break;
      }
      case 'D': {
        auto seq = t.u64();
        auto syncs = t.u64();
        if (t.ok)
          h.durable(seq, syncs);
        break;
      }
      case 'M': {
        auto cut = t.u64();
        if (t.ok)
          h.merged(cut);
        break;
      }
      default:
        return false;
    }
  }
  return t.ok;
}

} // namespace lb::actors
