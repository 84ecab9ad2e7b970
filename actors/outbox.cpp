#include "actors/outbox.hpp"

namespace lb::actors {

namespace {

constexpr char reply_tag = 'R';
constexpr char applied_tag = 'A';

void put_u32(std::string& out, std::size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out[at + i] = static_cast<char>(v >> (8 * i));
}

void append_u32(std::string& out, uint32_t v) {
  out.append(4, '\0');
  put_u32(out, out.size() - 4, v);
}

void append_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<char>(v >> (8 * i)));
}

// Reads an unsigned little-endian number of `n` bytes off the front of `in`.
bool take(std::string_view& in, std::size_t n, uint64_t& v) {
  if (in.size() < n)
    return false;
  v = 0;
  for (std::size_t i = n; i-- > 0;)
    v = (v << 8) | static_cast<unsigned char>(in[i]);
  in.remove_prefix(n);
  return true;
}

bool take_bytes(std::string_view& in, std::string_view& out) {
  uint64_t n = 0;
  if (!take(in, 4, n) || in.size() < n)
    return false;
  out = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}

} // namespace

void outbox::reply(const reply_to& to, const schemas::reply_body& body) {
  if (!to.wanted())
    return;
  batch_.push_back(reply_tag);
  append_u32(batch_, static_cast<uint32_t>(to.route.size()));
  batch_.append(to.route);
  const auto len_at = batch_.size();
  batch_.append(4, '\0');
  schemas::append_reply(batch_, to.id, body);
  put_u32(batch_, len_at, static_cast<uint32_t>(batch_.size() - len_at - 4));
}

void outbox::control(const ingest_applied& m) {
  if (m.events == 0)
    return;
  batch_.push_back(applied_tag);
  append_u64(batch_, m.events);
}

void outbox::flush() {
  if (batch_.empty())
    return;
  send(batch_);
  batch_.clear();
}

bool outbox_batch::read(std::string_view batch, const handlers& h) {
  while (!batch.empty()) {
    const char tag = batch.front();
    batch.remove_prefix(1);
    if (tag == reply_tag) {
      std::string_view route, body;
      if (!take_bytes(batch, route) || !take_bytes(batch, body))
        return false;
      h.reply(route, body);
    } else if (tag == applied_tag) {
      ingest_applied m;
      if (!take(batch, 8, m.events))
        return false;
      h.applied(m);
    } else {
      return false;
    }
  }
  return true;
}

} // namespace lb::actors
